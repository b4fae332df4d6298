"""A posted credit note settles its origin invoice, and the matching pass agrees.

Named people: sally (sales rep on the order), carla (customer of the order's
company). The order is 10 Chai at 36.36 and 4 Chang at 41.815, invoiced in
full for 530.86; the customer paid 447.23, so 83.63 is open.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from portal.models import ResolutionProposal
from portal.services import accept_proposal, reject_proposal
from reconciliation.credit_proposals import propose_credit_note
from reconciliation.matching import run_matching
from reconciliation.models import Allocation, Discrepancy, Invoice, ReconStatus
from reconciliation.services import refresh_order
from reconciliation.tests.conftest import make_case
from reconciliation.tests.factories import (
    create_invoice,
    create_order,
    create_payment,
    create_shipment,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(customer_party, sales_rep):
    order = create_order(
        lines=[("10", "36.36"), ("4", "41.815")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    create_shipment(order=order)
    return order


@pytest.fixture
def invoice(order):
    invoice = create_invoice(order=order)
    create_payment(invoice=invoice, amount="447.23")
    refresh_order(order=order)
    invoice.refresh_from_db()
    return invoice


def credit(
    order, invoice, sales_rep, customer, amount: str, code: str = "SHORT_PAYMENT"
) -> Invoice:
    difference = "-83.63" if code == "SHORT_PAYMENT" else None
    case = make_case(order, code=code, invoice=invoice, difference=difference)
    proposal = propose_credit_note(
        actor=sales_rep, case_id=case.pk, amount=Decimal(amount), message="Sorry"
    )
    accept_proposal(customer=customer, proposal_id=proposal.pk)
    assert proposal.credit_note is not None
    return Invoice.objects.get(pk=proposal.credit_note.pk)


def test_short_paid_invoice_is_open(invoice):
    assert invoice.amount_total == Decimal("530.86")
    assert invoice.amount_residual == Decimal("83.63")
    assert invoice.payment_state == Invoice.PaymentState.PARTIAL


def test_accepted_credit_settles_the_invoice(order, invoice, sales_rep, customer):
    note = credit(order, invoice, sales_rep, customer, "83.63")

    invoice.refresh_from_db()
    assert invoice.amount_paid == Decimal("447.23")
    assert invoice.amount_credited == Decimal("83.63")
    assert invoice.amount_residual == Decimal("0.00")
    assert invoice.payment_state == Invoice.PaymentState.PAID
    assert note.amount_credited == Decimal("83.63")
    assert note.amount_residual == Decimal("0.00")
    order.refresh_from_db()
    assert order.payment_status == "paid"


def test_larger_credit_leaves_its_rest_open(order, invoice, sales_rep, customer):
    # A price credit has no case figure here, so it may exceed what is unpaid.
    note = credit(order, invoice, sales_rep, customer, "100.00", "PRICE_MISMATCH")

    invoice.refresh_from_db()
    assert invoice.amount_credited == Decimal("83.63")
    assert invoice.amount_residual == Decimal("0.00")
    assert note.amount_credited == Decimal("83.63")
    assert note.amount_residual == Decimal("16.37")


def test_refunded_credit_settles_nothing(order, invoice, sales_rep, customer):
    note = credit(order, invoice, sales_rep, customer, "83.63")
    Invoice.objects.filter(pk=note.pk).update(refund_requested=True)

    refresh_order(order=order)

    invoice.refresh_from_db()
    note.refresh_from_db()
    assert invoice.amount_credited == Decimal("0.00")
    assert invoice.amount_residual == Decimal("83.63")
    assert note.amount_residual == Decimal("83.63")


def test_draft_credit_settles_nothing(order, invoice, sales_rep):
    case = make_case(order, code="SHORT_PAYMENT", invoice=invoice)
    propose_credit_note(
        actor=sales_rep, case_id=case.pk, amount=Decimal("83.63"), message="Sorry"
    )

    refresh_order(order=order)

    invoice.refresh_from_db()
    assert invoice.amount_credited == Decimal("0.00")
    assert invoice.amount_residual == Decimal("83.63")


def test_matching_pass_finds_nothing_open(order, invoice, sales_rep, customer):
    credit(order, invoice, sales_rep, customer, "83.63")
    as_of = timezone.localdate() + timedelta(days=90)

    run_matching(company=order.company, as_of=as_of)

    order.refresh_from_db()
    open_codes = list(
        Discrepancy.objects.filter(order=order)
        .exclude(state__in=["resolved", "rejected"])
        .values_list("code", flat=True)
    )
    assert open_codes == []
    assert order.recon_status != ReconStatus.EXCEPTION
    invoice.refresh_from_db()
    assert invoice.amount_residual == Decimal("0.00")


def test_order_page_shows_the_credit_applied(order, invoice, sales_rep, customer):
    note = credit(order, invoice, sales_rep, customer, "83.63")
    client = Client()
    client.force_login(sales_rep)

    page = client.get(f"/reconciliation/orders/{order.number}/")

    text = page.content.decode()
    assert f"· credited 83.63 · open 0.00 {invoice.currency_id}" in text
    assert f"· applied to {invoice.number} 83.63 · open 0.00" in text
    assert f"Credit note {note.number}</strong>" in text
    assert "Open credit" not in text


def offer(order, invoice, sales_rep, amount: str) -> ResolutionProposal:
    case = make_case(order, code="SHORT_PAYMENT", invoice=invoice)
    return propose_credit_note(
        actor=sales_rep, case_id=case.pk, amount=Decimal(amount), message="Sorry"
    )


def test_pass_leaves_offered_credit_open(order, invoice, sales_rep, customer, settings):
    settings.RECONCILIATION_PAYMENT_TOLERANCE = "100.00"
    proposal = offer(order, invoice, sales_rep, "83.63")

    run_matching(company=order.company, as_of=timezone.localdate())

    allocation = Allocation.objects.get(invoice=invoice)
    assert allocation.writeoff_net == Decimal("0.00")
    invoice.refresh_from_db()
    assert invoice.amount_residual == Decimal("83.63")

    accept_proposal(customer=customer, proposal_id=proposal.pk)

    invoice.refresh_from_db()
    note = Invoice.objects.get(kind=Invoice.Kind.CREDIT_NOTE)
    assert invoice.amount_credited == Decimal("83.63")
    assert invoice.amount_residual == Decimal("0.00")
    # The whole credit settled the short payment, so none of it is left to
    # pay out as a second forgiveness of the same money.
    assert note.amount_residual == Decimal("0.00")


def test_pass_writes_off_rest_of_offer(order, invoice, sales_rep, settings):
    settings.RECONCILIATION_PAYMENT_TOLERANCE = "100.00"
    offer(order, invoice, sales_rep, "50.00")

    run_matching(company=order.company, as_of=timezone.localdate())

    allocation = Allocation.objects.get(invoice=invoice)
    assert allocation.writeoff_net == Decimal("33.63")
    invoice.refresh_from_db()
    assert invoice.amount_residual == Decimal("50.00")


def test_pass_writes_off_after_rejection(order, invoice, sales_rep, customer, settings):
    settings.RECONCILIATION_PAYMENT_TOLERANCE = "100.00"
    proposal = offer(order, invoice, sales_rep, "83.63")
    run_matching(company=order.company, as_of=timezone.localdate())

    reject_proposal(
        customer=customer, proposal_id=proposal.pk, reason="We want a refund."
    )
    run_matching(company=order.company, as_of=timezone.localdate())

    allocation = Allocation.objects.get(invoice=invoice)
    assert allocation.writeoff_net == Decimal("83.63")
    invoice.refresh_from_db()
    assert invoice.amount_residual == Decimal("0.00")
