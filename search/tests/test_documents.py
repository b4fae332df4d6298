"""A search for a document number links the order it belongs to, under each rule."""

import pytest
from django.test import Client

from practice import services
from reconciliation.models import Invoice, SalesOrder, Shipment
from reconciliation.tests.factories import create_invoice, create_order, create_shipment
from search.documents import document_links

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(customer_party, sales_rep):
    order = create_order(
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
        number="SO-20001",
    )
    create_shipment(order=order, number="SH-20001")
    create_invoice(order=order, number="INV-20001")
    return order


@pytest.fixture
def other_order(other_party):
    order = create_order(
        company=other_party.company, customer=other_party, number="SO-20002"
    )
    create_invoice(order=order, number="INV-20002")
    return order


def labels(viewer, text):
    return [link.label for link in document_links(viewer, text)]


def test_employee_finds_order_by_number(order, sales_rep):
    (link,) = document_links(sales_rep, "so-20001")

    assert link.label == "Order SO-20001"
    assert link.url == "/reconciliation/orders/SO-20001/"


def test_employee_finds_invoice_and_shipment(order, sales_rep):
    assert labels(sales_rep, ' "INV-20001" ') == ["Invoice INV-20001, order SO-20001"]
    assert labels(sales_rep, "SH-20001") == ["Shipment SH-20001, order SO-20001"]


def test_customer_gets_portal_page(order, customer):
    (link,) = document_links(customer, "SO-20001")

    assert link.url == "/reconciliation/portal/orders/SO-20001/"
    assert labels(customer, "INV-20001") == ["Invoice INV-20001, order SO-20001"]


def test_customer_never_finds_other_customer(order, other_order, customer):
    assert labels(customer, "SO-20002") == []
    assert labels(customer, "INV-20002") == []


def test_customer_never_finds_drafts(order, customer):
    Invoice.objects.filter(number="INV-20001").update(state=Invoice.State.DRAFT)
    Shipment.objects.filter(number="SH-20001").update(state=Shipment.State.DRAFT)

    assert labels(customer, "INV-20001") == []
    assert labels(customer, "SH-20001") == []


def test_practice_orders_stay_hidden(sales_rep):
    session = services.start_session(
        learner=sales_rep, scenario_key="short-payment-write-off"
    )
    sandbox = SalesOrder.objects.filter(company=session.company).first()
    invoice = Invoice.objects.filter(company=session.company).first()

    assert sandbox is not None
    assert invoice is not None
    assert labels(sales_rep, sandbox.number) == []
    assert labels(sales_rep, invoice.number) == []


@pytest.mark.parametrize("text", ["order", "SO", "SO-", "SO-20001 SO-20002", "-20001"])
def test_other_text_links_nothing(order, sales_rep, text):
    assert document_links(sales_rep, text) == []


def test_search_page_shows_link(order, sales_rep):
    client = Client()
    client.force_login(sales_rep)

    response = client.get("/search/", {"q": "SO-20001"})

    assert response.status_code == 200
    assert b'href="/reconciliation/orders/SO-20001/">Order SO-20001</a>' in (
        response.content
    )


def test_search_page_points_to_orders(order, sales_rep, customer):
    client = Client()
    client.force_login(sales_rep)
    staff_page = client.get("/search/", {"q": "Frankenversand"}).content.decode()
    client.force_login(customer)
    customer_page = client.get("/search/", {"q": "Frankenversand"}).content.decode()

    assert 'href="/reconciliation/orders/?q=Frankenversand">search the orders' in (
        staff_page
    )
    assert "see your orders" in customer_page
    assert "search the orders" not in customer_page
