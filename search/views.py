"""The search page and the learning team's list of searches that found nothing."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from assist.contexts import contexts_for
from communities.selectors import visible_communities
from core.http import AuthenticatedRequest
from core.text import clean_line, tag_key
from library.models import Tag
from library.selectors import tags_in_use
from search.documents import DocumentLink, document_links
from search.models import Kind
from search.params import InvalidSearchError, SearchParams, parse_search_params
from search.selectors import can_read_missed_searches, most_missed_searches
from search.services import run_search

# The header the search page's as-you-type requests carry. Their misses are
# not counted when they arrive, only when the result stays on screen.
LIVE_SEARCH_HEADER = "X-Search-Live"


@login_required
@require_GET
def search_page(request: AuthenticatedRequest) -> HttpResponse:
    errors: list[str] = []
    params = SearchParams()
    results = None
    documents: list[DocumentLink] = []
    live = request.headers.get(LIVE_SEARCH_HEADER) == "true"
    try:
        params = parse_search_params(request.user, request.GET)
    except InvalidSearchError as error:
        errors = error.errors
    else:
        if params.text.strip():
            results = run_search(request.user, params, record_miss=not live)
            documents = document_links(request.user, params.text)
    symbol_tag = None
    if results is not None and results.query.is_empty:
        symbol_tag = library_tag_named(request.user, params.text)

    context: dict[str, object] = {
        "params": params,
        "text": request.GET.get("q", ""),
        "results": results,
        "documents": documents,
        "symbol_tag": symbol_tag,
        "errors": errors,
        "kinds": Kind.choices,
        "selected_kinds": params.filters.kinds,
        # An empty live result sends a request to count its miss after a pause.
        "miss_pending": live
        and results is not None
        and results.total == 0
        and not results.query.is_empty,
    }
    template = "search/search.html"
    if request.headers.get("HX-Request") == "true":
        template = "search/_results.html"
    else:
        # Choices for the Context and Community boxes. A partial has no form.
        # A customer account is offered only its own (portal) screens.
        context["context_choices"] = sorted(
            (declared.key, declared.title)
            for declared in contexts_for(external=request.user.is_external)
        )
        context["community_choices"] = list(
            visible_communities(request.user)
            .order_by("name")
            .values_list("name", flat=True)
        )
    return render(request, template, context, status=400 if errors else 200)


def library_tag_named(viewer: User, text: str) -> Tag | None:
    """Return the library tag named ``text`` (``#`` optional) if ``viewer`` may see it.

    A query of symbols, such as an emoji, has no word to search for, but it
    may be the name of a library tag, and the page then links to the tag.
    """
    key = tag_key(clean_line(text).removeprefix("#"))
    if not key:
        return None
    return tags_in_use(viewer).filter(key=key).first()


@login_required
@require_GET
def missed_searches(request: AuthenticatedRequest) -> HttpResponse:
    if not can_read_missed_searches(request.user):
        raise PermissionDenied("Only learning facilitators see missed searches.")
    return render(
        request, "search/missed_searches.html", {"rows": most_missed_searches()}
    )


@login_required
@require_POST
def record_shown_miss(request: AuthenticatedRequest) -> HttpResponse:
    """Count the miss of an as-you-type search whose result stayed on screen.

    The parameters are the search's own query string. The search runs again,
    so only a search that finds nothing for this person is counted.
    """
    try:
        params = parse_search_params(request.user, request.GET)
    except InvalidSearchError as error:
        return HttpResponse(" ".join(error.errors), status=400)
    if params.text.strip():
        run_search(request.user, params)
    return HttpResponse(status=204)
