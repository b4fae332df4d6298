"""Reads of library items: employees see all, customers the customer-visible.

Every page, file route, the help panel and the list start from
``visible_documents``. A customer account therefore cannot reach an
internal item's page, files or poster, and gets the same 404 as for an id
that does not exist.
"""

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from accounts.models import User
from accounts.permissions import CURATOR_ROLES, Viewer, is_super_user_for
from library.models import Document, DocumentFile, Kind, Tag


def visible_documents(viewer: Viewer) -> QuerySet[Document]:
    if not isinstance(viewer, User):
        return Document.objects.none()
    if viewer.is_external:
        return Document.objects.filter(customer_visible=True)
    return Document.objects.all()


def access_document(viewer: Viewer, document_id: int) -> Document:
    document = visible_documents(viewer).filter(pk=document_id).first()
    if document is None:
        raise Http404("No document found with that number.")
    return document


def access_version(viewer: Viewer, document_id: int, number: int) -> DocumentFile:
    """Return version ``number`` of an item ``viewer`` may see, or raise 404.

    ``number`` counts the item's own versions from 1 (``DocumentFile.number``).
    """
    version = (
        DocumentFile.objects.filter(
            number=number,
            document_id=document_id,
            document__in=visible_documents(viewer),
        )
        .select_related("document")
        .first()
    )
    if version is None:
        raise Http404(f"This item has no version {number}.")
    return version


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
    ).first()
    if version is None:
        raise Http404("No file found with that address.")
    return version


def can_create_items(person: User) -> bool:
    return not person.is_external


def can_add_version(person: User, document: Document) -> bool:
    """Whether ``person`` may upload a new version of ``document``."""
    if person.is_external:
        return False
    if document.owner_id == person.pk or person.role in CURATOR_ROLES:
        return True
    return is_super_user_for(person, document.crm_function)


@dataclass(frozen=True)
class LibraryFilters:
    kind: str = ""
    tag: str = ""
    crm_function: str = ""


def list_documents(viewer: Viewer, filters: LibraryFilters) -> QuerySet[Document]:
    """Return the items ``viewer`` may see that match ``filters``, tags prefetched."""
    documents = (
        visible_documents(viewer)
        .select_related("crm_function", "owner")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("key")))
        .order_by("title", "pk")
    )
    if filters.kind in Kind.values:
        documents = documents.filter(kind=filters.kind)
    if filters.tag:
        documents = documents.filter(tags__slug=filters.tag)
    if filters.crm_function:
        documents = documents.filter(crm_function__slug=filters.crm_function)
    return documents


def tags_in_use(viewer: Viewer) -> QuerySet[Tag]:
    """Return the tags on at least one item ``viewer`` may see."""
    return (
        Tag.objects.filter(documents__in=visible_documents(viewer))
        .distinct()
        .order_by("key")
    )
