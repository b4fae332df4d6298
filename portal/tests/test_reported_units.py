"""The portal order page shows the units the customer reported missing or damaged.

Carla (Alfreds Futterkiste) received shipment SH-RU-1: 20 units of a
counted product on line 1, 5 units on line 2 and 12.5 kg of a weighed
product on line 3.
"""

import pytest
from django.test import Client

from portal.models import ProblemReport
from portal.services import confirm_receipt

# The order fixture comes with the helpers.
from portal.tests.mixed_units import line_of, mixed_units_order, report  # noqa: F401
from reconciliation.models import Shipment, ShipmentLine

pytestmark = pytest.mark.django_db

Kind = ProblemReport.Kind


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
