"""Library pages and file routes, each of which checks visibility first."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.core.paginator import Paginator
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
)
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
    require_safe,
)

from accounts.models import CrmFunction
from accounts.selectors import visible_people
from core.http import AuthenticatedRequest
from core.request_limits import limit_request_body
from core.text import clean_line
from library import files, services
from library.forms import (
    ItemEditForm,
    ItemForm,
    PosterForm,
    TagForm,
    VersionForm,
    WithdrawForm,
)
from library.models import Document, HelpfulVote, Kind, Tag
from library.selectors import (
    FILE_KINDS,
    LibraryFilters,
    access_document,
    access_version,
    access_version_by_id,
    can_add_tags,
    can_add_version,
    can_create_items,
    can_edit_item,
    list_documents,
    shows_crm_functions,
    tags_in_use,
    tags_shown_on,
    versions_shown_to,
)
from library.uploads import CheckedUpload, UploadError, check_poster, check_upload

logger = logging.getLogger(__name__)

# A request body larger than LIBRARY_MAX_REQUEST_BYTES gets 413 before it is read.
reject_oversized_request = limit_request_body(
    "LIBRARY_MAX_REQUEST_BYTES", "library/too_large.html"
)


@login_required
@require_GET
def library_list(request: AuthenticatedRequest) -> HttpResponse:
    show_functions = shows_crm_functions(request.user)
    # clean_line drops NUL bytes, which PostgreSQL rejects in text queries.
    # A customer's function filter is ignored, so it cannot sort items by
    # internal team either.
    filters = LibraryFilters(
        kind=clean_line(request.GET.get("kind", "")),
        tag=clean_line(request.GET.get("tag", "")),
        crm_function=(
            clean_line(request.GET.get("function", "")) if show_functions else ""
        ),
        withdrawn=request.GET.get("withdrawn") == "1",
    )
    paginator = Paginator(
        list_documents(request.user, filters), settings.LIBRARY_PAGE_SIZE
    )
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "library/library_list.html",
        {
            "page": page,
            "named_ids": _named_ids(request, [d.owner_id for d in page]),
            "filters": filters,
            "kinds": Kind.choices,
            "tags": tags_in_use(request.user),
            "show_functions": show_functions,
            "crm_functions": CrmFunction.objects.all() if show_functions else [],
            "can_create": can_create_items(request.user),
        },
    )


@login_required
@require_GET
def document_detail(request: AuthenticatedRequest, document_id: int) -> HttpResponse:
    document = access_document(request.user, document_id, withdrawn_for_editors=True)
    if document.withdrawn_at is None:
        services.count_view(document_id=document.pk)
    return _render_detail(request, document, tag_form=TagForm())


def _named_ids(request: AuthenticatedRequest, ids: list[int | None]) -> set[int]:
    """Return the ids, of those given, of the people the viewer may see named.

    For a customer that is ``visible_people``: staff who chose to be visible
    to customers. Employees see every owner and uploader named, inactive
    people included, without a query.
    """
    given = {i for i in ids if i is not None}
    if not request.user.is_external:
        return given
    people = visible_people(request.user).filter(pk__in=given)
    return set(people.values_list("pk", flat=True))


def _render_detail(
    request: AuthenticatedRequest,
    document: Document,
    *,
    tag_form: TagForm,
    status: int = 200,
) -> HttpResponse:
    versions = versions_shown_to(request.user, document)
    current = [version for version in versions if version.withdrawn_at is None]
    context = {
        "document": document,
        "has_files": document.kind in FILE_KINDS,
        "versions": versions,
        "current_count": len(current),
        "latest": current[0] if current else None,
        "tags": tags_shown_on(request.user, document),
        "show_functions": shows_crm_functions(request.user),
        "tag_form": tag_form,
        "voted": HelpfulVote.objects.filter(
            document=document, person=request.user
        ).exists(),
        "can_add_version": can_add_version(request.user, document),
        "can_add_tags": can_add_tags(request.user),
        "can_edit": can_edit_item(request.user, document),
        "named_ids": _named_ids(request, [v.uploaded_by_id for v in versions]),
    }
    return render(request, "library/document_detail.html", context, status=status)


@login_required
@reject_oversized_request
def item_create(request: AuthenticatedRequest) -> HttpResponse:
    if not can_create_items(request.user):
        raise PermissionDenied("Customer accounts cannot add library items.")
    form = ItemForm(request.POST or None, request.FILES or None)
    if request.method != "POST" or not form.is_valid():
        status = 400 if request.method == "POST" else 200
        return render(request, "library/item_form.html", {"form": form}, status=status)

    data = form.cleaned_data
    checked: list[CheckedUpload] = []
    try:
        upload = _check(form, "file", data["file"], kind=data["kind"], into=checked)
        poster = _check(form, "poster", data["poster"], kind="poster", into=checked)
        document = services.create_item(
            owner=request.user,
            title=data["title"],
            summary=data["summary"],
            kind=data["kind"],
            body=data["body"],
            url=data["url"],
            crm_function=data["crm_function"],
            contexts=data["contexts"],
            customer_visible=data["customer_visible"],
            upload=upload,
            poster=poster,
            tag_names=data["tags"],
            learner_groups=data["learner_groups"],
        )
    except UploadError as error:
        return render(
            request, "library/item_form.html", {"form": form}, status=error.status
        )
    except services.LibraryInputError as error:
        form.add_error(None, str(error))
        return render(request, "library/item_form.html", {"form": form}, status=400)
    finally:
        for item in checked:
            item.discard()
    return redirect("library:document_detail", document_id=document.pk)


def _check(
    form: ItemForm | VersionForm | PosterForm,
    field: str,
    upload: UploadedFile[bytes] | None,
    *,
    kind: str,
    into: list[CheckedUpload],
) -> CheckedUpload | None:
    """Check one uploaded file, adding the error to ``field`` when it fails."""
    if upload is None:
        return None
    try:
        checked = (
            check_poster(upload)
            if kind == "poster"
            else check_upload(upload, kind=kind)
        )
    except UploadError as error:
        form.add_error(field, str(error))
        raise
    into.append(checked)
    return checked


@login_required
@reject_oversized_request
def version_create(request: AuthenticatedRequest, document_id: int) -> HttpResponse:
    document = access_document(request.user, document_id)
    if document.kind not in FILE_KINDS:
        raise Http404("This item has no files.")
    if not can_add_version(request.user, document):
        raise PermissionDenied(
            "Only the item's owner, a facilitator, a moderator or a super-user "
            "of its CRM function can upload a new version."
        )
    form = VersionForm(request.POST or None, request.FILES or None)
    context = {"form": form, "document": document}
    if request.method != "POST" or not form.is_valid():
        status = 400 if request.method == "POST" else 200
        return render(request, "library/version_form.html", context, status=status)

    checked: list[CheckedUpload] = []
    try:
        upload = _check(
            form, "file", form.cleaned_data["file"], kind=document.kind, into=checked
        )
        assert upload is not None  # noqa: S101 - the form requires the file.
        services.add_version(
            document=document,
            person=request.user,
            upload=upload,
            note=form.cleaned_data["note"],
        )
    except UploadError as error:
        return render(
            request, "library/version_form.html", context, status=error.status
        )
    except services.LibraryInputError as error:
        form.add_error("file", str(error))
        return render(request, "library/version_form.html", context, status=400)
    finally:
        for item in checked:
            item.discard()
    return redirect("library:document_detail", document_id=document.pk)


@login_required
@require_safe
def version_file(
    request: AuthenticatedRequest, document_id: int, number: int
) -> HttpResponseBase:
    version = access_version(
        request.user, document_id, number, withdrawn_for_editors=True
    )
    force_download = request.GET.get("download") == "1"
    if _is_download(request, content_type=version.content_type, forced=force_download):
        services.count_download(document_id=document_id)
    return files.file_response(
        request,
        handle=_open_stored(version.file.name or ""),
        size=version.size,
        content_type=version.content_type,
        filename=files.download_filename(version.original_name, version.content_type),
        etag=version.sha256,
        force_download=force_download,
    )


@login_required
@require_safe
def version_file_by_id(
    request: AuthenticatedRequest, document_id: int, version_id: int
) -> HttpResponseBase:
    """Redirect an old file address, which named the version by its id."""
    version = access_version_by_id(request.user, document_id, version_id)
    target = reverse(
        "library:version_file",
        kwargs={"document_id": document_id, "number": version.number},
    )
    query = request.META.get("QUERY_STRING", "")
    return HttpResponsePermanentRedirect(f"{target}?{query}" if query else target)


def _is_download(request: HttpRequest, *, content_type: str, forced: bool) -> bool:
    """Return whether this fetch of a version's file counts as one download.

    A download is the file sent as an attachment (``?download=1``, or a type
    the browser does not show inline), from its first byte. A video player's
    or PDF viewer's inline fetches are not downloads, because the page view
    already counts them. A range that starts later, such as a resumed
    download, is the same download. A HEAD request sends no file, so it is
    no download.
    """
    if request.method == "HEAD":
        return False
    if not forced and content_type in files.INLINE_TYPES:
        return False
    range_header = request.headers.get("Range", "").replace(" ", "")
    return not range_header or range_header.startswith("bytes=0-")


def _open_stored(name: str) -> File[bytes]:
    try:
        return default_storage.open(name, "rb")
    except FileNotFoundError:
        logger.error("library.stored_file_missing name=%s", name)
        raise Http404("The stored file is missing.") from None


@login_required
@require_safe
def poster_file(request: AuthenticatedRequest, document_id: int) -> HttpResponseBase:
    document = access_document(request.user, document_id, withdrawn_for_editors=True)
    if not document.poster:
        raise Http404("This item has no poster.")
    return files.file_response(
        request,
        handle=_open_stored(document.poster),
        size=default_storage.size(document.poster),
        content_type=document.poster_type,
        filename=files.download_filename("poster", document.poster_type),
        etag=document.poster.rsplit("/", 1)[-1],
    )


@login_required
@require_POST
def tags_add(request: AuthenticatedRequest, document_id: int) -> HttpResponse:
    document = access_document(request.user, document_id)
    if not can_add_tags(request.user):
        raise PermissionDenied("Customer accounts cannot add tags.")
    form = TagForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, document, tag_form=form, status=400)
    services.add_tags(
        document=document, person=request.user, names=form.cleaned_data["tags"]
    )
    return redirect("library:document_detail", document_id=document.pk)


@login_required
@require_POST
def helpful_toggle(request: AuthenticatedRequest, document_id: int) -> HttpResponse:
    document = access_document(request.user, document_id)
    if request.POST.get("helpful") == "0":
        services.withdraw_helpful_vote(document=document, person=request.user)
    else:
        services.vote_helpful(document=document, person=request.user)
    return redirect("library:document_detail", document_id=document.pk)


@login_required
@require_POST
def tag_remove(
    request: AuthenticatedRequest, document_id: int, tag_id: int
) -> HttpResponse:
    document = _editable_document(request, document_id)
    tag = Tag.objects.filter(pk=tag_id).first()
    if tag is None:
        raise Http404("No tag found with that number.")
    services.remove_tag(document=document, person=request.user, tag=tag)
    return redirect("library:document_detail", document_id=document.pk)


def _editable_document(request: AuthenticatedRequest, document_id: int) -> Document:
    """Return an item the user may see and edit: 404 if hidden, 403 if read-only."""
    document = access_document(request.user, document_id)
    if not can_edit_item(request.user, document):
        raise PermissionDenied(
            "Only the item's owner, a facilitator, a moderator or a super-user "
            "of its CRM function can change it."
        )
    return document


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def item_edit(request: AuthenticatedRequest, document_id: int) -> HttpResponse:
    document = _editable_document(request, document_id)
    initial = {
        "title": document.title,
        "summary": document.summary,
        "contexts": list(document.contexts.all()),
        "customer_visible": document.customer_visible,
    }
    form = ItemEditForm(
        request.POST if request.method == "POST" else None, initial=initial
    )
    context = {"form": form, "document": document}
    if request.method != "POST" or not form.is_valid():
        status = 400 if request.method == "POST" else 200
        return render(request, "library/item_edit.html", context, status=status)
    try:
        services.update_item(
            document=document,
            person=request.user,
            title=form.cleaned_data["title"],
            summary=form.cleaned_data["summary"],
            contexts=form.cleaned_data["contexts"],
            customer_visible=form.cleaned_data["customer_visible"],
        )
    except services.LibraryInputError as error:
        form.add_error(None, str(error))
        return render(request, "library/item_edit.html", context, status=400)
    return redirect("library:document_detail", document_id=document.pk)


@login_required
@reject_oversized_request
@require_http_methods(["GET", "HEAD", "POST"])
def poster_edit(request: AuthenticatedRequest, document_id: int) -> HttpResponse:
    """Add, replace or remove a video's poster image."""
    document = _editable_document(request, document_id)
    if document.kind != Kind.VIDEO:
        raise Http404("Only a video has a poster image.")
    posted = request.method == "POST"
    form = PosterForm(
        request.POST if posted else None, request.FILES if posted else None
    )
    context = {"form": form, "document": document}
    if not posted or not form.is_valid():
        status = 400 if posted else 200
        return render(request, "library/poster_form.html", context, status=status)

    checked: list[CheckedUpload] = []
    try:
        poster = _check(
            form, "poster", form.cleaned_data["poster"], kind="poster", into=checked
        )
        services.set_poster(document=document, person=request.user, poster=poster)
    except UploadError as error:
        return render(request, "library/poster_form.html", context, status=error.status)
    except services.LibraryInputError as error:
        form.add_error(None, str(error))
        return render(request, "library/poster_form.html", context, status=400)
    finally:
        for item in checked:
            item.discard()
    return redirect("library:document_detail", document_id=document.pk)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def item_withdraw(request: AuthenticatedRequest, document_id: int) -> HttpResponse:
    """Ask for confirmation (GET), then withdraw the whole item (POST)."""
    document = _editable_document(request, document_id)
    # An empty POST is a valid confirmation, so bind on the method.
    form = WithdrawForm(request.POST if request.method == "POST" else None)
    if request.method != "POST" or not form.is_valid():
        return render(
            request,
            "library/withdraw_confirm.html",
            {"form": form, "document": document, "version": None},
            status=400 if request.method == "POST" else 200,
        )
    services.withdraw_item(
        document=document, person=request.user, reason=form.cleaned_data["reason"]
    )
    return redirect("library:library_list")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def version_withdraw(
    request: AuthenticatedRequest, document_id: int, number: int
) -> HttpResponse:
    """Ask for confirmation (GET), then withdraw one version (POST)."""
    document = _editable_document(request, document_id)
    version = access_version(request.user, document.pk, number)
    # An empty POST is a valid confirmation, so bind on the method.
    form = WithdrawForm(request.POST if request.method == "POST" else None)
    context = {"form": form, "document": document, "version": version}
    if request.method != "POST" or not form.is_valid():
        status = 400 if request.method == "POST" else 200
        return render(request, "library/withdraw_confirm.html", context, status=status)
    try:
        services.withdraw_version(
            document=document,
            person=request.user,
            number=number,
            reason=form.cleaned_data["reason"],
        )
    except services.LibraryInputError as error:
        form.add_error(None, str(error))
        return render(request, "library/withdraw_confirm.html", context, status=400)
    return redirect("library:document_detail", document_id=document.pk)


@login_required
@require_POST
def item_restore(request: AuthenticatedRequest, document_id: int) -> HttpResponse:
    """Restore a withdrawn item, which only the people who may edit it can reach."""
    document = access_document(request.user, document_id, withdrawn_for_editors=True)
    services.restore_item(document=document, person=request.user)
    return redirect("library:document_detail", document_id=document.pk)


@login_required
@require_POST
def version_restore(
    request: AuthenticatedRequest, document_id: int, number: int
) -> HttpResponse:
    document = access_document(request.user, document_id, withdrawn_for_editors=True)
    if not can_edit_item(request.user, document):
        raise PermissionDenied(
            "Only the item's owner, a facilitator, a moderator or a super-user "
            "of its CRM function can restore a version."
        )
    try:
        services.restore_version(document=document, person=request.user, number=number)
    except services.LibraryInputError as error:
        return HttpResponse(str(error), status=400, content_type="text/plain")
    return redirect("library:document_detail", document_id=document.pk)
