"""The portal order page shows the units the customer reported missing or damaged.

Carla (Alfreds Futterkiste) received shipment SH-RU-1: 20 units of a
counted product on line 1, 5 units on line 2 and 12.5 kg of a weighed
product on line 3.
"""

from decimal import Decimal

import pytest
from django.test import Client

from portal.models import ProblemReport
from portal.services import ProblemInput, confirm_receipt, report_problem
from reconciliation.models import Shipment, ShipmentLine
from reconciliation.tests.factories import create_order, create_shipment

pytestmark = pytest.mark.django_db

Kind = ProblemReport.Kind


@pytest.fixture
def order(customer_party, sales_rep):
    order = create_order(
        lines=[("20", "18.00"), ("5", "9.50"), ("12.5", "4.00", "kg")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    create_shipment(order=order, number="SH-RU-1")
    return order


def line_of(order, line_no: int) -> ShipmentLine:
    return ShipmentLine.objects.get(shipment__order=order, order_line__line_no=line_no)


def report(customer, order, kind: str, line_no: int, qty: str) -> ProblemReport:
    return report_problem(
        customer=customer,
        order=order,
        problem=ProblemInput(
            kind=kind,
            message="Counted at the dock",
            shipment_line=line_of(order, line_no),
            quantity=Decimal(qty),
        ),
        evidence=[],
    )


def order_page(customer, order) -> str:
    client = Client()
    client.force_login(customer)
    return client.get(f"/reconciliation/portal/orders/{order.number}/").content.decode()


def test_order_page_shows_reported_missing(customer, order):
    report(customer, order, Kind.MISSING, 1, "2")
    confirm_receipt(customer=customer, shipment=Shipment.objects.get(order=order))

    page = order_page(customer, order)

    assert (
        '<span class="muted" data-testid="reported-missing-1">'
        "Reported missing 2</span>" in page
    )
    assert 'data-testid="reported-damaged-1"' not in page
    assert 'data-testid="reported-missing-2"' not in page


def test_order_page_adds_up_reports_per_kind(customer, order):
    report(customer, order, Kind.DAMAGED, 2, "1")
    report(customer, order, Kind.MISSING, 2, "1")
    report(customer, order, Kind.DAMAGED, 3, "0.75")

    page = order_page(customer, order)

    assert 'data-testid="reported-damaged-2">Reported damaged 1</span>' in page
    assert 'data-testid="reported-missing-2">Reported missing 1</span>' in page
    assert 'data-testid="reported-damaged-3">Reported damaged 0.75</span>' in page


def test_warehouse_damage_not_shown(customer, order):
    # Damage the warehouse recorded itself is internal, not the customer's report.
    ShipmentLine.objects.filter(pk=line_of(order, 2).pk).update(qty_damaged=1)

    page = order_page(customer, order)

    assert "Reported damaged" not in page
    assert "Reported missing" not in page
