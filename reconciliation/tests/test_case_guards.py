"""Every path that changes a case treats a waiting proposal or approval the same.

Named people: sally (sales rep on the order), carla (the customer's
contact), fiona (finance clerk) and mona (manager). The price case bills 15
units of an order line at 49.30, where the order agreed 49.30 less 25 %;
the case leaves 184.87 USD open. The short-shipment case ships 7 of 10
units. The short-payment case is an invoice of 363.60 paid 279.97.
"""

from decimal import Decimal

import pytest
from django.utils import timezone

from core.models import AuditEvent
from core.testing import messages_of, signed_in
from portal.models import ResolutionProposal
from reconciliation import approvals, backorder_decisions, credit_proposals, work
from reconciliation.cases import CaseError
from reconciliation.matching import match_order, run_matching
from reconciliation.models import (
    Approval,
    Discrepancy,
    Invoice,
)
from reconciliation.tests.factories import (
    create_invoice,
    create_order,
    create_shipment,
)

pytestmark = pytest.mark.django_db

State = Discrepancy.State
Proposal = ResolutionProposal.State


@pytest.fixture
def price_case(customer_party, sales_rep) -> Discrepancy:
    order = create_order(
        lines=[("15", "49.30", "unit", "25")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    create_shipment(order=order)
    create_invoice(order=order, unit_prices={1: "49.30"})
    match_order(order)
    return Discrepancy.objects.get(order=order, code="PRICE_MISMATCH")


@pytest.fixture
def short_case(customer_party, sales_rep) -> Discrepancy:
    order = create_order(
        lines=[("10", "36.36")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    create_shipment(order=order, quantities={1: "7"})
    run_matching(company=order.company, as_of=timezone.localdate())
    return Discrepancy.objects.get(order=order, code="SHORT_SHIP")


def offer_credit(case: Discrepancy, sales_rep) -> ResolutionProposal:
    return credit_proposals.propose_credit_note(
        actor=sales_rep,
        case_id=case.pk,
        amount=Decimal("184.87"),
        message="We billed the list price by mistake.",
    )


def waiting_for_customer(case: Discrepancy, proposal: ResolutionProposal) -> str:
    assert proposal.credit_note is not None
    return (
        f"Case {case.pk} has credit note {proposal.credit_note.number} of 184.87 "
        "USD waiting for the customer's answer: withdraw the credit note proposal "
        "first, on the case's decision screen, or wait for the customer."
    )


def waiting_for_manager(case: Discrepancy, proposal: ResolutionProposal) -> str:
    assert proposal.credit_note is not None
    return (
        f"Case {case.pk} has credit note {proposal.credit_note.number} of 184.87 "
        "USD waiting for a manager's approval: wait for the decision, or ask a "
        "manager to reject the approval first."
    )


# The matching pass leaves a case with a waiting proposal in its state


def test_pass_keeps_case_held_by_proposal(price_case, sales_rep, customer):
    """A resolved case whose offer still waits, as older rows have it."""
    proposal = offer_credit(price_case, sales_rep)
    # The pass resolved the case before the screens checked for proposals.
    Discrepancy.objects.filter(pk=price_case.pk).update(
        state=State.RESOLVED, resolved_by=None, finding_holds=False
    )

    run_matching(company=price_case.company, as_of=timezone.localdate())

    price_case.refresh_from_db()
    proposal.refresh_from_db()
    assert price_case.state == State.RESOLVED
    assert price_case.finding_holds
    assert proposal.state == Proposal.AWAITING_CUSTOMER
    event = AuditEvent.objects.filter(
        object_id=str(price_case.pk), action="discrepancy.updated"
    ).get()
    assert event.after["held_by"] == proposal.pk


def test_case_page_reopen_held_by_proposal(price_case, sales_rep):
    proposal = offer_credit(price_case, sales_rep)
    Discrepancy.objects.filter(pk=price_case.pk).update(state=State.RESOLVED)

    response = signed_in(sales_rep).post(
        f"/reconciliation/cases/{price_case.pk}/move/",
        {"to": "reopened", "reason": "The customer called."},
        follow=True,
    )

    assert messages_of(response) == [waiting_for_customer(price_case, proposal)]
    price_case.refresh_from_db()
    assert price_case.state == State.RESOLVED


# "Propose only" cannot overwrite a waiting credit note


def test_propose_only_rejected_while_approval_waits(price_case, sales_rep, settings):
    settings.SALES_REP_CREDIT_LIMIT = "100.00"
    proposal = offer_credit(price_case, sales_rep)
    price_case.refresh_from_db()
    assert price_case.state == State.WAITING_INTERNAL
    before = (price_case.resolution_code, price_case.resolution_note)
    events = AuditEvent.objects.count()

    response = signed_in(sales_rep).post(
        f"/reconciliation/cases/{price_case.pk}/move/",
        {
            "to": "proposed_resolution",
            "resolution_code": "write_off",
            "note": "Write it off instead.",
        },
        follow=True,
    )

    assert messages_of(response) == [waiting_for_manager(price_case, proposal)]
    price_case.refresh_from_db()
    assert price_case.state == State.WAITING_INTERNAL
    assert (price_case.resolution_code, price_case.resolution_note) == before
    assert AuditEvent.objects.count() == events


def test_propose_only_rejected_while_customer_decides(price_case, sales_rep):
    proposal = offer_credit(price_case, sales_rep)
    rep = signed_in(sales_rep)
    rep.post(
        f"/reconciliation/cases/{price_case.pk}/move/",
        {"to": "in_progress", "reason": "Checking the discount."},
    )
    events = AuditEvent.objects.count()

    response = rep.post(
        f"/reconciliation/cases/{price_case.pk}/move/",
        {
            "to": "proposed_resolution",
            "resolution_code": "price_fix",
            "note": "Fix the order price.",
        },
        follow=True,
    )

    assert messages_of(response)[-1] == waiting_for_customer(price_case, proposal)
    price_case.refresh_from_db()
    assert price_case.state == State.IN_PROGRESS
    assert price_case.resolution_code == "credit_note"
    assert AuditEvent.objects.count() == events


def test_case_page_hides_moves_held_by_proposal(price_case, sales_rep):
    proposal = offer_credit(price_case, sales_rep)

    page = signed_in(sales_rep).get(f"/reconciliation/cases/{price_case.pk}/")

    text = page.content.decode()
    assert 'data-testid="move-resolved"' not in text
    assert 'data-testid="move-in_progress"' in text
    assert proposal.credit_note is not None
    assert f"credit note {proposal.credit_note.number} of 184.87 USD" in text


def test_second_credit_note_names_waiting_one(price_case, sales_rep):
    proposal = offer_credit(price_case, sales_rep)

    with pytest.raises(work.WorkError) as raised:
        credit_proposals.propose_credit_note(
            actor=sales_rep,
            case_id=price_case.pk,
            amount=Decimal("10.00"),
            message="And a bit more.",
        )

    assert proposal.credit_note is not None
    number = proposal.credit_note.number
    assert str(raised.value) == (
        f"Case {price_case.pk} already has credit note {number} of 184.87 USD "
        "waiting for the customer's answer, so no second credit note can be "
        f"proposed: withdraw it with the “Withdraw credit note {number}” button "
        "on this screen, or wait for the customer."
    )
    assert ResolutionProposal.objects.filter(case=price_case).count() == 1


# A second decision while one waits


@pytest.fixture
def worked_case(short_payment_case: Discrepancy, clerk) -> Discrepancy:
    Discrepancy.objects.filter(pk=short_payment_case.pk).update(
        state=State.IN_PROGRESS, assignee=clerk
    )
    return short_payment_case


def test_write_off_request_waits_for_credit_note(
    worked_case, clerk, sales_rep, settings
):
    settings.RECONCILIATION_WRITE_OFF_LIMIT = "10.00"
    proposal = credit_proposals.propose_credit_note(
        actor=sales_rep,
        case_id=worked_case.pk,
        amount=Decimal("20.00"),
        message="A goodwill credit.",
    )
    assert proposal.credit_note is not None

    with pytest.raises(CaseError) as raised:
        approvals.request_write_off(
            case_id=worked_case.pk, actor=clerk, reason="Bank fee."
        )

    assert str(raised.value) == (
        f"Case {worked_case.pk} has credit note {proposal.credit_note.number} of "
        "20.00 USD waiting for the customer's answer: withdraw the credit note "
        "proposal first, on the case's decision screen, or wait for the customer."
    )
    assert not Approval.objects.filter(case=worked_case).exists()


def test_credit_note_waits_for_write_off_approval(
    worked_case, clerk, sales_rep, settings
):
    settings.RECONCILIATION_WRITE_OFF_LIMIT = "10.00"
    approval = approvals.request_write_off(
        case_id=worked_case.pk, actor=clerk, reason="Bank fee."
    )

    with pytest.raises(work.WorkError) as raised:
        credit_proposals.propose_credit_note(
            actor=sales_rep,
            case_id=worked_case.pk,
            amount=Decimal("20.00"),
            message="A goodwill credit.",
        )

    assert str(raised.value) == (
        f"Case {worked_case.pk} has approval {approval.pk} for a write-off of "
        "83.63 USD waiting for a manager: you cannot propose a credit note "
        "until a manager decides it."
    )
    assert not ResolutionProposal.objects.filter(case=worked_case).exists()
    assert not Invoice.objects.filter(kind=Invoice.Kind.CREDIT_NOTE).exists()


def test_write_off_request_after_approval(worked_case, clerk, manager, settings):
    settings.RECONCILIATION_WRITE_OFF_LIMIT = "10.00"
    approval = approvals.request_write_off(
        case_id=worked_case.pk, actor=clerk, reason="Bank fee."
    )
    # Approved while the case was elsewhere; the case is worked again.
    Approval.objects.filter(pk=approval.pk).update(
        decision=Approval.Decision.APPROVED,
        approver=manager,
        decided_at=timezone.now(),
    )

    with pytest.raises(CaseError) as raised:
        approvals.request_write_off(
            case_id=worked_case.pk, actor=clerk, reason="Bank fee again."
        )

    assert str(raised.value) == (
        f"A manager already approved the write-off of 83.63 USD on case "
        f"{worked_case.pk} (approval {approval.pk}): resolve the case with the "
        "Write-off resolution code."
    )
    assert Approval.objects.filter(case=worked_case).count() == 1


def test_sales_screen_hides_backorder_form(short_case, sales_rep):
    invoice = create_invoice(order=short_case.order)
    Discrepancy.objects.filter(pk=short_case.pk).update(invoice=invoice)
    credit_proposals.propose_credit_note(
        actor=sales_rep,
        case_id=short_case.pk,
        amount=Decimal("36.36"),
        message="Credit for a missing unit.",
    )
    short_case.refresh_from_db()

    actions = backorder_decisions.sales_actions(short_case)

    assert not actions.backorder
    assert actions.withdrawable is not None


def test_sales_screen_waits_for_write_off_approval(
    worked_case, clerk, sales_rep, settings
):
    settings.RECONCILIATION_WRITE_OFF_LIMIT = "10.00"
    approval = approvals.request_write_off(
        case_id=worked_case.pk, actor=clerk, reason="Bank fee."
    )

    page = signed_in(sales_rep).get(f"/reconciliation/work/cases/{worked_case.pk}/")

    text = page.content.decode()
    assert 'data-testid="credit-note-form"' not in text
    assert (
        f"Approval {approval.pk} for a write-off of 83.63 USD waits for a manager."
    ) in text
    assert 'data-testid="nothing-to-decide"' not in text
