"""A customer reads an internal help context key as a key no screen declares.

Wandk and alfki are contacts of two customer companies, and margaret is a
sales representative. The help API, the embed page and the panel give a
customer the same response for an internal key (a CRM screen or a discrepancy
kind) as for an unknown one, by the rule search uses for customers.
"""

import json
import re

import pytest
from django.test import Client

from accounts.models import Role, User
from conftest import make_person
from reconciliation.models import Party

pytestmark = pytest.mark.django_db

INTERNAL_KEYS = [
    "reconciliation.order.short_payment",
    "reconciliation.order.bill_price_variance",
    "reconciliation.work.cash",
]
UNKNOWN = "nope.nothing"
SURFACES = ["/api/assist/help", "/assist/embed/", "/assist/panel/"]


@pytest.fixture
def people(company, customer_party) -> dict[str, User]:
    wandernde = Party.objects.create(
        company=company, code="WANDK", name="Die Wandernde Kuh", currency_id="USD"
    )
    return {
        "wandk": make_person(
            "wandk", Role.CUSTOMER, customer=wandernde, group="customers"
        ),
        "alfki": make_person(
            "alfki", Role.CUSTOMER, customer=customer_party, group="customers"
        ),
        "margaret": make_person("margaret", Role.SALES_REP, group="sales"),
    }


def fetch(person: User, path: str, key: str) -> tuple[int, str]:
    """Return the status and body, with the key and CSRF token blanked out."""
    client = Client()
    client.force_login(person)
    response = client.get(path, {"context": key})
    body = response.content.decode()
    body = re.sub(r'"X-CSRFToken": "[^"]*"', "", body)
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", body)
    return response.status_code, body.replace(key, "KEY")


@pytest.mark.parametrize("name", ["wandk", "alfki"])
@pytest.mark.parametrize("path", SURFACES)
@pytest.mark.parametrize("key", INTERNAL_KEYS)
def test_internal_key_reads_as_unknown(people, name, path, key):
    internal = fetch(people[name], path, key)
    unknown = fetch(people[name], path, UNKNOWN)

    assert internal == unknown
    assert internal[0] == 404


@pytest.mark.parametrize("path", SURFACES)
def test_customer_error_names_no_internal_screen(people, path):
    status, body = fetch(people["wandk"], path, "reconciliation.order.short_payment")

    assert status == 404
    assert "Short payment" not in body
    assert "payments" not in body
    assert "reconciliation.order" not in body


def test_api_gives_customer_no_title(people):
    status, body = fetch(
        people["wandk"], "/api/assist/help", "reconciliation.order.bill_price_variance"
    )

    assert status == 404
    assert "title" not in json.loads(body)
    assert "invoicing" not in body
    assert "such as 'portal.order'" in json.loads(body)["detail"]


@pytest.mark.parametrize("path", SURFACES)
def test_customer_reads_portal_key(people, path):
    status, _ = fetch(people["wandk"], path, "portal.order")

    assert status == 200


@pytest.mark.parametrize("path", SURFACES)
def test_margaret_reads_internal_key(people, path):
    status, body = fetch(people["margaret"], path, "reconciliation.order.short_payment")

    assert status == 200
    assert "Short payment" in body
