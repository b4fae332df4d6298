"""Reads of library documents: employees see all, customers the customer-visible."""

from django.db.models import QuerySet
from django.http import Http404

from accounts.models import User
from accounts.permissions import Viewer
from library.models import Document


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
