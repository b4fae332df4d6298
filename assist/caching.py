"""Cache help panels, invalidated by a version row that every change bumps.

A panel depends only on its context key and on whether the viewer is an
employee or a customer account, so it is cached per (version, audience,
key). The version lives in the database and is bumped in the same
transaction as the change, so no process serves a panel older than the last
committed change, even with a per-process cache.

NOTE: ``QuerySet.update()`` and ``bulk_create()`` send no signals. Code that
changes FAQ entries, documents, contexts or super-users that way must call
``bump_help_version()`` itself.
"""

from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import F
from django.db.models.signals import m2m_changed, post_delete, post_save

from assist.models import HelpContentVersion

CACHE_SECONDS = 300
_VERSION_ROW = 1


def current_help_version() -> int:
    # A plain statement: every help request reads it, cached panel or not,
    # and the queryset cost more to build than the read itself.
    table = connection.ops.quote_name(HelpContentVersion._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT version FROM {table} WHERE id = %s", [_VERSION_ROW])  # noqa: S608
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] else 0


def bump_help_version() -> None:
    updated = HelpContentVersion.objects.filter(pk=_VERSION_ROW).update(
        version=F("version") + 1
    )
    if not updated:
        HelpContentVersion.objects.get_or_create(
            pk=_VERSION_ROW, defaults={"version": 1}
        )


def cached_panel(key: str, audience: str, build: Any) -> Any:
    """Return the cached panel for ``key`` and ``audience``, building it once."""
    cache_key = f"help-panel:{current_help_version()}:{audience}:{key}"
    panel = cache.get(cache_key)
    if panel is None:
        panel = build()
        cache.set(cache_key, panel, CACHE_SECONDS)
    return panel


def _bump_on_change(**kwargs: Any) -> None:
    bump_help_version()


def _bump_on_person_change(
    *, update_fields: frozenset[str] | None = None, **kwargs: Any
) -> None:
    # Signing in saves only last_login, which no panel shows.
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    bump_help_version()


def connect_invalidation() -> None:
    from accounts.models import CrmFunction, SuperUserAssignment, User
    from answers.models import FaqEntry
    from assist.models import Availability, HelpContext
    from library.models import Document

    watched = (
        FaqEntry,
        Document,
        SuperUserAssignment,
        HelpContext,
        CrmFunction,
        Availability,
    )
    for model in watched:
        post_save.connect(
            _bump_on_change, sender=model, dispatch_uid=f"help-{model.__name__}"
        )
        post_delete.connect(
            _bump_on_change, sender=model, dispatch_uid=f"help-del-{model.__name__}"
        )
    for through in (FaqEntry.contexts.through, Document.contexts.through):
        m2m_changed.connect(
            _bump_on_change, sender=through, dispatch_uid=f"help-m2m-{through.__name__}"
        )
    post_save.connect(_bump_on_person_change, sender=User, dispatch_uid="help-user")
    post_delete.connect(_bump_on_change, sender=User, dispatch_uid="help-del-user")
