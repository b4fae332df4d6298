"""Fixtures for the rate-limit tests of sign-in and password reset."""

import pytest

from accounts import throttling


@pytest.fixture
def limits(settings):
    """Small limits, in windows that start at a known time."""
    settings.SIGN_IN_ADDRESS_RATE_LIMIT = 3
    settings.SIGN_IN_ACCOUNT_RATE_LIMIT = 2
    settings.SIGN_IN_DEVICE_RATE_LIMIT = 2
    settings.SIGN_IN_RATE_WINDOW_SECONDS = 600
    settings.PASSWORD_RESET_ADDRESS_RATE_LIMIT = 3
    settings.PASSWORD_RESET_ACCOUNT_RATE_LIMIT = 2
    settings.PASSWORD_RESET_RATE_WINDOW_SECONDS = 600
    return settings


@pytest.fixture
def clock(monkeypatch):
    """The clock, set 100 s into a 600 s window and moved by tests.

    ``time.time`` is replaced for the whole process, so device cookie
    timestamps (``django.core.signing``) follow this clock too.
    """
    now = {"seconds": 6000.0 * 600 + 100}
    monkeypatch.setattr(throttling.time, "time", lambda: now["seconds"])
    return now
