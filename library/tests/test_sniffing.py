"""The sniffer decides a file's type from its bytes against the allowlist."""

import io

import pytest

from library import sniffing
from library.sniffing import UnsupportedTypeError, sniff_type
from library.tests.conftest import MP4_BYTES, PDF_BYTES, PNG_BYTES, make_zip


def sniff(content: bytes) -> str:
    return sniff_type(io.BytesIO(content))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (PDF_BYTES, "application/pdf"),
        (PNG_BYTES, "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
        (b"GIF89a\x01\x00\x01\x00", "image/gif"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        (MP4_BYTES, "video/mp4"),
        (b"# Returns\n\nCredit the *return* first.\n", "text/plain"),
        ("\ufeffCaf\u00e9 au lait\n".encode(), "text/plain"),
    ],
)
def test_sniff_type_allowlisted(content, expected):
    assert sniff(content) == expected


def test_sniff_type_zip_and_office_files():
    plain = make_zip({"index.html": b"<p>demo</p>"})
    docx = make_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"})
    xlsx = make_zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<x/>"})
    pptx = make_zip({"[Content_Types].xml": b"<Types/>", "ppt/slides/1.xml": b"<p/>"})

    assert sniff(plain) == "application/zip"
    assert sniff(docx) == sniffing.DOCX
    assert sniff(xlsx) == sniffing.XLSX
    assert sniff(pptx) == sniffing.PPTX


def test_sniff_type_png_with_script_stays_png():
    content = PNG_BYTES + b"<script>alert(document.cookie)</script>"

    assert sniff(content) == "image/png"


@pytest.mark.parametrize(
    "content",
    [
        b"<!DOCTYPE html><html><body>invoice</body></html>",
        b"  \n<html><script>alert(1)</script></html>",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b'<?xml version="1.0"?><svg/>',
        b"<script>alert(1)</script>",
    ],
)
def test_sniff_type_rejects_markup(content):
    with pytest.raises(UnsupportedTypeError) as caught:
        sniff(content)

    assert caught.value.description == "contains HTML, SVG or XML markup"
    assert str(caught.value) == "The file contains HTML, SVG or XML markup."


@pytest.mark.parametrize(
    "content",
    [
        b"MZ\x90\x00\x03\x00\x00\x00",  # a Windows executable
        b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00",  # QuickTime, not MP4
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",  # legacy Office (OLE2)
        b"caf\xe9 latin-1 text",
    ],
)
def test_sniff_type_rejects_other_binaries(content):
    with pytest.raises(
        UnsupportedTypeError, match="data in a format that is not recognized"
    ):
        sniff(content)


def test_sniff_type_rejects_damaged_zip():
    with pytest.raises(UnsupportedTypeError) as caught:
        sniff(b"PK\x03\x04" + bytes(40))

    assert str(caught.value) == "The file is a damaged or incomplete zip archive."


def test_sniff_type_rewinds_stream():
    stream = io.BytesIO(PDF_BYTES)
    stream.read(3)

    sniff_type(stream)

    assert stream.tell() == 0
