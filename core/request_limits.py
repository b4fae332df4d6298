"""One size limit for the request bodies of views that take uploads.

``limit_request_body`` marks a view with the setting that caps its request
body and the template of its 413 page. ``RequestBodyLimitMiddleware`` is
before ``CsrfViewMiddleware`` in ``MIDDLEWARE`` and returns 413 from the
``Content-Length`` header before anything reads the body. It has to run
first: the CSRF check reads a POST's form fields, and with them the whole
multipart body, before the view is called. The view's own wrapper checks
again, for a view called without the middleware.

NOTE: under an ASGI server Django reads the whole body before any middleware
runs, so there only a proxy's body limit stops a large upload early.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

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
        limit = self.limit()
        if length <= limit:
            return None
        logger.info(
            "request_too_large path=%s bytes=%s limit=%s setting=%s",
            request.path,
            length,
            limit,
            self.setting,
        )
        context = {"size": length, "limit": limit, "setting": self.setting}
        if self.extra_context is not None:
            context.update(self.extra_context())
        return render(request, self.template, context, status=413)


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


class RequestBodyLimitMiddleware:
    """Middleware that returns 413 for a view with a body limit, body unread."""

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
        body_limit = getattr(view_func, "body_limit", None)
        if not isinstance(body_limit, BodyLimit):
            return None
        return body_limit.rejection(request)
