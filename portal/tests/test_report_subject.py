"""The customer's case page names the line, product and quantity they reported.

``reconciliation/portal/_report_subject.html`` renders it for each report
that the case page lists.
"""

from decimal import Decimal

import pytest
from django.template.loader import render_to_string

from core.testing import signed_in
from portal.models import ProblemReport
from portal.services import ProblemInput, report_problem
from reconciliation.models import ShipmentLine
from reconciliation.tests.factories import create_invoice, create_order, create_shipment

pytestmark = pytest.mark.django_db

Kind = ProblemReport.Kind
TEMPLATE = "reconciliation/portal/_report_subject.html"


@pytest.fixture
def order(customer_party, sales_rep):
    order = create_order(
        lines=[("10", "36.36")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    create_shipment(order=order, number="SH-SUBJ-1")
    return order


def damaged(customer, order, qty: str) -> ProblemReport:
    return report_problem(
        customer=customer,
        order=order,
        problem=ProblemInput(
            kind=Kind.DAMAGED,
            message="Crushed boxes",
            shipment_line=ShipmentLine.objects.get(shipment__order=order),
            quantity=Decimal(qty),
        ),
        evidence=[],
    )


@pytest.mark.parametrize(("qty", "units"), [("3", "3 units"), ("1", "1 unit")])
def test_carla_sees_line_product_and_quantity(customer, order, qty, units):
    report = damaged(customer, order, qty)
    product = order.lines.get().product.name

    html = render_to_string(TEMPLATE, {"report": report})

    assert f"Line 1 of shipment SH-SUBJ-1: {product} · {units} reported</p>" in html


def test_invoice_report_names_the_invoice(customer, order):
    invoice = create_invoice(order=order, number="INV-SUBJ-1")
    report = report_problem(
        customer=customer,
        order=order,
        problem=ProblemInput(
            kind=Kind.WRONG_PRICE, message="The price is wrong", invoice=invoice
        ),
        evidence=[],
    )

    html = render_to_string(TEMPLATE, {"report": report})

    assert ">Invoice INV-SUBJ-1</p>" in html
    assert "Line" not in html


def test_case_page_shows_what_carla_reported(customer, order):
    report = damaged(customer, order, "3")
    product = order.lines.get().product.name

    page = signed_in(customer).get(f"/reconciliation/portal/cases/{report.case_id}/")

    assert page.status_code == 200
    assert (
        f"Line 1 of shipment SH-SUBJ-1: {product} · 3 units reported"
        in page.content.decode()
    )
