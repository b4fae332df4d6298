"""The OpenAPI document declares the search API's query parameters."""

import json
from typing import Any

import pytest
from django.test import Client

from search.models import Kind

pytestmark = pytest.mark.django_db


def _search_parameters() -> dict[str, dict[str, Any]]:
    document = json.loads(Client().get("/api/openapi.json").content)
    operation = document["paths"]["/api/search"]["get"]
    return {parameter["name"]: parameter for parameter in operation["parameters"]}


def test_openapi_lists_search_parameters():
    parameters = _search_parameters()
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


def test_openapi_type_is_repeatable_kind():
    kind = _search_parameters()["type"]
    assert kind["schema"]["type"] == "array"
    assert kind["schema"]["items"]["enum"] == list(Kind.values)
    assert kind["explode"] is True


def test_openapi_dates_and_page_have_formats():
    parameters = _search_parameters()
    assert parameters["since"]["schema"]["format"] == "date"
    assert parameters["until"]["schema"]["format"] == "date"
    assert parameters["page"]["schema"]["maximum"] == 1000
    assert parameters["sort"]["schema"]["enum"] == ["relevance", "date"]
