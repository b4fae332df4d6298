"""The OpenAPI document declares the search API's query parameters."""

import json
from typing import Any

import pytest

from core.testing import signed_in
from search.models import Kind

pytestmark = pytest.mark.django_db


def _search_parameters(reader: Any) -> dict[str, dict[str, Any]]:
    # The document is for employees (commonplace/api.py).
    document = json.loads(signed_in(reader).get("/api/openapi.json").content)
    operation = document["paths"]["/api/search"]["get"]
    return {parameter["name"]: parameter for parameter in operation["parameters"]}


def test_openapi_lists_search_parameters(sales_rep):
    parameters = _search_parameters(sales_rep)
    names = [
        "q",
        "type",
        "tag",
        "context",
        "community",
        "author",
        "since",
        "until",
        "sort",
        "page",
    ]
    assert sorted(parameters) == sorted(names)
    for parameter in parameters.values():
        assert parameter["in"] == "query"
        assert parameter["description"]


def test_openapi_type_is_repeatable_kind(sales_rep):
    kind = _search_parameters(sales_rep)["type"]
    assert kind["schema"]["type"] == "array"
    assert kind["schema"]["items"]["enum"] == list(Kind.values)
    assert kind["explode"] is True


def test_openapi_dates_and_page_have_formats(sales_rep):
    parameters = _search_parameters(sales_rep)
    assert parameters["since"]["schema"]["format"] == "date"
    assert parameters["until"]["schema"]["format"] == "date"
    assert parameters["page"]["schema"]["maximum"] == 1000
    assert parameters["sort"]["schema"]["enum"] == ["relevance", "date"]
