"""A 4xx line of django.request is logged without its traceback, a 5xx with it."""

import io
import logging

import pytest

from commonplace.logs import ClientErrorWithoutTraceback, build_logging_config


@pytest.fixture
def django_request_log():
    """Yield a stream that django.request writes to through the console handler's setup."""
    console = build_logging_config(log_format="text", level="INFO")["handlers"][
        "console"
    ]
    assert console["filters"] == ["client_errors"]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ClientErrorWithoutTraceback())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


def _log_failure(status: int) -> None:
    try:
        raise PermissionError("Only learning facilitators see missed searches.")
    except PermissionError:
        logging.getLogger("django.request").warning(
            "Forbidden (Permission denied): /search/missed/",
            exc_info=True,
            extra={"status_code": status},
        )


def test_client_error_has_no_traceback(django_request_log):
    _log_failure(403)

    output = django_request_log.getvalue()
    assert "Forbidden (Permission denied): /search/missed/" in output
    assert "Traceback" not in output


def test_server_error_keeps_traceback(django_request_log):
    _log_failure(500)

    assert "Traceback" in django_request_log.getvalue()
