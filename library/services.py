"""Writes to the library: items, versions, tags, helpful votes and counters."""

import logging
from collections.abc import Iterable, Sequence

from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import F, Max

from accounts.models import CrmFunction, LearnerGroup, User
from assist.caching import bump_help_version
from assist.models import HelpContext
from core.audit import record_event
from core.markdown import render_markdown
from core.text import clean_line, clean_text
from library import sniffing
from library.models import Document, DocumentFile, DocumentTag, HelpfulVote, Kind, Tag
from library.selectors import can_add_version, can_create_items
from library.tags import base_slug, collision_slug, display_name, tag_key
from library.uploads import CheckedUpload, StoredNames, stored_or_removed

logger = logging.getLogger(__name__)

MAX_TITLE_LENGTH = 200
MAX_SUMMARY_LENGTH = 300
# Markdown files up to this size are also rendered on the item's page.
MAX_RENDERED_TEXT_BYTES = 512 * 1024


class LibraryInputError(ValueError):
    pass


def create_item(
    *,
    owner: User,
    title: str,
    summary: str,
    kind: str,
    body: str = "",
    url: str = "",
    crm_function: CrmFunction | None = None,
    contexts: Iterable[HelpContext] = (),
    customer_visible: bool = False,
    upload: CheckedUpload | None = None,
    poster: CheckedUpload | None = None,
    tag_names: Sequence[str] = (),
    learner_groups: Iterable[LearnerGroup] = (),
) -> Document:
    """Create a library item with its first file version, poster and tags."""
    if not can_create_items(owner):
        raise PermissionDenied("Customer accounts cannot add library items.")
    fields = _item_fields(title=title, summary=summary, kind=kind, body=body, url=url)
    if kind in {Kind.DOCUMENT, Kind.VIDEO, Kind.PACKAGE} and upload is None:
        raise LibraryInputError(f"A {Kind(kind).label.lower()} needs a file.")
    if poster is not None and kind != Kind.VIDEO:
        raise LibraryInputError("Only a video has a poster image.")

    with stored_or_removed() as stored, transaction.atomic():
        document = Document.objects.create(
            owner=owner,
            crm_function=crm_function,
            customer_visible=customer_visible,
            **fields,
        )
        document.contexts.set(list(contexts))
        document.learner_groups.set(list(learner_groups))
        if upload is not None:
            _store_version(document, upload=upload, person=owner, stored=stored)
        if poster is not None:
            _store_poster(document, poster=poster, stored=stored)
        record_event(
            actor=owner,
            action="library.item_created",
            target=document,
            source="screen",
            after={"kind": kind, "title": document.title},
        )
        _attach_tags(document, person=owner, names=tag_names)
    logger.info("library.item_created document=%s kind=%s", document.pk, kind)
    return document


def _item_fields(
    *, title: str, summary: str, kind: str, body: str, url: str
) -> dict[str, str]:
    title = clean_line(title)
    summary = clean_line(summary)
    if not title:
        raise LibraryInputError("The title is empty: give the item a title.")
    if len(title) > MAX_TITLE_LENGTH:
        raise LibraryInputError(
            f"The title has {len(title)} characters; the limit is {MAX_TITLE_LENGTH}."
        )
    if len(summary) > MAX_SUMMARY_LENGTH:
        raise LibraryInputError(
            f"The summary has {len(summary)} characters; the limit is "
            f"{MAX_SUMMARY_LENGTH}."
        )
    if kind == Kind.LINK and not url:
        raise LibraryInputError("A link needs its address (https://...).")
    body = clean_text(body)
    return {
        "title": title,
        "summary": summary,
        "kind": kind,
        "url": url if kind == Kind.LINK else "",
        "body": body,
        "body_html": render_markdown(body).html if body else "",
    }


def add_version(
    *, document: Document, person: User, upload: CheckedUpload, note: str = ""
) -> DocumentFile:
    """Store ``upload`` as the item's next version, keeping the earlier ones."""
    if not can_add_version(person, document):
        raise PermissionDenied(
            "Only the item's owner, a facilitator, a moderator or a super-user of "
            "its CRM function can upload a new version."
        )
    with stored_or_removed() as stored, transaction.atomic():
        locked = Document.objects.select_for_update().get(pk=document.pk)
        version = _store_version(
            locked, upload=upload, person=person, stored=stored, note=note
        )
        # Saving bumps updated_at, which the help panel ranks by freshness.
        locked.save(update_fields=["updated_at"])
        record_event(
            actor=person,
            action="library.version_added",
            target=locked,
            source="screen",
            after={"version": version.number, "sha256": version.sha256},
        )
    logger.info(
        "library.version_added document=%s version=%s", document.pk, version.number
    )
    return version


def _store_version(
    document: Document,
    *,
    upload: CheckedUpload,
    person: User,
    stored: StoredNames,
    note: str = "",
) -> DocumentFile:
    latest = document.versions.aggregate(latest=Max("number"))["latest"] or 0
    version = DocumentFile(
        document=document,
        number=latest + 1,
        original_name=upload.name,
        size=upload.size,
        sha256=upload.sha256,
        content_type=upload.content_type,
        uploaded_by=person,
        note=clean_line(note)[:300],
    )
    prefix = f"library/{document.pk}/v{version.number}"
    upload.upload.seek(0)
    version.file.name = stored.save(f"{prefix}/{upload.sha256}", File(upload.upload))

    if upload.package is not None:
        for relative in upload.package.files:
            stored.save_path(
                f"{prefix}/package/{relative}", upload.package.root / relative
            )
        version.extracted_prefix = f"{prefix}/package/"
        version.extracted_count = len(upload.package.files)
    version.save()

    if upload.content_type == sniffing.TEXT and upload.size <= MAX_RENDERED_TEXT_BYTES:
        upload.upload.seek(0)
        text = upload.upload.read().decode("utf-8", errors="replace")
        document.body = clean_text(text.removeprefix("\ufeff"))
        document.body_html = render_markdown(document.body).html
        document.save(update_fields=["body", "body_html", "updated_at"])
    return version


def _store_poster(
    document: Document, *, poster: CheckedUpload, stored: StoredNames
) -> None:
    poster.upload.seek(0)
    document.poster = stored.save(
        f"library/{document.pk}/poster/{poster.sha256}", File(poster.upload)
    )
    document.poster_type = poster.content_type
    document.save(update_fields=["poster", "poster_type", "updated_at"])


def add_tags(*, document: Document, person: User, names: Sequence[str]) -> list[Tag]:
    """Add tags by name; names with the same normalized key become one tag."""
    with transaction.atomic():
        tags = _attach_tags(document, person=person, names=names)
    return tags


def _attach_tags(
    document: Document, *, person: User, names: Sequence[str]
) -> list[Tag]:
    tags: dict[str, Tag] = {}
    for raw in names:
        name = display_name(raw)
        key = tag_key(name)
        if key not in tags:
            tags[key] = _tag_for(key=key, name=name)

    added = []
    for tag in tags.values():
        _link, created = DocumentTag.objects.get_or_create(
            document=document, tag=tag, defaults={"added_by": person}
        )
        if created:
            added.append(tag.name)
    if added:
        record_event(
            actor=person,
            action="library.tags_added",
            target=document,
            source="screen",
            after={"tags": added},
        )
    return list(tags.values())


def _tag_for(*, key: str, name: str) -> Tag:
    existing = Tag.objects.filter(key=key).first()
    if existing is not None:
        return existing

    slug = base_slug(key)
    if Tag.objects.filter(slug=slug).exists():
        slug = collision_slug(key)
    try:
        with transaction.atomic():
            return Tag.objects.create(key=key, name=name, slug=slug)
    except IntegrityError:
        # Another request created the same key first.
        return Tag.objects.get(key=key)


def vote_helpful(*, document: Document, person: User) -> bool:
    """Record that ``person`` found the item helpful; return False if they had."""
    try:
        with transaction.atomic():
            HelpfulVote.objects.create(document=document, person=person)
            Document.objects.filter(pk=document.pk).update(
                helpful_count=F("helpful_count") + 1
            )
            record_event(
                actor=person,
                action="library.helpful_voted",
                target=document,
                source="screen",
            )
            # update() sends no signal, and the help panel ranks by this count.
            bump_help_version()
    except IntegrityError:
        return False
    return True


def withdraw_helpful_vote(*, document: Document, person: User) -> bool:
    """Remove ``person``'s helpful vote; return False if there was none."""
    with transaction.atomic():
        deleted, _ = HelpfulVote.objects.filter(
            document=document, person=person
        ).delete()
        if not deleted:
            return False
        Document.objects.filter(pk=document.pk, helpful_count__gt=0).update(
            helpful_count=F("helpful_count") - 1
        )
        record_event(
            actor=person,
            action="library.helpful_withdrawn",
            target=document,
            source="screen",
        )
        bump_help_version()
    return True


def count_view(*, document_id: int) -> None:
    """Add one to the item's view count in the database, without reading it.

    View and download counts are not part of the help panel, so these
    updates do not bump its cache version, and they record no audit event,
    because a read is not a state change.
    """
    Document.objects.filter(pk=document_id).update(view_count=F("view_count") + 1)


def count_download(*, document_id: int) -> None:
    Document.objects.filter(pk=document_id).update(
        download_count=F("download_count") + 1
    )
