"""Narrow FAQ entries when one of their sources moves or is deleted.

The receivers run inside the transaction of the change, so the entry's new
audience commits or rolls back with it. Model saves cover changes made
anywhere, the shell included. ``QuerySet.update()`` and ``bulk_update()``
on a source model go through ``core.querysets.SignalledUpdateQuerySet``,
whose ``rows_updating`` signal reaches the entries made from the updated
rows. Audit events of deletions, moves and visibility changes are watched
as well, so a service whose event names the person narrows in their name
when no earlier receiver has. Narrowing is idempotent, so a change seen
twice narrows once.

NOTE: an UPDATE that bypasses the model's default manager (raw SQL,
``Model._base_manager`` or a data migration's historical model) reaches no
entry; call ``narrow_faq_audiences`` after it. A hard delete of a source row
(the services only blank it to a tombstone) drops its ``FaqSource`` row by
cascade and narrows nothing.
"""

from collections.abc import Callable, Iterable
from typing import Any

from django.db.models import Model, Q, QuerySet
from django.db.models.signals import post_save

from accounts.models import User
from answers.models import Answer, Question
from answers.services.faq_audience import entries_with_sources, narrow_faq_audiences
from communities.models import Community
from core.models import AuditEvent
from core.querysets import rows_updating
from social.models import Comment, Post

# The ids of changed rows: a list, or a queryset of their primary keys.
RowIds = Iterable[int] | QuerySet[Any]


def _question_sources(ids: RowIds) -> Q:
    return Q(answer__question_id__in=ids)


def _answer_sources(ids: RowIds) -> Q:
    return Q(answer_id__in=ids)


def _community_sources(ids: RowIds) -> Q:
    return (
        Q(answer__question__community_id__in=ids)
        | Q(post__community_id__in=ids)
        | Q(comment__post__community_id__in=ids)
    )


def _post_sources(ids: RowIds) -> Q:
    return Q(post_id__in=ids) | Q(comment__post_id__in=ids)


def _comment_sources(ids: RowIds) -> Q:
    return Q(comment_id__in=ids)


# For each model whose change can narrow a source: its FaqSource rows.
SOURCE_CONDITIONS: dict[type[Model], Callable[[RowIds], Q]] = {
    Question: _question_sources,
    Answer: _answer_sources,
    Community: _community_sources,
    Post: _post_sources,
    Comment: _comment_sources,
}
_AUDITED = {model._meta.label_lower: model for model in SOURCE_CONDITIONS}

# The fields whose change can narrow a source's audience. A save that names
# other ``update_fields`` only (a counter, an edit) is skipped.
AUDIENCE_FIELDS: dict[type[Model], frozenset[str]] = {
    Question: frozenset({"community", "community_id", "customer", "customer_id"}),
    Answer: frozenset({"deleted_at", "question", "question_id"}),
    Community: frozenset({"visibility"}),
    Post: frozenset({"community", "community_id", "deleted_at"}),
    Comment: frozenset({"deleted_at", "post", "post_id"}),
}
# Audit actions of writes that can narrow a source: deletions, moves and
# changes of visibility, whatever the model.
AUDIENCE_ACTION_WORDS = ("deleted", "moved", "visibility")


def _on_saved(
    sender: type[Model],
    instance: Model,
    created: bool,
    raw: bool,
    update_fields: frozenset[str] | None = None,
    **kwargs: Any,
) -> None:
    # A new row is no source yet, and fixtures load rows as they were.
    if created or raw:
        return
    if update_fields is not None and not update_fields & AUDIENCE_FIELDS[sender]:
        return
    entry_ids = entries_with_sources(SOURCE_CONDITIONS[sender]([instance.pk]))
    narrow_faq_audiences(entry_ids=entry_ids)


def _on_rows_updating(
    sender: type[Model],
    rows: QuerySet[Any],
    fields: frozenset[str],
    actor: User | None = None,
    **kwargs: Any,
) -> Callable[[], object] | None:
    """Read the entries made from ``rows`` now, and narrow them after the UPDATE.

    The entries are read before the UPDATE, because a row moved to another
    community no longer matches the queryset afterwards.
    """
    if not fields & AUDIENCE_FIELDS[sender]:
        return None
    entry_ids = entries_with_sources(SOURCE_CONDITIONS[sender](rows.values("pk")))
    if not entry_ids:
        return None

    def narrow() -> None:
        narrow_faq_audiences(entry_ids=entry_ids, actor=actor)

    return narrow


def _on_audit_event(
    sender: type[AuditEvent], instance: AuditEvent, created: bool, **kwargs: Any
) -> None:
    model = _AUDITED.get(instance.object_type)
    if not created or model is None or not instance.object_id.isdigit():
        return
    if not any(word in instance.action for word in AUDIENCE_ACTION_WORDS):
        return
    condition = SOURCE_CONDITIONS[model]([int(instance.object_id)])
    entry_ids = entries_with_sources(condition)
    if entry_ids:
        narrow_faq_audiences(entry_ids=entry_ids, actor=instance.actor)


def connect_receivers() -> None:
    for model in SOURCE_CONDITIONS:
        post_save.connect(
            _on_saved, sender=model, dispatch_uid=f"faq-audience-{model._meta.label}"
        )
        rows_updating.connect(
            _on_rows_updating,
            sender=model,
            dispatch_uid=f"faq-audience-update-{model._meta.label}",
        )
    post_save.connect(
        _on_audit_event, sender=AuditEvent, dispatch_uid="faq-audience-audit"
    )
