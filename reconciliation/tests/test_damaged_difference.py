"""A damaged-goods case reads as units damaged, not as units delivered over.

Carla reported 2 of 10 Chai damaged. The case stores 0 damaged expected
and 2 found, so its difference is +2, which the generic wording made
"2 units over". Sally, the sales rep, read that on the decision screen as
goods delivered beyond the order. A case about too many units keeps
"over".
"""

from decimal import Decimal

import pytest
from django.test import Client

from portal.models import ProblemReport
from portal.services import ProblemInput, report_problem
from reconciliation.models import Discrepancy, ShipmentLine
from reconciliation.templatetags.money_tags import case_difference
from reconciliation.tests.conftest import make_case
from reconciliation.tests.factories import create_order, create_shipment

pytestmark = pytest.mark.django_db


@pytest.fixture
def damaged_case(customer_party, sales_rep, customer) -> Discrepancy:
    order = create_order(
        lines=[("10", "36.36")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    create_shipment(order=order)
    report = report_problem(
        customer=customer,
        order=order,
        problem=ProblemInput(
            kind=ProblemReport.Kind.DAMAGED,
            message="Crushed boxes",
            shipment_line=ShipmentLine.objects.get(shipment__order=order),
            quantity=Decimal(2),
        ),
        evidence=[],
    )
    return report.case


def test_damaged_difference_names_damage(damaged_case):
    assert damaged_case.difference == Decimal(2)
    assert case_difference(damaged_case) == "2 units damaged"


def test_excess_difference_stays_over(customer_party):
    order = create_order(lines=[("10", "36.36")], customer=customer_party)
    over = make_case(order, code="OVER_SHIP", difference="3")
    over.unit = "unit"

    assert case_difference(over) == "3 units over"


def test_decision_screen_shows_damaged(damaged_case, sales_rep):
    client = Client()
    client.force_login(sales_rep)

    page = client.get(f"/reconciliation/work/cases/{damaged_case.pk}/")

    figures = page.content.decode()
    assert "2 units damaged" in figures
    assert "units over" not in figures
