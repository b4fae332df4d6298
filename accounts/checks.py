"""Deployment checks for the sign-in and password reset rate limits.

``manage.py check --deploy`` runs them. The limits count attempts in
Django's default cache (``accounts.throttling``), so a cache that each
process keeps in its own memory multiplies every limit by the number of web
processes, and a cache that stores nothing turns the limits off.
"""

from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.checks import CheckMessage, Tags, Warning, register

PER_PROCESS_CACHE = "accounts.W001"
NO_CACHE = "accounts.W002"


@register(Tags.caches, Tags.security, deploy=True)
def check_rate_limit_cache(**kwargs: Any) -> list[CheckMessage]:
    """Warn when DEBUG is off and the rate limits cannot count across processes."""
    if settings.DEBUG:
        return []
    cache = caches["default"]
    backend = f"{type(cache).__module__}.{type(cache).__qualname__}"
    if isinstance(cache, LocMemCache):
        return [
            Warning(
                f"The default cache ({backend}) is kept in each process's "
                "memory, so each web process counts sign-in and password "
                "reset attempts on its own and a client can make each limit's "
                "attempts once per process.",
                hint=(
                    "Set CACHE_URL=redis://host:port/db (or rediss:// or "
                    "unix://) so that every web process shares one count."
                ),
                id=PER_PROCESS_CACHE,
            )
        ]
    if isinstance(cache, DummyCache):
        return [
            Warning(
                f"The default cache ({backend}) stores nothing, so sign-in and "
                "password reset attempts are never limited.",
                hint="Set CACHE_URL=redis://host:port/db and remove the dummy cache.",
                id=NO_CACHE,
            )
        ]
    return []
