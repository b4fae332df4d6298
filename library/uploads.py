"""Check uploaded files before anything is stored, and store them afterwards.

A check reads the bytes once for the sniffed type and the SHA-256, compares
the size with the limit for the item's kind, and for a demo package
extracts it into a temporary directory. Only a file that passed every check
is written to the storage, and ``StoredNames`` deletes what was written when
the surrounding transaction fails.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile

from library import archives, images, sniffing
from library.archives import ExtractedPackage, PackageLimits
from library.files import clean_filename
from library.models import Kind

logger = logging.getLogger(__name__)

ACCEPTED_TYPES: dict[str, frozenset[str]] = {
    Kind.DOCUMENT: frozenset({sniffing.PDF, sniffing.TEXT} | sniffing.OFFICE_TYPES),
    Kind.VIDEO: frozenset({sniffing.MP4}),
    Kind.PACKAGE: frozenset({sniffing.ZIP}),
}
ACCEPTED_WORDS: dict[str, str] = {
    Kind.DOCUMENT: "a PDF, a docx, xlsx or pptx file, or Markdown or plain text",
    Kind.VIDEO: "an MP4 video",
    Kind.PACKAGE: "a zip file",
}


class UploadError(ValueError):
    """A rejected upload, with ``status`` 413 for size limits and 400 otherwise."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class CheckedUpload:
    upload: UploadedFile[bytes]
    name: str
    size: int
    sha256: str
    content_type: str
    package: ExtractedPackage | None = None

    def discard(self) -> None:
        """Remove the temporary extraction directory, if any."""
        if self.package is not None:
            shutil.rmtree(self.package.root, ignore_errors=True)


# Advice for a file over its size limit, by item kind (or "poster").
SIZE_HINTS: dict[str, str] = {
    Kind.DOCUMENT: "Choose a smaller file (split a long document, or save a "
    "PDF with compressed images) and upload it again.",
    Kind.VIDEO: "Export the video at a lower resolution or bitrate, or cut "
    "it into parts, and upload it again.",
    Kind.PACKAGE: "Remove files the package does not need, or compress its "
    "videos, and upload it again.",
    "poster": "Save the image at a lower resolution and upload it again.",
}
PHOTO_SIZE_HINT = (
    "Choose a smaller file (for a photo, save it at a lower resolution) and "
    "upload it again."
)


def size_limit(kind: str) -> int:
    limits: dict[str, int] = {  # keyed by Kind values
        Kind.DOCUMENT: settings.LIBRARY_MAX_DOCUMENT_BYTES,
        Kind.VIDEO: settings.LIBRARY_MAX_VIDEO_BYTES,
        Kind.PACKAGE: settings.LIBRARY_MAX_PACKAGE_BYTES,
    }
    return limits[kind]


# The full allowlist, for callers that name no narrower set of types.
ANY_ACCEPTED = (
    "the file must be a PDF, a Word, Excel or PowerPoint file (docx, xlsx, "
    "pptx), Markdown or plain text, an MP4 video, a PNG, JPEG, GIF or WebP "
    "image, or a zip package"
)
POSTER_ACCEPTED = "a poster must be a PNG, JPEG, GIF or WebP image"


def readable_size(size: int) -> str:
    """Format a byte count for people: ``10 MB``, ``10.5 MB``, ``300 KB``.

    MB and KB are binary (1 MB = 1,048,576 bytes), as the size settings are.
    """
    for unit, factor in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= factor:
            return f"{size / factor:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


def check_size(
    *, name: str, size: int, limit: int, hint: str = PHOTO_SIZE_HINT
) -> None:
    """Raise a 413 UploadError when ``size`` passes ``limit``.

    ``hint`` is the sentence that tells the uploader what to do next, and it
    should fit the file's kind.
    """
    if size <= limit:
        return
    size_text, limit_text = readable_size(size), readable_size(limit)
    if size_text == limit_text:
        # Rounding would show the same figure twice, so give the exact bytes.
        size_text, limit_text = f"{size:,} bytes", f"{limit:,} bytes"
    raise UploadError(
        f"{name} is {size_text}; the limit is {limit_text}. {hint}", status=413
    )


def check_upload(upload: UploadedFile[bytes], *, kind: str) -> CheckedUpload:
    """Check ``upload`` for an item of ``kind``, raising UploadError when it fails."""
    name = clean_filename(upload.name or "")
    size = upload.size or 0
    if kind not in ACCEPTED_TYPES:
        raise UploadError(f"A {Kind(kind).label.lower()} has no file to upload.")
    check_size(name=name, size=size, limit=size_limit(kind), hint=SIZE_HINTS[kind])
    if size == 0:
        raise UploadError(f"{name} is empty: choose the file again.")

    accepted = f"a {Kind(kind).label.lower()} must be {ACCEPTED_WORDS[kind]}"
    content_type = sniff_upload(upload, name=name, accepted=accepted)
    if content_type not in ACCEPTED_TYPES[kind]:
        raise UploadError(wrong_type_message(name, content_type, accepted))

    checked = CheckedUpload(
        upload=upload,
        name=name,
        size=size,
        sha256=sha256_of(upload),
        content_type=content_type,
    )
    if kind == Kind.PACKAGE:
        checked.package = _extract(upload, name=name, size=size)
    return checked


def check_poster(upload: UploadedFile[bytes]) -> CheckedUpload:
    name = clean_filename(upload.name or "")
    size = upload.size or 0
    check_size(
        name=name,
        size=size,
        limit=settings.LIBRARY_MAX_POSTER_BYTES,
        hint=SIZE_HINTS["poster"],
    )
    content_type = sniff_upload(upload, name=name, accepted=POSTER_ACCEPTED)
    if content_type not in sniffing.IMAGE_TYPES:
        raise UploadError(wrong_type_message(name, content_type, POSTER_ACCEPTED))
    check_image_ends(upload, name=name, content_type=content_type)
    cleaned = without_metadata(upload, name=name, content_type=content_type)
    return CheckedUpload(
        upload=cleaned,
        name=name,
        size=cleaned.size or 0,
        sha256=sha256_of(cleaned),
        content_type=content_type,
    )


def check_image_ends(
    upload: UploadedFile[bytes], *, name: str, content_type: str
) -> None:
    """Raise UploadError unless the image's own data runs to the file's end.

    Rejects a polyglot, such as a PNG followed by an HTML page, and a
    truncated or malformed image (``library.images``). The whole file is
    read, so call it only after the size check.
    """
    upload.seek(0)
    data = _stream(upload).read()
    upload.seek(0)
    words = sniffing.TYPE_WORDS[content_type]
    try:
        end = images.image_end(data, content_type)
    except images.ImageStructureError as error:
        raise UploadError(
            f"{name} is not a valid {words.removeprefix('a ')}: {error}. Save it "
            "again from an image editor and upload it again."
        ) from None
    if end < len(data):
        raise UploadError(
            f"{name} has {len(data) - end:,} bytes after the end of {words}, "
            "and a file hidden behind an image is not accepted. Save the image "
            "again from an image editor and upload it again."
        )


def without_metadata(
    upload: UploadedFile[bytes], *, name: str, content_type: str
) -> UploadedFile[bytes]:
    """Return the image re-encoded without its metadata, as a new upload.

    Call it after ``check_image_ends``. Raise a 413 UploadError when the
    image has more pixels than ``LIBRARY_MAX_IMAGE_PIXELS`` (all frames
    counted), and a 400 one when Pillow cannot decode or write it. The
    message names the file; the log line has Pillow's error.
    """
    upload.seek(0)
    data = _stream(upload).read()
    upload.seek(0)
    words = sniffing.TYPE_WORDS[content_type]
    try:
        cleaned = images.strip_metadata(
            data, content_type, max_pixels=settings.LIBRARY_MAX_IMAGE_PIXELS
        )
    except images.ImageTooLargeError as error:
        size = f"{error.width:,} by {error.height:,} pixels"
        if error.frames > 1:
            size = f"{error.frames:,} frames of {size}, {error.pixels:,} pixels in all"
        else:
            size = f"{size} ({error.pixels:,} pixels)"
        raise UploadError(
            f"{name} is {size}; the limit is {error.limit:,} pixels. Save the "
            "image at a lower resolution, or with fewer frames, and upload it "
            "again.",
            status=413,
        ) from None
    except images.ImageDecodeError as error:
        logger.info("library.image_not_reencoded name=%r reason=%s", name, error)
        raise UploadError(
            f"{name} could not be read as {words} to remove its "
            "metadata, so nothing was stored. Save it again from an image editor "
            "and upload it again."
        ) from None
    return SimpleUploadedFile(name, cleaned, content_type=content_type)


def sniff_upload(
    upload: UploadedFile[bytes], *, name: str, accepted: str = ANY_ACCEPTED
) -> str:
    """Return the type sniffed from the upload's bytes, or raise UploadError.

    ``accepted`` is the clause that ends the message, naming the field and
    what it takes, such as "a poster must be a PNG, JPEG, GIF or WebP image".
    """
    try:
        return sniffing.sniff_type(_stream(upload))
    except sniffing.UnsupportedTypeError as error:
        raise UploadError(f"{name} {error.description}, but {accepted}.") from None


def wrong_type_message(name: str, content_type: str, accepted: str) -> str:
    """Return the message for an allowlisted type that this field does not take.

    ``accepted`` is the clause that ends it, as for ``sniff_upload``.
    """
    return f"{name} is {sniffing.TYPE_WORDS[content_type]}, but {accepted}."


def _stream(upload: UploadedFile[bytes]) -> IO[bytes]:
    if upload.file is None:
        raise UploadError(f"{upload.name} has no content: choose the file again.")
    return upload.file


def sha256_of(upload: UploadedFile[bytes]) -> str:
    """Return the SHA-256 hex digest of the upload, leaving it at its start."""
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def _extract(upload: UploadedFile[bytes], *, name: str, size: int) -> ExtractedPackage:
    try:
        package = archives.extract_package(
            _stream(upload), archive_size=size, limits=PackageLimits.from_settings()
        )
    except archives.ArchiveError as error:
        logger.info("library.package_rejected name=%r reason=%s", name, error)
        raise UploadError(
            f"{name} was rejected: {error}", status=413 if error.too_large else 400
        ) from None
    upload.seek(0)
    return package


@dataclass
class StoredNames:
    """Storage names written during one write, deleted again if it fails."""

    names: list[str] = field(default_factory=list)

    def save(self, name: str, content: File[bytes]) -> str:
        stored = default_storage.save(name, content)
        self.names.append(stored)
        return stored

    def save_path(self, name: str, path: Path) -> str:
        with path.open("rb") as handle:
            return self.save(name, File(handle))

    def delete_all(self) -> None:
        for name in self.names:
            try:
                default_storage.delete(name)
            except OSError:
                logger.exception("library.cleanup_failed name=%s", name)
        self.names.clear()


@contextmanager
def stored_or_removed() -> Iterator[StoredNames]:
    """Yield a StoredNames that deletes every name it saved if the block raises."""
    stored = StoredNames()
    try:
        yield stored
    except BaseException:
        stored.delete_all()
        raise
