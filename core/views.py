import logging

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.http import AuthenticatedRequest
from social.feed_views import home_page

logger = logging.getLogger(__name__)


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Report whether the app can reach its database; 503 when it cannot."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        logger.error("health check failed: database unreachable: %s", error)
        return JsonResponse(
            {
                "status": "error",
                "database": {"status": "error", "vendor": connection.vendor},
            },
            status=503,
        )
    return JsonResponse(
        {"status": "ok", "database": {"status": "ok", "vendor": connection.vendor}}
    )


@login_required
def home(request: AuthenticatedRequest) -> HttpResponse:
    """Show a signed-in person their home feed."""
    return home_page(request)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Return 413 naming the limit for an oversized body, else Django's 400 page."""
    if isinstance(exception, RequestDataTooBig):
        limit_mb = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 1_000_000
        return HttpResponse(
            f"The request is too large: the limit is {limit_mb:g} MB. Shorten "
            "the text, or attach big content as a file.",
            status=413,
            content_type="text/plain; charset=utf-8",
        )
    return defaults.bad_request(request, exception)
