"""The invoice total and the credit limit apply to all credit on an invoice.

Named people: sally (sales rep on the order), carla (customer of the order's
company), mona (manager). The order is 10 Chai at 36.36 and 4 Chang at
41.815, invoiced in full for 530.86 USD; the customer paid 447.23.
"""

from decimal import Decimal

import pytest

from core.testing import signed_in
from portal.models import ResolutionProposal
from portal.services import accept_proposal, reject_proposal
from reconciliation import approval_decisions
from reconciliation.cases import reopen_case
from reconciliation.credit_proposals import propose_credit_note
from reconciliation.models import Approval, Discrepancy, Invoice
from reconciliation.services import refresh_order
from reconciliation.tests.conftest import make_case
from reconciliation.tests.factories import (
    create_invoice,
    create_order,
    create_payment,
    create_shipment,
)
from reconciliation.work import WorkError

pytestmark = pytest.mark.django_db

Proposal = ResolutionProposal.State
State = Discrepancy.State


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


@pytest.fixture
def case(order, invoice):
    # Without a figure the case does not bound the credit, so only the limit
    # and the invoice total, which these tests are about, apply.
    return make_case(order, code="SHORT_PAYMENT", invoice=invoice, difference=None)


def propose(rep, case, amount: str) -> ResolutionProposal:
    return propose_credit_note(
        actor=rep, case_id=case.pk, amount=Decimal(amount), message="Sorry"
    )


def credit_and_reopen(rep, customer, case, amount: str) -> None:
    """Credit ``amount`` with the customer's consent, then reopen the case."""
    proposal = propose(rep, case, amount)
    assert proposal.state == Proposal.AWAITING_CUSTOMER
    accept_proposal(customer=customer, proposal_id=proposal.pk)
    reopen_case(case_id=case.pk, actor=rep, reason="The customer called again.")


def credit_notes(invoice) -> list[tuple[str, Decimal]]:
    rows = Invoice.objects.filter(
        kind=Invoice.Kind.CREDIT_NOTE, origin_invoice=invoice
    ).order_by("pk")
    return [(note.state, note.amount_total) for note in rows]


def test_limit_counts_credit_posted_before(
    case, invoice, sales_rep, customer, settings
):
    settings.SALES_REP_CREDIT_LIMIT = "250.00"
    credit_and_reopen(sales_rep, customer, case, "200.00")

    proposal = propose(sales_rep, case, "200.00")

    assert proposal.state == Proposal.AWAITING_APPROVAL
    approval = Approval.objects.get(case=case)
    assert approval.amount == Decimal("200.00")
    assert approval.request_reason == (
        f"Credit note of 200.00 USD brings the credit on invoice {invoice.number} "
        "to 400.00 USD (400.00 in company currency), above the 250.00 limit. "
        "Already credited: 200.00 USD, proposed on open proposals: 0.00 USD."
    )
    case.refresh_from_db()
    assert case.state == State.WAITING_INTERNAL


def test_total_counts_credit_posted_before(
    case, invoice, sales_rep, customer, settings
):
    settings.SALES_REP_CREDIT_LIMIT = "1000.00"
    credit_and_reopen(sales_rep, customer, case, "400.00")

    with pytest.raises(WorkError) as raised:
        propose(sales_rep, case, "200.00")

    assert str(raised.value) == (
        f"Invoice {invoice.number} totals 530.86 USD: 400.00 USD of it is "
        "credited already, 0.00 USD is proposed on open proposals and 0.00 USD "
        "is written off. A credit note of 200.00 USD would take 600.00 USD off "
        "it: credit at most 130.86 USD."
    )
    assert credit_notes(invoice) == [("posted", Decimal("400.00"))]
    assert ResolutionProposal.objects.filter(case=case).count() == 1


def test_fully_credited_invoice_takes_no_more(
    case, invoice, sales_rep, customer, settings
):
    settings.SALES_REP_CREDIT_LIMIT = "1000.00"
    credit_and_reopen(sales_rep, customer, case, "530.86")

    with pytest.raises(WorkError) as raised:
        propose(sales_rep, case, "0.01")

    assert str(raised.value) == (
        f"Invoice {invoice.number} totals 530.86 USD: 530.86 USD of it is "
        "credited already, 0.00 USD is proposed on open proposals and 0.00 USD "
        "is written off. A credit note of 0.01 USD would take 530.87 USD off "
        "it: nothing is left to take off it."
    )


def test_reopen_loop_stops_at_limit_and_total(
    case, invoice, sales_rep, customer, manager, settings
):
    settings.SALES_REP_CREDIT_LIMIT = "250.00"
    credit_and_reopen(sales_rep, customer, case, "200.00")
    second = propose(sales_rep, case, "200.00")
    approval = Approval.objects.get(case=case)
    approval_decisions.decide_approval(
        approval_id=approval.pk, approver=manager, approve=True, reason="Agreed."
    )
    accept_proposal(customer=customer, proposal_id=second.pk)
    reopen_case(case_id=case.pk, actor=sales_rep, reason="The customer called.")

    with pytest.raises(WorkError):
        propose(sales_rep, case, "200.00")

    assert credit_notes(invoice) == [
        ("posted", Decimal("200.00")),
        ("posted", Decimal("200.00")),
    ]


def test_open_proposal_of_another_case_counts(
    order, case, invoice, sales_rep, settings
):
    settings.SALES_REP_CREDIT_LIMIT = "250.00"
    price_case = make_case(
        order, code="PRICE_MISMATCH", invoice=invoice, difference=None
    )
    assert propose(sales_rep, case, "200.00").state == Proposal.AWAITING_CUSTOMER

    with pytest.raises(WorkError) as raised:
        propose(sales_rep, price_case, "400.00")

    assert str(raised.value) == (
        f"Invoice {invoice.number} totals 530.86 USD: 0.00 USD of it is "
        "credited already, 200.00 USD is proposed on open proposals and 0.00 USD "
        "is written off. A credit note of 400.00 USD would take 600.00 USD off "
        "it: credit at most 330.86 USD."
    )
    assert propose(sales_rep, price_case, "100.00").state == Proposal.AWAITING_APPROVAL


def test_rejected_proposal_frees_its_credit(
    case, invoice, sales_rep, customer, settings
):
    settings.SALES_REP_CREDIT_LIMIT = "250.00"
    first = propose(sales_rep, case, "200.00")
    reject_proposal(customer=customer, proposal_id=first.pk, reason="Too little.")

    second = propose(sales_rep, case, "200.00")

    assert second.state == Proposal.AWAITING_CUSTOMER
    assert credit_notes(invoice) == [
        ("cancelled", Decimal("200.00")),
        ("draft", Decimal("200.00")),
    ]


def test_case_page_approval_offers_credit_note(case, sales_rep, manager, settings):
    settings.SALES_REP_CREDIT_LIMIT = "50.00"
    proposal = propose(sales_rep, case, "83.63")
    approval = Approval.objects.get(case=case)

    signed_in(manager).post(
        f"/reconciliation/approvals/{approval.pk}/decide/",
        {"decision": "approve", "reason": "Long-standing customer."},
    )

    proposal.refresh_from_db()
    case.refresh_from_db()
    assert proposal.state == Proposal.AWAITING_CUSTOMER
    assert case.state == State.PROPOSED_RESOLUTION


def test_case_page_rejection_withdraws_credit_note(case, sales_rep, manager, settings):
    settings.SALES_REP_CREDIT_LIMIT = "50.00"
    proposal = propose(sales_rep, case, "83.63")
    approval = Approval.objects.get(case=case)

    signed_in(manager).post(
        f"/reconciliation/approvals/{approval.pk}/decide/",
        {"decision": "reject", "reason": "Bank fee, not a dispute."},
    )

    proposal.refresh_from_db()
    case.refresh_from_db()
    assert proposal.state == Proposal.WITHDRAWN
    assert proposal.credit_note.state == Invoice.State.CANCELLED
    assert case.state == State.IN_PROGRESS


def test_approval_checks_credit_posted_since(
    case, invoice, sales_rep, manager, settings
):
    settings.SALES_REP_CREDIT_LIMIT = "50.00"
    proposal = propose(sales_rep, case, "400.00")
    approval = Approval.objects.get(case=case)
    # A credit note from another source, posted while the approval waits.
    Invoice.objects.create(
        company=invoice.company,
        kind=Invoice.Kind.CREDIT_NOTE,
        number="CN-ERP-1",
        customer=invoice.customer,
        order=invoice.order,
        origin_invoice=invoice,
        currency=invoice.currency,
        invoice_date=invoice.invoice_date,
        due_date=invoice.due_date,
        amount_total=Decimal("200.00"),
    )

    with pytest.raises(WorkError) as raised:
        approval_decisions.decide_approval(
            approval_id=approval.pk, approver=manager, approve=True, reason="Fine."
        )

    assert str(raised.value) == (
        f"Invoice {invoice.number} totals 530.86 USD, but 200.00 USD of it is "
        "credited already, 400.00 USD is proposed, including this credit note "
        "of 400.00 USD, and 0.00 USD is written off. Approving it would take "
        "more than the invoice total off it: reject this approval."
    )
    approval.refresh_from_db()
    proposal.refresh_from_db()
    assert approval.decision == Approval.Decision.PENDING
    assert proposal.state == Proposal.AWAITING_APPROVAL
