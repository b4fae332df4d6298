"""A bad setting from the environment stops start-up with one readable line."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
NOT_A_NUMBER = (
    "Configuration error: ASK_ESCALATE_AFTER_MINUTES='soon' is not a whole "
    "number: set it to digits only, for example 120 (the default), or unset it."
)
BELOW_MINIMUM = (
    "Configuration error: ASK_ESCALATE_AFTER_MINUTES=0 is below the minimum 1: "
    "set it to 1 or more, or unset it to use the default 120."
)


def run_python(
    arguments: list[str], **environment: str
) -> subprocess.CompletedProcess[str]:
    """Run this interpreter in the project folder with only the given settings.

    The database is a file in a temporary folder, because ``manage.py
    check`` opens it and the default file is var/commonplace.sqlite3.
    """
    with tempfile.TemporaryDirectory() as folder:
        env = {
            "PATH": os.environ["PATH"],
            "DJANGO_SETTINGS_MODULE": "commonplace.settings",
            "DEBUG": "1",
            "DATABASE_URL": f"sqlite:///{folder}/check.sqlite3",
            **environment,
        }
        return subprocess.run(  # noqa: S603 - runs this interpreter on fixed code
            [sys.executable, *arguments],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


@pytest.mark.parametrize(
    ("value", "expected"), [("soon", NOT_A_NUMBER), ("0", BELOW_MINIMUM)]
)
def test_manage_prints_one_line(value, expected):
    done = run_python(["manage.py", "check"], ASK_ESCALATE_AFTER_MINUTES=value)
    assert done.returncode == 1
    assert done.stderr == expected + "\n"
    assert done.stdout == ""


def test_celery_app_prints_one_line():
    done = run_python(
        ["-c", "import commonplace.celery"], ASK_ESCALATE_AFTER_MINUTES="soon"
    )
    assert done.returncode == 1
    assert done.stderr == NOT_A_NUMBER + "\n"


def test_wsgi_error_is_short():
    done = run_python(
        ["-c", "import commonplace.wsgi"], ASK_ESCALATE_AFTER_MINUTES="soon"
    )
    lines = done.stderr.splitlines()
    assert done.returncode == 1
    assert lines[-1] == ("django.core.exceptions.ImproperlyConfigured: " + NOT_A_NUMBER)
    # The long traceback ran through Django's settings importer.
    assert "importlib" not in done.stderr
    assert len(lines) < 12, done.stderr


def test_good_settings_start():
    done = run_python(["manage.py", "check"], ASK_ESCALATE_AFTER_MINUTES="30")
    assert done.returncode == 0, done.stderr


def test_cache_url_must_be_redis():
    done = run_python(["manage.py", "check"], CACHE_URL="memcached://127.0.0.1:11211")
    assert done.returncode == 1
    assert done.stderr == (
        "Configuration error: CACHE_URL='memcached://127.0.0.1:11211' is not a "
        "Redis URL: use redis://host:port/db, rediss:// for TLS or "
        "unix:///path/to/redis.sock, or unset it to keep the cache in each "
        "process's memory.\n"
    )
