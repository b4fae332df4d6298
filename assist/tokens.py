"""API tokens for tools that embed the help panel: made, checked and revoked here.

A token reads ``cph_<key_id>_<secret>``. The key id finds the row; the whole
token is compared by its SHA-256 digest, in constant time. The secret has
256 bits of randomness, so a fast digest is enough: nobody can guess a
token from its digest, and checking one costs microseconds per request.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import SessionAuth

from accounts.models import Role, User
from assist.models import ApiToken
from core.audit import record_event
from core.models import AuditEvent
from core.text import clean_line

PREFIX = "cph"
KEY_ID_BYTES = 6
SECRET_BYTES = 32
NAME_MAX = 80
MAX_ACTIVE_TOKENS = 20
# Writing ``last_used_at`` on every request would turn each read into a write.
LAST_USED_PRECISION = timedelta(minutes=5)
KNOWN_SCOPES = frozenset(ApiToken.Scope.values)
HEX_DIGITS = frozenset("0123456789abcdef")


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    raw: str


def can_manage_all(person: User) -> bool:
    """IT staff see and revoke everyone's tokens."""
    return person.role == Role.IT and not person.is_external


def _clean_scopes(scopes: list[str]) -> list[str]:
    if not scopes:
        raise ValidationError(
            "Choose at least one scope for the token, such as 'help:read'."
        )
    unknown = sorted(set(scopes) - KNOWN_SCOPES)
    if unknown:
        raise ValidationError(
            f"Unknown scope {unknown[0]!r}: use one of "
            f"{', '.join(sorted(KNOWN_SCOPES))}."
        )
    return sorted(set(scopes))


@transaction.atomic
def issue_token(
    *,
    owner: User,
    name: str,
    scopes: list[str],
    expires_at: datetime | None = None,
) -> IssuedToken:
    """Make a token for ``owner`` and return it with its only readable copy."""
    if owner.is_external:
        raise PermissionDenied(
            "Customer accounts cannot make API tokens: ask your contact at Company X."
        )
    name = clean_line(name)
    if not name:
        raise ValidationError("Name the token after the tool that will use it.")
    if len(name) > NAME_MAX:
        raise ValidationError(
            f"The token name is {len(name)} characters long: keep it to {NAME_MAX}."
        )
    clean_scopes = _clean_scopes(scopes)
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError(
            f"The expiry {expires_at:%Y-%m-%d %H:%M} has passed: choose a later one."
        )
    # Lock the owner's row so two concurrent requests cannot both pass the cap.
    User.objects.select_for_update().filter(pk=owner.pk).first()
    same_name = ApiToken.objects.filter(
        owner=owner, revoked_at__isnull=True, name__iexact=name
    ).first()
    if same_name is not None:
        # A repeated post (a reload, a double click) must not make a second
        # live token that nobody has seen.
        raise ValidationError(
            f"You already have an active token named {same_name.name!r}, made "
            f"{same_name.created_at:%Y-%m-%d %H:%M} UTC: use it, or revoke it "
            "before making a new one, or choose another name."
        )
    active = ApiToken.objects.filter(owner=owner, revoked_at__isnull=True).count()
    if active >= MAX_ACTIVE_TOKENS:
        raise ValidationError(
            f"You have {active} active tokens, the most allowed: revoke one you "
            "no longer use first."
        )

    key_id = secrets.token_hex(KEY_ID_BYTES)
    raw = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(SECRET_BYTES)}"
    token = ApiToken.objects.create(
        owner=owner,
        name=name,
        key_id=key_id,
        digest=digest(raw),
        scopes=clean_scopes,
        expires_at=expires_at,
    )
    record_event(
        actor=owner,
        action="api_token.issued",
        target=token,
        source=AuditEvent.Source.SCREEN,
        after={"name": name, "scopes": clean_scopes, "key_id": key_id},
    )
    return IssuedToken(token=token, raw=raw)


@transaction.atomic
def revoke_token(*, actor: User, token: ApiToken, reason: str = "") -> ApiToken:
    """Revoke ``token``; its owner or IT staff may. Revoking twice changes nothing."""
    if token.owner_id != actor.pk and not can_manage_all(actor):
        raise PermissionDenied("Only the token's owner or IT staff can revoke it.")
    locked = ApiToken.objects.select_for_update().get(pk=token.pk)
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        record_event(
            actor=actor,
            action="api_token.revoked",
            target=locked,
            source=AuditEvent.Source.SCREEN,
            before={"revoked_at": None},
            after={"revoked_at": locked.revoked_at.isoformat()},
            reason=clean_line(reason),
        )
    return locked


def _parse(raw: str) -> str | None:
    """Return the key id of a well-formed token, or None."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        return None
    key_id = parts[1]
    if len(key_id) != KEY_ID_BYTES * 2 or not set(key_id) <= HEX_DIGITS:
        return None
    return key_id


def authenticate_token(raw: str, *, scope: str) -> ApiToken | None:
    """Return the live token for ``raw`` when it carries ``scope``, else None.

    A token is live while it is unrevoked, unexpired and its owner's account
    is active. The caller answers every failure alike, so a caller cannot
    tell a revoked token from a wrong one.
    """
    key_id = _parse(raw.strip())
    if key_id is None:
        return None
    token = ApiToken.objects.select_related("owner").filter(key_id=key_id).first()
    if token is None or not hmac.compare_digest(token.digest, digest(raw.strip())):
        return None
    now = timezone.now()
    if token.revoked_at is not None or not token.owner.is_active:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if scope not in token.scopes:
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def visible_tokens(viewer: User) -> QuerySet[ApiToken]:
    """Return the tokens ``viewer`` may see: their own, or all for IT staff."""
    tokens = ApiToken.objects.select_related("owner")
    if not can_manage_all(viewer):
        tokens = tokens.filter(owner=viewer)
    return tokens


class SessionUnlessToken(SessionAuth):
    """The session cookie, for requests that present no ``Authorization`` header.

    A request that sends a header is judged by it alone: a wrong, revoked,
    expired or out-of-scope token gets 401 even when a signed-in session
    comes with it, so a tool under test never "works" with a dead token.
    """

    def authenticate(self, request: HttpRequest, key: str | None) -> Any | None:
        if "HTTP_AUTHORIZATION" in request.META:
            return None
        return super().authenticate(request, key)


session_unless_token = SessionUnlessToken()
