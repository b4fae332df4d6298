"""Reads of import sources and batches; the one visibility rule for imports.

People in ``permissions.IMPORT_ROLES`` may open every source and batch of a
real company. For everyone else the querysets are empty, so the object
routes return 404. A practice sandbox's company is a learner's private copy,
so imports never target it: its sources and batches are hidden from everyone.
"""

from django.db.models import QuerySet
from django.http import Http404

from accounts.permissions import Viewer
from imports.models import ImportBatch, ImportedDocument, ImportSource
from imports.permissions import can_import
from reconciliation.models import Company


def import_companies() -> QuerySet[Company]:
    """Return the companies a source may import into: every one but sandboxes."""
    return Company.objects.filter(is_sandbox=False).order_by("name")


def visible_sources(viewer: Viewer) -> QuerySet[ImportSource]:
    if not can_import(viewer):
        return ImportSource.objects.none()
    return ImportSource.objects.filter(company__is_sandbox=False).select_related(
        "company"
    )


def access_source(viewer: Viewer, source_id: int) -> ImportSource:
    source = visible_sources(viewer).filter(pk=source_id).first()
    if source is None:
        raise Http404("No such import source.")
    return source


def visible_batches(viewer: Viewer) -> QuerySet[ImportBatch]:
    if not can_import(viewer):
        return ImportBatch.objects.none()
    return ImportBatch.objects.filter(source__company__is_sandbox=False).select_related(
        "source", "created_by"
    )


def access_batch(viewer: Viewer, batch_id: int) -> ImportBatch:
    batch = visible_batches(viewer).filter(pk=batch_id).first()
    if batch is None:
        raise Http404("No such import batch.")
    return batch


def batch_documents(batch: ImportBatch) -> QuerySet[ImportedDocument]:
    return batch.documents.order_by("pk")
