"""Serve stored library files: disposition, byte ranges and safe headers.

The sniffed type decides how a file is served. Only the types in
``INLINE_TYPES`` open in the browser. Everything else is sent as an
attachment, SVG and HTML included: uploads never store them, but a row
edited by hand or another storage could. Every response carries
``X-Content-Type-Options: nosniff`` so the browser keeps the declared type.
"""

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase

from core.text import clean_line
from library import sniffing

INLINE_TYPES = frozenset(
    {
        sniffing.PNG,
        sniffing.JPEG,
        sniffing.GIF,
        sniffing.WEBP,
        sniffing.PDF,
        sniffing.MP4,
    }
)
CHUNK_BYTES = 64 * 1024
MAX_FILENAME_LENGTH = 150
# ASCII digits only, because ``\d`` also matches other scripts' digits such as
# U+0661 ARABIC-INDIC DIGIT ONE, which int() reads as 1.
RANGE_SPEC = re.compile(r"^bytes=([0-9]*)-([0-9]*)$")
# A position with more significant digits than this is past the end of any
# stored file (10**18 bytes is an exabyte). Such a string is never passed to
# int(), which raises ValueError above 4,300 digits (Python 3.11 and later).
MAX_POSITION_DIGITS = 18
POSITION_CAP: int = 10**MAX_POSITION_DIGITS


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive, as in Content-Range

    @property
    def length(self) -> int:
        return self.end - self.start + 1


class StoredFile(Protocol):
    """An open stored file: a Django ``File`` or any seekable binary stream."""

    def seek(self, offset: int, whence: int = 0, /) -> int: ...
    def read(self, size: int = -1, /) -> bytes: ...
    def close(self) -> None: ...


class UnsatisfiableRangeError(ValueError):
    pass


def clean_filename(raw: str) -> str:
    """Reduce an uploaded file name to a base name that is safe in a header.

    Folders, control characters (CR and LF included) and invisible characters
    are removed; an empty result becomes ``file``.
    """
    base = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", clean_line(base)).strip(". ")
    return name[:MAX_FILENAME_LENGTH] or "file"


def download_filename(original: str, content_type: str) -> str:
    """Return the name to send, with an extension that matches the real type.

    ``slides.html`` holding a PNG is sent as ``slides.html.png``, so a saved
    copy opens as an image and not as a web page.
    """
    name = clean_filename(original)
    extensions = sniffing.EXTENSIONS.get(content_type, ())
    if extensions and not name.lower().endswith(extensions):
        name = f"{name}{extensions[0]}"
    return name


def content_disposition(filename: str, *, inline: bool) -> str:
    """Build an RFC 6266 header value with an ASCII fallback and ``filename*``."""
    disposition = "inline" if inline else "attachment"
    ascii_name = (
        unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    )
    ascii_name = re.sub(r"[^A-Za-z0-9._ ()\-]", "_", ascii_name).strip() or "file"
    encoded = quote(filename, safe="")
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{encoded}"


def header_content_type(content_type: str) -> str:
    """Return the Content-Type header value for a stored file's sniffed type.

    Text passed the sniffer only as UTF-8, so it is declared as such, and a
    browser or editor does not guess a legacy encoding for Markdown.
    """
    if content_type == sniffing.TEXT:
        return f"{content_type}; charset=utf-8"
    return content_type


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """Return the one byte range ``header`` requests, or None to send everything.

    A missing, malformed or non-bytes header, or one with several ranges, is
    ignored (RFC 9110 section 14.2 lets a server ignore Range), and the whole
    file is sent with 200. A well-formed range that starts past the end
    raises UnsatisfiableRangeError, and the view returns 416.
    """
    if not header:
        return None
    match = RANGE_SPEC.match(header.strip().replace(" ", ""))
    if match is None:
        return None

    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        suffix = _position(last)
        if suffix == 0 or size == 0:
            raise UnsatisfiableRangeError(header)
        return ByteRange(max(size - suffix, 0), size - 1)

    start = _position(first)
    end = _position(last) if last else size - 1
    if last and end < start:
        return None
    if start >= size:
        raise UnsatisfiableRangeError(header)
    return ByteRange(start, min(end, size - 1))


def _position(digits: str) -> int:
    """Read a byte position, capping one of any length at 10**18.

    The cap keeps the response that the exact number would get: a start past
    the end is unsatisfiable, an end past the end means the last byte, and a
    suffix longer than the file means the whole file.
    """
    significant = digits.lstrip("0")
    if len(significant) > MAX_POSITION_DIGITS:
        return POSITION_CAP
    return int(significant or "0")


class FileChunks:
    """Iterate ``length`` bytes of ``handle`` from ``start``.

    The response calls ``close()`` when it is closed, so the handle is closed
    even when a client disconnects before reading everything.
    """

    def __init__(self, handle: StoredFile, start: int, length: int) -> None:
        self.handle = handle
        self.start = start
        self.remaining = length
        self.started = False

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        if not self.started:
            self.handle.seek(self.start)
            self.started = True
        if self.remaining <= 0:
            raise StopIteration
        chunk = self.handle.read(min(CHUNK_BYTES, self.remaining))
        if not chunk:
            raise StopIteration
        self.remaining -= len(chunk)
        return chunk

    def close(self) -> None:
        self.handle.close()


def file_response(
    request: HttpRequest,
    *,
    handle: StoredFile,
    size: int,
    content_type: str,
    filename: str,
    etag: str,
    force_download: bool = False,
) -> HttpResponseBase:
    """Stream ``handle`` as a full (200) or partial (206, 416) response."""
    inline = content_type in INLINE_TYPES and not force_download
    sent_type = header_content_type(content_type)
    try:
        byte_range = _requested_range(request, size=size, etag=etag)
    except UnsatisfiableRangeError:
        handle.close()
        unsatisfiable = HttpResponse(status=416)
        unsatisfiable.headers["Content-Range"] = f"bytes */{size}"
        return _with_safety_headers(unsatisfiable)

    if byte_range is None:
        response = _body_response(
            request, handle, start=0, length=size, content_type=sent_type
        )
    else:
        response = _body_response(
            request,
            handle,
            start=byte_range.start,
            length=byte_range.length,
            content_type=sent_type,
            status=206,
        )
        response.headers["Content-Range"] = (
            f"bytes {byte_range.start}-{byte_range.end}/{size}"
        )
    response.headers["Accept-Ranges"] = "bytes"
    response.headers["ETag"] = f'"{etag}"'
    response.headers["Content-Disposition"] = content_disposition(
        filename, inline=inline
    )
    response.headers["Cache-Control"] = "private, max-age=3600"
    return _with_safety_headers(response)


def _body_response(
    request: HttpRequest,
    handle: StoredFile,
    *,
    start: int,
    length: int,
    content_type: str,
    status: int = 200,
) -> HttpResponseBase:
    """Stream ``length`` bytes from ``start``, or send no body for HEAD.

    A HEAD response carries the headers a GET would, Content-Length
    included, so the file is closed without reading it.
    """
    response: HttpResponseBase
    if request.method == "HEAD":
        handle.close()
        response = HttpResponse(content_type=content_type, status=status)
    else:
        response = StreamingHttpResponse(
            FileChunks(handle, start, length), content_type=content_type, status=status
        )
    response.headers["Content-Length"] = str(length)
    return response


def _requested_range(request: HttpRequest, *, size: int, etag: str) -> ByteRange | None:
    if_range = request.headers.get("If-Range")
    if if_range is not None and if_range.strip() != f'"{etag}"':
        # The client's copy is not this version: send the whole file.
        return None
    return parse_range(request.headers.get("Range"), size)


def _with_safety_headers[R: HttpResponseBase](response: R) -> R:
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
