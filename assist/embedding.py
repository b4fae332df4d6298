"""Embedding help in another tool: allowed origins and CORS for the help endpoint.

Only origins named in ``HELP_EMBED_ORIGINS`` may frame the embed page or
read the help endpoint from a browser. Cross-origin reads carry an API
token, never the session cookie: the CORS answer does not allow
credentials, so a page elsewhere cannot read help with a visitor's session.
"""

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, register
from django.http import HttpRequest, HttpResponse

# Paths a browser on another origin may call.
CORS_PATHS = frozenset({"/api/assist/help"})
PREFLIGHT_MAX_AGE = "600"


def origin_problem(origin: str) -> str | None:
    """Say what is wrong with ``origin`` as an embedding origin, or None."""
    parts = urlsplit(origin)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return f"{origin!r} is not an origin: write it as https://host or https://host:port."
    if parts.path not in {"", "/"} or parts.query or parts.fragment:
        return f"{origin!r} has a path: an origin is only the scheme, host and port."
    if parts.username or parts.password:
        return f"{origin!r} carries a user name or password: remove it."
    return None


def normalize_origin(origin: str) -> str:
    return origin.rstrip("/").lower()


def allowed_origins() -> frozenset[str]:
    return frozenset(normalize_origin(origin) for origin in settings.HELP_EMBED_ORIGINS)


def is_allowed_origin(origin: str | None) -> bool:
    return bool(origin) and normalize_origin(origin or "") in allowed_origins()


@register()
def check_embed_origins(**kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for origin in settings.HELP_EMBED_ORIGINS:
        problem = origin_problem(origin)
        if problem:
            errors.append(
                Error(
                    f"HELP_EMBED_ORIGINS: {problem}",
                    hint="Separate origins with commas, e.g. https://crm.example.com.",
                    id="assist.E001",
                )
            )
    return errors


class HelpCorsMiddleware:
    """Answer CORS preflights and mark responses for the allowed origins."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path not in CORS_PATHS:
            return self.get_response(request)
        origin = request.headers.get("Origin")
        allowed = is_allowed_origin(origin)
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in (
            request.headers
        ):
            response = HttpResponse(status=204 if allowed else 403)
            if allowed:
                response["Access-Control-Allow-Methods"] = "GET"
                response["Access-Control-Allow-Headers"] = "Authorization"
                response["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
        else:
            response = self.get_response(request)
        if allowed and origin:
            response["Access-Control-Allow-Origin"] = origin
        # Caches must not hand one origin's answer to another.
        response["Vary"] = ", ".join(
            value for value in (response.get("Vary"), "Origin") if value
        )
        return response
