"""Sign-in attempts made at the same moment, counted in a shared cache.

Each test points Django's cache at a real Redis started for the session
(``redis_url``), or keeps the local-memory cache, and sends attempts from
several threads that start together. Only as many attempts as the limit
allows may pass, however they interleave.
"""

import threading
from collections.abc import Callable, Iterator

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client

from accounts import throttling
from conftest import PASSWORD

THREADS = 12
LIMIT = 3
SIGN_IN_URL = "/accounts/login/"


@pytest.fixture(params=["redis", "local-memory"])
def shared_cache(request, settings) -> Iterator[str]:
    """Django's default cache on a private Redis database, or in local memory."""
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                # Database 9, so that clearing it leaves the Celery tests' data.
                "LOCATION": url.rsplit("/", 1)[0] + "/9",
                "KEY_PREFIX": "rate-limit-races",
            }
        }
    cache.clear()
    yield request.param
    cache.clear()


@pytest.fixture
def small_limits(settings):
    settings.SIGN_IN_ADDRESS_RATE_LIMIT = LIMIT
    settings.SIGN_IN_ACCOUNT_RATE_LIMIT = 100
    settings.SIGN_IN_DEVICE_RATE_LIMIT = 100
    settings.SIGN_IN_RATE_WINDOW_SECONDS = 600
    return settings


def run_together(work: Callable[[], object]) -> list[object]:
    """Run ``work`` in ``THREADS`` threads released at once; return the results."""
    start = threading.Barrier(THREADS)
    results: list[object] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run() -> None:
        try:
            start.wait()
            result = work()
            with lock:
                results.append(result)
        except BaseException as error:  # reported by the assert below
            with lock:
                errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


def test_counted_attempts_pass_up_to_limit(shared_cache, small_limits):
    identifiers = {"address": "10.0.0.7"}

    def attempt() -> bool:
        counted = throttling.count_attempt("sign_in", identifiers)
        if counted.throttled is None:
            counted.keep()
        return counted.throttled is None

    results = run_together(attempt)

    assert results.count(True) == LIMIT
    assert results.count(False) == THREADS - LIMIT


def test_rejected_attempts_are_not_counted(shared_cache, small_limits, clock):
    identifiers = {"address": "10.0.0.8"}
    run_together(lambda: throttling.count_attempt("sign_in", identifiers).keep())

    limit = throttling.sign_in_limits()["address"]
    window = throttling._window_number(limit, clock["seconds"])
    key = throttling._cache_key("sign_in", "address", "10.0.0.8", window)
    # Only the attempts that passed stay counted, so the wait is what LIMIT
    # failures make it: 500 s and one more, 100 s into the window.
    assert cache.get(key) == LIMIT
    later = throttling.count_attempt("sign_in", identifiers)
    assert later.throttled is not None
    assert later.throttled.retry_after_seconds == 501
    assert cache.get(key) == LIMIT


@pytest.mark.django_db(transaction=True)
def test_simultaneous_sign_ins_pass_up_to_limit(shared_cache, small_limits, sales_rep):
    def sign_in() -> int:
        client = Client(REMOTE_ADDR="10.0.0.9")
        response = client.post(
            SIGN_IN_URL, {"username": "sally", "password": "wrong-password"}
        )
        return int(response.status_code)

    statuses = run_together(sign_in)

    assert statuses.count(200) == LIMIT
    assert statuses.count(429) == THREADS - LIMIT


@pytest.mark.django_db(transaction=True)
def test_successful_sign_in_is_not_counted(shared_cache, small_limits, sales_rep):
    for _ in range(LIMIT + 2):
        response = Client(REMOTE_ADDR="10.0.0.10").post(
            SIGN_IN_URL, {"username": "sally", "password": PASSWORD}
        )
        assert response.status_code == 302

    wrong = Client(REMOTE_ADDR="10.0.0.10").post(
        SIGN_IN_URL, {"username": "sally", "password": "wrong-password"}
    )
    assert wrong.status_code == 200
