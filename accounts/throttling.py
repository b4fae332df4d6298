"""Limit sign-in and password reset attempts per client address, account and device.

Attempts are counted in Django's default cache, one counter per (action,
kind, identifier, window number), created with ``add`` and raised with
``incr``, both atomic in Redis and in the local-memory cache. An attempt
is counted first and then compared with the limit, using the value the
raise returned (``count_attempt``), so simultaneous attempts cannot all
pass. A limit is checked against a sliding-window estimate: the current
window's count plus the previous window's count weighted by the share of
the previous window that still lies inside the sliding window that ends
now. A burst across a window boundary therefore meets about one limit, not
two, and a rejected client may retry as soon as the estimate falls below
the limit.

Account names and e-mail addresses are counted whether or not an account
has them, so a rejection reveals nothing about which accounts exist. They
are hashed in cache keys, so the cache contains no addresses.

The local-memory cache counts per process: with several web processes, set
``CACHE_URL`` to a Redis server so they share one count (docs/sign-in.md,
and the ``accounts.W001`` deployment check).
"""

import hashlib
import ipaddress
import logging
import math
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

from core.text import fold_case

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    """At most ``attempts`` per ``window_seconds`` for one identifier."""

    attempts: int
    window_seconds: int


@dataclass(frozen=True)
class Throttled:
    """A rejected attempt: which limit was reached and when it ends."""

    kind: str
    retry_after_seconds: int

    @property
    def retry_after_text(self) -> str:
        """Return the wait as a phrase such as "in 1 minute" or "in 15 minutes"."""
        minutes = max(1, math.ceil(self.retry_after_seconds / 60))
        unit = "minute" if minutes == 1 else "minutes"
        return f"in {minutes} {unit}"


def sign_in_limits() -> dict[str, Limit]:
    window = settings.SIGN_IN_RATE_WINDOW_SECONDS
    return {
        "address": Limit(settings.SIGN_IN_ADDRESS_RATE_LIMIT, window),
        "account": Limit(settings.SIGN_IN_ACCOUNT_RATE_LIMIT, window),
        # Attempts for an account from a browser that presents a valid device
        # cookie for it (accounts.device_cookies), counted per cookie.
        "device": Limit(settings.SIGN_IN_DEVICE_RATE_LIMIT, window),
    }


def password_reset_limits() -> dict[str, Limit]:
    window = settings.PASSWORD_RESET_RATE_WINDOW_SECONDS
    return {
        "address": Limit(settings.PASSWORD_RESET_ADDRESS_RATE_LIMIT, window),
        "account": Limit(settings.PASSWORD_RESET_ACCOUNT_RATE_LIMIT, window),
    }


def client_address(request: HttpRequest) -> str:
    """Return the client's IP address.

    Behind ``TRUSTED_PROXY_HOPS`` proxies, each of which appends the address
    it received the request from to ``X-Forwarded-For``, the client is that
    many entries from the right. Entries further left are whatever the
    client sent and are not trusted.
    """
    remote = str(request.META.get("REMOTE_ADDR") or "unknown")
    hops: int = settings.TRUSTED_PROXY_HOPS
    if hops == 0:
        return remote
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR") or "")
    entries = [entry.strip() for entry in forwarded.split(",") if entry.strip()]
    if len(entries) < hops:
        return remote
    return entries[-hops]


def counted_address(address: str) -> str:
    """Return the form under which a client address is counted.

    An IPv6 client is counted by its /64 network, because one subscriber
    usually gets a whole /64 and could rotate the rest of the address at
    will. An IPv4-mapped IPv6 address counts as its IPv4 address. Text that
    is not an IP address is counted as it is.
    """
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


def normalize_account(identifier: str) -> str:
    """Return the form under which an account name or address is counted.

    Sign-in and the reset form both match names by their keys
    (``core.text.fold_case``), so "Sally" and "sally" share one count, as
    do the spellings the keys join.
    """
    return fold_case(identifier.strip())


def _cache_key(action: str, kind: str, identifier: str, window_number: int) -> str:
    digest = hashlib.sha256(identifier.encode()).hexdigest()[:32]
    return f"throttle:{action}:{kind}:{digest}:{window_number}"


@dataclass(frozen=True)
class SlidingCount:
    """The counts of one identifier in the current and the previous window."""

    current: int
    previous: int
    # Seconds since the current window began.
    elapsed: float
    window_seconds: int

    def estimate(self, later: float = 0.0) -> float:
        """Return the sliding-window estimate ``later`` seconds from now.

        Attempts made after now are not included. Past the current window's
        end its count becomes the previous one, weighted the same way.
        """
        elapsed = self.elapsed + later
        window = self.window_seconds
        if elapsed < window:
            return self.current + self.previous * (1 - elapsed / window)
        if elapsed < 2 * window:
            return self.current * (1 - (elapsed - window) / window)
        return 0.0

    def retry_after(self, attempts: int) -> int:
        """Return the whole seconds until the estimate is below ``attempts``.

        The result is the first whole second at which one more attempt is
        allowed if nothing else is counted meanwhile, so Retry-After holds.
        """
        window = self.window_seconds
        if self.current < attempts:
            # current + previous * (1 - (elapsed + t) / window) < attempts
            share_left = (attempts - self.current) / max(self.previous, 1)
            wait = max(0.0, window * (1 - share_left) - self.elapsed)
        else:
            # After the boundary: current * (1 - t' / window) < attempts.
            wait = window - self.elapsed + window * (1 - attempts / self.current)
        seconds = math.floor(wait) + 1
        # Guard against rounding in the division above.
        while self.estimate(seconds) >= attempts:
            seconds += 1
        return seconds


def _window_number(limit: Limit, now: float) -> int:
    return int(now // limit.window_seconds)


@dataclass
class Attempt:
    """One attempt, already counted against each of its identifiers.

    ``throttled`` is the limit the attempt reached, or None when it may go
    ahead. ``release`` takes the attempt off the counts again, for an
    attempt that turns out not to count (a successful sign-in).
    """

    action: str
    throttled: Throttled | None = None
    # The counter keys this attempt raised, and not yet lowered again.
    counted_keys: list[str] = field(default_factory=list)
    # The (kind, key, window seconds) of each limit this attempt reaches.
    reaching: list[tuple[str, str, int]] = field(default_factory=list)

    def keep(self) -> None:
        """Leave this attempt counted, and log each limit that it reached."""
        for kind, key, window_seconds in self.reaching:
            logger.warning(
                "rate limit reached: action=%s kind=%s key=%s window_seconds=%d",
                self.action,
                kind,
                key,
                window_seconds,
            )
        self.reaching = []

    def release(self) -> None:
        """Take this attempt off every count it raised; calling it twice is safe."""
        for key in self.counted_keys:
            try:
                cache.decr(key)
            except ValueError:
                # The counter expired or was evicted: nothing left to lower.
                continue
        self.counted_keys = []
        self.reaching = []


def _count_one(key: str, limit: Limit, number: int, now: float) -> int:
    """Raise the counter ``key`` by one and return its new value.

    ``add`` and ``incr`` are each atomic in Redis and in the local-memory
    cache, so simultaneous attempts get distinct values and none is lost.
    """
    # The counter is read as the previous window's during the next window,
    # and lives a minute longer so that a clock that differs slightly
    # between processes still finds it.
    ends_in = (number + 2) * limit.window_seconds - now
    timeout = math.ceil(ends_in) + 60
    cache.add(key, 0, timeout=timeout)
    try:
        return int(cache.incr(key))
    except ValueError:
        # Evicted between add and incr: start the count again.
        cache.set(key, 1, timeout=timeout)
        return 1


def count_attempt(action: str, identifiers: dict[str, str]) -> Attempt:
    """Count one attempt for each of ``identifiers``, then compare with the limits.

    ``identifiers`` maps a kind ("address", "account", "device") to the
    value counted. Each counter is raised first, and the limit is compared
    with the value the raise returned, so simultaneous attempts cannot all
    pass one check made before any of them was counted. An attempt is
    rejected when the estimate of the attempts before it has reached the
    limit. A rejected attempt is taken off the counts again, so waiting
    out the limit is enough. When several limits are reached, the one that
    ends last is returned, so its Retry-After covers them all. The caller
    then calls ``keep`` or ``release`` on an attempt that was not rejected.
    """
    limits = _limits(action)
    now = time.time()
    attempt = Attempt(action=action)
    reached: list[Throttled] = []
    for kind, identifier in identifiers.items():
        limit = limits[kind]
        number = _window_number(limit, now)
        key = _cache_key(action, kind, identifier, number)
        previous_key = _cache_key(action, kind, identifier, number - 1)
        current = _count_one(key, limit, number, now)
        attempt.counted_keys.append(key)
        # The attempts counted before this one, this window and the last.
        before = SlidingCount(
            current=current - 1,
            previous=int(cache.get(previous_key, 0)),
            elapsed=now - number * limit.window_seconds,
            window_seconds=limit.window_seconds,
        )
        estimate = before.estimate()
        if estimate >= limit.attempts:
            reached.append(
                Throttled(
                    kind=kind, retry_after_seconds=before.retry_after(limit.attempts)
                )
            )
        elif estimate + 1 >= limit.attempts:
            attempt.reaching.append((kind, key, limit.window_seconds))
    if reached:
        attempt.release()
        attempt.throttled = max(
            reached, key=lambda throttled: throttled.retry_after_seconds
        )
    return attempt


def _limits(action: str) -> dict[str, Limit]:
    if action == "sign_in":
        return sign_in_limits()
    if action == "password_reset":
        return password_reset_limits()
    raise ValueError(
        f"Unknown rate-limited action {action!r}: use sign_in or password_reset."
    )


def mark_throttled(response: HttpResponse, form: object) -> HttpResponse:
    """Turn a form page into 429 with Retry-After when ``form`` was throttled."""
    throttled = getattr(form, "throttled", None)
    if isinstance(throttled, Throttled):
        response.status_code = 429
        response["Retry-After"] = str(throttled.retry_after_seconds)
    return response
