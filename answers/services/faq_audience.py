"""Keep each FAQ entry's stored audience within what all of its sources allow.

An entry contains a copy of its sources' text. When a source later moves to a
narrower audience (its question or post moves to another community, its
community turns private or stops being customer-visible, a customer's
company is set on its question) or is deleted, the entry is narrowed in the
same transaction: it stops being customer-visible, or it is held for its
owners (``owners_only``). It is flagged for review and its owners are
notified. Every surface reads the stored fields, and saving the entry
reindexes it for search and empties the cached help panels on commit.

The product never widens an audience on its own. Only an owner's review or
edit lifts a hold, and only as far as the sources allow at that time.
"""

import logging
from collections.abc import Iterable
from enum import IntEnum
from typing import Any

from django.db import transaction
from django.db.models import Q

from accounts.models import User
from answers.models import FaqEntry, FaqSource
from answers.selectors import faq_owners
from answers.services.common import KIND_FAQ_NEEDS_REVIEW
from communities.models import Community
from core.audit import record_event
from notifications.services import notify

logger = logging.getLogger(__name__)


class Audience(IntEnum):
    """The readers of an FAQ entry, from the narrowest group to the widest."""

    OWNERS = 0
    EMPLOYEES = 1
    CUSTOMERS = 2


def entry_audience(entry: FaqEntry) -> Audience:
    if entry.owners_only:
        return Audience.OWNERS
    if entry.customer_visible:
        return Audience.CUSTOMERS
    return Audience.EMPLOYEES


def community_audience(visibility: str, *, customer_id: int | None = None) -> Audience:
    """Return the audience a source in a community of ``visibility`` allows.

    A private community is read by its members only, so its text is held for
    the entry's owners. A customer company's own question allows employees
    only, because it may name that company's orders.
    """
    if visibility == Community.Visibility.PRIVATE:
        return Audience.OWNERS
    if visibility == Community.Visibility.CUSTOMER and customer_id is None:
        return Audience.CUSTOMERS
    return Audience.EMPLOYEES


# The columns of one source row, read through its answer, comment or post.
_SOURCE_COLUMNS = (
    "entry_id",
    "answer_id",
    "answer__deleted_at",
    "answer__question__community__visibility",
    "answer__question__customer_id",
    "comment__deleted_at",
    "comment__post__deleted_at",
    "comment__post__community__visibility",
    "post__deleted_at",
    "post__community__visibility",
)


def _row_audience(row: dict[str, Any], *, deleted_allowed: bool) -> Audience:
    if row["answer_id"] is not None:
        deleted = row["answer__deleted_at"] is not None
        allowed = community_audience(
            row["answer__question__community__visibility"],
            customer_id=row["answer__question__customer_id"],
        )
    elif row["comment__post__community__visibility"] is not None:
        deleted = (
            row["comment__deleted_at"] is not None
            or row["comment__post__deleted_at"] is not None
        )
        allowed = community_audience(row["comment__post__community__visibility"])
    else:
        deleted = row["post__deleted_at"] is not None
        allowed = community_audience(row["post__community__visibility"])
    if deleted and not deleted_allowed:
        return Audience.OWNERS
    return allowed


def sources_allow(
    entry_ids: Iterable[int], *, deleted_allowed: bool = False
) -> dict[int, Audience]:
    """Return, for each entry with sources, the widest audience all of them allow.

    A deleted source allows only the owners, unless ``deleted_allowed``: an
    owner's review vouches for the copy of a deleted source, and then its
    community decides.
    """
    allowed: dict[int, Audience] = {}
    rows = FaqSource.objects.filter(entry_id__in=list(entry_ids)).values(
        *_SOURCE_COLUMNS
    )
    for row in rows:
        audience = _row_audience(row, deleted_allowed=deleted_allowed)
        allowed[row["entry_id"]] = min(
            audience, allowed.get(row["entry_id"], Audience.CUSTOMERS)
        )
    return allowed


def _store_audience(entry: FaqEntry, audience: Audience) -> None:
    entry.owners_only = audience == Audience.OWNERS
    if audience < Audience.CUSTOMERS:
        entry.customer_visible = False


def _audience_fields(entry: FaqEntry) -> dict[str, bool]:
    return {
        "customer_visible": entry.customer_visible,
        "owners_only": entry.owners_only,
    }


NARROWED_MESSAGE = "An FAQ entry needs review because a source's audience changed"
WITHDRAWN_MESSAGE = "An FAQ entry needs review because a source was deleted"


def _review_flag(entry: FaqEntry, *, only_deleted: bool) -> str:
    """Return the flag for a narrowing that ``only_deleted`` sources caused, or not."""
    if not only_deleted:
        return FaqEntry.ReviewFlag.SOURCE_NARROWED
    if entry.source_answer_id is not None:
        return FaqEntry.ReviewFlag.SOURCE_DELETED
    return FaqEntry.ReviewFlag.SOURCE_WITHDRAWN


@transaction.atomic
def narrow_faq_audiences(
    *,
    entry_ids: Iterable[int],
    actor: User | None = None,
    flag: bool = True,
    notify_owners: bool = True,
) -> list[FaqEntry]:
    """Narrow each entry whose sources no longer allow its stored audience.

    Each narrowed entry is locked, saved, audited and, with ``flag``,
    flagged for review with its function's super-users notified (unless
    ``notify_owners`` is False: the entries then wait on their review desk).
    Pass ``flag=False`` when the entry's owner narrowed it on purpose (by
    adding a source). Entries that their sources still allow are left as
    they are. Return the narrowed entries.
    """
    ids = sorted(set(entry_ids))
    if not ids:
        return []
    allowed = sources_allow(ids)
    candidates = [pk for pk in ids if pk in allowed]
    entries = (
        FaqEntry.objects.select_for_update(of=("self",))
        .select_related("crm_function")
        .filter(pk__in=candidates)
        .order_by("pk")
    )
    narrowed = []
    for entry in entries:
        if allowed[entry.pk] < entry_audience(entry):
            narrowed.append(entry)
    if not narrowed:
        return []

    without_deleted = sources_allow(
        [entry.pk for entry in narrowed], deleted_allowed=True
    )
    for entry in narrowed:
        before = _audience_fields(entry)
        only_deleted = without_deleted[entry.pk] >= entry_audience(entry)
        _store_audience(entry, allowed[entry.pk])
        fields = ["customer_visible", "owners_only", "updated_at"]
        if flag:
            entry.review_flag = _review_flag(entry, only_deleted=only_deleted)
            fields.append("review_flag")
        entry.save(update_fields=fields)
        event = record_event(
            actor=actor,
            action="faq.audience_narrowed",
            target=entry,
            source="screen" if actor is not None else "system",
            before=before,
            after={**_audience_fields(entry), "review_flag": entry.review_flag},
        )
        if flag and notify_owners:
            message = WITHDRAWN_MESSAGE if only_deleted else NARROWED_MESSAGE
            notify_faq_owners(entry, actor=actor, message=message, event_id=event.pk)
        logger.info(
            "FAQ audience narrowed: faq=%s before=%s after=%s",
            entry.pk,
            before,
            _audience_fields(entry),
        )
    return narrowed


def notify_faq_owners(
    entry: FaqEntry, *, actor: User | None, message: str, event_id: int
) -> None:
    """Tell the owners of ``entry``'s function that it needs review, and why."""
    notify(
        recipients=faq_owners(entry.crm_function),
        kind=KIND_FAQ_NEEDS_REVIEW,
        actor=actor,
        message=f"{message}: {entry.question}",
        url=f"/questions/faq/{entry.pk}/",
        subject_key=f"faq-review:{event_id}",
    )


def lift_audience_after_review(entry: FaqEntry) -> list[str]:
    """Set a locked entry's audience to what its sources allow after a review.

    A hold is lifted when no source is in a private community any more. A
    deleted source counts by its community, because the reviewer vouched for
    the copy. ``customer_visible`` is only ever cleared here. Return the
    changed field names, for the caller's save.
    """
    allowed = sources_allow([entry.pk], deleted_allowed=True).get(entry.pk)
    if allowed is None:
        return []
    before = _audience_fields(entry)
    if entry.owners_only and allowed > Audience.OWNERS:
        entry.owners_only = False
    if allowed == Audience.OWNERS:
        entry.owners_only = True
    if allowed < Audience.CUSTOMERS:
        entry.customer_visible = False
    return [name for name, value in before.items() if getattr(entry, name) != value]


def review_keeps_hold(entry: FaqEntry) -> bool:
    """Return whether an owner's review would keep ``entry`` held for its owners.

    The rule of ``lift_audience_after_review``: the hold stays while a
    source is in a private community.
    """
    allowed = sources_allow([entry.pk], deleted_allowed=True).get(entry.pk)
    return allowed == Audience.OWNERS


def entries_with_sources(condition: Q) -> list[int]:
    """Return the ids of the entries with a source row matching ``condition``."""
    return list(
        FaqSource.objects.filter(condition)
        .values_list("entry_id", flat=True)
        .distinct()
    )
