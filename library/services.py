"""Writes to the library: items, versions, tags, helpful votes and counters."""

import logging
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from accounts.models import CrmFunction, LearnerGroup, User
from assist.caching import bump_help_version
from assist.models import HelpContext
from core.audit import record_event
from core.markdown import render_markdown
from core.text import clean_line, clean_text
from library import sniffing
from library.models import Document, DocumentFile, DocumentTag, HelpfulVote, Kind, Tag
from library.selectors import (
    FILE_KINDS,
    can_add_tags,
    can_add_version,
    can_create_items,
    can_edit_item,
    can_manage_tags,
    current_versions,
)
from library.tags import base_slug, collision_slug, display_name, tag_key
from library.uploads import CheckedUpload, StoredNames, stored_or_removed
from search.indexing import schedule_reindex_many

logger = logging.getLogger(__name__)

MAX_TITLE_LENGTH = 200
MAX_SUMMARY_LENGTH = 300
# Characters of a Markdown page's text typed into the form. Search indexes
# only its first SEARCH_MAX_INDEXED_CHARACTERS.
MAX_PAGE_TEXT_LENGTH = 100_000
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
    _check_page_text(fields["body"])
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
    if kind == Kind.LINK and urlsplit(url).scheme.lower() not in {"http", "https"}:
        raise LibraryInputError(
            f"{url!r} is not a web address: only http and https links are "
            "allowed. Enter an address that starts with https://."
        )
    body = clean_text(body)
    return {
        "title": title,
        "summary": summary,
        "kind": kind,
        "url": url if kind == Kind.LINK else "",
        "body": body,
        "body_html": render_markdown(body, mentions=False).html if body else "",
    }


def _check_page_text(body: str) -> None:
    # Checked when an item is created only, so an item with a longer text
    # (from an uploaded Markdown file) can still be edited.
    if len(body) > MAX_PAGE_TEXT_LENGTH:
        raise LibraryInputError(
            f"The page text has {len(body):,} characters; the limit is "
            f"{MAX_PAGE_TEXT_LENGTH:,}. Shorten it, split it into several "
            "pages, or upload it as a Markdown file."
        )


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
        current = current_versions(locked).first()
        if current is not None and current.sha256 == upload.sha256:
            raise LibraryInputError(
                f"{upload.name} is the same file as version {current.number} "
                f"({current.original_name}, SHA-256 {current.sha256[:12]}...). "
                "Choose the changed file and upload it again."
            )
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
        _set_body(document, upload.upload.read())
    return version


def _set_body(document: Document, content: bytes) -> None:
    """Render a Markdown or text file's bytes as the item's page text."""
    text = content.decode("utf-8", errors="replace")
    document.body = clean_text(text.removeprefix("\ufeff"))
    document.body_html = (
        render_markdown(document.body, mentions=False).html if document.body else ""
    )
    document.save(update_fields=["body", "body_html", "updated_at"])


def _store_poster(
    document: Document, *, poster: CheckedUpload, stored: StoredNames
) -> None:
    poster.upload.seek(0)
    document.poster = stored.save(
        f"library/{document.pk}/poster/{poster.sha256}", File(poster.upload)
    )
    document.poster_type = poster.content_type
    document.save(update_fields=["poster", "poster_type", "updated_at"])


def set_poster(
    *, document: Document, person: User, poster: CheckedUpload | None
) -> Document:
    """Add or replace a video's poster image, or remove it when ``poster`` is None.

    Like a replaced version, a replaced or removed poster's file stays in
    storage: the ``library.poster_changed`` audit event names it with its
    SHA-256, and no address serves it any more.
    """
    if not can_edit_item(person, document):
        raise PermissionDenied(
            "Only the item's owner, a facilitator, a moderator or a super-user of "
            "its CRM function can change its poster."
        )
    if document.kind != Kind.VIDEO:
        raise LibraryInputError("Only a video has a poster image.")
    with stored_or_removed() as stored, transaction.atomic():
        locked = Document.objects.select_for_update().get(pk=document.pk)
        before = {"poster": locked.poster, "poster_type": locked.poster_type}
        if poster is None and not locked.poster:
            raise LibraryInputError(
                "This video has no poster to remove: choose an image to add one."
            )
        current_name = locked.poster.rsplit("/", 1)[-1]
        if poster is not None and current_name.startswith(poster.sha256):
            raise LibraryInputError(
                f"{poster.name} is the same image as the current poster. "
                "Choose a different image, or leave the poster as it is."
            )
        if poster is None:
            locked.poster = ""
            locked.poster_type = ""
            locked.save(update_fields=["poster", "poster_type", "updated_at"])
        else:
            _store_poster(locked, poster=poster, stored=stored)
        record_event(
            actor=person,
            action="library.poster_changed",
            target=locked,
            source="screen",
            before=before,
            after={"poster": locked.poster, "poster_type": locked.poster_type},
        )
    logger.info(
        "library.poster_changed document=%s removed=%s", document.pk, poster is None
    )
    return locked


def add_tags(*, document: Document, person: User, names: Sequence[str]) -> list[Tag]:
    """Add tags by name; names with the same normalized key become one tag."""
    if not can_add_tags(person):
        raise PermissionDenied("Customer accounts cannot add tags.")
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


def rename_tag(*, tag: Tag, person: User, name: str) -> Tag:
    """Give ``tag`` a new name and return the tag its items now carry.

    The name is spelled as a hashtag (``library.tags.display_name``). When
    another tag already has the new name's key, ``tag`` is merged into it.
    Otherwise the tag keeps its slug, so its filter address still works.
    The search entries of its items are rewritten after commit: for a
    rename by the ``post_save`` receiver in ``search.indexing``, which
    catches renames made elsewhere too, such as in the admin.
    """
    _require_tag_curator(person, "rename tags")
    new_name = display_name(name)
    key = tag_key(new_name)
    with transaction.atomic():
        tag = Tag.objects.select_for_update().get(pk=tag.pk)
        other = Tag.objects.filter(key=key).exclude(pk=tag.pk).first()
        if other is not None:
            return _merge_tag(tag, into=other, person=person)
        if tag.name == new_name:
            return tag
        before = tag.name
        tag.name, tag.key = new_name, key
        tag.save(update_fields=["name", "key"])
        record_event(
            actor=person,
            action="library.tag_renamed",
            target=tag,
            source="screen",
            before={"name": before},
            after={"name": new_name},
        )
    logger.info("library.tag_renamed tag=%s", tag.pk)
    return tag


def merge_tags(*, tag: Tag, into: Tag, person: User) -> Tag:
    """Move every item of ``tag`` to ``into``, delete ``tag`` and return ``into``."""
    _require_tag_curator(person, "merge tags")
    if tag.pk == into.pk:
        raise LibraryInputError(
            f"Tag {tag.name!r} cannot be merged into itself: choose another tag."
        )
    with transaction.atomic():
        locked = Tag.objects.select_for_update().filter(pk__in=[tag.pk, into.pk])
        found = {row.pk: row for row in locked}
        if tag.pk not in found or into.pk not in found:
            missing = tag if tag.pk not in found else into
            raise LibraryInputError(
                f"Tag {missing.name!r} no longer exists: reload the tag list."
            )
        return _merge_tag(found[tag.pk], into=found[into.pk], person=person)


def _merge_tag(tag: Tag, *, into: Tag, person: User) -> Tag:
    """Move ``tag``'s links to ``into`` in two statements, then delete ``tag``.

    ``QuerySet.update()`` sends no signal, so the moved items are noted for
    reindexing here, all at once.
    """
    links = DocumentTag.objects.filter(tag=tag)
    document_ids = list(links.values_list("document_id", flat=True))
    # An item that has both tags keeps its link to ``into``.
    links.filter(
        document_id__in=DocumentTag.objects.filter(tag=into).values("document_id")
    ).delete()
    links.update(tag=into)
    record_event(
        actor=person,
        action="library.tag_merged",
        target=into,
        source="screen",
        before={"name": tag.name, "items": len(document_ids)},
        after={"name": into.name},
    )
    tag.delete()
    schedule_reindex_many("library", document_ids)
    logger.info("library.tag_merged into=%s items=%d", into.pk, len(document_ids))
    return into


def _require_tag_curator(person: User, action: str) -> None:
    if not can_manage_tags(person):
        raise PermissionDenied(
            f"Only a facilitator or a moderator can {action}, because the change "
            "reaches every item with the tag."
        )


def remove_tag(*, document: Document, person: User, tag: Tag) -> bool:
    """Remove ``tag`` from the item; return False if the item did not have it.

    The Tag row stays, because other items may carry it, and the tag filter
    lists only tags that are on an item.
    """
    _require_editor(person, document, "remove tags")
    with transaction.atomic():
        link = (
            DocumentTag.objects.select_related("added_by")
            .filter(document=document, tag=tag)
            .first()
        )
        if link is None:
            return False
        added_by = link.added_by.get_username() if link.added_by else ""
        link.delete()
        record_event(
            actor=person,
            action="library.tag_removed",
            target=document,
            source="screen",
            before={"tag": tag.name, "added_by": added_by},
        )
    logger.info("library.tag_removed document=%s tag=%s", document.pk, tag.pk)
    return True


def update_item(
    *,
    document: Document,
    person: User,
    title: str,
    summary: str,
    contexts: Iterable[HelpContext],
    customer_visible: bool,
) -> Document:
    """Change an item's title, summary, screens and customer visibility.

    ``save()`` and ``contexts.set()`` send the signals that bump the help
    panel's cache version and rewrite the search entry after the commit, so
    un-sharing an item from customers takes effect on every surface at once.
    """
    _require_editor(person, document, "edit it")
    fields = _item_fields(
        title=title,
        summary=summary,
        kind=document.kind,
        body=document.body,
        url=document.url,
    )
    new_contexts = sorted(context.key for context in contexts)
    with transaction.atomic():
        locked = Document.objects.select_for_update().get(pk=document.pk)
        before = {
            "title": locked.title,
            "summary": locked.summary,
            "customer_visible": locked.customer_visible,
            "contexts": sorted(locked.contexts.values_list("key", flat=True)),
        }
        locked.title = fields["title"]
        locked.summary = fields["summary"]
        locked.customer_visible = customer_visible
        locked.save(
            update_fields=["title", "summary", "customer_visible", "updated_at"]
        )
        locked.contexts.set(list(contexts))
        after = {
            "title": locked.title,
            "summary": locked.summary,
            "customer_visible": locked.customer_visible,
            "contexts": new_contexts,
        }
        changed = {key for key in after if after[key] != before[key]}
        if changed:
            record_event(
                actor=person,
                action="library.item_updated",
                target=locked,
                source="screen",
                before={key: before[key] for key in sorted(changed)},
                after={key: after[key] for key in sorted(changed)},
            )
    logger.info("library.item_updated document=%s", document.pk)
    return locked


def _require_editor(person: User, document: Document, action: str) -> None:
    """Raise ``PermissionDenied``, naming ``action``, unless ``person`` may edit."""
    if not can_edit_item(person, document):
        raise PermissionDenied(
            "Only the item's owner, a facilitator, a moderator or a super-user "
            f"of its CRM function can {action}."
        )


def withdraw_item(*, document: Document, person: User, reason: str = "") -> None:
    """Withdraw the item from the library and help panel, keeping its rows.

    The stored files stay too, because the audit events name their SHA-256
    and an administrator may need them. Saving removes the item's search
    entry (``search.sources``).
    """
    _require_editor(person, document, "withdraw it")
    with transaction.atomic():
        locked = Document.objects.select_for_update().get(pk=document.pk)
        if locked.withdrawn_at is not None:
            return
        locked.withdrawn_at = timezone.now()
        locked.withdrawn_by = person
        locked.save(update_fields=["withdrawn_at", "withdrawn_by", "updated_at"])
        record_event(
            actor=person,
            action="library.item_withdrawn",
            target=locked,
            source="screen",
            before={"title": locked.title, "customer_visible": locked.customer_visible},
            reason=clean_line(reason),
        )
    logger.info("library.item_withdrawn document=%s", document.pk)


def withdraw_version(
    *, document: Document, person: User, number: int, reason: str = ""
) -> DocumentFile:
    """Withdraw one version; the newest remaining one becomes the current one.

    The last remaining version cannot be withdrawn, because an item of a file
    kind needs a file: withdraw the item instead.
    """
    _require_editor(person, document, "withdraw a version")
    with transaction.atomic():
        locked = Document.objects.select_for_update().get(pk=document.pk)
        remaining = list(current_versions(locked))
        version = next((v for v in remaining if v.number == number), None)
        if version is None:
            raise LibraryInputError(f"This item has no version {number} to withdraw.")
        if len(remaining) == 1:
            raise LibraryInputError(
                f"Version {number} is the item's only version. Withdraw the "
                "whole item instead, or upload a new version first."
            )
        version.withdrawn_at = timezone.now()
        version.withdrawn_by = person
        version.save(update_fields=["withdrawn_at", "withdrawn_by"])
        newest = next(v for v in remaining if v.number != number)
        _render_current_text(locked, newest)
        record_event(
            actor=person,
            action="library.version_withdrawn",
            target=locked,
            source="screen",
            before={
                "version": version.number,
                "sha256": version.sha256,
                "name": version.original_name,
            },
            reason=clean_line(reason),
        )
    logger.info("library.version_withdrawn document=%s version=%s", document.pk, number)
    return version


def restore_item(*, document: Document, person: User) -> None:
    """Bring a withdrawn item back to the library, search and help panel.

    Saving rebuilds the item's search entry (``search.sources``). Restoring
    an item that is not withdrawn changes nothing and records nothing.
    """
    _require_editor(person, document, "restore it")
    with transaction.atomic():
        locked = Document.objects.select_for_update().get(pk=document.pk)
        if locked.withdrawn_at is None:
            return
        before = {
            "withdrawn_at": locked.withdrawn_at.isoformat(),
            "withdrawn_by": locked.withdrawn_by_id,
        }
        locked.withdrawn_at = None
        locked.withdrawn_by = None
        locked.save(update_fields=["withdrawn_at", "withdrawn_by", "updated_at"])
        record_event(
            actor=person,
            action="library.item_restored",
            target=locked,
            source="screen",
            before=before,
            after={"title": locked.title, "customer_visible": locked.customer_visible},
        )
    logger.info("library.item_restored document=%s", document.pk)


def restore_version(*, document: Document, person: User, number: int) -> DocumentFile:
    """Restore a withdrawn version; the newest remaining one is current again.

    A restored version newer than the current one becomes the current one,
    and a Markdown document's page text is rendered again from it.
    """
    _require_editor(person, document, "restore a version")
    with transaction.atomic():
        locked = Document.objects.select_for_update().get(pk=document.pk)
        version = locked.versions.filter(number=number).first()
        if version is None:
            raise LibraryInputError(f"This item has no version {number} to restore.")
        if version.withdrawn_at is None:
            raise LibraryInputError(
                f"Version {number} is not withdrawn, so there is nothing to restore."
            )
        before = {
            "version": version.number,
            "sha256": version.sha256,
            "name": version.original_name,
            "withdrawn_at": version.withdrawn_at.isoformat(),
            "withdrawn_by": version.withdrawn_by_id,
        }
        version.withdrawn_at = None
        version.withdrawn_by = None
        version.save(update_fields=["withdrawn_at", "withdrawn_by"])
        newest = current_versions(locked).first()
        if newest is not None:
            _render_current_text(locked, newest)
        record_event(
            actor=person,
            action="library.version_restored",
            target=locked,
            source="screen",
            before=before,
        )
    logger.info("library.version_restored document=%s version=%s", document.pk, number)
    return version


def _render_current_text(document: Document, current: DocumentFile) -> None:
    """Show the current version's text on the page, or none if it has none.

    Only a document's page text comes from its file. Without this, a
    withdrawn Markdown version would stay readable on the item's page.
    """
    if document.kind not in FILE_KINDS:
        return
    if (
        current.content_type == sniffing.TEXT
        and current.size <= MAX_RENDERED_TEXT_BYTES
    ):
        with current.file.open("rb") as handle:
            _set_body(document, handle.read())
    elif document.body:
        _set_body(document, b"")


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
