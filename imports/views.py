"""Pages for import sources, uploads, previews, commits and batches."""

import logging

from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import capfirst
from django.views.decorators.http import require_POST

from core.http import AuthenticatedRequest
from core.request_limits import limit_request_body
from imports.forms import MappingForm, SourceForm, UploadForm
from imports.models import ImportSource
from imports.permissions import can_import
from imports.selectors import (
    access_batch,
    access_source,
    batch_documents,
    visible_batches,
    visible_sources,
)
from imports.services import (
    AlreadyImported,
    commit_file,
    preview_file,
    save_source,
    stage_upload,
)

logger = logging.getLogger(__name__)

BATCHES_PER_PAGE = 50


def document_kind_label(object_type: str) -> str:
    """Name a model label such as ``reconciliation.salesorder``: ``Sales order``.

    A label of no installed model is returned unchanged.
    """
    try:
        model = apps.get_model(object_type)
    except (LookupError, ValueError):
        return object_type
    return str(capfirst(model._meta.verbose_name))


def _require_importer(request: AuthenticatedRequest) -> None:
    """Hide imports from customers (404) and refuse other employees (403)."""
    if request.user.is_external:
        raise Http404("No such page.")
    if not can_import(request.user):
        raise PermissionDenied(
            "Imports are for finance clerks, finance managers and IT."
        )


@login_required
def batch_list(request: AuthenticatedRequest) -> HttpResponse:
    _require_importer(request)
    page = Paginator(visible_batches(request.user), BATCHES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "imports/batch_list.html",
        {"page": page, "sources": visible_sources(request.user)},
    )


@login_required
def source_create(request: AuthenticatedRequest) -> HttpResponse:
    _require_importer(request)
    form = SourceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        source = save_source(source=form.instance, mappings={}, actor=request.user)
        messages.success(request, f'Source "{source.name}" created. Map its columns.')
        return redirect("imports:source_edit", source_id=source.pk)
    return render(request, "imports/source_form.html", {"form": form})


@login_required
def source_edit(request: AuthenticatedRequest, source_id: int) -> HttpResponse:
    _require_importer(request)
    source = access_source(request.user, source_id)
    is_table = source.file_format != ImportSource.FileFormat.CAMT053
    data = request.POST if request.method == "POST" else None
    mapping = MappingForm(data, source=source) if is_table else None
    if data is not None and (mapping is None or mapping.is_valid()):
        save_source(
            source=source,
            mappings=mapping.mappings() if mapping else {},
            actor=request.user,
        )
        messages.success(request, f'Column mapping of "{source.name}" saved.')
        return redirect("imports:upload", source_id=source.pk)
    return render(
        request, "imports/source_edit.html", {"source": source, "mapping": mapping}
    )


# An upload larger than IMPORT_MAX_REQUEST_BYTES gets 413 before it is read.
reject_oversized_upload = limit_request_body(
    "IMPORT_MAX_REQUEST_BYTES", "imports/too_large.html"
)


@reject_oversized_upload
@login_required
def upload(request: AuthenticatedRequest, source_id: int) -> HttpResponse:
    _require_importer(request)
    source = access_source(request.user, source_id)
    form = UploadForm(request.POST or None, request.FILES or None, source=source)
    if request.method == "POST" and form.is_valid():
        uploaded = form.cleaned_data["file"]
        # One byte over the limit is enough for the reader to reject the file.
        data = uploaded.read(settings.IMPORT_MAX_FILE_BYTES + 1)
        sha256 = stage_upload(data=data, file_name=uploaded.name)
        return redirect("imports:preview", source_id=source.pk, sha256=sha256)
    return render(request, "imports/upload.html", {"source": source, "form": form})


@login_required
def preview(request: AuthenticatedRequest, source_id: int, sha256: str) -> HttpResponse:
    _require_importer(request)
    source = access_source(request.user, source_id)
    result = preview_file(source=source, sha256=sha256)
    return render(
        request, "imports/preview.html", {"source": source, "preview": result}
    )


@login_required
@require_POST
def commit(request: AuthenticatedRequest, source_id: int, sha256: str) -> HttpResponse:
    _require_importer(request)
    source = access_source(request.user, source_id)
    try:
        batch = commit_file(source=source, sha256=sha256, actor=request.user)
    except AlreadyImported as already:
        messages.info(request, str(already))
        return redirect("imports:batch_detail", batch_id=already.batch.pk)
    if batch.status == batch.Status.FAILED:
        messages.error(request, f"Batch {batch.pk} failed: nothing was written.")
    else:
        created = batch.documents_created
        existing = batch.rows_existing
        messages.success(
            request,
            f"Batch {batch.pk} committed: {created} "
            f"{'document' if created == 1 else 'documents'} created, {existing} "
            f"existing {'row' if existing == 1 else 'rows'} left as they were.",
        )
    return redirect("imports:batch_detail", batch_id=batch.pk)


@login_required
def batch_detail(request: AuthenticatedRequest, batch_id: int) -> HttpResponse:
    _require_importer(request)
    batch = access_batch(request.user, batch_id)
    return render(
        request,
        "imports/batch_detail.html",
        {
            "batch": batch,
            "documents": [
                (document, document_kind_label(document.object_type))
                for document in batch_documents(batch)
            ],
            "statement_lines": batch.statement_lines.select_related(
                "payment", "currency"
            ),
            "errors": batch.error.splitlines(),
        },
    )
