"""Rate limits on sign-in and password reset, per client address and per account.

The limits use a sliding-window estimate: the current window's count plus the
previous window's count weighted by the share of it still inside the sliding
window. With a 600 s window, two failures 100 s into a window keep the
estimate at 2 until the next window begins, so a limit of 2 holds for 500 s
and one second more.
"""

import re

import pytest
from django.test import Client

from accounts.models import Role
from conftest import PASSWORD, make_person

pytestmark = pytest.mark.django_db

ERROR = re.compile(r'<p class="error" role="alert">([^<]*)</p>')
SIGN_IN_URL = "/accounts/login/"
RESET_URL = "/accounts/password-reset/"
LOCKED = b"Too many failed sign-in attempts from this network or for this username."
RESET_LOCKED = (
    b"Too many password reset requests from this network or for this address."
)


def error_text(response) -> str:
    """Return the form's error paragraph."""
    match = ERROR.search(response.content.decode())
    assert match is not None, response.content
    return match.group(1)


WRONG_PASSWORD = "wrong-password"


def sign_in(client: Client, username: str, password: str = WRONG_PASSWORD):
    return client.post(SIGN_IN_URL, {"username": username, "password": password})


def test_account_limit_rejects_right_password(limits, clock, sales_rep):
    for address in ("10.0.0.1", "10.0.0.2"):
        response = sign_in(Client(REMOTE_ADDR=address), "sally")
        assert response.status_code == 200

    response = sign_in(Client(REMOTE_ADDR="10.0.0.3"), "SALLY", PASSWORD)

    assert response.status_code == 429
    assert response["Retry-After"] == "501"
    assert LOCKED in response.content
    assert b"Try again in 9 minutes" in response.content
    assert "_auth_user_id" not in response.wsgi_request.session


def test_unknown_account_locks_the_same_way(limits, clock, sales_rep):
    for username in ("sally", "nobody-here"):
        for address in ("10.0.0.1", "10.0.0.2"):
            sign_in(Client(REMOTE_ADDR=address), username)

    known = sign_in(Client(REMOTE_ADDR="10.0.0.3"), "sally")
    unknown = sign_in(Client(REMOTE_ADDR="10.0.0.3"), "nobody-here")

    assert known.status_code == unknown.status_code == 429
    assert known["Retry-After"] == unknown["Retry-After"]
    assert error_text(known) == error_text(unknown)


def test_address_limit_spans_usernames(limits, clock, sales_rep):
    client = Client(REMOTE_ADDR="10.0.0.1")
    for username in ("anna", "bert", "cleo"):
        assert sign_in(client, username).status_code == 200

    response = sign_in(client, "sally", PASSWORD)

    assert response.status_code == 429
    assert LOCKED in response.content


def test_address_limit_spans_ipv6_prefix(limits, clock, sales_rep):
    # One IPv6 client is usually assigned a whole /64, so rotating the low bits
    # must not give it a fresh count.
    for host, username in zip(("1", "2", "3"), ("anna", "bert", "cleo"), strict=True):
        client = Client(REMOTE_ADDR=f"2001:db8:1:2::{host}")
        assert sign_in(client, username).status_code == 200

    same_prefix = sign_in(Client(REMOTE_ADDR="2001:db8:1:2:ffff::9"), "sally", PASSWORD)
    other_prefix = sign_in(Client(REMOTE_ADDR="2001:db8:1:3::1"), "sally", PASSWORD)

    assert same_prefix.status_code == 429
    assert other_prefix.status_code == 302


def test_ipv4_mapped_address_counts_as_ipv4(limits, clock, sales_rep):
    for username in ("anna", "bert", "cleo"):
        sign_in(Client(REMOTE_ADDR="::ffff:10.0.0.1"), username)

    response = sign_in(Client(REMOTE_ADDR="10.0.0.1"), "sally", PASSWORD)

    assert response.status_code == 429


def test_account_limit_spans_dotless_i(limits, clock):
    # PostgreSQL's UPPER() maps the dotless i (U+0131) to "I", so "\u0131van"
    # signs in as "ivan" there, and both spellings must share one count.
    make_person("ivan", Role.SALES_REP)
    for address in ("10.0.0.1", "10.0.0.2"):
        assert sign_in(Client(REMOTE_ADDR=address), "ivan").status_code == 200

    response = sign_in(Client(REMOTE_ADDR="10.0.0.3"), "\u0131van", PASSWORD)

    assert response.status_code == 429
    assert "_auth_user_id" not in response.wsgi_request.session


def test_locked_address_leaves_others_alone(limits, clock, sales_rep):
    locked = Client(REMOTE_ADDR="10.0.0.1")
    for username in ("anna", "bert", "cleo"):
        sign_in(locked, username)
    assert sign_in(locked, "sally", PASSWORD).status_code == 429

    response = sign_in(Client(REMOTE_ADDR="10.0.0.9"), "sally", PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_sign_in_limit_ends_at_retry_after(limits, clock, sales_rep):
    client = Client(REMOTE_ADDR="10.0.0.1")
    for _ in range(2):
        sign_in(client, "sally")
    rejected = sign_in(client, "sally", PASSWORD)
    assert rejected.status_code == 429
    assert rejected["Retry-After"] == "501"

    # At the window boundary the two failures count in full as the
    # previous window's, and a moment later slightly less than in full.
    clock["seconds"] += 500
    assert sign_in(client, "sally", PASSWORD).status_code == 429
    clock["seconds"] += 1
    response = sign_in(client, "sally", PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_burst_across_window_end_is_limited(limits, clock):
    # Fixed windows would allow two failures just before the boundary and
    # two more just after it.
    clock["seconds"] += 499
    client = Client(REMOTE_ADDR="10.0.0.1")
    assert sign_in(client, "sally").status_code == 200
    assert sign_in(client, "sally").status_code == 200

    clock["seconds"] += 2
    # 2 * 599/600 is just below the limit of 2, so one more attempt counts.
    assert sign_in(client, "sally").status_code == 200
    response = sign_in(client, "sally")

    assert response.status_code == 429
    assert LOCKED in response.content


def test_retry_after_counts_previous_window(limits, clock, sales_rep):
    client = Client(REMOTE_ADDR="10.0.0.1")
    sign_in(client, "sally")
    sign_in(client, "sally")
    # 60 s into the next window the two failures weigh 2 * 540/600 = 1.8.
    clock["seconds"] += 560
    assert sign_in(client, "sally").status_code == 200

    rejected = sign_in(client, "sally", PASSWORD)

    # 1 + 2 * (1 - elapsed/600) stays at 2 or above until 300 s in, 240 s on.
    assert rejected.status_code == 429
    assert rejected["Retry-After"] == "241"
    clock["seconds"] += 240
    assert sign_in(client, "sally", PASSWORD).status_code == 429
    clock["seconds"] += 1
    assert sign_in(client, "sally", PASSWORD).status_code == 302


def test_retry_after_is_longest_reached_limit(limits, clock, sales_rep):
    # Both limits are reached: the account's ends 241 s on (as in the test
    # above) and the address's, with a limit of 1, only in the next window.
    limits.SIGN_IN_ADDRESS_RATE_LIMIT = 1
    sign_in(Client(REMOTE_ADDR="10.0.0.1"), "sally")
    sign_in(Client(REMOTE_ADDR="10.0.0.2"), "sally")
    clock["seconds"] += 560
    client = Client(REMOTE_ADDR="10.0.0.3")
    assert sign_in(client, "sally").status_code == 200

    rejected = sign_in(client, "sally", PASSWORD)

    # 540 s to the boundary, then the estimate falls below 1 at once.
    assert rejected.status_code == 429
    assert rejected["Retry-After"] == "541"


def test_successful_sign_ins_are_not_counted(limits, clock, sales_rep):
    client = Client(REMOTE_ADDR="10.0.0.1")
    for _ in range(4):
        response = sign_in(client, "sally", PASSWORD)
        assert response.status_code == 302
        client.post("/accounts/logout/")


def test_forwarded_address_counts_behind_proxy(limits, clock, sales_rep):
    limits.TRUSTED_PROXY_HOPS = 1

    def from_client(address: str) -> Client:
        # The client's own X-Forwarded-For entry is left of the proxy's.
        return Client(
            REMOTE_ADDR="192.0.2.10", HTTP_X_FORWARDED_FOR=f"1.2.3.4, {address}"
        )

    for username in ("anna", "bert", "cleo"):
        sign_in(from_client("10.0.0.1"), username)

    assert sign_in(from_client("10.0.0.1"), "sally", PASSWORD).status_code == 429
    assert sign_in(from_client("10.0.0.2"), "sally", PASSWORD).status_code == 302


def reset(client: Client, email: str):
    return client.post(RESET_URL, {"email": email})


def test_reset_account_limit_for_any_address(
    limits, clock, sales_rep, django_capture_on_commit_callbacks
):
    for email in ("sally@example.com", "nobody@example.com"):
        for address in ("10.0.0.1", "10.0.0.2"):
            assert reset(Client(REMOTE_ADDR=address), email).status_code == 302

    with django_capture_on_commit_callbacks(execute=False) as queued:
        known = reset(Client(REMOTE_ADDR="10.0.0.3"), "SALLY@example.com")
        unknown = reset(Client(REMOTE_ADDR="10.0.0.3"), "nobody@example.com")

    assert queued == []
    assert known.status_code == unknown.status_code == 429
    assert known["Retry-After"] == "501"
    assert RESET_LOCKED in known.content
    assert b"Try again in 9 minutes" in known.content
    assert RESET_LOCKED in unknown.content


def test_reset_address_limit_and_others(limits, clock):
    client = Client(REMOTE_ADDR="10.0.0.1")
    for name in ("anna", "bert", "cleo"):
        assert reset(client, f"{name}@example.com").status_code == 302

    assert reset(client, "dora@example.com").status_code == 429
    assert reset(Client(REMOTE_ADDR="10.0.0.2"), "dora@example.com").status_code == 302


def test_reset_limit_ends_at_retry_after(limits, clock):
    client = Client(REMOTE_ADDR="10.0.0.1")
    for _ in range(2):
        reset(client, "dora@example.com")
    rejected = reset(client, "dora@example.com")
    assert rejected.status_code == 429
    assert rejected["Retry-After"] == "501"

    clock["seconds"] += 500
    assert reset(client, "dora@example.com").status_code == 429
    clock["seconds"] += 1

    assert reset(client, "dora@example.com").status_code == 302


def test_limits_shared_through_redis(limits, clock, settings, redis_url, sales_rep):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
        }
    }
    from django.core.cache import cache

    cache.clear()
    try:
        for address in ("10.0.0.1", "10.0.0.2"):
            sign_in(Client(REMOTE_ADDR=address), "sally")

        response = sign_in(Client(REMOTE_ADDR="10.0.0.3"), "sally", PASSWORD)

        assert response.status_code == 429
        assert LOCKED in response.content
    finally:
        cache.clear()
