"""Reads of library items: employees see all, customers the customer-visible.

Every page, file route, the help panel and the list start from
``visible_documents``. A customer account therefore cannot reach an
internal item's page, files or poster, and gets the same 404 as for an id
that does not exist. Withdrawn items and versions are left out, except on
the item's page and file routes for the people who may edit the item, so
they can review and restore them (``withdrawn_for_editors``).

Tags follow one rule too, ``visible_tag_links``: only employees add tags,
and a customer sees a tag on an item only when an employee added it. Rows
that customer accounts added before they lost the right stay visible to
employees, who can remove them.
"""

from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from accounts.models import Role, SuperUserAssignment, User
from accounts.permissions import CURATOR_ROLES, Viewer, is_super_user_for
from library.models import Document, DocumentFile, DocumentTag, Kind, Tag

# Kinds whose content is an uploaded file with versions.
FILE_KINDS = frozenset({Kind.DOCUMENT, Kind.VIDEO, Kind.PACKAGE})


def visible_documents(viewer: Viewer) -> QuerySet[Document]:
    if not isinstance(viewer, User):
        return Document.objects.none()
    documents = Document.objects.filter(withdrawn_at__isnull=True)
    if viewer.is_external:
        return documents.filter(customer_visible=True)
    return documents


def current_versions(document: Document) -> QuerySet[DocumentFile]:
    """Return the item's versions that are not withdrawn, newest first."""
    return document.versions.filter(withdrawn_at__isnull=True).order_by("-number")


def visible_tag_links(viewer: Viewer) -> QuerySet[DocumentTag]:
    """Return the item-tag links ``viewer`` may see, on items they may see.

    Customers see only the tags employees added. A link whose author was
    deleted (``added_by`` is NULL) counts as an employee's, because only
    employees may add tags.
    """
    links = DocumentTag.objects.filter(document__in=visible_documents(viewer))
    if isinstance(viewer, User) and viewer.is_external:
        links = links.exclude(added_by__role=Role.CUSTOMER)
    return links


def tags_shown_on(viewer: Viewer, document: Document) -> list[Tag]:
    links = (
        visible_tag_links(viewer)
        .filter(document=document)
        .select_related("tag")
        .order_by("tag__key")
    )
    return [link.tag for link in links]


def access_document(
    viewer: Viewer, document_id: int, *, withdrawn_for_editors: bool = False
) -> Document:
    """Return an item ``viewer`` may see, or raise 404.

    With ``withdrawn_for_editors``, a withdrawn item is returned too when
    ``viewer`` may edit it (``can_edit_item``), for its page, files and
    Restore action. Everyone else gets 404 for it, as before.
    """
    document = visible_documents(viewer).filter(pk=document_id).first()
    if document is None and withdrawn_for_editors and isinstance(viewer, User):
        withdrawn = Document.objects.filter(
            pk=document_id, withdrawn_at__isnull=False
        ).first()
        if withdrawn is not None and can_edit_item(viewer, withdrawn):
            document = withdrawn
    if document is None:
        raise Http404("No document found with that number.")
    return document


def access_version(
    viewer: Viewer,
    document_id: int,
    number: int,
    *,
    withdrawn_for_editors: bool = False,
) -> DocumentFile:
    """Return version ``number`` of an item ``viewer`` may see, or raise 404.

    ``number`` counts the item's own versions from 1 (``DocumentFile.number``).
    With ``withdrawn_for_editors``, a withdrawn version, or a version of a
    withdrawn item, is returned too when ``viewer`` may edit the item.
    """
    version = (
        DocumentFile.objects.filter(
            number=number,
            document_id=document_id,
            document__in=visible_documents(viewer),
            withdrawn_at__isnull=True,
        )
        .select_related("document")
        .first()
    )
    if version is None and withdrawn_for_editors and isinstance(viewer, User):
        version = _withdrawn_version_for_editor(viewer, document_id, number)
    if version is None:
        raise Http404(f"This item has no version {number}.")
    return version


def _withdrawn_version_for_editor(
    editor: User, document_id: int, number: int
) -> DocumentFile | None:
    version = (
        DocumentFile.objects.filter(number=number, document_id=document_id)
        .select_related("document")
        .first()
    )
    if version is None or not can_edit_item(editor, version.document):
        return None
    if version.withdrawn_at is None and version.document.withdrawn_at is None:
        # Visible to everyone, so the first query would have found it.
        return None
    return version


def versions_shown_to(viewer: User, document: Document) -> list[DocumentFile]:
    """Return the versions ``viewer`` sees in the Versions table, newest first.

    The people who may edit the item also see its withdrawn versions, which
    the page marks as withdrawn. Everyone else sees ``current_versions``.
    """
    if can_edit_item(viewer, document):
        versions = document.versions.order_by("-number")
    else:
        versions = current_versions(document)
    return list(versions.select_related("uploaded_by", "withdrawn_by"))


def withdrawn_documents_editable_by(person: User) -> QuerySet[Document]:
    """Return the withdrawn items ``person`` may restore, by ``can_edit_item``."""
    if person.is_external:
        return Document.objects.none()
    withdrawn = Document.objects.filter(withdrawn_at__isnull=False)
    if person.role in CURATOR_ROLES:
        return withdrawn
    functions = SuperUserAssignment.objects.filter(person=person).values(
        "crm_function_id"
    )
    return withdrawn.filter(Q(owner=person) | Q(crm_function_id__in=functions))


def access_version_by_id(
    viewer: Viewer, document_id: int, version_id: int
) -> DocumentFile:
    """Return the version with database id ``version_id``, or raise 404.

    Only for the old addresses that named a version by its id. The version
    must belong to the item ``document_id`` that ``viewer`` may see.
    """
    version = DocumentFile.objects.filter(
        pk=version_id,
        document_id=document_id,
        document__in=visible_documents(viewer),
        withdrawn_at__isnull=True,
    ).first()
    if version is None:
        raise Http404("No file found with that address.")
    return version


def shows_crm_functions(person: User) -> bool:
    """Return whether ``person`` sees items' CRM functions and may filter by them.

    CRM functions name Company X's internal teams (invoicing, disputes), so
    a customer sees neither the name on an item nor the filter.
    """
    return not person.is_external


def can_create_items(person: User) -> bool:
    return not person.is_external


def can_edit_item(person: User, document: Document) -> bool:
    """Return whether ``person`` may edit, withdraw, restore, re-version or untag it.

    Its owner, a facilitator or moderator, or a super-user of its CRM
    function may, and a customer account never may.
    """
    if person.is_external:
        return False
    if document.owner_id == person.pk or person.role in CURATOR_ROLES:
        return True
    return is_super_user_for(person, document.crm_function)


def can_add_version(person: User, document: Document) -> bool:
    """Return whether ``person`` may upload a new version of ``document``."""
    return document.kind in FILE_KINDS and can_edit_item(person, document)


def can_add_tags(person: User) -> bool:
    """Return whether ``person`` may tag items: employees may, customers not."""
    return not person.is_external


def can_manage_tags(person: User) -> bool:
    """Return whether ``person`` may rename or merge tags: a facilitator or moderator.

    A rename or a merge changes the tag on every item that carries it, so
    it is left to the people who curate the whole library.
    """
    return not person.is_external and person.role in CURATOR_ROLES


@dataclass(frozen=True)
class LibraryFilters:
    kind: str = ""
    tag: str = ""
    crm_function: str = ""
    # List the withdrawn items the viewer may restore instead of the library.
    withdrawn: bool = False


def list_documents(viewer: Viewer, filters: LibraryFilters) -> QuerySet[Document]:
    """Return the items ``viewer`` may see that match ``filters``.

    Each item's ``shown_tag_links`` contains the tag links ``viewer`` may see.
    With ``filters.withdrawn`` they are the withdrawn items ``viewer`` may
    restore. Tags of withdrawn items are not shown (``visible_tag_links``
    leaves them out), so the tag filter finds none of them.
    """
    if filters.withdrawn and isinstance(viewer, User):
        base = withdrawn_documents_editable_by(viewer)
    else:
        base = visible_documents(viewer)
    documents = (
        base.select_related("crm_function", "owner")
        .prefetch_related(
            Prefetch(
                "documenttag_set",
                queryset=visible_tag_links(viewer)
                .select_related("tag")
                .order_by("tag__key"),
                to_attr="shown_tag_links",
            )
        )
        .order_by("title", "pk")
    )
    if filters.kind in Kind.values:
        documents = documents.filter(kind=filters.kind)
    if filters.tag:
        tagged = visible_tag_links(viewer).filter(tag__slug=filters.tag)
        documents = documents.filter(pk__in=tagged.values("document_id"))
    if filters.crm_function:
        documents = documents.filter(crm_function__slug=filters.crm_function)
    return documents


def tags_in_use(viewer: Viewer) -> QuerySet[Tag]:
    """Return the tags ``viewer`` may see on at least one item."""
    return Tag.objects.filter(
        pk__in=visible_tag_links(viewer).values("tag_id")
    ).order_by("key")
