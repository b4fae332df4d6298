"""A customer's acceptance checks the credit note against the invoice total again.

Named people: sally (sales rep on the order), carla (customer of the order's
company). The invoice is 10 Chai at 36.36, 363.60 USD, of which the
customer paid 279.97. Sally offers a credit note of 300.00 for a price
dispute. Before carla decides, the open 83.63 is written off inside a
payment tolerance, so the credit note and the write-off together exceed the
invoice total and the offer no longer fits.
"""

from decimal import Decimal

import pytest
from django.test import Client

from core.models import AuditEvent
from notifications.models import Notification
from portal.models import ResolutionProposal
from portal.services import accept_proposal
from reconciliation.credit_proposals import propose_credit_note
from reconciliation.models import Allocation, Discrepancy, Invoice
from reconciliation.services import refresh_order
from reconciliation.work import WorkError

pytestmark = pytest.mark.django_db

Proposal = ResolutionProposal.State
State = Discrepancy.State
OUTDATED = (
    "This offer is out of date: invoice {number} changed after we made it, so "
    "its credit note can no longer be posted. We withdrew the offer and told "
    "our staff, who will send you a new proposal. You need not do anything now."
)


@pytest.fixture
def proposal(short_payment_case, sales_rep, settings) -> ResolutionProposal:
    settings.SALES_REP_CREDIT_LIMIT = "1000.00"
    # Without a figure the case does not bound the credit, so only the
    # invoice total, which these tests are about, applies.
    Discrepancy.objects.filter(pk=short_payment_case.pk).update(difference=None)
    short_payment_case.refresh_from_db()
    return propose_credit_note(
        actor=sales_rep,
        case_id=short_payment_case.pk,
        amount=Decimal("300.00"),
        message="We credit the price difference.",
    )


@pytest.fixture
def written_off_by_pass(proposal, short_payment_case) -> Invoice:
    """Write the open 83.63 off as a pass did before it left offered credit open.

    Such rows remain from that code, and the acceptance must not add a
    credit note on top of them.
    """
    invoice: Invoice = short_payment_case.invoice
    allocation = Allocation.objects.get(invoice=invoice)
    allocation.writeoff_forgiven = Decimal("83.63")
    allocation.save(update_fields=["writeoff_forgiven"])
    refresh_order(order=short_payment_case.order)
    invoice.refresh_from_db()
    assert invoice.amount_residual == Decimal("0.00")
    return invoice


def test_accept_posts_offer_that_fits(proposal, customer, short_payment_case):
    accept_proposal(customer=customer, proposal_id=proposal.pk)

    proposal.refresh_from_db()
    short_payment_case.refresh_from_db()
    assert proposal.state == Proposal.ACCEPTED
    assert short_payment_case.state == State.RESOLVED
    credit_note = Invoice.objects.get(kind=Invoice.Kind.CREDIT_NOTE)
    assert credit_note.state == Invoice.State.POSTED


def test_accept_withdraws_outdated_offer(
    proposal, written_off_by_pass, customer, sales_rep, short_payment_case
):
    invoice = written_off_by_pass

    with pytest.raises(WorkError) as raised:
        accept_proposal(customer=customer, proposal_id=proposal.pk)

    assert str(raised.value) == OUTDATED.format(number=invoice.number)
    proposal.refresh_from_db()
    assert proposal.state == Proposal.WITHDRAWN
    credit_note = Invoice.objects.get(kind=Invoice.Kind.CREDIT_NOTE)
    assert credit_note.state == Invoice.State.CANCELLED
    invoice.refresh_from_db()
    assert invoice.amount_credited == Decimal("0.00")
    assert invoice.amount_residual == Decimal("0.00")
    short_payment_case.refresh_from_db()
    assert short_payment_case.state == State.IN_PROGRESS
    assert short_payment_case.resolution_code == ""


def test_outdated_offer_is_recorded(
    proposal, written_off_by_pass, customer, sales_rep, short_payment_case
):
    invoice = written_off_by_pass

    with pytest.raises(WorkError):
        accept_proposal(customer=customer, proposal_id=proposal.pk)

    event = AuditEvent.objects.get(action="proposal.outdated")
    assert event.actor == customer
    assert event.source == AuditEvent.Source.SCREEN
    assert event.reason == (
        f"Invoice {invoice.number} totals 363.60 USD, but 0.00 USD of it is "
        "credited already, 300.00 USD is proposed, including this credit note of "
        "300.00 USD, and 83.63 USD is written off."
    )
    assert not AuditEvent.objects.filter(action="proposal.accepted").exists()
    assert not AuditEvent.objects.filter(action="credit_note.posted").exists()
    assert AuditEvent.objects.filter(action="credit_note.cancelled").count() == 1
    notice = Notification.objects.get(
        recipient=sales_rep, kind=Notification.Kind.RESOLUTION_DECIDED
    )
    assert notice.message == (
        f"{customer.display_name} accepted the credit note you proposed on case "
        f"{short_payment_case.pk}, but it no longer fits its invoice, so it was "
        "withdrawn and nothing was posted. Propose a new resolution."
    )


def test_portal_shows_outdated_offer_message(
    proposal, written_off_by_pass, customer, short_payment_case
):
    client = Client()
    client.force_login(customer)

    response = client.post(
        f"/reconciliation/portal/proposals/{proposal.pk}/accept/", follow=True
    )

    assert response.status_code == 200
    # The withdrawn offer reached the customer, so the case keeps its page.
    assert response.redirect_chain == [
        (f"/reconciliation/portal/cases/{short_payment_case.pk}/", 302)
    ]
    assert response.context["status"] == "We are looking into it"
    messages = [str(message) for message in response.context["messages"]]
    assert messages == [OUTDATED.format(number=written_off_by_pass.number)]
    page = response.content.decode()
    assert "83.63 USD is written off" not in page
    proposal.refresh_from_db()
    assert proposal.state == Proposal.WITHDRAWN


def test_outdated_offer_cannot_be_accepted_twice(
    proposal, written_off_by_pass, customer
):
    with pytest.raises(WorkError):
        accept_proposal(customer=customer, proposal_id=proposal.pk)

    with pytest.raises(WorkError) as raised:
        accept_proposal(customer=customer, proposal_id=proposal.pk)

    assert str(raised.value) == (
        "This proposal is withdrawn: there is nothing to decide on it now."
    )
