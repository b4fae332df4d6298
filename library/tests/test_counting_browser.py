"""View and download counts in Chromium: the player's range requests are no download."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Role
from conftest import PASSWORD, make_person
from library.models import Document

# Playwright's sync API runs an event loop in the test thread, and Django
# rejects ORM calls from such a thread unless this variable marks them safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIDEO = Path(__file__).resolve().parents[2] / "e2e" / "media" / "demo-clip.mp4"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


def signed_in_page(browser, base_url: str, username: str) -> Page:
    page: Page = browser.new_context(
        base_url=base_url, accept_downloads=True
    ).new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    return page


def test_playing_video_counts_no_download(browser, live_server, media_root):
    make_person("sally", Role.SALES_REP)
    page = signed_in_page(browser, live_server.url, "sally")
    page.goto("/library/new/")
    page.get_by_label("Kind").select_option("video")
    page.get_by_label("Title").fill("Matching, in 8 seconds")
    page.get_by_label("File").set_input_files(VIDEO)
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_role("heading", name="Matching, in 8 seconds")).to_be_visible()
    document = Document.objects.get(title="Matching, in 8 seconds")
    ranges: list[str] = []
    page.on(
        "request",
        lambda request: (
            ranges.append(request.headers.get("range", ""))
            if request.url.endswith("/file")
            else None
        ),
    )

    page.reload()
    video = page.get_by_test_id("library-video")
    video.evaluate(
        """video => new Promise((resolve, reject) => {
            video.addEventListener("error", () => reject(video.error), { once: true });
            video.addEventListener("seeked", () => resolve(), { once: true });
            const seek = () => { video.currentTime = 5; };
            if (video.readyState >= 1) { seek(); return; }
            video.addEventListener("loadedmetadata", seek, { once: true });
            video.load();
        })"""
    )
    document.refresh_from_db()
    views, downloads = document.view_count, document.download_count

    with page.expect_download():
        page.get_by_role("link", name="Download").click()
    # Closing the context here drops Chromium's keep-alive connections while
    # the live server still shares this test's database connection.
    page.context.close()
    document.refresh_from_db()

    assert any(header.startswith("bytes=") for header in ranges), ranges
    # The page was opened twice: after the upload and on reload.
    assert (views, downloads) == (2, 0)
    assert document.download_count == 1
