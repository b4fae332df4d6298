"""The visibility rules the help panel reads with, compiled once per reader.

Building a rule's queryset and compiling its WHERE clause cost more than
running the panel's statements, so the compiled SQL is cached in the process.
It is keyed by what the rules read from the reader: their id, role and
customer company. Nothing else goes into the SQL; memberships, communities
and items are read by the statement when it runs, so a change to them shows
on the next request. A reader whose role or company changes gets a key of
their own, compiled anew.

NOTE: a rule used here that starts reading another attribute of the reader
must add it to ``rule_inputs``.
"""

from collections.abc import Callable, Hashable
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from accounts.models import User
from accounts.permissions import Viewer
from core.queries import where_sql

# A WHERE clause and its parameters. Functions return None for a rule that
# matches nothing.
Compiled = tuple[str, tuple[Any, ...]]
Rule = Callable[[Viewer], QuerySet[Any]]

MAX_CACHED = 2048
_compiled: dict[Hashable, Compiled | None] = {}
_MISSING = object()


def rule_inputs(viewer: Viewer) -> Hashable:
    """Return what the visibility rules read from ``viewer``."""
    if not isinstance(viewer, User):
        return "anonymous"
    return (viewer.pk, viewer.role, viewer.customer_id)


def compiled_rule(rule: Rule, viewer: Viewer) -> Compiled | None:
    """Return the WHERE clause of ``rule(viewer)``, compiling it on first use."""
    key = (
        rule.__module__,
        rule.__qualname__,
        connection.alias,
        connection.vendor,
        rule_inputs(viewer),
    )
    cached = _compiled.get(key, _MISSING)
    if cached is not _MISSING:
        return cached  # type: ignore[return-value]

    compiled = where_sql(rule(viewer))
    if len(_compiled) >= MAX_CACHED:
        # Dicts keep insertion order: drop the oldest entry.
        _compiled.pop(next(iter(_compiled)), None)
    _compiled[key] = compiled
    return compiled
