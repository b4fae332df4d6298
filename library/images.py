"""Check an uploaded image's structure, then re-encode it without its metadata.

A polyglot is an image with another file after its end, such as a PNG
followed by an HTML page. It is served as the image with ``nosniff``, but a
proxy, a download or another program may read the trailing part, so an
image with bytes after its end is rejected. Each reader walks the
format's structure (PNG chunks with their CRCs, JPEG segments and scans,
GIF blocks, the WebP RIFF size) and raises ``ImageStructureError`` for a
file that breaks it.

An image that passes is re-encoded by ``strip_metadata``: Pillow decodes
its pixels and writes them again in the same format, so EXIF (a GPS
position, the camera, the author's name), XMP, PNG text chunks and JPEG
and GIF comments are left behind. A colour profile (ICC) that littlecms
can read is kept, because it describes the pixels' colours
(docs/library.md, "Poster metadata").
"""

import io
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from PIL import (
    GifImagePlugin,
    Image,
    ImageCms,
    JpegImagePlugin,
    PngImagePlugin,
    WebPImagePlugin,
)

from library import sniffing

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class ImageStructureError(ValueError):
    """The bytes do not follow the image format's structure."""


def image_end(data: bytes, content_type: str) -> int:
    """Return the offset just after the image's last byte, by its format's rules."""
    readers = {
        sniffing.PNG: _png_end,
        sniffing.JPEG: _jpeg_end,
        sniffing.GIF: _gif_end,
        sniffing.WEBP: _webp_end,
    }
    try:
        return readers[content_type](data)
    except (IndexError, struct.error):
        raise ImageStructureError("it ends in the middle of the image") from None


def _png_end(data: bytes) -> int:
    if not data.startswith(PNG_SIGNATURE):
        raise ImageStructureError("it has no PNG signature")
    offset = len(PNG_SIGNATURE)
    while True:
        length, chunk_type = struct.unpack_from(">I4s", data, offset)
        body_end: int = offset + 8 + length
        if body_end + 4 > len(data):
            raise ImageStructureError("it ends in the middle of a PNG chunk")
        (crc,) = struct.unpack_from(">I", data, body_end)
        if zlib.crc32(data[offset + 4 : body_end]) != crc:
            raise ImageStructureError(f"its PNG chunk {chunk_type!r} has a wrong CRC")
        offset = body_end + 4
        if chunk_type == b"IEND":
            return offset


# JPEG markers that stand alone, without a length: TEM and RST0 to RST7.
_JPEG_STANDALONE = {0x01, *range(0xD0, 0xD8)}


def _jpeg_end(data: bytes) -> int:
    if not data.startswith(b"\xff\xd8"):
        raise ImageStructureError("it has no JPEG start marker")
    offset = 2
    while True:
        if data[offset] != 0xFF:
            raise ImageStructureError(f"it has no JPEG marker at byte {offset}")
        while data[offset] == 0xFF:  # fill bytes before a marker
            offset += 1
        marker = data[offset]
        offset += 1
        if marker == 0xD9:  # EOI
            return offset
        if marker in _JPEG_STANDALONE:
            continue
        (length,) = struct.unpack_from(">H", data, offset)
        offset += length
        if offset > len(data):
            raise ImageStructureError("it ends in the middle of a JPEG segment")
        if marker == 0xDA:  # SOS: entropy-coded data runs to the next marker
            offset = _jpeg_scan_end(data, offset)


def _jpeg_scan_end(data: bytes, offset: int) -> int:
    """Return the offset of the first marker after entropy-coded data."""
    while True:
        offset = data.find(b"\xff", offset)
        if offset < 0:
            raise ImageStructureError("it ends in the middle of a JPEG scan")
        following = data[offset + 1]
        # 0xFF00 is an escaped data byte and RSTn sits inside a scan.
        if following == 0x00 or 0xD0 <= following <= 0xD7:
            offset += 2
            continue
        return offset


def _gif_end(data: bytes) -> int:
    if data[:6] not in (b"GIF87a", b"GIF89a"):
        raise ImageStructureError("it has no GIF signature")
    flags = data[10]
    offset = 13
    if flags & 0x80:
        offset += 3 * 2 ** ((flags & 0x07) + 1)
    while True:
        block = data[offset]
        if block == 0x3B:  # trailer
            return offset + 1
        if block == 0x21:  # extension: label, then data sub-blocks
            offset = _gif_sub_blocks_end(data, offset + 2)
        elif block == 0x2C:  # image descriptor
            local = data[offset + 9]
            offset += 10
            if local & 0x80:
                offset += 3 * 2 ** ((local & 0x07) + 1)
            offset = _gif_sub_blocks_end(data, offset + 1)  # after LZW code size
        else:
            raise ImageStructureError(f"it has an unknown GIF block at byte {offset}")


def _gif_sub_blocks_end(data: bytes, offset: int) -> int:
    while (size := data[offset]) != 0:
        offset += 1 + size
    return offset + 1


def _webp_end(data: bytes) -> int:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ImageStructureError("it has no WebP RIFF header")
    size: int = struct.unpack_from("<I", data, 4)[0]
    end = 8 + size
    if end > len(data):
        raise ImageStructureError("it is shorter than the size in its RIFF header")
    return end


class ImageTooLargeError(ValueError):
    """The image has more pixels than the limit, counting every frame."""

    def __init__(self, *, width: int, height: int, frames: int, limit: int) -> None:
        super().__init__(f"{width}x{height} pixels in {frames} frames")
        self.width = width
        self.height = height
        self.frames = frames
        self.limit = limit

    @property
    def pixels(self) -> int:
        return self.width * self.height * self.frames


class ImageDecodeError(ValueError):
    """Pillow could not decode or re-encode the image."""


# Pillow's reader of each type. Constructing the reader reads only the
# header and skips ``Image.open``'s decompression bomb check, whose error
# gives no width and height. ``strip_metadata`` applies the setting's limit
# itself, before any pixel is decoded.
_READERS: dict[str, Callable[[IO[bytes]], Image.Image]] = {
    sniffing.PNG: PngImagePlugin.PngImageFile,
    sniffing.JPEG: JpegImagePlugin.JpegImageFile,
    sniffing.GIF: GifImagePlugin.GifImageFile,
    sniffing.WEBP: WebPImagePlugin.WebPImageFile,
}
_FORMATS = {
    sniffing.PNG: "PNG",
    sniffing.JPEG: "JPEG",
    sniffing.GIF: "GIF",
    sniffing.WEBP: "WEBP",
}
# The EXIF orientation tag's values, as the transposition that shows the
# image upright (the values of ``PIL.ImageOps.exif_transpose``).
_ORIENTATION_TAG = 0x0112
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# Pillow's errors for an image it cannot decode or encode.
_PILLOW_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError)


@dataclass(frozen=True)
class _Frames:
    pictures: list[Image.Image]
    durations: list[float]
    loop: int | None


def strip_metadata(data: bytes, content_type: str, *, max_pixels: int) -> bytes:
    """Return the image in ``data`` re-encoded in its format, without metadata.

    The pixels are kept: PNG, GIF and lossless WebP exactly, a JPEG with
    its own quantization tables and chroma subsampling, a lossy WebP at
    quality 90. An EXIF orientation is applied to the pixels before EXIF
    is dropped, and an animated GIF, PNG or WebP keeps its frames, their
    durations and its loop count. Raise ``ImageTooLargeError`` when the
    frames hold more than ``max_pixels`` pixels in all, before any pixel
    is decoded, and ``ImageDecodeError`` when Pillow cannot read or write
    the image.
    """
    try:
        image = _READERS[content_type](io.BytesIO(data))
    except _PILLOW_ERRORS as error:
        raise ImageDecodeError(str(error)) from error
    with image:
        width, height = image.size
        frames = getattr(image, "n_frames", 1)
        if width * height * frames > max_pixels:
            raise ImageTooLargeError(
                width=width, height=height, frames=frames, limit=max_pixels
            )
        try:
            return _reencode(image, content_type, data=data, frames=frames)
        except _PILLOW_ERRORS as error:
            raise ImageDecodeError(str(error)) from error


def _reencode(
    image: Image.Image, content_type: str, *, data: bytes, frames: int
) -> bytes:
    options: dict[str, Any] = {}
    profile = readable_profile(image.info.get("icc_profile"))
    if profile is not None:
        # Pillow writes it in JPEG, PNG and WebP; a GIF has no place for it.
        options["icc_profile"] = profile
    if isinstance(image, JpegImagePlugin.JpegImageFile):
        options["qtables"] = image.quantization
        sampling = JpegImagePlugin.get_sampling(image)
        if sampling != -1:
            options["subsampling"] = sampling
        options["progressive"] = bool(image.info.get("progressive"))
    elif content_type == sniffing.WEBP:
        if webp_is_lossless(data):
            options["lossless"] = True
        else:
            options["quality"] = 90
    decoded = _decoded_frames(image, frames)
    first, *rest = decoded.pictures
    if rest:
        options.update(save_all=True, append_images=rest, duration=decoded.durations)
        if decoded.loop is not None:
            options["loop"] = decoded.loop
    output = io.BytesIO()
    first.save(output, format=_FORMATS[content_type], **options)
    return output.getvalue()


def readable_profile(profile: object) -> bytes | None:
    """Return ``profile`` when it is an ICC profile littlecms reads, else None.

    A Display P3 photo shown without its profile is read as sRGB, and its
    colours shift. Bytes that do not parse as a profile describe no colour
    space, and may be anything an editor put there, so they are dropped.
    """
    if not isinstance(profile, bytes) or not profile:
        return None
    try:
        ImageCms.ImageCmsProfile(io.BytesIO(profile))
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None
    return profile


def _decoded_frames(image: Image.Image, frames: int) -> _Frames:
    """Decode every frame upright, each a new image with no metadata.

    Pillow gives each frame of an animation as the whole canvas, already
    combined with the frames before it, so the frames can be written again
    without their disposal and blend settings. Only a palette image's
    transparent colour is kept from ``info``, because it is part of the
    pixels.
    """
    upright = _UPRIGHT.get(image.getexif().get(_ORIENTATION_TAG, 1))
    loop = image.info.get("loop")
    pictures: list[Image.Image] = []
    durations: list[float] = []
    for index in range(frames):
        image.seek(index)
        picture = image.copy()  # decodes the frame, and WebP sets its duration
        durations.append(image.info.get("duration", 0))
        if upright is not None:
            picture = picture.transpose(upright)
        picture.info = {
            key: picture.info[key] for key in ("transparency",) if key in picture.info
        }
        pictures.append(picture)
    return _Frames(pictures=pictures, durations=durations, loop=loop)


def webp_is_lossless(data: bytes) -> bool:
    """Return True when every frame of a WebP file is lossless (VP8L)."""
    kinds: set[bytes] = set()
    offset = 12
    while offset + 8 <= len(data):
        fourcc = data[offset : offset + 4]
        (size,) = struct.unpack_from("<I", data, offset + 4)
        if fourcc in (b"VP8 ", b"VP8L"):
            kinds.add(fourcc)
        elif fourcc == b"ANMF":
            # A frame: 16 bytes of position and timing, then its chunks.
            kinds |= _frame_bitstreams(data[offset + 24 : offset + 8 + size])
        offset += 8 + size + (size & 1)
    return kinds == {b"VP8L"}


def _frame_bitstreams(frame: bytes) -> set[bytes]:
    kinds: set[bytes] = set()
    offset = 0
    while offset + 8 <= len(frame):
        fourcc = frame[offset : offset + 4]
        (size,) = struct.unpack_from("<I", frame, offset + 4)
        if fourcc in (b"VP8 ", b"VP8L"):
            kinds.add(fourcc)
        offset += 8 + size + (size & 1)
    return kinds
