"""The request size guard for portal views that take evidence files."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render

from core.http import AuthenticatedRequest

logger = logging.getLogger(__name__)

View = Callable[..., HttpResponse]


def reject_oversized_request(view: View) -> View:
    """Return 413 before reading a body larger than PORTAL_MAX_REQUEST_BYTES.

    The check reads only the Content-Length header, so Django neither parses
    nor spools the body of a rejected request. A request without that header
    has an empty body for Django's WSGI handler, so it cannot carry files past
    this check.
    NOTE: under an ASGI server Django reads the whole body before any view
    runs, so there only a proxy's body limit stops a large upload early.
    """

    @wraps(view)
    def wrapper(
        request: AuthenticatedRequest, *args: object, **kwargs: object
    ) -> HttpResponse:
        limit = settings.PORTAL_MAX_REQUEST_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            logger.info(
                "portal.request_too_large user=%s bytes=%s limit=%s",
                request.user.pk,
                length,
                limit,
            )
            return render(
                request,
                "reconciliation/portal/too_large.html",
                {
                    "size": length,
                    "limit": limit,
                    "file_limit": settings.PORTAL_MAX_EVIDENCE_BYTES,
                },
                status=413,
            )
        return view(request, *args, **kwargs)

    return wrapper
