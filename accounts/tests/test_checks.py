"""The deployment check that the rate limits share one cache between processes."""

from io import StringIO

import pytest
from django.core.checks import run_checks
from django.core.management import call_command

from accounts.checks import NO_CACHE, PER_PROCESS_CACHE

# Django's own checks (the database's, for one) open a connection.
pytestmark = pytest.mark.django_db

LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/0",
    }
}
DUMMY = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}


def deploy_check_ids() -> list[str | None]:
    return [message.id for message in run_checks(include_deployment_checks=True)]


def test_per_process_cache_warns_on_deploy(settings):
    settings.DEBUG = False
    settings.CACHES = LOCMEM

    [warning] = [
        message
        for message in run_checks(include_deployment_checks=True)
        if message.id == PER_PROCESS_CACHE
    ]

    assert "each web process counts" in warning.msg
    assert "LocMemCache" in warning.msg
    assert "CACHE_URL=redis://" in str(warning.hint)


def test_per_process_cache_only_on_deploy(settings):
    settings.DEBUG = False
    settings.CACHES = LOCMEM

    ids = [message.id for message in run_checks()]

    assert PER_PROCESS_CACHE not in ids


def test_check_deploy_command_shows_warning(settings):
    settings.DEBUG = False
    settings.CACHES = LOCMEM
    output = StringIO()

    # The tag leaves out the test settings' in-memory mailer, an error here.
    call_command("check", "--deploy", "--tag", "caches", stdout=output, stderr=output)

    assert f"?: ({PER_PROCESS_CACHE})" in output.getvalue()
    assert "HINT: Set CACHE_URL=redis://" in output.getvalue()


def test_shared_cache_passes(settings):
    settings.DEBUG = False
    settings.CACHES = REDIS

    ids = deploy_check_ids()

    assert PER_PROCESS_CACHE not in ids
    assert NO_CACHE not in ids


def test_debug_passes(settings):
    settings.DEBUG = True
    settings.CACHES = LOCMEM

    assert PER_PROCESS_CACHE not in deploy_check_ids()


def test_dummy_cache_warns(settings):
    settings.DEBUG = False
    settings.CACHES = DUMMY

    ids = deploy_check_ids()

    assert NO_CACHE in ids
    assert PER_PROCESS_CACHE not in ids
