"""The Context and Community filters: declared keys, names, and the choice lists."""

import pytest
from django.test import Client
from django.urls import reverse

from search.models import MissedSearch


@pytest.fixture
def signed_in():
    def build(person) -> Client:
        client = Client()
        client.force_login(person)
        return client

    return build


def errors_for(client: Client, **params: str) -> list[str]:
    response = client.get(reverse("search:search"), {"q": "remittance", **params})
    assert response.status_code == 400
    errors: list[str] = response.context["errors"]
    return errors


def test_context_typo_names_the_key(content, outsider, signed_in):
    errors = errors_for(signed_in(outsider), context="reconciliation.case")

    assert errors == [
        "context='reconciliation.case' is not a help context key: did you mean "
        "'reconciliation.cases', 'reconciliation' or 'reconciliation.work.cash'?"
    ]


def test_unknown_context_offers_the_list(content, outsider, signed_in):
    errors = errors_for(signed_in(outsider), context="nope.nothing")

    assert errors == [
        "context='nope.nothing' is not a help context key: pick one from the "
        "Context list, such as 'reconciliation.cases'."
    ]
    assert MissedSearch.objects.count() == 0


def test_declared_context_is_accepted(content, outsider, signed_in):
    response = signed_in(outsider).get(
        reverse("search:search"),
        {"q": "remittance", "context": "Reconciliation.Cases"},
    )

    assert response.status_code == 200
    assert response.context["params"].filters.context == "reconciliation.cases"


def test_placeholder_context_is_declared(content, outsider, signed_in):
    page = signed_in(outsider).get(reverse("search:search")).content.decode()

    assert 'placeholder="reconciliation.cases"' in page
    assert '<option value="reconciliation.cases">Case inbox</option>' in page


@pytest.mark.parametrize("value", ["payments", "Payments", "PAYMENTS"])
def test_community_by_address_or_name(
    content, outsider, signed_in, payments_community, value
):
    response = signed_in(outsider).get(
        reverse("search:search"), {"q": "remittance", "community": value}
    )

    assert response.status_code == 200
    assert response.context["params"].filters.community_id == payments_community.pk
    assert b'data-testid="search-hit"' in response.content


def test_community_list_has_visible_names(
    content, outsider, signed_in, payments_community
):
    page = signed_in(outsider).get(reverse("search:search")).content.decode()

    assert '<option value="Payments"></option>' in page
    assert "Pricing internal" not in page


def test_api_accepts_community_name(content, outsider, signed_in, payments_community):
    response = signed_in(outsider).get(
        "/api/search", {"q": "remittance", "community": "payments"}
    )

    assert response.status_code == 200
    assert response.json()["total"] == 1
