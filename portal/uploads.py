"""The request size limit for portal views that take evidence files."""

from typing import Any

from django.conf import settings

from core.request_limits import limit_request_body


def _file_limit() -> dict[str, Any]:
    return {"file_limit": settings.PORTAL_MAX_EVIDENCE_BYTES}


# A problem report larger than PORTAL_MAX_REQUEST_BYTES gets 413 before it is read.
reject_oversized_request = limit_request_body(
    "PORTAL_MAX_REQUEST_BYTES", "reconciliation/portal/too_large.html", _file_limit
)
