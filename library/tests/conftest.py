"""Files, people and items the library tests share.

Every test that stores files gets MEDIA_ROOT in its own tmp directory, and
extraction directories go to a tmp directory too, so a test can assert
that a rejected upload left nothing behind.
"""

import io
import struct
import tempfile
import zipfile
import zlib
from pathlib import Path

import pytest
from django.test import Client

from accounts.models import Role
from conftest import make_person

PDF_BYTES = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def png_image(gray: int = 0) -> bytes:
    """Return a valid 1x1 grayscale PNG whose one pixel is ``gray``."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(bytes([0, gray]))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )


PNG_BYTES = png_image()
MP4_BYTES = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * 40


@pytest.fixture
def media_root(settings, tmp_path):
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


@pytest.fixture
def extraction_dir(tmp_path, monkeypatch):
    directory = tmp_path / "extract"
    directory.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(directory))
    return directory


@pytest.fixture
def member(db):
    """An employee who owns library items."""
    return make_person("mona", Role.SALES_REP, group="sales")


@pytest.fixture
def moderator(db):
    return make_person("mo", Role.MODERATOR, group="operations")


def signed_in(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def stored_files(root: Path) -> list[str]:
    return sorted(
        str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()
    )


def make_zip(entries: dict[str, bytes], *, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def mark_encrypted(content: bytes) -> bytes:
    """Set the encrypted flag on every entry of a zip, as ZipCrypto tools do."""
    data = bytearray(content)
    # The flags sit 6 bytes into a local header and 8 into a directory header.
    for signature, flags_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        offset = data.find(signature)
        while offset != -1:
            flags = struct.unpack_from("<H", data, offset + flags_offset)[0]
            struct.pack_into("<H", data, offset + flags_offset, flags | 0x1)
            offset = data.find(signature, offset + 4)
    return bytes(data)


def make_item(owner, title="Item", *, customer_visible=False, kind="markdown"):
    from library.models import Document

    return Document.objects.create(
        title=title,
        summary=f"About {title}",
        kind=kind,
        body="x",
        body_html="<p>x</p>",
        owner=owner,
        customer_visible=customer_visible,
    )
