"""Logging configuration: readable lines in development, JSON lines in production."""

import json
import logging
from datetime import UTC, datetime
from typing import Any

# Attributes every LogRecord has; anything else was passed through ``extra``.
_STANDARD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
) | {"message", "asctime"}


class JsonLineFormatter(logging.Formatter):
    """Format a record as one JSON object per line, with ``extra`` fields kept."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str, ensure_ascii=False)


class ClientErrorWithoutTraceback(logging.Filter):
    """A filter that drops the traceback of ``django.request``'s 4xx lines.

    Django logs a denied or missing page at WARNING with the exception that
    caused it, so each 403 and 404 printed a whole traceback. A 4xx is the
    client's doing, and its one line names the path and the status. Server
    errors keep their traceback.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if (
            record.name == "django.request"
            and isinstance(status, int)
            and 400 <= status < 500
        ):
            record.exc_info = None
            record.exc_text = None
        return True


def build_logging_config(*, log_format: str, level: str) -> dict[str, Any]:
    formatter = "json" if log_format == "json" else "readable"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "readable": {
                "format": "%(asctime)s %(levelname)-7s %(name)s: %(message)s",
            },
            "json": {"()": "commonplace.logs.JsonLineFormatter"},
        },
        "filters": {
            "client_errors": {"()": "commonplace.logs.ClientErrorWithoutTraceback"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": formatter,
                "filters": ["client_errors"],
            },
        },
        "root": {"handlers": ["console"], "level": "WARNING"},
        "loggers": {
            "django": {"level": "INFO"},
            "django.db.backends": {"level": "WARNING"},
            # Each domain app logs under its own package name.
            **{
                app: {"level": level}
                for app in (
                    "commonplace",
                    "core",
                    "accounts",
                    "reconciliation",
                    "assist",
                    "communities",
                    "social",
                    "answers",
                    "library",
                    "notifications",
                    "demo",
                )
            },
        },
    }
