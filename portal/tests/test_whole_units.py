"""Missing and damaged quantities are whole numbers for goods counted in units.

Carla (Alfreds Futterkiste) received shipment SH-RU-1: 20 units of a
counted product on line 1, 5 units on line 2 and 12.5 kg of a weighed
product on line 3.
"""

from decimal import Decimal

import pytest
from django.test import Client

from portal.models import ProblemReport

# The order fixture comes with the helpers.
from portal.tests.mixed_units import line_of, mixed_units_order, report  # noqa: F401
from reconciliation.work import WorkError

pytestmark = pytest.mark.django_db

Kind = ProblemReport.Kind


@pytest.mark.parametrize("kind", [Kind.MISSING, Kind.DAMAGED])
def test_fraction_of_counted_units_rejected(customer, order, kind):
    product = line_of(order, 1).order_line.product

    with pytest.raises(WorkError) as error:
        report(customer, order, kind, 1, "1.5")

    assert str(error.value) == (
        f"A quantity of 1.5 is not a whole number, but {product.name} is counted "
        "in whole units: enter 1 or 2."
    )
    assert not ProblemReport.objects.exists()
    line = line_of(order, 1)
    assert (line.qty_received, line.qty_damaged) == (None, Decimal(0))


def test_fraction_below_one_suggests_one(customer, order):
    with pytest.raises(WorkError, match=r"A quantity of 0\.5 .* enter 1\.$"):
        report(customer, order, Kind.MISSING, 1, "0.5")


def test_whole_quantity_with_zero_decimals_accepted(customer, order):
    created = report(customer, order, Kind.MISSING, 1, "2.000")

    assert created.quantity == Decimal(2)


def test_weighed_product_keeps_decimals(customer, order):
    created = report(customer, order, Kind.DAMAGED, 3, "1.5")

    assert created.quantity == Decimal("1.5")
    assert line_of(order, 3).qty_damaged == Decimal("1.5")


def test_form_names_the_fraction(customer, order):
    client = Client()
    client.force_login(customer)

    response = client.post(
        f"/reconciliation/portal/orders/{order.number}/problem/",
        {
            "kind": Kind.MISSING,
            "line": str(line_of(order, 1).pk),
            "quantity": "1.5",
            "message": "Short by one and a half boxes",
        },
    )

    assert response.status_code == 422
    assert "A quantity of 1.5 is not a whole number" in response.content.decode()
    assert not ProblemReport.objects.exists()
