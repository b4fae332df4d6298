"""Keep the index in step with committed changes, and rebuild it on demand.

Signal receivers note which objects changed; after the transaction commits
one background task (``commonplace.background``) rewrites their entries.
Rewriting reads the object's current row, so it is idempotent: a change
noted twice, or noted for a transaction that was partly rolled back to a
savepoint, costs a query but never leaves a wrong entry.

Besides model signals, every audit event is watched, because some services
write with ``QuerySet.update()`` (deleting a post does), which sends no
model signal but always records an audit event.

A library tag carries its key into the entries of its items, so saving a
tag (a rename) rewrites them all; a merge moves links with
``QuerySet.update()`` and notes the items itself (``schedule_reindex_many``).

NOTE: a change to a help context's key reaches the entries that carry it
only through ``manage.py reindex``.
"""

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_save

from commonplace.background import enqueue, task
from search.models import SearchEntry, SearchLabel
from search.sources import SOURCE_OF_KIND, SOURCES, EntryData, Source

logger = logging.getLogger(__name__)

Key = tuple[str, int]

# Audit ``object_type`` values (app_label.model_name) and the source they feed.
_AUDITED_SOURCES = {
    "social.post": "post",
    "social.comment": "comment",
    "answers.questioncomment": "question_comment",
    "answers.question": "question",
    "answers.answer": "answer",
    "answers.faqentry": "faq",
    "library.document": "library",
    "communities.community": "community",
    "accounts.user": "person",
}
REINDEX_BATCH_SIZE = 500


def write_entries(source: Source, object_ids: Sequence[int]) -> int:
    """Rewrite the entries of ``object_ids`` from their current rows; return a count.

    Objects that are gone, or that ``build`` leaves out, lose their entry.
    Call it inside a transaction.
    """
    return sum(_replace_entries({source.name: object_ids}).values())


def _replace_entries(ids_by_source: Mapping[str, Sequence[int]]) -> dict[str, int]:
    """Rewrite the entries of several sources' objects; return counts per source.

    An object that already has an entry keeps its entry id. New entries are
    inserted in creation order, so entry ids follow creation time and the
    search backends can take "the newest matches" as the highest ids.
    """
    entries: list[EntryData] = []
    old_ids: dict[Key, int] = {}
    for name, object_ids in ids_by_source.items():
        source = SOURCES[name]
        objects = source.rows().filter(pk__in=object_ids)
        entries += [data for data in map(source.build, objects) if data is not None]
        stale = SearchEntry.objects.filter(
            kind__in=source.kinds, object_id__in=object_ids
        )
        for entry_id, object_id in stale.values_list("pk", "object_id"):
            old_ids[(name, object_id)] = entry_id
        stale.delete()
    entries.sort(key=lambda data: (data.created_at, data.kind, data.object_id))
    created = SearchEntry.objects.bulk_create(
        SearchEntry(
            pk=old_ids.get((SOURCE_OF_KIND[data.kind].name, data.object_id)),
            kind=data.kind,
            object_id=data.object_id,
            **data.index_fields(),
        )
        for data in entries
    )

    labels = []
    for entry, data in zip(created, entries, strict=True):
        labels += [
            SearchLabel(entry=entry, field=SearchLabel.Field.TAG, value=value)
            for value in dict.fromkeys(data.tags)
        ]
        labels += [
            SearchLabel(entry=entry, field=SearchLabel.Field.CONTEXT, value=value)
            for value in dict.fromkeys(data.contexts)
        ]
    SearchLabel.objects.bulk_create(labels)
    written = dict.fromkeys(ids_by_source, 0)
    for data in entries:
        written[SOURCE_OF_KIND[data.kind].name] += 1
    return written


def index_object(source_name: str, object_id: int) -> None:
    """Rewrite the entry of one object from its current row, or remove it."""
    with transaction.atomic():
        write_entries(SOURCES[source_name], [object_id])


@task
def reindex_objects(keys: list[list[Any]]) -> None:
    """Rewrite the entries of ``[source, id]`` pairs, and of what copies from them.

    The objects are written ``REINDEX_BATCH_SIZE`` at a time, one
    transaction per batch, so a change that touches many objects (a tag
    merged into another) costs a few statements per batch, not per object.
    """
    pending: dict[Key, None] = {(str(name), int(pk)): None for name, pk in keys}
    for name, pk in list(pending):
        for dependent in SOURCES[name].dependents(pk):
            pending.setdefault(dependent, None)
    ordered = list(pending)
    for start in range(0, len(ordered), REINDEX_BATCH_SIZE):
        ids_by_source: dict[str, list[int]] = {}
        for name, pk in ordered[start : start + REINDEX_BATCH_SIZE]:
            ids_by_source.setdefault(name, []).append(pk)
        with transaction.atomic():
            _replace_entries(ids_by_source)
    logger.debug("search.reindexed count=%d", len(pending))


class _PendingChanges:
    """The objects changed in one transaction; enqueues their reindex on commit."""

    def __init__(self) -> None:
        self.keys: dict[Key, None] = {}

    def __call__(self) -> None:
        enqueue(reindex_objects, [list(key) for key in self.keys])


def _pending_for_transaction() -> _PendingChanges:
    for registered in connection.run_on_commit:
        callback = registered[1]
        if isinstance(callback, _PendingChanges):
            return callback
    pending = _PendingChanges()
    transaction.on_commit(pending)
    return pending


def schedule_reindex(source_name: str, object_id: int) -> None:
    """Note that an object changed; its entry is rewritten after commit."""
    if not connection.in_atomic_block:
        enqueue(reindex_objects, [[source_name, object_id]])
        return
    _pending_for_transaction().keys[(source_name, object_id)] = None


def schedule_reindex_many(source_name: str, object_ids: Iterable[int]) -> None:
    """Note that many objects of one source changed, as ``schedule_reindex`` does.

    For changes made with ``QuerySet.update()`` or raw SQL, which send no
    signal: their entries are rewritten in batches after commit.
    """
    keys = [(source_name, int(pk)) for pk in object_ids]
    if not keys:
        return
    if not connection.in_atomic_block:
        enqueue(reindex_objects, [list(key) for key in keys])
        return
    pending = _pending_for_transaction().keys
    for key in keys:
        pending[key] = None


def _on_saved_or_deleted(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    source_name = _MODEL_SOURCES[sender]
    if source_name == "person":
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and set(update_fields) <= {"last_login"}:
            return
    schedule_reindex(source_name, instance.pk)


def _on_child_changed(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    source_name, parent_field = _CHILD_SOURCES[sender]
    schedule_reindex(source_name, getattr(instance, parent_field))


def _on_relation_changed(
    sender: type[Model], instance: Model, action: str, reverse: bool, **kwargs: Any
) -> None:
    if not action.startswith("post_"):
        return
    source_name = _M2M_SOURCES[sender]
    if not reverse:
        schedule_reindex(source_name, instance.pk)
        return
    # Changed from the other side (a hashtag's posts): every affected object.
    for pk in kwargs.get("pk_set") or ():
        schedule_reindex(source_name, pk)


def _on_audit_event(
    sender: type[Model], instance: Any, created: bool, **kwargs: Any
) -> None:
    source_name = _AUDITED_SOURCES.get(instance.object_type)
    if created and source_name is not None and instance.object_id.isdigit():
        schedule_reindex(source_name, int(instance.object_id))


def _on_library_tag_saved(
    sender: type[Model], instance: Any, created: bool, **kwargs: Any
) -> None:
    # A renamed tag's items carry its key in their entries. One query finds
    # them all, and they are rewritten after commit in batches.
    if created:
        return
    from library.models import DocumentTag

    links = DocumentTag.objects.filter(tag_id=instance.pk)
    schedule_reindex_many("library", links.values_list("document_id", flat=True))


_MODEL_SOURCES: dict[type[Model], str] = {}
_CHILD_SOURCES: dict[type[Model], tuple[str, str]] = {}
_M2M_SOURCES: dict[type[Model], str] = {}


def connect_indexing() -> None:
    """Connect the receivers that keep the index current; called once at start-up."""
    from accounts.models import PersonSkill, User
    from answers.models import Answer, FaqEntry, Question, QuestionComment
    from communities.models import Community
    from core.models import AuditEvent
    from library.models import Document, DocumentFile, DocumentTag, Tag
    from social.models import Comment, Post

    _MODEL_SOURCES.update(
        {
            Post: "post",
            Comment: "comment",
            Question: "question",
            Answer: "answer",
            QuestionComment: "question_comment",
            FaqEntry: "faq",
            Document: "library",
            Community: "community",
            User: "person",
        }
    )
    _CHILD_SOURCES.update(
        {
            DocumentTag: ("library", "document_id"),
            DocumentFile: ("library", "document_id"),
            PersonSkill: ("person", "person_id"),
        }
    )
    _M2M_SOURCES.update(
        {
            Post.hashtags.through: "post",
            Comment.hashtags.through: "comment",
            Question.hashtags.through: "question",
            FaqEntry.contexts.through: "faq",
            Document.contexts.through: "library",
            User.crm_functions.through: "person",
        }
    )
    for model in [*_MODEL_SOURCES, *_CHILD_SOURCES]:
        receiver = (
            _on_saved_or_deleted if model in _MODEL_SOURCES else _on_child_changed
        )
        uid = f"search-{model._meta.label_lower}"
        post_save.connect(receiver, sender=model, dispatch_uid=f"{uid}-save")
        post_delete.connect(receiver, sender=model, dispatch_uid=f"{uid}-delete")
    for through in _M2M_SOURCES:
        m2m_changed.connect(
            _on_relation_changed,
            sender=through,
            dispatch_uid=f"search-m2m-{through._meta.label_lower}",
        )
    post_save.connect(_on_audit_event, sender=AuditEvent, dispatch_uid="search-audit")
    post_save.connect(
        _on_library_tag_saved, sender=Tag, dispatch_uid="search-library-tag"
    )


def reindex_all(*, sources: Iterable[str] | None = None) -> dict[str, int]:
    """Rebuild the entries of every object (or of ``sources``); return counts.

    Entries whose object is gone are removed. Objects are written oldest
    first across all sources, so that a rebuilt index has its entry ids in
    creation order. Each batch of ``REINDEX_BATCH_SIZE`` objects is one
    transaction.
    """
    names = list(sources or SOURCES)
    keys: list[tuple[datetime, str, int]] = []
    for name in names:
        source = SOURCES[name]
        SearchEntry.objects.filter(kind__in=source.kinds).exclude(
            object_id__in=source.rows().values("pk")
        ).delete()
        rows = source.rows().values_list(source.created_field, "pk")
        keys += [(created, name, pk) for created, pk in rows]
    keys.sort()

    counts = dict.fromkeys(names, 0)
    for start in range(0, len(keys), REINDEX_BATCH_SIZE):
        ids_by_source: dict[str, list[int]] = {}
        for _created, name, pk in keys[start : start + REINDEX_BATCH_SIZE]:
            ids_by_source.setdefault(name, []).append(pk)
        with transaction.atomic():
            for name, count in _replace_entries(ids_by_source).items():
                counts[name] += count
    for name in names:
        logger.info("search.reindexed source=%s count=%d", name, counts[name])
    return counts
