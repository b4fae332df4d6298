"""Find where an uploaded image's own data ends, to reject a polyglot file.

A polyglot is an image with another file after its end, such as a PNG
followed by an HTML page. It is served as the image with ``nosniff``, but a
proxy, a download or another program may read the trailing part, so an
image with bytes after its end is rejected. Each reader walks the
format's structure (PNG chunks with their CRCs, JPEG segments and scans,
GIF blocks, the WebP RIFF size) and raises ``ImageStructureError`` for a
file that breaks it.

NOTE: metadata inside the image (PNG text chunks, JPEG comments) is kept.
Re-encoding with Pillow would drop it, but Pillow is not installed here
(docs/library.md, "Poster images").
"""

import struct
import zlib

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
