"""Device cookies: a signed mark that this browser has signed in to an account.

A successful sign-in sets a cookie that names the account (its counted
username and primary key), a random nonce that identifies the device, and a
tag: an HMAC, keyed by ``SECRET_KEY``, over the account's current password
hash and the nonce. The whole value is signed with ``django.core.signing``
and carries its creation time. Failed attempts for an account from a
browser that presents a valid cookie for it are counted per device, apart
from the per-account count that anyone can raise (``accounts.sign_in``).

A cookie is valid only for the username it names, until it is
``SIGN_IN_DEVICE_COOKIE_DAYS`` old, and while the account is active and its
password hash is the one the tag was made from. Setting a new password
therefore ends every device cookie of that account. The cookie contains no
secret: the name, key and nonce can be read, and the tag reveals nothing
about the password hash without ``SECRET_KEY``.
"""

import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts.models import User
from accounts.throttling import normalize_account

# Each account has a cookie of its own, named by this prefix and a keyed
# digest of the account, so one browser can be a known device of several.
COOKIE_PREFIX = "commonplace_device_"
# The one cookie of earlier versions, read until it expires.
LEGACY_COOKIE_NAME = "commonplace_device"
# Separate salts keep these signatures apart from every other use of SECRET_KEY.
SIGNING_SALT = "accounts.device_cookies.cookie"
TAG_SALT = "accounts.device_cookies.password_tag"
NAME_SALT = "accounts.device_cookies.name"


@dataclass(frozen=True)
class Device:
    """A browser that presented a valid device cookie for an account."""

    account: str
    nonce: str

    @property
    def bucket(self) -> str:
        """Return the identifier under which this device's failures are counted."""
        return f"{self.account}:{self.nonce}"


def _password_tag(person: User, nonce: str) -> str:
    value = f"{person.pk}:{nonce}:{person.password}"
    return salted_hmac(TAG_SALT, value, algorithm="sha256").hexdigest()


def cookie_name(account: str) -> str:
    """Return the name of the device cookie of ``account`` (a counted username)."""
    digest = salted_hmac(NAME_SALT, account, algorithm="sha256").hexdigest()
    return COOKIE_PREFIX + digest[:16]


def _max_age_seconds() -> int:
    days: int = settings.SIGN_IN_DEVICE_COOKIE_DAYS
    return days * 24 * 60 * 60


def set_device_cookie(response: HttpResponse, person: User) -> None:
    """Set a new device cookie for ``person`` on ``response``.

    Call this after the sign-in succeeded, so that the tag is made from the
    password hash as stored after a possible rehash on sign-in.
    """
    nonce = secrets.token_urlsafe(16)
    account = normalize_account(person.get_username())
    payload = {
        "account": account,
        "person": person.pk,
        "nonce": nonce,
        "tag": _password_tag(person, nonce),
    }
    response.set_cookie(
        cookie_name(account),
        signing.dumps(payload, salt=SIGNING_SALT),
        max_age=_max_age_seconds(),
        path=reverse("accounts:login"),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def trusted_device(request: HttpRequest, account: str) -> Device | None:
    """Return the device if ``request`` has a valid device cookie for ``account``.

    ``account`` is the username typed, as ``normalize_account`` returns it.
    Returns None for a missing, forged, expired or malformed cookie, for a
    cookie of another account, and for one made before the account's
    password last changed.
    """
    for name in (cookie_name(account), LEGACY_COOKIE_NAME):
        device = _device_from(request.COOKIES.get(name), account)
        if device is not None:
            return device
    return None


def _device_from(value: str | None, account: str) -> Device | None:
    """Return the device a cookie's ``value`` names for ``account``, if valid."""
    if not value:
        return None
    try:
        payload: Any = signing.loads(
            value, salt=SIGNING_SALT, max_age=_max_age_seconds()
        )
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict):
        return None
    named, person_id, nonce, tag = (
        payload.get("account"),
        payload.get("person"),
        payload.get("nonce"),
        payload.get("tag"),
    )
    if not (
        isinstance(named, str)
        and isinstance(person_id, int)
        and isinstance(nonce, str)
        and isinstance(tag, str)
    ):
        return None
    if named != account:
        return None

    person = User.objects.filter(pk=person_id, is_active=True).first()
    if person is None or normalize_account(person.get_username()) != account:
        return None
    if not constant_time_compare(_password_tag(person, nonce), tag):
        return None
    return Device(account=account, nonce=nonce)
