"""The write-off limit is an amount in the company currency (USD here).

A write-off in another currency is converted at its invoice's exchange rate
before it is compared with the limit, as the sales rep's credit limit is.
Named people: fiona (finance clerk).
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from reconciliation import approvals, cases
from reconciliation.cases import CaseError
from reconciliation.models import Currency, Discrepancy, Invoice
from reconciliation.tests.factories import (
    create_invoice,
    create_order,
    create_payment,
    create_shipment,
)

pytestmark = pytest.mark.django_db

State = Discrepancy.State


def foreign_case(
    party, clerk, *, code: str, price: str, paid: str, fx_rate: str | None
):
    """Return a short-payment case in progress on an invoice in ``code``."""
    currency = Currency.objects.get(code=code)
    order = create_order(
        lines=[("1", price)], company=party.company, customer=party, currency=currency
    )
    create_shipment(order=order)
    rate = None if fx_rate is None else Decimal(fx_rate)
    invoice = create_invoice(order=order, currency=currency, fx_rate=rate)
    create_payment(invoice=invoice, amount=paid)
    difference = Decimal(paid) - Decimal(price)
    return Discrepancy.objects.create(
        company=order.company,
        order=order,
        invoice=invoice,
        code="SHORT_PAYMENT",
        severity="medium",
        owner_role="finance_clerk",
        state=State.IN_PROGRESS,
        assignee=clerk,
        expected_value=Decimal(price),
        actual_value=Decimal(paid),
        difference=difference,
        unit=code,
        explanation=f"Invoice {invoice.number} was paid short by {-difference} {code}.",
        rule="payment.short@1",
        fingerprint=f"SHORT_PAYMENT:invoice:{invoice.pk}",
        due_at=timezone.now() + timedelta(days=3),
    )


def write_off(case, clerk) -> Discrepancy:
    return cases.resolve_case(
        case_id=case.pk,
        actor=clerk,
        resolution_code="write_off",
        note="Bank charges of the customer's bank.",
    )


@pytest.fixture
def strong(customer_party, clerk, settings):
    """Return a case of 49.999 BHD open, worth 132.98 USD at 2.6596."""
    settings.RECONCILIATION_WRITE_OFF_LIMIT = "50.00"
    return foreign_case(
        customer_party,
        clerk,
        code="BHD",
        price="200.000",
        paid="150.001",
        fx_rate="2.6596",
    )


@pytest.fixture
def weak(customer_party, clerk, settings):
    """Return a case of 5,000 JPY open, worth 33.50 USD at 0.0067."""
    settings.RECONCILIATION_WRITE_OFF_LIMIT = "50.00"
    return foreign_case(
        customer_party,
        clerk,
        code="JPY",
        price="20000",
        paid="15000",
        fx_rate="0.0067",
    )


def test_strong_currency_write_off_needs_approval(strong, clerk):
    with pytest.raises(CaseError) as raised:
        write_off(strong, clerk)

    assert str(raised.value) == (
        f"A write-off of 49.999 BHD (132.98 USD) on case {strong.pk} is above the "
        "50.00 USD limit: request an approval and wait for a manager to approve it."
    )
    strong.refresh_from_db()
    assert strong.state == State.IN_PROGRESS


def test_strong_currency_write_off_after_approval(strong, clerk, manager):
    approval = approvals.request_write_off(
        case_id=strong.pk, actor=clerk, reason="Agreed with sales."
    )
    assert (approval.amount, approval.currency_id) == (Decimal("49.999"), "BHD")
    approvals.decide_approval(
        approval_id=approval.pk, approver=manager, approve=True, reason="Fine."
    )

    case = Discrepancy.objects.get(pk=strong.pk)
    assert case.state == State.RESOLVED
    invoice = Invoice.objects.get(pk=strong.invoice_id)
    assert invoice.amount_written_off == Decimal("49.999")
    assert invoice.amount_residual == Decimal("0")


def test_weak_currency_write_off_resolves_directly(weak, clerk):
    case = write_off(weak, clerk)

    assert case.state == State.RESOLVED
    invoice = Invoice.objects.get(pk=weak.invoice_id)
    assert invoice.amount_written_off == Decimal("5000")


def test_weak_currency_request_is_within_limit(weak, clerk):
    with pytest.raises(CaseError) as raised:
        approvals.request_write_off(
            case_id=weak.pk, actor=clerk, reason="Agreed with sales."
        )

    assert str(raised.value) == (
        "A write-off of 5,000 JPY (33.50 USD) is within the 50.00 USD limit, so it "
        "needs no approval: resolve the case with the Write-off resolution code."
    )


def test_foreign_invoice_without_rate_is_named(customer_party, clerk):
    case = foreign_case(
        customer_party,
        clerk,
        code="BHD",
        price="200.000",
        paid="150.001",
        fx_rate=None,
    )

    with pytest.raises(CaseError) as raised:
        write_off(case, clerk)

    assert str(raised.value) == (
        f"Invoice {case.invoice.number} in BHD has no exchange rate, so the "
        "write-off limit cannot be checked: ask finance to set it."
    )
