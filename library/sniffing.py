"""Decide a file's type from its first bytes, against a fixed allowlist.

The client's MIME type and the file name's extension are never consulted:
a PNG named ``slides.html`` is a PNG, and HTML named ``report.pdf`` is
rejected. Markup (HTML, SVG, XML) is not on the allowlist, because a
browser would run its scripts on our origin.
"""

import zipfile
from typing import IO

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
GIF = "image/gif"
WEBP = "image/webp"
MP4 = "video/mp4"
ZIP = "application/zip"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
TEXT = "text/plain"

IMAGE_TYPES = frozenset({PNG, JPEG, GIF, WEBP})
OFFICE_TYPES = frozenset({DOCX, XLSX, PPTX})

# The extension a download gets when the uploader's name has none that fits.
EXTENSIONS: dict[str, tuple[str, ...]] = {
    PDF: (".pdf",),
    PNG: (".png",),
    JPEG: (".jpg", ".jpeg"),
    GIF: (".gif",),
    WEBP: (".webp",),
    MP4: (".mp4", ".m4v"),
    ZIP: (".zip",),
    DOCX: (".docx",),
    XLSX: (".xlsx",),
    PPTX: (".pptx",),
    TEXT: (".md", ".markdown", ".txt"),
}

# ISO base media brands that browsers play as MP4. QuickTime ("qt  ") is not one.
MP4_BRANDS = frozenset(
    {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V "}
)
# Leading text that makes a browser treat a document as markup (WHATWG MIME
# Sniffing, "identifying a resource with an unknown MIME type"), plus SVG.
MARKUP_PREFIXES = (
    b"<!doctype html",
    b"<html",
    b"<head",
    b"<body",
    b"<script",
    b"<iframe",
    b"<svg",
    b"<?xml",
    b"<!--",
    b"<style",
    b"<title",
    b"<table",
    b"<div",
    b"<a ",
    b"<img",
    b"<p>",
    b"<br",
    b"<h1",
    b"<font",
    b"<b>",
)
# Values of UnsupportedTypeError.description for each rejected kind of content.
MARKUP_CONTENT = "contains HTML, SVG or XML markup"
UNKNOWN_CONTENT = "contains data in a format that is not recognized"
DAMAGED_ZIP_CONTENT = "is a damaged or incomplete zip archive"
OOXML_PARTS = (("word/", DOCX), ("xl/", XLSX), ("ppt/", PPTX))
HEAD_BYTES = 8192
UTF8_BOM = b"\xef\xbb\xbf"
# Control characters plain text may contain: tab, line feed, form feed, CR.
TEXT_CONTROLS = frozenset(b"\t\n\x0c\r")


# Each allowlisted type in words for people, completing "<name> is ...".
TYPE_WORDS: dict[str, str] = {
    PDF: "a PDF",
    PNG: "a PNG image",
    JPEG: "a JPEG image",
    GIF: "a GIF image",
    WEBP: "a WebP image",
    MP4: "an MP4 video",
    ZIP: "a zip archive",
    DOCX: "a Word document",
    XLSX: "an Excel workbook",
    PPTX: "a PowerPoint presentation",
    TEXT: "plain text",
}


class UnsupportedTypeError(ValueError):
    """A file whose content is not on the allowlist.

    ``description`` is the predicate of a sentence about the file, such as
    "contains HTML, SVG or XML markup", that the caller starts with the
    file's name and ends with the types it accepts.
    """

    def __init__(self, description: str) -> None:
        super().__init__(f"The file {description}.")
        self.description = description


def sniff_type(stream: IO[bytes]) -> str:
    """Return the allowlisted type of ``stream``, or raise UnsupportedTypeError.

    The stream must be seekable; it is left at position 0.
    """
    stream.seek(0)
    head = stream.read(HEAD_BYTES)
    stream.seek(0)

    content_type = _sniff_binary(head)
    if content_type == ZIP:
        content_type = _sniff_zip(stream)
    elif content_type is None:
        content_type = _sniff_text(head)
    stream.seek(0)
    return content_type


def _sniff_binary(head: bytes) -> str | None:
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[4:8] == b"ftyp" and head[8:12] in MP4_BRANDS:
        return MP4
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return ZIP
    return None


def _sniff_zip(stream: IO[bytes]) -> str:
    """Tell an Office Open XML file from a plain zip by its part names."""
    try:
        with zipfile.ZipFile(stream) as archive:
            names = archive.namelist()
    except zipfile.BadZipFile:
        # The first bytes are a zip header, but the central directory is
        # missing or broken, as in a file cut off while copying.
        raise UnsupportedTypeError(DAMAGED_ZIP_CONTENT) from None

    if "[Content_Types].xml" in names:
        for prefix, content_type in OOXML_PARTS:
            if any(name.startswith(prefix) for name in names):
                return content_type
    return ZIP


def _sniff_text(head: bytes) -> str:
    body = head.removeprefix(UTF8_BOM)
    if any(byte < 0x20 and byte not in TEXT_CONTROLS for byte in body):
        raise UnsupportedTypeError(UNKNOWN_CONTENT)

    try:
        body.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut off by the end of the 8 KiB sample is valid.
        if error.start < len(body) - 3 or len(head) < HEAD_BYTES:
            raise UnsupportedTypeError(UNKNOWN_CONTENT) from None

    if body.lstrip(b" \t\r\n\x0c").lower().startswith(MARKUP_PREFIXES):
        raise UnsupportedTypeError(MARKUP_CONTENT)
    return TEXT
