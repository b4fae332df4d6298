"""An order's payment status judges each of its invoices on its own residual.

The order is 10 Chai at 36.36 and 4 Chang at 41.815, billed on two invoices
of 363.60 and 167.26 USD.
"""

from decimal import Decimal

import pytest
from django.utils import timezone

from reconciliation.matching import run_matching
from reconciliation.models import Invoice, SalesOrder
from reconciliation.services import derive_payment_status, refresh_order
from reconciliation.tests.factories import (
    create_invoice,
    create_order,
    create_payment,
    create_shipment,
)

Status = SalesOrder.PaymentStatus


def invoice_with(
    residual: str, paid: str = "0", state: str = Invoice.State.POSTED
) -> Invoice:
    """Build an unsaved invoice with the amounts the status reads."""
    return Invoice(
        kind=Invoice.Kind.INVOICE,
        state=state,
        amount_paid=Decimal(paid),
        amount_written_off=Decimal(0),
        amount_residual=Decimal(residual),
    )


@pytest.mark.parametrize(
    ("invoices", "expected"),
    [
        ([], Status.NOT_PAID),
        ([invoice_with("100")], Status.NOT_PAID),
        ([invoice_with("0", paid="100")], Status.PAID),
        ([invoice_with("40", paid="60")], Status.PARTIAL),
        ([invoice_with("-5", paid="105")], Status.OVERPAID),
        # Overpaid on one invoice, nothing paid on the other: still open.
        ([invoice_with("-50", paid="150"), invoice_with("50")], Status.PARTIAL),
        (
            [invoice_with("-5", paid="105"), invoice_with("0", paid="9")],
            Status.OVERPAID,
        ),
        ([invoice_with("100"), invoice_with("0", paid="0")], Status.NOT_PAID),
        # A draft invoice is not owed yet.
        (
            [invoice_with("0", paid="10"), invoice_with("99", state="draft")],
            Status.PAID,
        ),
    ],
)
def test_payment_status_per_invoice(invoices, expected):
    assert derive_payment_status(invoices) == expected


@pytest.fixture
def order(db, customer_party):
    order = create_order(
        lines=[("10", "36.36"), ("4", "41.815")],
        company=customer_party.company,
        customer=customer_party,
    )
    create_shipment(order=order)
    return order


@pytest.fixture
def invoices(order) -> tuple[Invoice, Invoice]:
    """Bill each line on its own invoice, and pay both on the first."""
    chai = create_invoice(order=order, quantities={1: "10"})
    chang = create_invoice(order=order, quantities={2: "4"})
    create_payment(invoice=chai, amount="530.86")
    chang.refresh_from_db()
    return chai, chang


def test_overpaid_invoice_leaves_order_open(order, invoices):
    chai, chang = invoices

    refresh_order(order=order)

    assert chai.amount_residual == Decimal("-167.26")
    assert chang.amount_residual == Decimal("167.26")
    order.refresh_from_db()
    assert order.payment_status == Status.PARTIAL


def test_pass_keeps_order_open(order, invoices):
    run_matching(company=order.company, as_of=timezone.localdate())

    order.refresh_from_db()
    assert order.payment_status == Status.PARTIAL
