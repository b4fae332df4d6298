"""Cache help panels, invalidated by a version row that every change bumps.

A panel depends only on its context key and on whether the viewer is an
employee or a customer account, so it is cached per (version, audience,
key). The version lives in the database and is bumped in the same
transaction as the change, so no process serves a panel older than the last
committed change, even with a per-process cache.

The models watched are those ``assist.selectors`` declares the panel reads
(``PANEL_READS``) or depends on (``PANEL_DEPENDS_ON``), so a change to a
question, an accepted answer or a community's visibility shows at once.

NOTE: ``QuerySet.update()`` and ``bulk_create()`` send no signals. Code that
changes a watched model that way must call ``bump_help_version()`` itself.
"""

from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import F, Model
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


def cached_panel(
    key: str, audience: str, build: Any, *, version: int | None = None
) -> Any:
    """Return the cached panel for ``key`` and ``audience``, building it once.

    ``version`` is the help version the caller read already, if any.
    """
    if version is None:
        version = current_help_version()
    cache_key = f"help-panel:{version}:{audience}:{key}"
    panel = cache.get(cache_key)
    if panel is None:
        panel = build()
        cache.set(cache_key, panel, CACHE_SECONDS)
    return panel


def cached_held_entries(key: str, version: int, build: Any) -> Any:
    """Return the held FAQ entries on ``key``'s chain, building them once.

    Cached for every reader alike per help version, which every change of
    an FAQ entry or its contexts bumps, so only owners' filtering is left.
    """
    cache_key = f"help-held:{version}:{key}"
    entries = cache.get(cache_key)
    if entries is None:
        entries = build()
        cache.set(cache_key, entries, CACHE_SECONDS)
    return entries


def help_version_and_assignment(person_id: int) -> tuple[int, bool]:
    """Return the help version and whether the person has a super-user assignment.

    The help panel needs both to find the super-users who may own held FAQ
    entries. One plain statement reads them, like ``current_help_version``,
    because a second one would cost every employee's request a round trip.
    """
    from accounts.models import SuperUserAssignment

    quote = connection.ops.quote_name
    versions = quote(HelpContentVersion._meta.db_table)
    assignments = quote(SuperUserAssignment._meta.db_table)
    sql = (
        f"SELECT (SELECT version FROM {versions} WHERE id = %s), "  # noqa: S608
        f"EXISTS (SELECT 1 FROM {assignments} WHERE person_id = %s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [_VERSION_ROW, person_id])
        version, assigned = cursor.fetchone()
    return int(version or 0), bool(assigned)


def _bump_on_change(**kwargs: Any) -> None:
    bump_help_version()


def _bump_on_person_change(
    *, update_fields: frozenset[str] | None = None, **kwargs: Any
) -> None:
    # Signing in saves only last_login, which no panel shows.
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    bump_help_version()


def watched_models() -> tuple[type[Model], ...]:
    """Return the models whose changes empty every cached panel.

    They are the models the panel reads and those whose changes reach what
    it reads, as ``assist.selectors`` declares them next to the panel's
    statements.
    """
    from assist.selectors import PANEL_DEPENDS_ON, PANEL_READS

    return (*PANEL_READS, *PANEL_DEPENDS_ON)


def connect_invalidation() -> None:
    from accounts.models import User

    for model in watched_models():
        name = model._meta.label
        if model._meta.auto_created:
            # A many-to-many link table: ``add()``, ``remove()``, ``set()``
            # and ``clear()`` send m2m_changed, not post_save.
            m2m_changed.connect(
                _bump_on_change, sender=model, dispatch_uid=f"help-m2m-{name}"
            )
            continue
        on_save = _bump_on_person_change if model is User else _bump_on_change
        post_save.connect(on_save, sender=model, dispatch_uid=f"help-{name}")
        post_delete.connect(
            _bump_on_change, sender=model, dispatch_uid=f"help-del-{name}"
        )
