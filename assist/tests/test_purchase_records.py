# ruff: noqa: F811 (pytest passes the imported purchase fixtures by name)
"""The purchase screens hand their record to the help panel's ask form.

Wanda (warehouse) and Fiona (finance clerk) work PO-1001 from Exotic
Liquids and its bill BILL-1, as in the purchase screen tests. Each screen
shows which record a question will name, and a question asked there
stores that record.
"""

import re

import pytest

from accounts.models import CrmFunction
from answers.models import Question
from communities.models import Community
from core.testing import signed_in
from reconciliation.tests.test_purchase_screens import (  # noqa: F401
    BILL_URL,
    LIST_URL,
    PO_URL,
    RECEIPT_URL,
    fiona,
    held_bill,
    purchase_order,
    vendor,
    wanda,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def communities(db) -> None:
    for slug in ("invoicing", "fulfilment"):
        community = Community.objects.create(
            slug=slug, name=slug.capitalize(), visibility=Community.Visibility.OPEN
        )
        community.crm_functions.add(CrmFunction.objects.get(slug=slug))


def hidden(html: str, name: str) -> str:
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)">', html)
    assert match is not None, f"no hidden field {name!r}"
    return match.group(1)


def screen(person, url: str) -> str:
    response = signed_in(person).get(url)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    ("url", "kind", "ref", "label"),
    [
        (BILL_URL, "vendor_bill", "BILL-1", "vendor bill BILL-1"),
        (PO_URL, "purchase_order", "PO-1001", "purchase order PO-1001"),
        (RECEIPT_URL, "purchase_order", "PO-1001", "purchase order PO-1001"),
    ],
)
def test_screen_names_its_record(held_bill, wanda, url, kind, ref, label):
    html = screen(wanda, url)

    assert hidden(html, "record_kind") == kind
    assert hidden(html, "record_ref") == ref
    assert f"This question will name {label}." in html


def test_list_names_no_record(held_bill, fiona):
    html = screen(fiona, LIST_URL)

    assert hidden(html, "record_ref") == ""
    assert 'data-testid="ask-record"' not in html


def test_ask_from_bill_stores_the_bill(held_bill, fiona, communities):
    html = screen(fiona, BILL_URL)
    client = signed_in(fiona)

    response = client.post(
        "/assist/ask/",
        {
            "context": hidden(html, "context"),
            "record_kind": hidden(html, "record_kind"),
            "record_ref": hidden(html, "record_ref"),
            "title": "Why is BILL-1 held?",
            "body": "",
        },
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200, response.content.decode()
    question = Question.objects.get()
    assert question.record_kind == "vendor_bill"
    assert question.record_ref == "BILL-1"
    page = client.get(f"/questions/{question.pk}/").content.decode()
    assert BILL_URL in page


def test_ask_from_purchase_order_stores_it(held_bill, wanda, communities):
    html = screen(wanda, PO_URL)
    client = signed_in(wanda)

    response = client.post(
        "/assist/ask/",
        {
            "context": hidden(html, "context"),
            "record_kind": hidden(html, "record_kind"),
            "record_ref": hidden(html, "record_ref"),
            "title": "When does the rest of PO-1001 arrive?",
            "body": "",
        },
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200, response.content.decode()
    question = Question.objects.get()
    assert question.record_kind == "purchase_order"
    assert question.record_ref == "PO-1001"
    page = client.get(f"/questions/{question.pk}/").content.decode()
    assert PO_URL in page


def test_sales_rep_cannot_name_purchase_order(held_bill, sales_rep, communities):
    client = signed_in(sales_rep)

    response = client.post(
        "/assist/ask/",
        {
            "context": "reconciliation.work.purchasing.order",
            "record_kind": "purchase_order",
            "record_ref": "PO-1001",
            "title": "What is PO-1001?",
            "body": "",
        },
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 422
    assert "Purchase order &#x27;PO-1001&#x27; is not among" in (
        response.content.decode()
    )
    assert not Question.objects.exists()
