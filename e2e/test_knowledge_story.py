"""The knowledge story in a real browser: a video, search, a question, the FAQ.

The learning facilitator uploads a short demo video with a poster, and a
sales representative seeks in it: the browser fetches byte ranges and plays
from the new position.
"""

import io
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from accounts.models import Role
from conftest import PASSWORD, make_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MEDIA = Path(__file__).resolve().parent / "media"
VIDEO = MEDIA / "demo-clip.mp4"
POSTER = MEDIA / "demo-clip-poster.png"
SEEK_TO = 5.0


def sign_in(new_context, username: str) -> Page:
    page: Page = new_context().new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    return page


def test_uploaded_video_plays_from_where_the_viewer_seeks(new_context, artifacts):
    make_person("fran", Role.FACILITATOR)
    make_person("sally", Role.SALES_REP)

    facilitator = sign_in(new_context, "fran")
    facilitator.goto("/library/new/")
    facilitator.get_by_label("Kind").select_option("video")
    facilitator.get_by_label("Title").fill("Matching a short payment, in 8 seconds")
    facilitator.get_by_label("Summary").fill(
        "A screen recording of the matching screen."
    )
    facilitator.get_by_label("File").set_input_files(VIDEO)
    facilitator.get_by_label("Poster").set_input_files(POSTER)
    facilitator.get_by_role("button", name="Add").click()
    expect(
        facilitator.get_by_role(
            "heading", name="Matching a short payment, in 8 seconds"
        )
    ).to_be_visible()
    video_url = facilitator.url

    rep = sign_in(new_context, "sally")
    ranges: list[tuple[int, str]] = []
    rep.on(
        "response",
        lambda response: (
            ranges.append((response.status, response.headers.get("content-range", "")))
            if urlsplit(response.url).path.endswith("/file")
            else None
        ),
    )
    rep.goto(video_url)
    video = rep.get_by_test_id("library-video")
    poster_path = video.get_attribute("poster")
    assert poster_path == urlsplit(video_url).path.rstrip("/") + "/poster"
    poster = rep.request.get(poster_path)
    assert poster.status == 200
    assert poster.headers["content-type"] == "image/png"
    # The poster is stored re-encoded without metadata, with the same pixels.
    with Image.open(io.BytesIO(poster.body())) as served, Image.open(POSTER) as sent:
        assert served.format == "PNG"
        assert served.size == sent.size
        assert served.tobytes() == sent.tobytes()
    video.evaluate(
        """video => new Promise((resolve, reject) => {
            video.addEventListener("error", () => reject(video.error), { once: true });
            if (video.readyState >= 1) { resolve(); return; }
            video.addEventListener("loadedmetadata", () => resolve(), { once: true });
            video.load();
        })"""
    )
    duration = video.evaluate("video => video.duration")
    assert duration == pytest.approx(8.0, abs=0.2)

    position = video.evaluate(
        """(video, target) => new Promise((resolve, reject) => {
            video.addEventListener("error", () => reject(video.error), { once: true });
            video.addEventListener("seeked", () => resolve(video.currentTime), { once: true });
            video.currentTime = target;
        })""",
        SEEK_TO,
    )
    assert position == pytest.approx(SEEK_TO, abs=0.2)
    # The browser fetched the file in byte ranges: partial answers naming
    # the file's total size.
    size = VIDEO.stat().st_size
    partial = [header for status, header in ranges if status == 206]
    assert partial, f"no partial responses among {ranges}"
    assert all(header.endswith(f"/{size}") for header in partial)
    rep.screenshot(path=str(artifacts / "library-video-seeked.png"), full_page=True)
