"""The scripted manager: approval requests in a sandbox get the scenario's answer.

No real manager can decide a sandbox request, so the scenario's manager
rejects it at once, the learner reads why, and the scenario can still be
finished. Nothing of the request reaches real people or real approvals.
"""

from decimal import Decimal

import pytest

from accounts.models import Role, User
from conftest import make_person
from core.models import AuditEvent
from notifications.models import Notification
from portal.models import ResolutionProposal
from practice import services
from practice.manager import SCRIPTED_ACCOUNT_PREFIX
from practice.scenarios import (
    BROKEN_GOODS_CREDIT,
    DUPLICATE_INVOICE,
    SCENARIOS,
    SHORT_PAYMENT_DISPUTE,
)
from practice.tests.conftest import only_case
from practice.tests.test_screens import base, begin, messages_of, score
from reconciliation import approvals
from reconciliation.approval_decisions import pending_approvals
from reconciliation.cases import CaseError
from reconciliation.models import Approval, Invoice, ResolutionCode
from reconciliation.services import refresh_order
from reconciliation.tests.conftest import make_case
from reconciliation.tests.factories import (
    create_invoice,
    create_order,
    create_payment,
    create_shipment,
)

pytestmark = pytest.mark.django_db

WHY = "The customer will not pay."


@pytest.fixture
def manager(db):
    """A real manager, who must never hear of a sandbox request."""
    return make_person("maren", Role.MANAGER)


def _case_url(session, number: int = 1) -> str:
    return f"/practice/sessions/{session.pk}/cases/{number}/"


def test_write_off_request_gets_answer(learner, manager):
    session, client = begin(learner, "short-payment-dispute")
    notifications = Notification.objects.count()

    response = client.post(
        f"{_case_url(session)}write-off/", {"reason": WHY}, follow=True
    )

    reason = SHORT_PAYMENT_DISPUTE.manager.write_off
    assert messages_of(response) == [
        f"Ines Walch rejected the write-off of 180.00 EUR on case 1: {reason} "
        "Nothing was booked, and the case stays with you."
    ]
    assert reason in response.content.decode()
    assert Approval.objects.count() == 0
    assert list(pending_approvals()) == []
    assert Notification.objects.count() == notifications
    assert not Notification.objects.filter(recipient=manager).exists()
    session.refresh_from_db()
    assert session.manager_decisions[0]["request_reason"] == WHY
    event = AuditEvent.objects.get(action="practice.manager_rejected")
    assert event.object_id == str(session.pk)


def test_rejection_shows_once_per_page(learner):
    session, client = begin(learner, "short-payment-dispute")
    write_off = SHORT_PAYMENT_DISPUTE.manager.write_off

    answered = client.post(
        f"{_case_url(session)}write-off/", {"reason": WHY}, follow=True
    )
    later = client.get(_case_url(session))

    assert answered.content.decode().count(write_off) == 1
    assert later.content.decode().count(write_off) == 1


def test_credit_rejection_shows_once(learner):
    session, client = begin(learner, "duplicate-invoice")

    credited = client.post(
        f"{base(session)}cases/1/credit-note/",
        {"amount": "320.00", "message": "We cancel the second invoice."},
        follow=True,
    )

    page = credited.content.decode()
    assert page.count(DUPLICATE_INVOICE.manager.credit_note) == 1


def test_session_page_states_rule_and_answer(learner):
    session, client = begin(learner, "short-payment-dispute")
    before = client.get(f"/practice/sessions/{session.pk}/").content.decode()
    client.post(f"{_case_url(session)}write-off/", {"reason": WHY})

    after = client.get(f"/practice/sessions/{session.pk}/").content.decode()

    assert 'data-testid="approval-rule"' in before
    assert "A write-off above 50.00" in before
    assert "Ines Walch" in before
    assert 'data-testid="manager-decisions"' not in before
    assert 'data-testid="manager-decisions"' in after
    assert SHORT_PAYMENT_DISPUTE.manager.write_off in after
    assert f"“{WHY}”" in after


def test_rejected_write_off_check_then_credit(learner):
    session, client = begin(learner, "short-payment-dispute")
    client.post(f"{_case_url(session)}write-off/", {"reason": WHY})

    results = services.check_session(session_id=session.pk, learner=learner)

    (result,) = results
    assert not result.passed
    assert "Ines Walch rejected the write-off of 180.00 EUR" in result.found
    assert SHORT_PAYMENT_DISPUTE.manager.write_off in result.feedback
    client.post(
        f"{base(session)}cases/1/credit-note/",
        {"amount": "180.00", "message": "We credit the broken olive oil."},
    )
    proposal = ResolutionProposal.objects.get(case__company=session.company)
    client.post(
        f"/practice/sessions/{session.pk}/proposals/{proposal.pk}/answer/",
        {"decision": "accept"},
    )
    assert score(session) == 100


def test_credit_above_limit_gets_answer(learner, manager):
    session, client = begin(learner, "duplicate-invoice")
    invoices = Invoice.objects.count()
    notifications = Notification.objects.count()

    response = client.post(
        f"{base(session)}cases/1/credit-note/",
        {"amount": "320.00", "message": "We cancel the second invoice."},
        follow=True,
    )

    reason = DUPLICATE_INVOICE.manager.credit_note
    assert messages_of(response) == [
        f"Ines Walch rejected the credit note of 320.00 EUR on case 1: {reason} "
        "Nothing was booked, and the case stays with you."
    ]
    assert not ResolutionProposal.objects.exists()
    assert Invoice.objects.count() == invoices
    assert Approval.objects.count() == 0
    assert Notification.objects.count() == notifications
    # The duplicate can still be cancelled, which settles the scenario.
    case = only_case(session, "DUPLICATE_INVOICE")
    services.start_case(session=session, case_id=case.pk, learner=learner)
    services.resolve_case(
        session=session,
        case_id=case.pk,
        learner=learner,
        resolution_code="duplicate_cancelled",
        note="Second invoice for the same delivery.",
    )
    assert score(session) == 100


def test_manager_approves_credit_within_rules(learner, manager):
    session, client = begin(learner, "broken-goods-credit")
    notifications = Notification.objects.count()

    response = client.post(
        f"{base(session)}cases/1/credit-note/",
        {"amount": "292.50", "message": "We credit the broken olive oil."},
        follow=True,
    )

    approval = BROKEN_GOODS_CREDIT.manager.approval
    assert messages_of(response) == [
        f"Ines Walch approved the credit note of 292.50 EUR on case 1: {approval} "
        "The credit note now waits for the customer's answer: answer as the "
        "customer on the session page."
    ]
    assert response.content.decode().count(approval) == 1
    proposal = ResolutionProposal.objects.get(case__company=session.company)
    assert proposal.state == ResolutionProposal.State.AWAITING_CUSTOMER
    assert proposal.amount == Decimal("292.50")
    assert Notification.objects.count() == notifications
    session.refresh_from_db()
    assert session.manager_decisions[0]["approved"] is True
    event = AuditEvent.objects.get(action="practice.manager_approved")
    assert event.object_id == str(session.pk)
    case = only_case(session, "SHORT_PAYMENT")
    assert case.state == "proposed_resolution"

    waiting = services.check_session(session_id=session.pk, learner=learner)
    page = client.get(f"/practice/sessions/{session.pk}/").content.decode()
    client.post(
        f"/practice/sessions/{session.pk}/proposals/{proposal.pk}/answer/",
        {"decision": "accept"},
    )

    assert waiting[0].feedback == (
        "The manager approved your credit note, so it waits for the customer's "
        "answer: answer as the customer on the session page."
    )
    assert "Ines Walch approved the credit note of 292.50 EUR" in page
    assert score(session) == 100


def test_manager_rejects_write_off_despite_credit_rule(learner):
    session, client = begin(learner, "broken-goods-credit")

    response = client.post(
        f"{_case_url(session)}write-off/", {"reason": WHY}, follow=True
    )

    reason = BROKEN_GOODS_CREDIT.manager.write_off
    assert messages_of(response) == [
        f"Ines Walch rejected the write-off of 292.50 EUR on case 1: {reason} "
        "Nothing was booked, and the case stays with you."
    ]
    assert Approval.objects.count() == 0


def test_credit_within_limit_reaches_customer(learner):
    session, client = begin(learner, "short-payment-dispute")

    response = client.post(
        f"{base(session)}cases/1/credit-note/",
        {"amount": "180.00", "message": "We credit the broken olive oil."},
        follow=True,
    )

    assert messages_of(response) == ["Proposed the credit note."]
    proposal = ResolutionProposal.objects.get(case__company=session.company)
    assert proposal.state == ResolutionProposal.State.AWAITING_CUSTOMER
    session.refresh_from_db()
    assert session.manager_decisions == []


def test_write_off_within_limit_needs_no_answer(learner):
    session, client = begin(learner, "short-payment-write-off")

    response = client.post(
        f"{_case_url(session)}write-off/", {"reason": WHY}, follow=True
    )

    assert messages_of(response) == [
        "A write-off of 12.50 EUR is within the 50.00 limit, so it needs no "
        "approval: start work on the case, then resolve it with the Write-off "
        "resolution code."
    ]
    session.refresh_from_db()
    assert session.manager_decisions == []


def test_service_returns_decision(learner):
    session = services.start_session(
        learner=learner, scenario_key="short-payment-dispute"
    )
    case = only_case(session, "SHORT_PAYMENT")

    decision = services.request_write_off(
        session=session, case_id=case.pk, learner=learner, reason=WHY
    )

    assert (decision.case_number, decision.amount) == (1, "180.00 EUR")
    assert decision.reason == SHORT_PAYMENT_DISPUTE.manager.write_off
    assert Approval.objects.count() == 0


def test_service_request_needs_reason(learner):
    session = services.start_session(
        learner=learner, scenario_key="short-payment-dispute"
    )
    case = only_case(session, "SHORT_PAYMENT")

    with pytest.raises(CaseError) as error:
        services.request_write_off(
            session=session, case_id=case.pk, learner=learner, reason=" "
        )

    assert str(error.value) == "A write-off request needs a reason."
    session.refresh_from_db()
    assert session.manager_decisions == []


def test_reset_clears_answers(learner):
    session, client = begin(learner, "short-payment-dispute")
    client.post(f"{_case_url(session)}write-off/", {"reason": WHY})

    services.reset_session(session_id=session.pk, learner=learner)

    session.refresh_from_db()
    assert session.manager_decisions == []


def test_real_approval_left_alone(learner, manager, customer_party, sales_rep):
    clerk = make_person("rhea", Role.FINANCE_CLERK)
    real = _real_pending_approval(customer_party, sales_rep, clerk)
    notifications = Notification.objects.count()
    session, client = begin(learner, "short-payment-dispute")

    client.post(f"{_case_url(session)}write-off/", {"reason": WHY})

    real.refresh_from_db()
    assert real.decision == Approval.Decision.PENDING
    assert list(pending_approvals()) == [real]
    assert Approval.objects.count() == 1
    assert Notification.objects.count() == notifications


def _real_pending_approval(customer_party, sales_rep, clerk) -> Approval:
    """Request a real write-off of 83.63 USD, above the limit, on a real case."""
    order = create_order(
        lines=[("10", "36.36")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    create_shipment(order=order)
    invoice = create_invoice(order=order)
    create_payment(invoice=invoice, amount="279.97")
    refresh_order(order=order)
    case = make_case(order, invoice=invoice, state="in_progress", assignee=clerk)
    return approvals.request_write_off(
        case_id=case.pk, actor=clerk, reason="Real request."
    )


@pytest.mark.parametrize("key", sorted(SCENARIOS))
def test_manager_reasons_hide_expected_code(key):
    scenario = SCENARIOS[key]
    reasons = (scenario.manager.write_off, scenario.manager.credit_note)
    for item in scenario.resolutions:
        for code in item.codes:
            label = str(ResolutionCode(code).label).lower()
            for reason in reasons:
                assert label not in reason.lower(), (key, code)
                assert code not in reason, (key, code)


def test_approved_credit_keeps_approval_row(learner):
    session, client = begin(learner, "broken-goods-credit")

    client.post(
        f"{base(session)}cases/1/credit-note/",
        {"amount": "292.50", "message": "We credit the broken olive oil."},
    )

    approval = Approval.objects.get()
    assert approval.decision == Approval.Decision.APPROVED
    assert approval.requested_by == learner
    assert approval.approver is not None
    assert approval.approver != learner
    assert approval.approver.display_name == "Ines Walch"
    assert approval.approver.role == Role.MANAGER
    assert not approval.approver.is_active
    assert not approval.approver.has_usable_password()
    assert approval.decided_at is not None
    assert approval.reason == BROKEN_GOODS_CREDIT.manager.approval


def test_approval_trail_names_kept_row(learner):
    session, client = begin(learner, "broken-goods-credit")

    client.post(
        f"{base(session)}cases/1/credit-note/",
        {"amount": "292.50", "message": "We credit the broken olive oil."},
    )

    approval = Approval.objects.get()
    requested = AuditEvent.objects.get(action="approval.requested")
    approved = AuditEvent.objects.get(action="approval.approved")
    assert requested.object_id == str(approval.pk)
    assert approved.object_id == str(approval.pk)
    assert approved.actor == approval.approver
    assert approved.after == {"decision": "approved", "case_id": approval.case_id}


def test_scripted_account_is_reused(learner):
    for _ in range(2):
        session, client = begin(learner, "broken-goods-credit")
        client.post(
            f"{base(session)}cases/1/credit-note/",
            {"amount": "292.50", "message": "We credit the broken olive oil."},
        )

    accounts = User.objects.filter(username__startswith=SCRIPTED_ACCOUNT_PREFIX)
    assert list(accounts.values_list("username", flat=True)) == [
        "practice-manager-ines-walch"
    ]
