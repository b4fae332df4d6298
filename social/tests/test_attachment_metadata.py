"""An image attached to a post is stored re-encoded, without its metadata.

``sales_rep`` posts a phone photo whose EXIF has a GPS position, the
camera and her name, with a JPEG comment, to the payments community. The
post's readers get the photo upright and without any of it. A PDF beside
it is stored as sent.
"""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from core.testing import signed_in
from library.tests.conftest import PDF_BYTES, PNG_BYTES
from social.models import Post

pytestmark = pytest.mark.django_db

AUTHOR = "Sally Sales"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


def turned_photo() -> bytes:
    """Return a 40 x 30 JPEG with EXIF GPS, camera, author and orientation 6."""
    exif = Image.Exif()
    exif[0x013B] = AUTHOR  # Artist
    exif[0x0110] = "Phonecam 12"  # Model
    exif[0x0112] = 6  # shown turned 90 degrees clockwise
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 0.0)}
    output = io.BytesIO()
    Image.new("RGB", (40, 30), "blue").save(
        output, "JPEG", exif=exif.tobytes(), comment=b"secret comment"
    )
    return output.getvalue()


def post_files(client, community, *items: tuple[str, bytes]):
    return client.post(
        f"/communities/{community.slug}/posts/",
        {
            "body": "Remittance photo and the credit note",
            "attachments": [SimpleUploadedFile(name, data) for name, data in items],
        },
    )


def served(client, post: Post, position: int):
    response = client.get(f"/posts/{post.pk}/attachments/{position}")
    assert response.status_code == 200
    return response, b"".join(response.streaming_content)


def test_photo_stored_without_metadata(sales_rep, payments_community, media_root):
    client = signed_in(sales_rep)

    response = post_files(
        client,
        payments_community,
        ("photo.jpg", turned_photo()),
        ("note.pdf", PDF_BYTES),
    )

    assert response.status_code == 302
    post = Post.objects.get()
    photo, content = served(client, post, 1)
    assert photo["Content-Type"] == "image/jpeg"
    assert AUTHOR.encode() not in content
    assert b"Phonecam" not in content
    assert b"secret comment" not in content
    with Image.open(io.BytesIO(content)) as image:
        assert image.format == "JPEG"
        assert image.size == (30, 40)
        assert not image.getexif()
        assert "comment" not in image.info
    row = post.attachments.get(position=1)
    assert row.size == len(content)
    assert (media_root / row.stored_name).read_bytes() == content
    _, pdf = served(client, post, 2)
    assert pdf == PDF_BYTES


def test_image_with_trailing_html_rejected(sales_rep, payments_community, media_root):
    html = b"<html><script>alert(1)</script></html>"

    response = post_files(
        signed_in(sales_rep), payments_community, ("scan.png", PNG_BYTES + html)
    )

    assert response.status_code == 400
    assert response.context["form"].errors["attachments"] == [
        f"scan.png has {len(html)} bytes after the end of a PNG image, and a file "
        "hidden behind an image is not accepted. Save the image again from an "
        "image editor and upload it again."
    ]
    assert not Post.objects.exists()
    assert not any(path.is_file() for path in media_root.rglob("*"))


def test_image_over_pixel_limit_rejected(
    sales_rep, payments_community, media_root, settings
):
    settings.LIBRARY_MAX_IMAGE_PIXELS = 1_000

    response = post_files(
        signed_in(sales_rep), payments_community, ("photo.jpg", turned_photo())
    )

    assert response.status_code == 413
    [message] = response.context["form"].errors["attachments"]
    assert message.startswith(
        "photo.jpg is 40 by 30 pixels (1,200 pixels); the limit is 1,000 pixels."
    )
    assert not Post.objects.exists()
