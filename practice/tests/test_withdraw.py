"""Withdrawing a credit note proposal on the sandbox's sales decision screen."""

import pytest

from portal.models import ResolutionProposal
from practice.tests.conftest import only_case, signed_in
from practice.tests.test_screens import base, begin, messages_of, score
from reconciliation.models import Discrepancy, Invoice

pytestmark = pytest.mark.django_db

REASON = "The customer sent the bottles back instead."


def _propose(session, client) -> ResolutionProposal:
    client.post(
        f"{base(session)}cases/1/credit-note/",
        {"amount": "180.00", "message": "We credit the broken olive oil."},
        follow=True,
    )
    return ResolutionProposal.objects.get(case__company=session.company)


def test_sales_page_offers_withdraw(learner):
    # An earlier session takes the first case ids, so ids and numbers differ.
    begin(learner, "duplicate-invoice")
    session, client = begin(learner, "short-payment-dispute")
    _propose(session, client)

    page = client.get(f"{base(session)}cases/1/").content.decode()

    assert 'data-testid="withdraw-form"' in page
    assert f'action="{base(session)}cases/1/withdraw/"' in page


def test_withdraw_reopens_work_and_scores(learner):
    session, client = begin(learner, "short-payment-dispute")
    proposal = _propose(session, client)

    withdrawn = client.post(
        f"{base(session)}cases/1/withdraw/", {"reason": REASON}, follow=True
    )

    assert messages_of(withdrawn) == [
        "Withdrew the proposal: the customer can no longer accept it, and the "
        "case is back in progress."
    ]
    proposal.refresh_from_db()
    assert proposal.state == ResolutionProposal.State.WITHDRAWN
    proposal.credit_note.refresh_from_db()
    assert proposal.credit_note.state == Invoice.State.CANCELLED
    case = only_case(session, "SHORT_PAYMENT")
    assert case.state == Discrepancy.State.IN_PROGRESS
    session_page = client.get(f"/practice/sessions/{session.pk}/").content.decode()
    assert "Accept as the customer" not in session_page
    assert score(session) == 0


def test_withdraw_proposes_again_after(learner):
    session, client = begin(learner, "short-payment-dispute")
    _propose(session, client)
    client.post(f"{base(session)}cases/1/withdraw/", {"reason": REASON}, follow=True)

    again = client.post(
        f"{base(session)}cases/1/credit-note/",
        {"amount": "180.00", "message": "We credit the broken olive oil."},
        follow=True,
    )

    assert messages_of(again) == ["Proposed the credit note."]


def test_withdraw_needs_reason(learner):
    session, client = begin(learner, "short-payment-dispute")
    proposal = _propose(session, client)

    response = client.post(
        f"{base(session)}cases/1/withdraw/", {"reason": " "}, follow=True
    )

    assert messages_of(response) == [
        "Say why you withdraw the proposal, for the case's history."
    ]
    proposal.refresh_from_db()
    assert proposal.state == ResolutionProposal.State.AWAITING_CUSTOMER


def test_withdraw_without_proposal_names_number(learner):
    begin(learner, "duplicate-invoice")
    session, client = begin(learner, "short-payment-dispute")

    response = client.post(
        f"{base(session)}cases/1/withdraw/", {"reason": REASON}, follow=True
    )

    assert messages_of(response) == [
        "Case 1 has no proposal waiting for the customer: the customer may have "
        "answered it already, so reload the page."
    ]


def test_withdraw_other_session_404(learner, other_learner):
    session, client = begin(learner, "short-payment-dispute")
    proposal = _propose(session, client)

    response = signed_in(other_learner).post(
        f"{base(session)}cases/1/withdraw/", {"reason": REASON}
    )
    past_cases = client.post(f"{base(session)}cases/2/withdraw/", {"reason": REASON})

    assert response.status_code == 404
    assert past_cases.status_code == 404
    proposal.refresh_from_db()
    assert proposal.state == ResolutionProposal.State.AWAITING_CUSTOMER


def test_withdraw_on_finished_session_rejected(learner):
    session, client = begin(learner, "short-payment-dispute")
    proposal = _propose(session, client)
    session.status = session.Status.FINISHED
    session.save(update_fields=["status"])

    response = client.post(
        f"{base(session)}cases/1/withdraw/", {"reason": REASON}, follow=True
    )

    assert messages_of(response) == [
        f"Session {session.pk} is finished, so it cannot be worked: start a new "
        "session of the scenario to practise again."
    ]
    proposal.refresh_from_db()
    assert proposal.state == ResolutionProposal.State.AWAITING_CUSTOMER


def test_invoice_list_leaves_withdrawn_note_out(learner):
    session, client = begin(learner, "short-payment-dispute")
    withdrawn = _propose(session, client)
    client.post(f"{base(session)}cases/1/withdraw/", {"reason": REASON}, follow=True)
    client.post(
        f"{base(session)}cases/1/credit-note/",
        {"amount": "180.00", "message": "We credit the broken olive oil."},
        follow=True,
    )
    second = ResolutionProposal.objects.get(
        case__company=session.company,
        state=ResolutionProposal.State.AWAITING_CUSTOMER,
    )
    client.post(
        f"/practice/sessions/{session.pk}/proposals/{second.pk}/answer/",
        {"decision": "accept"},
        follow=True,
    )

    page = client.get(f"/practice/sessions/{session.pk}/")

    listed = [invoice.number for invoice in page.context["invoices"]]
    second.credit_note.refresh_from_db()
    assert second.credit_note.state == Invoice.State.POSTED
    assert second.credit_note.number in listed
    assert withdrawn.credit_note.number not in listed
    assert withdrawn.credit_note.number not in page.content.decode()
