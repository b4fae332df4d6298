"""Checks for the evidence files a customer attaches in the portal.

The request size limit of the views that take them, and the file name
extension that each accepted type of content may carry.
"""

from pathlib import PurePosixPath
from typing import Any

from django.conf import settings

from core.request_limits import limit_request_body
from library import sniffing
from library.uploads import UploadError


def _file_limit() -> dict[str, Any]:
    return {"file_limit": settings.PORTAL_MAX_EVIDENCE_BYTES}


# A problem report larger than PORTAL_MAX_REQUEST_BYTES gets 413 before it is read.
reject_oversized_request = limit_request_body(
    "PORTAL_MAX_REQUEST_BYTES", "reconciliation/portal/too_large.html", _file_limit
)


# The file name extensions that each accepted evidence type may carry. A
# file's sniffed type decides what it is, and its extension must agree, so
# that "ev.exe" with text inside is not listed as an executable.
EVIDENCE_EXTENSIONS: dict[str, tuple[str, ...]] = {
    sniffing.PDF: (".pdf",),
    sniffing.PNG: (".png",),
    sniffing.JPEG: (".jpg", ".jpeg", ".jpe", ".jfif"),
    sniffing.GIF: (".gif",),
    sniffing.WEBP: (".webp",),
    sniffing.TEXT: (".txt", ".text", ".log", ".csv", ".md"),
}


def check_evidence_extension(name: str, content_type: str, accepted: str) -> None:
    """Raise UploadError when ``name``'s extension does not fit ``content_type``.

    ``content_type`` is the sniffed type, one of ``EVIDENCE_EXTENSIONS``.
    ``accepted`` is the clause that ends the message, as for ``sniff_upload``.
    """
    extensions = EVIDENCE_EXTENSIONS[content_type]
    extension = PurePosixPath(name.lower()).suffix
    if extension in extensions:
        return
    found = f"the extension {extension}" if extension else "no extension"
    expected = ", ".join(extensions[:-1])
    expected = f"{expected} or {extensions[-1]}" if expected else extensions[0]
    raise UploadError(
        f"{name} has {found}, but it contains {sniffing.TYPE_WORDS[content_type]}, "
        f"whose file name ends in {expected}. Rename the file to match what it "
        f"contains, or attach another file: {accepted}."
    )
