"""The search page and the learning team's list of searches that found nothing."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from core.http import AuthenticatedRequest
from search.documents import DocumentLink, document_links
from search.models import Kind
from search.params import InvalidSearchError, SearchParams, parse_search_params
from search.selectors import can_read_missed_searches, most_missed_searches
from search.services import run_search


@login_required
@require_GET
def search_page(request: AuthenticatedRequest) -> HttpResponse:
    errors: list[str] = []
    params = SearchParams()
    results = None
    documents: list[DocumentLink] = []
    try:
        params = parse_search_params(request.user, request.GET)
    except InvalidSearchError as error:
        errors = error.errors
    else:
        if params.text.strip():
            results = run_search(request.user, params)
            documents = document_links(request.user, params.text)

    context = {
        "params": params,
        "text": request.GET.get("q", ""),
        "results": results,
        "documents": documents,
        "errors": errors,
        "kinds": Kind.choices,
        "selected_kinds": params.filters.kinds,
    }
    template = "search/search.html"
    if request.headers.get("HX-Request") == "true":
        template = "search/_results.html"
    return render(request, template, context, status=400 if errors else 200)


@login_required
@require_GET
def missed_searches(request: AuthenticatedRequest) -> HttpResponse:
    if not can_read_missed_searches(request.user):
        raise PermissionDenied("Only learning facilitators see missed searches.")
    return render(
        request, "search/missed_searches.html", {"rows": most_missed_searches()}
    )
