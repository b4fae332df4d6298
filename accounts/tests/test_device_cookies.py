"""Device cookies: failed sign-ins from a known browser are counted per device.

The ``limits`` fixture allows 2 failures per account, 2 per device and 3 per
client address in a 600 s window.
"""

import pytest
from django.core import signing
from django.test import Client

from accounts import device_cookies
from accounts.models import Role
from conftest import PASSWORD, make_person

pytestmark = pytest.mark.django_db

SIGN_IN_URL = "/accounts/login/"
COOKIE = device_cookies.cookie_name("sally")
WRONG_PASSWORD = "wrong-password"
NEW_PASSWORD = "violet-harbour-lantern-42"


def sign_in(client: Client, username: str, password: str = WRONG_PASSWORD):
    return client.post(SIGN_IN_URL, {"username": username, "password": password})


def known_device(address: str, username: str = "sally") -> Client:
    """Return a browser that signed in as ``username`` once and signed out."""
    client = Client(REMOTE_ADDR=address)
    assert sign_in(client, username, PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    return client


def lock_account(username: str = "sally") -> None:
    """Exhaust the account's limit from two strangers' addresses."""
    for address in ("10.9.0.1", "10.9.0.2"):
        assert sign_in(Client(REMOTE_ADDR=address), username).status_code == 200
    stranger = sign_in(Client(REMOTE_ADDR="10.9.0.3"), username, PASSWORD)
    assert stranger.status_code == 429


def test_cookie_attributes(limits, settings, sales_rep):
    settings.SESSION_COOKIE_SECURE = True

    response = sign_in(Client(), "sally", PASSWORD)

    cookie = response.cookies[COOKIE]
    assert cookie["httponly"] is True
    assert cookie["secure"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == SIGN_IN_URL
    assert cookie["max-age"] == 180 * 24 * 60 * 60


def test_cookie_not_secure_when_configured(limits, settings, sales_rep):
    settings.SESSION_COOKIE_SECURE = False

    response = sign_in(Client(), "sally", PASSWORD)

    assert response.cookies[COOKIE]["secure"] == ""


def test_cookie_contains_no_secret(limits, sales_rep):
    response = sign_in(Client(), "sally", PASSWORD)
    value = response.cookies[COOKIE].value
    sales_rep.refresh_from_db()

    payload = signing.loads(value, salt=device_cookies.SIGNING_SALT)

    assert set(payload) == {"account", "person", "nonce", "tag"}
    assert payload["account"] == "sally"
    assert payload["person"] == sales_rep.pk
    assert sales_rep.password not in value
    assert PASSWORD not in value
    assert payload["tag"] != sales_rep.get_session_auth_hash()


def test_failed_sign_in_sets_no_cookie(limits, sales_rep):
    response = sign_in(Client(), "sally")

    assert response.status_code == 200
    assert COOKIE not in response.cookies


def test_known_device_signs_in_during_lockout(limits, clock, sales_rep):
    device = known_device("10.0.0.1")
    lock_account()

    response = sign_in(device, "sally", PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_known_device_failures_have_own_bucket(limits, clock, sales_rep):
    device = known_device("10.0.0.1")
    lock_account()

    # The account's count is full, but the device's own count is empty.
    assert sign_in(device, "sally").status_code == 200
    assert sign_in(device, "sally").status_code == 200
    response = sign_in(device, "sally", PASSWORD)

    assert response.status_code == 429
    assert "_auth_user_id" not in response.wsgi_request.session


def test_device_failures_spare_account_count(limits, clock, sales_rep):
    device = known_device("10.0.0.1")
    sign_in(device, "sally")
    sign_in(device, "sally")
    assert sign_in(device, "sally", PASSWORD).status_code == 429

    response = sign_in(Client(REMOTE_ADDR="10.0.0.2"), "sally", PASSWORD)

    assert response.status_code == 302


def test_address_limit_applies_to_device(limits, clock, sales_rep):
    device = known_device("10.0.0.1")
    for username in ("anna", "bert", "cleo"):
        assert sign_in(device, username).status_code == 200

    response = sign_in(device, "sally", PASSWORD)

    assert response.status_code == 429


def test_cookie_not_valid_for_other_username(limits, clock, sales_rep):
    make_person("otto", Role.WAREHOUSE)
    device = known_device("10.0.0.1", "sally")
    lock_account("otto")

    response = sign_in(device, "otto", PASSWORD)

    assert response.status_code == 429


def test_cookie_counts_username_variants(limits, clock, sales_rep):
    device = known_device("10.0.0.1")
    lock_account()

    response = sign_in(device, "SALLY", PASSWORD)

    assert response.status_code == 302


def test_tampered_cookie_not_trusted(limits, clock, sales_rep):
    make_person("otto", Role.WAREHOUSE)
    device = known_device("10.0.0.1", "sally")
    lock_account("otto")
    payload = signing.loads(
        device.cookies[COOKIE].value, salt=device_cookies.SIGNING_SALT
    )
    signature = device.cookies[COOKIE].value.rsplit(":", 2)[1:]
    forged = signing.dumps(
        {**payload, "account": "otto"}, salt=device_cookies.SIGNING_SALT
    ).rsplit(":", 2)[0]
    # The otto payload with sally's timestamp and signature, in otto's cookie.
    device.cookies[device_cookies.cookie_name("otto")] = ":".join([forged, *signature])

    response = sign_in(device, "otto", PASSWORD)

    assert response.status_code == 429


def test_cookie_signed_with_other_key(limits, clock, settings, sales_rep):
    device = known_device("10.0.0.1")
    lock_account()
    payload = signing.loads(
        device.cookies[COOKIE].value, salt=device_cookies.SIGNING_SALT
    )
    device.cookies[COOKIE] = signing.dumps(
        payload, key="another-secret-key", salt=device_cookies.SIGNING_SALT
    )

    response = sign_in(device, "sally", PASSWORD)

    assert response.status_code == 429


def test_password_change_ends_cookie(limits, clock, sales_rep):
    device = known_device("10.0.0.1")
    sales_rep.set_password(NEW_PASSWORD)
    sales_rep.save()
    for address in ("10.9.0.1", "10.9.0.2"):
        sign_in(Client(REMOTE_ADDR=address), "sally")

    response = sign_in(device, "sally", NEW_PASSWORD)

    assert response.status_code == 429


def test_new_sign_in_renews_cookie(limits, clock, sales_rep):
    device = known_device("10.0.0.1")
    sales_rep.set_password(NEW_PASSWORD)
    sales_rep.save()
    assert sign_in(device, "sally", NEW_PASSWORD).status_code == 302
    device.post("/accounts/logout/")
    lock_account()

    response = sign_in(device, "sally", NEW_PASSWORD)

    assert response.status_code == 302


def test_expired_cookie_not_trusted(limits, clock, sales_rep):
    device = known_device("10.0.0.1")
    clock["seconds"] += 181 * 24 * 60 * 60
    lock_account()

    response = sign_in(device, "sally", PASSWORD)

    assert response.status_code == 429


def test_inactive_account_cookie_not_trusted(limits, clock, sales_rep):
    device = known_device("10.0.0.1")
    lock_account()
    sales_rep.is_active = False
    sales_rep.save()

    response = sign_in(device, "sally", PASSWORD)

    assert response.status_code == 429


def test_one_browser_knows_two_accounts(limits, clock, sales_rep):
    make_person("otto", Role.WAREHOUSE)
    device = known_device("10.0.0.1", "sally")
    assert sign_in(device, "otto", PASSWORD).status_code == 302
    device.post("/accounts/logout/")
    lock_account("sally")
    lock_account("otto")

    assert sign_in(device, "sally", PASSWORD).status_code == 302
    device.post("/accounts/logout/")
    assert sign_in(device, "otto", PASSWORD).status_code == 302


def test_cookie_under_other_account_name_not_trusted(limits, clock, sales_rep):
    make_person("otto", Role.WAREHOUSE)
    device = known_device("10.0.0.1", "sally")
    lock_account("otto")
    device.cookies[device_cookies.cookie_name("otto")] = device.cookies[COOKIE].value

    response = sign_in(device, "otto", PASSWORD)

    assert response.status_code == 429


def test_cookie_of_earlier_versions_still_trusted(limits, clock, sales_rep):
    device = known_device("10.0.0.1")
    value = device.cookies[COOKIE].value
    del device.cookies[COOKIE]
    device.cookies[device_cookies.LEGACY_COOKIE_NAME] = value
    lock_account()

    response = sign_in(device, "sally", PASSWORD)

    assert response.status_code == 302
