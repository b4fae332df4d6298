"""A poster is stored re-encoded, without the metadata its file carried.

Mona (``member``) adds posters that the tests make with Pillow. One is a
phone photo whose EXIF names her, her camera and where she stood. Others
are a PNG with text chunks and an animated GIF and WebP. The last ones
cannot be stored at all: too many pixels, or pixel data Pillow cannot
decode. Each stored poster is read back from the storage and from the
poster route.
"""

import io
import struct
import zlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageChops, ImageCms, ImageStat, PngImagePlugin

from library import sniffing
from library.images import strip_metadata, webp_is_lossless
from library.models import Document, Kind
from library.tests.conftest import MP4_BYTES, make_item, signed_in, stored_files

pytestmark = pytest.mark.django_db

AUTHOR = "Mona Example"
CAMERA = "Phonecam 12"
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description '
    b'dc:creator="Mona Example"/></rdf:RDF></x:xmpmeta>'
)
ICC = b"fake-icc-profile:" + bytes(range(64))
# Words of the metadata that must not reach the stored file.
SECRETS = [AUTHOR.encode(), CAMERA.encode(), b"Mona", b"secret", b"fake-icc"]


def exif(orientation: int = 1) -> bytes:
    """Return EXIF with the author, the camera, a GPS position and an orientation."""
    data = Image.Exif()
    data[0x013B] = AUTHOR  # Artist
    data[0x0110] = CAMERA  # Model
    data[0x0112] = orientation
    data[0x8825] = {  # GPS: 52°31'12" N, 13°24'0" E
        1: "N",
        2: (52.0, 31.0, 12.0),
        3: "E",
        4: (13.0, 24.0, 0.0),
    }
    return data.tobytes()


def picture(size=(40, 30), mode="RGB") -> Image.Image:
    """Return an image with a red top-left corner on blue, to check orientation."""
    image = Image.new(mode, size, "blue")
    image.paste("red", (0, 0, 10, 10))
    return image


def encoded(image: Image.Image, image_format: str, **options) -> bytes:
    output = io.BytesIO()
    image.save(output, format=image_format, **options)
    return output.getvalue()


def jpeg_with_metadata(orientation: int = 1) -> bytes:
    return encoded(
        picture(),
        "JPEG",
        quality=95,
        exif=exif(orientation),
        comment=b"secret comment",
        icc_profile=ICC,
        xmp=XMP,
    )


def png_with_metadata() -> bytes:
    text = PngImagePlugin.PngInfo()
    text.add_text("Author", AUTHOR)
    text.add_text("Comment", "secret", zip=True)  # a zTXt chunk
    text.add_itxt("XML:com.adobe.xmp", XMP.decode())
    return encoded(
        picture(mode="RGBA"), "PNG", pnginfo=text, exif=exif(), icc_profile=ICC
    )


def frames() -> list[Image.Image]:
    return [Image.new("RGB", (12, 8), color) for color in ("red", "lime", "blue")]


def animated(image_format: str, **options) -> bytes:
    first, *rest = frames()
    return encoded(
        first,
        image_format,
        save_all=True,
        append_images=rest,
        duration=[100, 200, 300],
        loop=2,
        **options,
    )


def add_video(client, poster: bytes, name: str):
    return client.post(
        "/library/new/",
        {
            "kind": Kind.VIDEO,
            "title": "Seeking demo",
            "summary": "How to seek.",
            "file": SimpleUploadedFile("seek.mp4", MP4_BYTES),
            "poster": SimpleUploadedFile(name, poster),
        },
    )


def stored_poster(media_root: Path, document: Document) -> bytes:
    return (media_root / document.poster).read_bytes()


def served_poster(client, document: Document):
    response = client.get(f"/library/{document.pk}/poster")
    assert response.status_code == 200
    return response, b"".join(response.streaming_content)


def assert_no_metadata(content: bytes, image: Image.Image) -> None:
    for secret in SECRETS:
        assert secret not in content
    assert b"xmpmeta" not in content
    assert not image.getexif()
    assert set(image.info) <= {
        "jfif",
        "jfif_version",
        "jfif_unit",
        "jfif_density",
        "loop",
        "duration",
        "background",
        "version",
        "extension",
        "timestamp",
        "transparency",
    }


def difference(first: Image.Image, second: Image.Image) -> int:
    """Return the largest difference of one channel between two images."""
    delta = ImageChops.difference(first.convert("RGB"), second.convert("RGB"))
    return max(high for _, high in ImageStat.Stat(delta).extrema)


def mean_difference(first: Image.Image, second: Image.Image) -> float:
    """Return the largest mean difference of one channel between two images."""
    delta = ImageChops.difference(first.convert("RGB"), second.convert("RGB"))
    return max(ImageStat.Stat(delta).mean)


def test_jpeg_poster_loses_metadata(member, media_root):
    original = jpeg_with_metadata()
    client = signed_in(member)

    response = add_video(client, original, "still.jpg")

    assert response.status_code == 302
    document = Document.objects.get()
    content = stored_poster(media_root, document)
    with Image.open(io.BytesIO(content)) as stored:
        assert stored.format == "JPEG"
        assert stored.size == (40, 30)
        assert_no_metadata(content, stored)
        assert "comment" not in stored.info
        assert "icc_profile" not in stored.info
        with Image.open(io.BytesIO(original)) as before:
            # Re-encoded with the file's own quantization tables and chroma
            # subsampling, as Pillow's quality="keep" does: the pixels differ
            # by a few levels on average, more only along the sharp edge
            # between red and blue.
            assert stored.quantization == before.quantization
            assert mean_difference(stored, before) <= 3
    assert document.poster_type == sniffing.JPEG
    served, body = served_poster(client, document)
    assert served["Content-Type"] == "image/jpeg"
    assert body == content
    assert served["Content-Length"] == str(len(content))


def test_png_poster_loses_text_chunks(member, media_root):
    original = png_with_metadata()
    client = signed_in(member)

    add_video(client, original, "still.png")

    document = Document.objects.get()
    content = stored_poster(media_root, document)
    for chunk in (b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"iCCP"):
        assert chunk not in content
    with Image.open(io.BytesIO(content)) as stored:
        assert stored.format == "PNG"
        assert stored.mode == "RGBA"
        assert stored.size == (40, 30)
        assert_no_metadata(content, stored)
        with Image.open(io.BytesIO(original)) as before:
            assert stored.tobytes() == before.tobytes()
    served, body = served_poster(client, document)
    assert served["Content-Type"] == "image/png"
    assert body == content


def rgb(image: Image.Image, position: tuple[int, int]) -> tuple[int, int, int]:
    red, green, blue = image.convert("RGB").getpixel(position)  # type: ignore[misc]
    return red, green, blue


def test_rotated_photo_is_stored_upright(member, media_root):
    # Orientation 6: the camera was turned, and a viewer rotates the stored
    # 40 x 30 pixels by 90 degrees clockwise to show them upright.
    original = jpeg_with_metadata(orientation=6)

    add_video(signed_in(member), original, "turned.jpg")

    content = stored_poster(media_root, Document.objects.get())
    with Image.open(io.BytesIO(content)) as stored:
        assert stored.size == (30, 40)
        assert 0x0112 not in stored.getexif()
        # The red corner was top left; turned clockwise it is top right.
        red, _, blue = rgb(stored, (25, 4))
        assert red > 200
        assert blue < 60
        red, _, blue = rgb(stored, (4, 4))
        assert blue > 200
        assert red < 60


def test_animated_gif_keeps_frames_timing_and_loop(member, media_root):
    first, *rest = frames()
    original = encoded(
        first,
        "GIF",
        save_all=True,
        append_images=rest,
        duration=[100, 200, 300],
        loop=2,
        comment=b"secret comment by Mona",
    )
    client = signed_in(member)

    add_video(client, original, "moving.gif")

    document = Document.objects.get()
    content = stored_poster(media_root, document)
    with Image.open(io.BytesIO(content)) as stored:
        assert stored.format == "GIF"
        assert stored.size == (12, 8)
        assert stored.n_frames == 3
        assert stored.info["loop"] == 2
        assert "comment" not in stored.info
        assert_no_metadata(content, stored)
        seen = []
        for index, expected in enumerate(frames()):
            stored.seek(index)
            seen.append(stored.info["duration"])
            assert difference(stored, expected) == 0
        assert seen == [100, 200, 300]
    served, _ = served_poster(client, document)
    assert served["Content-Type"] == "image/gif"


def test_animated_webp_keeps_frames(member, media_root):
    original = animated("WEBP", lossless=True, exif=exif(), xmp=XMP, icc_profile=ICC)
    client = signed_in(member)

    add_video(client, original, "moving.webp")

    document = Document.objects.get()
    content = stored_poster(media_root, document)
    assert webp_is_lossless(content)
    for chunk in (b"EXIF", b"XMP ", b"ICCP"):
        assert chunk not in content
    with Image.open(io.BytesIO(content)) as stored:
        assert stored.format == "WEBP"
        assert stored.n_frames == 3
        assert stored.info["loop"] == 2
        durations = []
        for index, expected in enumerate(frames()):
            stored.seek(index)
            stored.load()
            durations.append(stored.info["duration"])
            assert difference(stored, expected) == 0
        assert durations == [100, 200, 300]
        assert_no_metadata(content, stored)
    served, _ = served_poster(client, document)
    assert served["Content-Type"] == "image/webp"


def test_lossy_webp_stays_lossy_without_metadata(member, media_root):
    original = encoded(picture(), "WEBP", quality=80, exif=exif(), xmp=XMP)
    assert not webp_is_lossless(original)

    add_video(signed_in(member), original, "still.webp")

    content = stored_poster(media_root, Document.objects.get())
    assert not webp_is_lossless(content)
    with Image.open(io.BytesIO(content)) as stored:
        assert stored.format == "WEBP"
        assert stored.size == (40, 30)
        assert_no_metadata(content, stored)


def test_changed_poster_is_stored_without_metadata(member, media_root):
    video = make_item(member, "Seeking demo", kind=Kind.VIDEO)

    response = signed_in(member).post(
        f"/library/{video.pk}/poster/edit/",
        {"poster": SimpleUploadedFile("still.jpg", jpeg_with_metadata())},
    )

    assert response.status_code == 302
    video.refresh_from_db()
    content = stored_poster(media_root, video)
    with Image.open(io.BytesIO(content)) as stored:
        assert_no_metadata(content, stored)
    # The stored name ends with the SHA-256 of the bytes stored.
    assert stored_files(media_root) == [video.poster]


def test_too_many_pixels_rejected_before_decoding(member, media_root, settings):
    settings.LIBRARY_MAX_IMAGE_PIXELS = 1_000

    response = add_video(signed_in(member), png_with_metadata(), "huge.png")

    assert response.status_code == 413
    assert response.context["form"].errors["poster"] == [
        "huge.png is 40 by 30 pixels (1,200 pixels); the limit is 1,000 pixels. "
        "Save the image at a lower resolution, or with fewer frames, and upload "
        "it again."
    ]
    assert Document.objects.count() == 0
    assert stored_files(media_root) == []


def test_animation_counts_pixels_of_every_frame(member, media_root, settings):
    settings.LIBRARY_MAX_IMAGE_PIXELS = 12 * 8 * 2

    response = add_video(signed_in(member), animated("GIF"), "moving.gif")

    assert response.status_code == 413
    assert response.context["form"].errors["poster"] == [
        "moving.gif is 3 frames of 12 by 8 pixels, 288 pixels in all; the limit "
        "is 192 pixels. Save the image at a lower resolution, or with fewer "
        "frames, and upload it again."
    ]
    assert stored_files(media_root) == []


def png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data)
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def bomb_png(side: int) -> bytes:
    """Return a 1-bit PNG of ``side`` by ``side`` black pixels, a few KB of zlib."""
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    compressor = zlib.compressobj(9)
    row = bytes(1 + (side + 7) // 8)  # filter byte, then the packed pixels
    pixels = b"".join(compressor.compress(row) for _ in range(side))
    pixels += compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", pixels)
        + png_chunk(b"IEND", b"")
    )


def test_decompression_bomb_rejected_with_default_limit(member, media_root):
    content = bomb_png(20_000)
    assert len(content) < 100_000

    response = add_video(signed_in(member), content, "bomb.png")

    assert response.status_code == 413
    [message] = response.context["form"].errors["poster"]
    assert message.startswith(
        "bomb.png is 20,000 by 20,000 pixels (400,000,000 pixels); the limit is "
        "25,000,000 pixels."
    )
    assert stored_files(media_root) == []


def test_undecodable_pixels_store_nothing(member, media_root):
    # Every chunk and CRC is in order, so the structure check passes, but
    # the IDAT chunk is not zlib data.
    header = struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)
    broken = (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", b"not zlib data at all")
        + png_chunk(b"IEND", b"")
    )
    video = make_item(member, "Seeking demo", kind=Kind.VIDEO)

    response = signed_in(member).post(
        f"/library/{video.pk}/poster/edit/",
        {"poster": SimpleUploadedFile("broken.png", broken)},
    )

    assert response.status_code == 400
    assert response.context["form"].errors["poster"] == [
        "broken.png could not be read as a PNG image to remove its metadata, so "
        "nothing was stored. Save it again from an image editor and upload it "
        "again."
    ]
    video.refresh_from_db()
    assert video.poster == ""
    assert stored_files(media_root) == []


def test_reencoding_is_repeatable():
    # The "same image as the current poster" check compares the SHA-256 of
    # the re-encoded bytes, so one file must give the same bytes each time.
    original = jpeg_with_metadata()

    first = strip_metadata(original, sniffing.JPEG, max_pixels=10_000)

    assert strip_metadata(original, sniffing.JPEG, max_pixels=10_000) == first
    assert first != original


def palette_image() -> Image.Image:
    """Return a palette image whose index 0 is transparent, with a red corner."""
    image = picture().convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    image.info["transparency"] = 0
    return image


@pytest.mark.parametrize(
    ("content_type", "image_format"),
    [(sniffing.PNG, "PNG"), (sniffing.GIF, "GIF")],
)
def test_palette_transparency_kept(content_type, image_format):
    original = encoded(palette_image(), image_format, transparency=0)

    content = strip_metadata(original, content_type, max_pixels=10_000)

    with (
        Image.open(io.BytesIO(content)) as stored,
        Image.open(io.BytesIO(original)) as before,
    ):
        assert stored.format == image_format
        assert stored.mode == "P"
        assert stored.info["transparency"] == before.info["transparency"]
        assert stored.convert("RGBA").tobytes() == before.convert("RGBA").tobytes()


def test_animated_png_keeps_frames():
    original = animated("PNG")

    content = strip_metadata(original, sniffing.PNG, max_pixels=10_000)

    with Image.open(io.BytesIO(content)) as stored:
        assert stored.format == "PNG"
        assert stored.n_frames == 3
        assert stored.info["loop"] == 2
        durations = []
        for index, expected in enumerate(frames()):
            stored.seek(index)
            durations.append(stored.info["duration"])
            assert difference(stored, expected) == 0
        assert durations == [100, 200, 300]


def real_profile() -> bytes:
    """Return a colour profile littlecms reads (Pillow's built-in sRGB)."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


@pytest.mark.parametrize(
    ("image_format", "content_type", "options"),
    [
        ("JPEG", sniffing.JPEG, {"quality": 95}),
        ("PNG", sniffing.PNG, {}),
        ("WEBP", sniffing.WEBP, {"lossless": True}),
    ],
)
def test_colour_profile_kept(image_format, content_type, options):
    """A readable profile stays, so the colours show as the author saw them."""
    profile = real_profile()
    original = encoded(
        picture(), image_format, exif=exif(), icc_profile=profile, **options
    )

    content = strip_metadata(original, content_type, max_pixels=10_000)

    with Image.open(io.BytesIO(content)) as stored:
        assert stored.info.get("icc_profile") == profile
        assert not stored.getexif()
    for secret in (AUTHOR.encode(), CAMERA.encode()):
        assert secret not in content
