"""Search over JSON, with the same visibility rule and parameters as the page."""

import datetime
import json

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.responses import NinjaJSONEncoder

from search.params import InvalidSearchError, parse_search_params
from search.selectors import SearchResults
from search.services import run_search

router = Router(tags=["search"])


class HitOut(Schema):
    kind: str
    id: int
    url: str
    title_html: str
    snippet_html: str
    created_at: datetime.datetime


class SearchOut(Schema):
    # The query as searched: cleaned, and cut to SEARCH_MAX_QUERY_LENGTH
    # characters, in which case ``query_truncated`` is true.
    query: str
    query_truncated: bool
    # At most the candidate limit; False in ``total_complete`` means more
    # matched, and only the newest were ranked and counted.
    total: int
    total_complete: bool
    page: int
    page_count: int
    facets: dict[str, int]
    facets_complete: bool
    results: list[HitOut]


def results_json(results: SearchResults) -> str:
    """Return ``results`` as the JSON body of ``SearchOut``, fields in its order.

    Built from plain dicts and written by ninja's encoder, as ninja writes
    a ``SearchOut``: validating twenty ``HitOut`` objects and the response
    cost as much as the search statement of a rare word. A test checks that
    the body is the one the schema gives.
    """
    body = {
        "query": results.query.text,
        "query_truncated": results.query.truncated,
        "total": results.total,
        "total_complete": results.total_complete,
        "page": results.page,
        "page_count": results.page_count,
        "facets": results.facets,
        "facets_complete": results.facets_complete,
        "results": [
            {
                "kind": hit.kind,
                "id": hit.object_id,
                "url": hit.url,
                "title_html": str(hit.title_html),
                "snippet_html": str(hit.snippet_html),
                "created_at": hit.created_at,
            }
            for hit in results.hits
        ],
    }
    return json.dumps(body, cls=NinjaJSONEncoder)


@router.get(
    "",
    response=SearchOut,
    summary="Search posts, questions, answers, FAQ, library, communities and people",
)
def search_everything(request: HttpRequest) -> HttpResponse:
    """Search everything the signed-in person may see.

    Query parameters: ``q``, ``type`` (repeatable), ``tag``, ``context``,
    ``community`` (slug), ``author`` (username), ``since`` and ``until``
    (YYYY-MM-DD), ``sort`` (relevance or date) and ``page``. Titles and
    snippets are escaped HTML in which only ``<mark>`` is markup. Only the
    newest matches, up to ``SEARCH_CANDIDATE_LIMIT``, are ranked and counted.
    """
    try:
        params = parse_search_params(request.user, request.GET)
    except InvalidSearchError as error:
        raise HttpError(400, str(error)) from None
    results = run_search(request.user, params)
    # The body has the shape of SearchOut (see results_json).
    return HttpResponse(results_json(results), content_type="application/json")
