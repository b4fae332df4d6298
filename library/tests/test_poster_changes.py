"""Adding, replacing and removing a video's poster after the item exists.

``member`` owns the video, ``moderator`` may edit any item, and ``other``
is an employee who may see the video but not change it.
"""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Role
from conftest import make_person
from core.models import AuditEvent
from library.models import Document, Kind
from library.tests.conftest import (
    MP4_BYTES,
    PDF_BYTES,
    PNG_BYTES,
    make_item,
    png_image,
    signed_in,
    stored_files,
)

pytestmark = pytest.mark.django_db

# A second valid PNG, so a replacement has another SHA-256.
OTHER_PNG_BYTES = png_image(255)


def png(content=PNG_BYTES, name="poster.png"):
    return SimpleUploadedFile(name, content, content_type="image/png")


def poster_url(document):
    return f"/library/{document.pk}/poster/edit/"


def poster_name(document, content):
    return f"library/{document.pk}/poster/{hashlib.sha256(content).hexdigest()}"


@pytest.fixture
def video(member, media_root):
    return make_item(member, "Seeking demo", kind=Kind.VIDEO)


@pytest.fixture
def other(db):
    return make_person("otto", Role.WAREHOUSE, group="warehouse")


def test_owner_adds_poster_later(member, video, media_root):
    form_page = signed_in(member).get(poster_url(video))
    assert form_page.status_code == 200
    assert "Add a poster" in form_page.content.decode()

    response = signed_in(member).post(poster_url(video), {"poster": png()})

    assert response.status_code == 302
    video.refresh_from_db()
    assert video.poster == poster_name(video, PNG_BYTES)
    assert video.poster_type == "image/png"
    assert stored_files(media_root) == [poster_name(video, PNG_BYTES)]
    page = signed_in(member).get(f"/library/{video.pk}/").content.decode()
    assert "Change poster" in page


def test_moderator_replaces_poster(member, moderator, video, media_root):
    signed_in(member).post(poster_url(video), {"poster": png()})
    response = signed_in(moderator).post(
        poster_url(video), {"poster": png(OTHER_PNG_BYTES)}
    )

    assert response.status_code == 302
    video.refresh_from_db()
    assert video.poster == poster_name(video, OTHER_PNG_BYTES)
    served = signed_in(member).get(f"/library/{video.pk}/poster")
    assert b"".join(served.streaming_content) == OTHER_PNG_BYTES
    # The replaced file stays, named by the audit event, as versions do.
    event = AuditEvent.objects.filter(action="library.poster_changed").last()
    assert event.before["poster"] == poster_name(video, PNG_BYTES)
    assert event.after["poster"] == poster_name(video, OTHER_PNG_BYTES)
    assert poster_name(video, PNG_BYTES) in stored_files(media_root)


def test_owner_removes_poster(member, video, media_root):
    signed_in(member).post(poster_url(video), {"poster": png()})
    response = signed_in(member).post(poster_url(video), {"remove": "on"})

    assert response.status_code == 302
    video.refresh_from_db()
    assert video.poster == ""
    assert video.poster_type == ""
    assert signed_in(member).get(f"/library/{video.pk}/poster").status_code == 404
    event = AuditEvent.objects.filter(action="library.poster_changed").last()
    assert event.after == {"poster": "", "poster_type": ""}


def test_poster_must_be_image(member, video, media_root):
    response = signed_in(member).post(
        poster_url(video), {"poster": png(PDF_BYTES, name="poster.png")}
    )

    assert response.status_code == 400
    assert response.context["form"].errors["poster"] == [
        "poster.png is a PDF, but a poster must be a PNG, JPEG, GIF or WebP image."
    ]
    video.refresh_from_db()
    assert video.poster == ""
    assert stored_files(media_root) == []


def test_poster_over_limit_answers_413(member, video, media_root, settings):
    settings.LIBRARY_MAX_POSTER_BYTES = 10

    response = signed_in(member).post(poster_url(video), {"poster": png()})

    assert response.status_code == 413
    [message] = response.context["form"].errors["poster"]
    assert message.startswith(f"poster.png is {len(PNG_BYTES)} bytes; the limit is")
    assert stored_files(media_root) == []


def test_same_poster_again_rejected(member, video, media_root):
    signed_in(member).post(poster_url(video), {"poster": png()})
    response = signed_in(member).post(poster_url(video), {"poster": png()})

    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [
        "poster.png is the same image as the current poster. Choose a different "
        "image, or leave the poster as it is."
    ]
    assert stored_files(media_root) == [poster_name(video, PNG_BYTES)]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Choose an image for the poster, or tick Remove the poster."),
        (
            {"remove": "on", "poster": "image"},
            "Choose a new poster or tick Remove the poster, not both.",
        ),
    ],
)
def test_form_needs_one_choice(member, video, media_root, data, message):
    if data.get("poster") == "image":
        data = {**data, "poster": png()}
    response = signed_in(member).post(poster_url(video), data)

    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [message]


def test_remove_without_poster_rejected(member, video, media_root):
    response = signed_in(member).post(poster_url(video), {"remove": "on"})

    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [
        "This video has no poster to remove: choose an image to add one."
    ]


def test_reader_cannot_change_poster(other, video, media_root):
    assert signed_in(other).get(poster_url(video)).status_code == 403
    response = signed_in(other).post(poster_url(video), {"poster": png()})

    assert response.status_code == 403
    video.refresh_from_db()
    assert video.poster == ""
    assert stored_files(media_root) == []


def test_document_has_no_poster_page(member, media_root):
    document = make_item(member, "Guide", kind=Kind.DOCUMENT)

    assert signed_in(member).get(poster_url(document)).status_code == 404


def test_video_upload_still_sets_poster(member, media_root):
    from library.tests.test_uploads import upload

    upload(
        signed_in(member),
        kind=Kind.VIDEO,
        name="seek.mp4",
        content=MP4_BYTES,
        poster=png(),
    )
    document = Document.objects.get()
    assert document.poster == poster_name(document, PNG_BYTES)
