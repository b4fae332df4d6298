"""A poster with bytes after the end of its image is rejected.

A polyglot such as a PNG followed by an HTML page would be stored and
served as ``image/png``. Mona (``member``) uploads posters for her video
when she creates it and later on its poster page. Each format's reader
finds where the image ends (``library.images``).
"""

import struct

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from library import sniffing
from library.images import ImageStructureError, image_end
from library.models import Document, Kind
from library.tests.conftest import (
    MP4_BYTES,
    PNG_BYTES,
    make_item,
    signed_in,
    stored_files,
)

HTML = b"<html><script>alert(document.cookie)</script></html>"
JPEG_BYTES = (
    b"\xff\xd8"
    + b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00"
    # Scan data with an escaped 0xFF and a restart marker inside it.
    + b"\x12\xff\x00\x34\xff\xd0\x56"
    + b"\xff\xd9"
)
GIF_BYTES = (
    b"GIF89a"
    + struct.pack("<HHBBB", 1, 1, 0, 0, 0)
    + b"\x21\xfe\x03abc\x00"  # a comment extension
    + b"\x2c"
    + struct.pack("<HHHHB", 0, 0, 1, 1, 0)
    + b"\x02\x02\x4c\x01\x00"
    + b"\x3b"
)
WEBP_BYTES = b"RIFF" + struct.pack("<I", 18) + b"WEBPVP8L" + struct.pack("<I", 5)
WEBP_BYTES += bytes(5) + b"\x00"

IMAGES = [
    (sniffing.PNG, PNG_BYTES),
    (sniffing.JPEG, JPEG_BYTES),
    (sniffing.GIF, GIF_BYTES),
    (sniffing.WEBP, WEBP_BYTES),
]


@pytest.mark.parametrize(("content_type", "content"), IMAGES)
def test_image_end_is_file_end(content_type, content):
    assert image_end(content, content_type) == len(content)


@pytest.mark.parametrize(("content_type", "content"), IMAGES)
def test_image_end_before_appended_html(content_type, content):
    assert image_end(content + HTML, content_type) == len(content)


@pytest.mark.parametrize(("content_type", "content"), IMAGES)
def test_truncated_image_raises(content_type, content):
    with pytest.raises(ImageStructureError):
        image_end(content[:-2], content_type)


def test_png_with_wrong_crc_raises():
    broken = bytearray(PNG_BYTES)
    broken[-13] ^= 0xFF  # the last byte of IDAT's CRC, before IEND's 12

    with pytest.raises(ImageStructureError, match="wrong CRC"):
        image_end(bytes(broken), sniffing.PNG)


@pytest.mark.django_db
def test_poster_page_rejects_png_then_html(member, media_root):
    video = make_item(member, "Seeking demo", kind=Kind.VIDEO)
    poster = SimpleUploadedFile("still.png", PNG_BYTES + HTML, content_type="image/png")

    response = signed_in(member).post(
        f"/library/{video.pk}/poster/edit/", {"poster": poster}
    )

    assert response.status_code == 400
    assert response.context["form"].errors["poster"] == [
        f"still.png has {len(HTML)} bytes after the end of a PNG image, and a file "
        "hidden behind an image is not accepted. Save the image again from an "
        "image editor and upload it again."
    ]
    video.refresh_from_db()
    assert video.poster == ""
    assert stored_files(media_root) == []


@pytest.mark.django_db
def test_new_video_rejects_jpeg_then_html(member, media_root):
    response = signed_in(member).post(
        "/library/new/",
        {
            "kind": Kind.VIDEO,
            "title": "Seeking demo",
            "summary": "How to seek.",
            "file": SimpleUploadedFile("seek.mp4", MP4_BYTES),
            "poster": SimpleUploadedFile("still.jpg", JPEG_BYTES + HTML),
        },
    )

    assert response.status_code == 400
    [message] = response.context["form"].errors["poster"]
    assert message.startswith(f"still.jpg has {len(HTML)} bytes after the end of")
    assert Document.objects.count() == 0
    assert stored_files(media_root) == []


@pytest.mark.django_db
def test_truncated_poster_rejected(member, media_root):
    video = make_item(member, "Seeking demo", kind=Kind.VIDEO)
    poster = SimpleUploadedFile("still.png", PNG_BYTES[:20])

    response = signed_in(member).post(
        f"/library/{video.pk}/poster/edit/", {"poster": poster}
    )

    assert response.status_code == 400
    assert response.context["form"].errors["poster"] == [
        "still.png is not a valid PNG image: it ends in the middle of a PNG chunk. "
        "Save it again from an image editor and upload it again."
    ]


@pytest.mark.django_db
def test_valid_gif_poster_stored(member, media_root):
    video = make_item(member, "Seeking demo", kind=Kind.VIDEO)
    poster = SimpleUploadedFile("still.gif", GIF_BYTES)

    response = signed_in(member).post(
        f"/library/{video.pk}/poster/edit/", {"poster": poster}
    )

    assert response.status_code == 302
    video.refresh_from_db()
    assert video.poster_type == "image/gif"
