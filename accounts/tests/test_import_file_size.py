"""The people import caps the file's size in bytes and reads the file in chunks.

A file larger than ``IMPORT_MAX_FILE_BYTES`` is rejected before the first
read when its size is known, and a stream of unknown size stops one byte
past the cap, so a huge file never sits in memory. Chunk boundaries change
nothing: a character, a "\\r\\n" or a quoted value split between two chunks
reads as in one piece, and a decoding error names the same offset and line.
"""

import codecs
import io
from pathlib import Path

import pytest

from accounts.importing import ImportFileError, import_people, streaming
from accounts.models import User
from accounts.tests.test_import_people import HEADER, outcomes, run_command
from core.models import AuditEvent

pytestmark = pytest.mark.django_db

ROWS = f"{HEADER}\nmax@example.com,Max,Müller,warehouse\n"


class RecordingFile(io.FileIO):
    """A regular file that records the size of every read."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, "rb")
        self.sizes: list[int] = []

    def read(self, size: int | None = -1) -> bytes:
        self.sizes.append(-1 if size is None else size)
        return super().read(size)


class EndlessStream(io.RawIOBase):
    """A stream of unknown size that never ends, such as a pipe or /dev/zero."""

    def __init__(self) -> None:
        self.served = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer)
        view[:] = b"a" * len(view)
        self.served += len(view)
        return len(view)


def assert_nothing_written() -> None:
    assert not User.objects.exists()
    assert not AuditEvent.objects.exists()


def test_bytes_over_limit_rejected(settings):
    settings.IMPORT_MAX_FILE_BYTES = 50
    data = ROWS.encode()

    with pytest.raises(ImportFileError) as error:
        import_people(source=data)

    assert str(error.value) == (
        f"The file is {len(data)} bytes, more than the limit of 50 bytes "
        "(IMPORT_MAX_FILE_BYTES). Split the file into smaller files."
    )
    assert_nothing_written()


def test_large_file_rejected_before_reading(tmp_path, settings):
    settings.IMPORT_MAX_FILE_BYTES = 1_000
    path = tmp_path / "people.csv"
    path.write_bytes(ROWS.encode() + b"x" * 2_000)

    with RecordingFile(path) as stream, pytest.raises(ImportFileError) as error:
        import_people(source=stream)

    size = path.stat().st_size
    assert str(error.value) == (
        f"The file is {size:,} bytes, more than the limit of 1,000 bytes "
        "(IMPORT_MAX_FILE_BYTES). Split the file into smaller files."
    )
    # Only the zero-byte read that distinguishes a binary stream from text.
    assert stream.sizes == [0]
    assert_nothing_written()


def test_endless_stream_stops_past_limit(settings):
    settings.IMPORT_MAX_FILE_BYTES = 100_000
    stream = EndlessStream()

    with pytest.raises(ImportFileError) as error:
        import_people(source=io.BufferedReader(stream, buffer_size=4096))

    assert str(error.value) == (
        "The file is more than 100,000 bytes, the limit (IMPORT_MAX_FILE_BYTES): "
        "reading stopped at byte 100,001. Split the file into smaller files."
    )
    # The buffered reader reads ahead by at most one buffer.
    assert stream.served <= 100_001 + 4096
    assert_nothing_written()


def test_text_stream_counts_utf8_bytes(settings):
    # 40 characters, 80 bytes in UTF-8.
    text = f"{HEADER}\n" + "ü" * 40
    settings.IMPORT_MAX_FILE_BYTES = len(text.encode()) - 1

    with pytest.raises(ImportFileError, match="reading stopped at byte"):
        import_people(source=io.StringIO(text))

    assert_nothing_written()


def test_file_at_limit_imported(tmp_path, settings):
    path = tmp_path / "people.csv"
    path.write_bytes(ROWS.encode())
    settings.IMPORT_MAX_FILE_BYTES = path.stat().st_size

    with path.open("rb") as stream:
        report = import_people(source=stream)

    assert outcomes(report) == [(2, "created", "username max")]


def test_command_names_size_and_limit(tmp_path, settings):
    settings.IMPORT_MAX_FILE_BYTES = 50
    path = tmp_path / "people.csv"
    path.write_bytes(ROWS.encode())

    status, stdout, stderr = run_command(path)

    size = path.stat().st_size
    assert status == 2
    assert stdout == ""
    assert stderr == (
        f"{path}: The file is {size} bytes, more than the limit of 50 bytes "
        "(IMPORT_MAX_FILE_BYTES). Split the file into smaller files. Nothing "
        "was imported.\n"
    )
    assert_nothing_written()


@pytest.mark.parametrize("chunk_bytes", [1, 2, 3, 5, 64 * 1024])
def test_chunk_boundaries_change_nothing(tmp_path, monkeypatch, chunk_bytes):
    monkeypatch.setattr(streaming, "CHUNK_BYTES", chunk_bytes)
    content = (
        f"{HEADER},title\r\n"
        'jo@example.com,Jo,Müller,warehouse,"Shift\r\nlead, 東京"\r\n'
        "\r\n"
        "ann@example.com,Ann,Lee,warehouse,Picker\r\n"
    )
    path = tmp_path / "people.csv"
    path.write_bytes(codecs.BOM_UTF8 + content.encode())

    with path.open("rb") as stream:
        report = import_people(source=stream)

    assert report.delimiter == ","
    assert outcomes(report) == [
        (2, "created", "username jo"),
        (5, "created", "username ann"),
    ]
    assert User.objects.get(username="jo").title == "Shift\r\nlead, 東京"
    assert User.objects.get(username="jo").last_name == "Müller"


@pytest.mark.parametrize("chunk_bytes", [1, 3, 4, 64 * 1024])
def test_decode_error_offset_across_chunks(tmp_path, monkeypatch, chunk_bytes):
    monkeypatch.setattr(streaming, "CHUNK_BYTES", chunk_bytes)
    path = tmp_path / "people.csv"
    path.write_bytes(codecs.BOM_UTF8 + ROWS.encode("latin-1"))

    with path.open("rb") as stream, pytest.raises(ImportFileError) as error:
        import_people(source=stream)

    assert str(error.value).startswith(
        "The file is not valid UTF-8: byte 0xFC at offset 56 (line 2) cannot be "
        "decoded."
    )
    assert_nothing_written()


@pytest.mark.parametrize("chunk_bytes", [1, 2, 64 * 1024])
def test_truncated_character_at_end_named(tmp_path, monkeypatch, chunk_bytes):
    monkeypatch.setattr(streaming, "CHUNK_BYTES", chunk_bytes)
    data = ROWS.encode() + "ü".encode()[:1]
    path = tmp_path / "people.csv"
    path.write_bytes(data)

    with path.open("rb") as stream, pytest.raises(ImportFileError) as error:
        import_people(source=stream)

    assert str(error.value).startswith(
        f"The file is not valid UTF-8: byte 0xC3 at offset {len(data) - 1} "
        "(line 3) cannot be decoded."
    )


def test_blank_file_stops_at_blank_line_cap(settings):
    settings.IMPORT_MAX_BLANK_LINES = 3

    with pytest.raises(ImportFileError) as error:
        import_people(source=b"\n" * 1_000)

    assert str(error.value) == (
        "The file has more than 3 blank lines (IMPORT_MAX_BLANK_LINES): line 4 "
        "is blank line 4. Delete the blank lines, or split the file."
    )
