"""The request body limit, checked before the CSRF check reads the body."""

import io
import json

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponse
from django.test import RequestFactory

from core.request_limits import (
    BodyLimit,
    RequestBodyLimitMiddleware,
    RequestBodyTooLarge,
    declared_length,
    limit_request_body,
)

LIMIT_MIDDLEWARE = "core.request_limits.RequestBodyLimitMiddleware"
URLENCODED = "application/x-www-form-urlencoded"


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


def test_unmarked_view_gets_site_cap(settings):
    settings.MAX_REQUEST_BODY_BYTES = 100
    settings.LIBRARY_MAX_REQUEST_BYTES = 10_000
    middleware = RequestBodyLimitMiddleware(ok)
    request = post_of(5000)

    response = middleware.process_view(request, ok, (), {})

    assert response is not None
    assert response.status_code == 413
    assert "The request is 4.9\xa0KB; the limit is 100\xa0bytes." in (
        response.content.decode()
    )
    assert "MAX_REQUEST_BODY_BYTES" in response.content.decode()
    assert request._read_started is False


def test_marked_view_keeps_its_larger_cap(settings):
    settings.MAX_REQUEST_BODY_BYTES = 100
    settings.LIBRARY_MAX_REQUEST_BYTES = 10_000
    view = limit_request_body("LIBRARY_MAX_REQUEST_BYTES", "library/too_large.html")(ok)
    middleware = RequestBodyLimitMiddleware(ok)

    assert middleware.process_view(post_of(5000), view, (), {}) is None


def test_site_default_fits_full_post():
    largest_post = (
        settings.SOCIAL_MAX_ATTACHMENTS * settings.SOCIAL_MAX_ATTACHMENT_BYTES
    )

    assert largest_post + 1024 * 1024 == settings.MAX_REQUEST_BODY_BYTES


def test_api_gets_the_413_as_json(settings):
    settings.MAX_REQUEST_BODY_BYTES = 100
    request = RequestFactory().post(
        "/api/social/communities/payments/posts",
        data=b"x" * 500,
        content_type="application/json",
    )

    response = RequestBodyLimitMiddleware(ok).process_view(request, ok, (), {})

    assert response is not None
    assert response.status_code == 413
    assert json.loads(response.content) == {
        "detail": "The request body is 500\xa0bytes; the limit is 100\xa0bytes. "
        "Send less, or ask an administrator to raise MAX_REQUEST_BODY_BYTES."
    }


def chunked_asgi_post(body: bytes, content_type: str) -> ASGIRequest:
    """A POST as an ASGI server passes on a chunked body: no Content-Length."""
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/posts/short/",
        "query_string": b"",
        "headers": [(b"content-type", content_type.encode())],
    }
    request = ASGIRequest(scope, io.BytesIO(body))
    request.user = AnonymousUser()
    return request


def test_chunked_body_stops_at_cap(settings):
    settings.MAX_REQUEST_BODY_BYTES = 100
    request = chunked_asgi_post(b"x" * 5000, "application/octet-stream")
    middleware = RequestBodyLimitMiddleware(ok)

    assert middleware.process_view(request, ok, (), {}) is None
    with pytest.raises(RequestBodyTooLarge) as raised:
        request.body  # noqa: B018
    response = middleware.process_exception(request, raised.value)

    assert raised.value.size == 101
    assert response is not None
    assert response.status_code == 413
    assert "the limit is 100\xa0bytes" in response.content.decode()


def test_chunked_form_over_cap_is_413(settings):
    settings.MAX_REQUEST_BODY_BYTES = 100
    request = chunked_asgi_post(b"junk=" + b"x" * 5000, URLENCODED)

    response = RequestBodyLimitMiddleware(ok).process_view(request, ok, (), {})

    assert response is not None
    assert response.status_code == 413


def test_chunked_form_under_cap_passes(settings):
    settings.MAX_REQUEST_BODY_BYTES = 100
    request = chunked_asgi_post(b"note=short", URLENCODED)

    assert RequestBodyLimitMiddleware(ok).process_view(request, ok, (), {}) is None
    assert request.POST["note"] == "short"


def test_guest_sign_in_large_file_413(client, settings):
    settings.MAX_REQUEST_BODY_BYTES = 1000
    junk = SimpleUploadedFile("junk.bin", b"x" * 5000)

    response = client.post("/accounts/login/", {"username": "x", "junk": junk})

    assert response.status_code == 413
    assert "the limit is 1000\xa0bytes" in response.content.decode()


def test_outer_decorators_keep_the_mark():
    from django.contrib.auth.decorators import login_required

    view = login_required(
        limit_request_body("LIBRARY_MAX_REQUEST_BYTES", "library/too_large.html")(ok)
    )

    assert isinstance(view.body_limit, BodyLimit)
    assert view.body_limit.setting == "LIBRARY_MAX_REQUEST_BYTES"


@pytest.mark.django_db
def test_post_attachment_over_site_cap_413(client, settings, sales_rep):
    settings.MAX_REQUEST_BODY_BYTES = 1000
    client.force_login(sales_rep)
    photo = SimpleUploadedFile("photo.png", b"x" * 5000)

    response = client.post("/posts/short/", {"body": "Hi", "attachments": photo})

    assert response.status_code == 413
    assert "the limit is 1000\xa0bytes" in response.content.decode()
