"""The search page offers a customer only the help contexts of its own screens.

Named people: ``customer`` (Carla, a customer account) and ``outsider``
(Otto, an employee in no community).
"""

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

INTERNAL_TITLES = ["Cash application", "Case inbox: payments", "Bill price variance"]


def _page(person, **params: str):
    client = Client()
    client.force_login(person)
    return client.get(reverse("search:search"), {"q": "x", **params})


def test_customer_context_list_is_portal_only(customer):
    response = _page(customer)

    keys = [key for key, _title in response.context["context_choices"]]
    assert keys
    assert all(key == "portal" or key.startswith("portal.") for key in keys)
    for title in INTERNAL_TITLES:
        assert title not in response.content.decode()


def test_employee_context_list_has_every_screen(outsider):
    keys = [key for key, _title in _page(outsider).context["context_choices"]]

    assert "reconciliation.work.cash" in keys
    assert "portal.order" in keys


def test_customer_internal_context_reads_as_unknown(customer):
    response = _page(customer, context="reconciliation.work.cash")

    assert response.status_code == 400
    assert response.context["errors"] == [
        "context='reconciliation.work.cash' is not a help context key: pick one "
        "from the Context list, such as 'portal.order'."
    ]


def test_customer_typo_hint_names_no_internal_key(customer):
    response = _page(customer, context="reconciliation.work.cas")

    assert response.status_code == 400
    assert "reconciliation.work.cash" not in " ".join(response.context["errors"])
