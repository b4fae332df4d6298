"""Size limits for request bodies: a site-wide cap and larger per-view caps.

Every request body is capped. ``MAX_REQUEST_BODY_BYTES`` is the site-wide
cap. ``limit_request_body`` marks a view that takes larger uploads with the
setting that caps its body and the template of its 413 page.
``RequestBodyLimitMiddleware`` is before ``CsrfViewMiddleware`` in
``MIDDLEWARE`` and returns 413 from the ``Content-Length`` header before
anything reads the body. It has to run first: the CSRF check reads a POST's
form fields, and with them the whole multipart body, before the view is
called. A marked view's own wrapper checks again, for a view called without
the middleware.

A body without a ``Content-Length`` (chunked) cannot be checked from the
header, so the middleware also wraps the request's stream in a
``CappedStream`` that raises ``RequestBodyTooLarge`` as soon as more than
the cap has been read; the middleware answers that with the same 413 page.
Under WSGI, Django reads no body from a request without a valid length, so
the wrapper is a second line there; it is the one check for a server that
passes such a body on.

NOTE: under an ASGI server Django reads the whole body before any middleware
runs, so there only a proxy's body limit stops a large upload early.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat

logger = logging.getLogger(__name__)

View = Callable[..., HttpResponse]


@dataclass(frozen=True)
class BodyLimit:
    """The setting that caps a view's request body, and its 413 page."""

    setting: str
    template: str
    extra_context: Callable[[], dict[str, Any]] | None = None

    def limit(self) -> int:
        value: int = getattr(settings, self.setting)
        return value

    def rejection(self, request: HttpRequest) -> HttpResponse | None:
        """Return the 413 page when the declared body is over the limit."""
        length = declared_length(request)
        if length <= self.limit():
            return None
        return self.too_large(request, length)

    def too_large(self, request: HttpRequest, size: int) -> HttpResponse:
        """Return the 413 answer for a body of at least ``size`` bytes.

        The API answers JSON with ``detail``, as its other errors do.
        """
        limit = self.limit()
        logger.info(
            "request_too_large path=%s bytes=%s limit=%s setting=%s",
            request.path,
            size,
            limit,
            self.setting,
        )
        if request.path.startswith("/api/"):
            detail = (
                f"The request body is {filesizeformat(size)}; the limit is "
                f"{filesizeformat(limit)}. Send less, or ask an administrator "
                f"to raise {self.setting}."
            )
            return JsonResponse({"detail": detail}, status=413)
        context = {"size": size, "limit": limit, "setting": self.setting}
        if self.extra_context is not None:
            context.update(self.extra_context())
        return render(request, self.template, context, status=413)


# The cap of every view without a mark of its own.
SITE_LIMIT = BodyLimit("MAX_REQUEST_BODY_BYTES", "core/request_too_large.html")


class RequestBodyTooLarge(Exception):
    """More than the cap was read from a body that declared no length."""

    def __init__(self, size: int) -> None:
        super().__init__(f"request body passed {size} bytes")
        self.size = size


class CappedStream:
    """A request stream that raises once more than ``limit`` bytes are read."""

    def __init__(self, stream: Any, limit: int) -> None:
        self.stream = stream
        self.limit = limit
        self.read_bytes = 0

    def _count(self, data: bytes) -> bytes:
        self.read_bytes += len(data)
        if self.read_bytes > self.limit:
            raise RequestBodyTooLarge(self.read_bytes)
        return data

    def read(self, size: int = -1) -> bytes:
        # Never ask for more than one byte past the cap.
        room = self.limit - self.read_bytes + 1
        wanted = room if size is None or size < 0 else min(size, room)
        return self._count(self.stream.read(wanted))

    def readline(self, size: int = -1) -> bytes:
        room = self.limit - self.read_bytes + 1
        wanted = room if size is None or size < 0 else min(size, room)
        return self._count(self.stream.readline(wanted))

    def seekable(self) -> bool:
        # The count is of bytes read in order; a seek would break it.
        return False

    def close(self) -> None:
        self.stream.close()


def declared_length(request: HttpRequest) -> int:
    """Return the request's Content-Length, or 0 when it is missing or invalid.

    Django's WSGI handler reads no body from a request without a valid
    length, so such a request cannot carry files past the check.
    """
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def limit_request_body(
    setting: str,
    template: str,
    extra_context: Callable[[], dict[str, Any]] | None = None,
) -> Callable[[View], View]:
    """Cap the view's request body at the value of ``setting``, in bytes."""
    body_limit = BodyLimit(setting, template, extra_context)

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            rejection = body_limit.rejection(request)
            if rejection is not None:
                return rejection
            return view(request, *args, **kwargs)

        # functools.wraps copies this attribute to the decorators outside.
        wrapper.body_limit = body_limit  # type: ignore[attr-defined]
        return wrapper

    return decorate


def _body_limit(view_func: Callable[..., Any]) -> BodyLimit:
    body_limit = getattr(view_func, "body_limit", None)
    return body_limit if isinstance(body_limit, BodyLimit) else SITE_LIMIT


FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


class RequestBodyLimitMiddleware:
    """Middleware that caps every request body and returns 413 over the cap.

    A marked view gets its own cap, every other view the site-wide one.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        body_limit = _body_limit(view_func)
        rejection = body_limit.rejection(request)
        if rejection is not None or getattr(request, "_read_started", True):
            return rejection
        # Django's request reads its body through ``_stream`` (``read``,
        # ``readline``); the wrapper has those, though it is no BinaryIO.
        request._stream = CappedStream(  # type: ignore[assignment]
            request._stream, body_limit.limit()
        )
        if declared_length(request) or request.content_type not in FORM_TYPES:
            return None
        # A form body without a length: read it here, through the capped
        # stream, so a body over the cap gets 413 and not the CSRF check's
        # error.
        try:
            request.POST  # noqa: B018
        except RequestBodyTooLarge as error:
            return body_limit.too_large(request, error.size)
        return None

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponse | None:
        """Answer 413 when the view read past the cap of a body with no length."""
        if not isinstance(exception, RequestBodyTooLarge):
            return None
        match = request.resolver_match
        view = match.func if match is not None else None
        body_limit = _body_limit(view) if view is not None else SITE_LIMIT
        return body_limit.too_large(request, exception.size)
