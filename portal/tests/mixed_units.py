"""An order of counted and weighed goods, and a report on one of its lines.

Carla (Alfreds Futterkiste) received shipment SH-RU-1: 20 units of a
counted product on line 1, 5 units on line 2 and 12.5 kg of a weighed
product on line 3.
"""

from decimal import Decimal

import pytest

from portal.models import ProblemReport
from portal.services import ProblemInput, report_problem
from reconciliation.models import SalesOrder, ShipmentLine
from reconciliation.tests.factories import create_order, create_shipment


@pytest.fixture(name="order")
def mixed_units_order(customer_party, sales_rep) -> SalesOrder:
    order = create_order(
        lines=[("20", "18.00"), ("5", "9.50"), ("12.5", "4.00", "kg")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    create_shipment(order=order, number="SH-RU-1")
    return order


def line_of(order: SalesOrder, line_no: int) -> ShipmentLine:
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
