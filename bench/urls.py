from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import include, path


@login_required
def bare_json(request: HttpRequest) -> JsonResponse:
    """Return a fixed JSON body through the same middleware, as the floor."""
    return JsonResponse({"status": "ok"})


@login_required
def bare_page(request: HttpRequest) -> HttpResponse:
    """Render the signed-in layout around an empty page, as the floor for pages."""
    return render(request, "bench/bare_page.html")


# Set by bench_help.py to the help endpoint's own body, so this view returns
# the same JSON from memory, with no query.
MEMORY_BODY = b"{}"


@login_required
def help_from_memory(request: HttpRequest) -> HttpResponse:
    """Return the help JSON held in memory, as the help endpoint's floor."""
    return HttpResponse(MEMORY_BODY, content_type="application/json")


# Set by bench_search.py to the search API's body for each query text, so
# this view returns the same JSON from memory, with no query.
SEARCH_BODIES: dict[str, bytes] = {}


@login_required
def search_from_memory(request: HttpRequest) -> HttpResponse:
    """Return the search JSON held in memory for ``q``, as the search API's floor."""
    body = SEARCH_BODIES.get(request.GET.get("q", ""), b"{}")
    return HttpResponse(body, content_type="application/json")


urlpatterns = [
    path("bench/bare", bare_json),
    path("bench/bare-page", bare_page),
    path("bench/help-memory", help_from_memory),
    path("bench/search-memory", search_from_memory),
    path("", include("commonplace.urls")),
]
