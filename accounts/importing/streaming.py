"""Read an import file in chunks: size cap, incremental decoding, line splitting.

A file passed as a stream never sits in memory whole. A file whose size
is known (bytes, or a regular file) is rejected before the first read when
it is larger than ``IMPORT_MAX_FILE_BYTES``. Any other stream is counted
while it is read, and reading stops at the first byte past the cap.
"""

import codecs
import io
import os
import re
import stat
from collections.abc import Iterable, Iterator
from typing import BinaryIO, TextIO

from django.conf import settings

from accounts.importing.report import ImportFileError

CHUNK_BYTES = 64 * 1024
LINE_END = re.compile(r"\r\n|\r|\n")


def is_text_stream(source: TextIO | BinaryIO) -> bool:
    """Return whether a stream returns ``str``, by reading zero characters from it."""
    return isinstance(source.read(0), str)


def byte_chunks(source: BinaryIO | bytes) -> Iterator[bytes]:
    """Yield the source's bytes in chunks, and raise past ``IMPORT_MAX_FILE_BYTES``."""
    limit = settings.IMPORT_MAX_FILE_BYTES
    if isinstance(source, bytes):
        _check_known_size(len(source), limit)
        for start in range(0, len(source), CHUNK_BYTES):
            yield source[start : start + CHUNK_BYTES]
        return

    size = _known_size(source)
    if size is not None:
        _check_known_size(size, limit)
    total = 0
    # Read one byte past the cap at most, so a growing file or an endless
    # stream stops there.
    while chunk := source.read(min(CHUNK_BYTES, limit + 1 - total)):
        total += len(chunk)
        if total > limit:
            raise ImportFileError(_too_large_while_reading(limit))
        yield chunk


def text_chunks(source: TextIO) -> Iterator[str]:
    """Yield a text stream in chunks, with its size counted as UTF-8 bytes."""
    limit = settings.IMPORT_MAX_FILE_BYTES
    total = 0
    while chunk := source.read(CHUNK_BYTES):
        total += len(chunk.encode("utf-8", "surrogatepass"))
        if total > limit:
            raise ImportFileError(_too_large_while_reading(limit))
        yield chunk


def _known_size(source: BinaryIO) -> int | None:
    """Return the size of a regular file behind the stream, else None."""
    try:
        status = os.fstat(source.fileno())
    except (AttributeError, OSError, io.UnsupportedOperation):
        return None
    return status.st_size if stat.S_ISREG(status.st_mode) else None


def _check_known_size(size: int, limit: int) -> None:
    if size > limit:
        raise ImportFileError(
            f"The file is {size:,} bytes, more than the limit of {limit:,} bytes "
            "(IMPORT_MAX_FILE_BYTES). Split the file into smaller files."
        )


def _too_large_while_reading(limit: int) -> str:
    return (
        f"The file is more than {limit:,} bytes, the limit "
        f"(IMPORT_MAX_FILE_BYTES): reading stopped at byte {limit + 1:,}. Split "
        "the file into smaller files."
    )


def decoded_chunks(chunks: Iterable[bytes], encoding: str) -> Iterator[str]:
    """Decode byte chunks with ``encoding``, naming the first undecodable byte.

    The error message gives the byte's offset from the start of the file,
    counting any byte order mark, and its line.
    """
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    consumed = 0
    newlines = 0
    head = b""
    for chunk, final in _with_final(chunks):
        if len(head) < 4:
            head = (head + chunk)[:4]
        # Buffered decoders keep an incomplete character's bytes from the
        # previous chunk, and report errors within those bytes plus this chunk.
        pending = decoder.getstate()[0]
        try:
            text = decoder.decode(chunk, final)
        except UnicodeDecodeError as error:
            seen = pending + chunk
            # utf-8-sig reports positions after the byte order mark it strips.
            position = len(seen) - len(error.object) + error.start
            if not seen.endswith(error.object):
                position = min(error.start, len(seen))
            offset = consumed - len(pending) + position
            line = newlines - pending.count(b"\n") + seen[:position].count(b"\n") + 1
            byte = seen[position : position + 1]
            raise ImportFileError(
                _decode_error_message(head, encoding, offset, line, byte)
            ) from None
        consumed += len(chunk)
        newlines += chunk.count(b"\n")
        if text:
            yield text


def _with_final(chunks: Iterable[bytes]) -> Iterator[tuple[bytes, bool]]:
    """Yield each chunk with False, then an empty chunk with True."""
    for chunk in chunks:
        yield chunk, False
    yield b"", True


def _decode_error_message(
    head: bytes, used: str, offset: int, line: int, byte: bytes
) -> str:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        hint = 'The file is UTF-16: save it as "CSV UTF-8" or pass --encoding utf-16.'
    elif used == "utf-8-sig":
        hint = (
            'Save it from Excel as "CSV UTF-8", or pass its encoding, '
            "for example --encoding latin-1."
        )
    else:
        hint = "Check the encoding the file was saved with."
    name = "UTF-8" if used == "utf-8-sig" else used
    return (
        f"The file is not valid {name}: byte 0x{byte.hex().upper()} at offset "
        f"{offset} (line {line}) cannot be decoded. {hint}"
    )


def split_lines(chunks: Iterable[str]) -> Iterator[str]:
    """Yield the physical lines of text chunks, each with its line end.

    Only "\\r\\n", "\\r" and "\\n" end a line, as in ``open(newline="")``, so
    a line separator character inside a value stays in its line.
    """
    parts: list[str] = []
    carry = ""
    for chunk in chunks:
        chunk = carry + chunk
        carry = ""
        # A "\r" at the end may be the first half of "\r\n".
        if chunk.endswith("\r"):
            chunk, carry = chunk[:-1], "\r"
        start = 0
        for match in LINE_END.finditer(chunk):
            parts.append(chunk[start : match.end()])
            yield "".join(parts)
            parts = []
            start = match.end()
        if start < len(chunk):
            parts.append(chunk[start:])
    rest = "".join(parts) + carry
    if rest:
        yield rest
