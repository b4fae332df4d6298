"""The request body limit, checked before the CSRF check reads the body."""

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import RequestFactory

from core.request_limits import (
    BodyLimit,
    RequestBodyLimitMiddleware,
    declared_length,
    limit_request_body,
)

LIMIT_MIDDLEWARE = "core.request_limits.RequestBodyLimitMiddleware"


def ok(request):
    return HttpResponse("read")


def post_of(size):
    request = RequestFactory().post(
        "/upload/", data=b"x" * size, content_type="application/octet-stream"
    )
    request.user = AnonymousUser()
    return request


def test_middleware_runs_before_csrf_check():
    middleware = settings.MIDDLEWARE
    csrf = middleware.index("django.middleware.csrf.CsrfViewMiddleware")
    assert middleware.index(LIMIT_MIDDLEWARE) < csrf


def test_declared_length_of_bad_headers():
    request = post_of(10)
    assert declared_length(request) == 10
    request.META["CONTENT_LENGTH"] = "many"
    assert declared_length(request) == 0
    request.META["CONTENT_LENGTH"] = "-5"
    assert declared_length(request) == 0
    del request.META["CONTENT_LENGTH"]
    assert declared_length(request) == 0


def test_middleware_rejects_marked_view_unread(settings):
    settings.LIBRARY_MAX_REQUEST_BYTES = 100
    view = limit_request_body("LIBRARY_MAX_REQUEST_BYTES", "library/too_large.html")(ok)
    middleware = RequestBodyLimitMiddleware(ok)
    request = post_of(101)

    response = middleware.process_view(request, view, (), {})

    assert response is not None
    assert response.status_code == 413
    assert "The upload is 101\xa0bytes; the limit is 100\xa0bytes." in (
        response.content.decode()
    )
    assert request._read_started is False


def test_middleware_passes_at_the_limit(settings):
    settings.LIBRARY_MAX_REQUEST_BYTES = 100
    view = limit_request_body("LIBRARY_MAX_REQUEST_BYTES", "library/too_large.html")(ok)
    middleware = RequestBodyLimitMiddleware(ok)

    assert middleware.process_view(post_of(100), view, (), {}) is None
    assert view(post_of(100)).content == b"read"


def test_middleware_ignores_unmarked_view(settings):
    settings.LIBRARY_MAX_REQUEST_BYTES = 100
    middleware = RequestBodyLimitMiddleware(ok)

    assert middleware.process_view(post_of(5000), ok, (), {}) is None


def test_outer_decorators_keep_the_mark():
    from django.contrib.auth.decorators import login_required

    view = login_required(
        limit_request_body("LIBRARY_MAX_REQUEST_BYTES", "library/too_large.html")(ok)
    )

    assert isinstance(view.body_limit, BodyLimit)
    assert view.body_limit.setting == "LIBRARY_MAX_REQUEST_BYTES"
