"""Search over JSON, with the same visibility rule and parameters as the page."""

import datetime
import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.responses import NinjaJSONEncoder

from search.backends import Order
from search.models import Kind
from search.params import MAX_PAGE, InvalidSearchError, parse_search_params
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


def _query_parameter(
    name: str, description: str, schema: dict[str, Any]
) -> dict[str, Any]:
    return {
        "in": "query",
        "name": name,
        "required": False,
        "description": description,
        "schema": schema,
    }


_TEXT = {"type": "string"}
_DATE = {"type": "string", "format": "date"}
# The view reads the query string itself (``parse_search_params``), so that
# the page and the API share one parser and its messages. These entries
# declare the same parameters in the OpenAPI document.
SEARCH_PARAMETERS = [
    _query_parameter(
        "q",
        'The query: words (all required), "a phrase", OR, -word or NOT word, prefix*.',
        {"type": "string", "maxLength": settings.SEARCH_MAX_QUERY_LENGTH},
    ),
    {
        **_query_parameter(
            "type",
            "Kinds of result; repeat the parameter for several.",
            {"type": "array", "items": {"type": "string", "enum": list(Kind.values)}},
        ),
        "style": "form",
        "explode": True,
    },
    _query_parameter("tag", "A tag, with or without its leading #.", _TEXT),
    _query_parameter(
        "context",
        "A declared help-context key; matches the key and every key below it.",
        _TEXT,
    ),
    _query_parameter("community", "A community's address (slug) or name.", _TEXT),
    _query_parameter("author", "An author's username.", _TEXT),
    _query_parameter("since", "First day, inclusive (YYYY-MM-DD).", _DATE),
    _query_parameter("until", "Last day, inclusive (YYYY-MM-DD).", _DATE),
    _query_parameter(
        "sort",
        "The order of the results.",
        {
            "type": "string",
            "enum": [order.value for order in Order],
            "default": "relevance",
        },
    ),
    _query_parameter(
        "page",
        "The page number.",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
    ),
]


@router.get(
    "",
    response=SearchOut,
    summary="Search posts, questions, answers, FAQ, library, communities and people",
    openapi_extra={"parameters": SEARCH_PARAMETERS},
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
