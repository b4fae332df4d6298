"""Four-eyes approval of write-offs above the limit."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from core.models import AuditEvent
from reconciliation import approvals, cases
from reconciliation.cases import CaseError
from reconciliation.models import Approval, Discrepancy

pytestmark = pytest.mark.django_db

State = Discrepancy.State
NOTE = "Customer deducted a disputed freight charge; sales agreed to forgive it."


@pytest.fixture
def worked_case(short_payment_case, clerk):
    Discrepancy.objects.filter(pk=short_payment_case.pk).update(
        state=State.IN_PROGRESS, assignee=clerk
    )
    return short_payment_case


def request(case, clerk):
    return approvals.request_write_off(
        case_id=case.pk, actor=clerk, reason="Freight deduction, agreed by sales."
    )


def test_request_records_amount_and_event(worked_case, clerk):
    approval = request(worked_case, clerk)

    assert str(approval.amount) == "83.6300"
    assert approval.currency_id == "USD"
    assert approval.decision == Approval.Decision.PENDING
    event = AuditEvent.objects.get(action="approval.requested")
    assert event.actor == clerk
    assert event.after["case_id"] == worked_case.pk
    assert event.reason == "Freight deduction, agreed by sales."


def test_second_manager_approval_resolves_case(worked_case, clerk, manager):
    approval = request(worked_case, clerk)

    approvals.decide_approval(
        approval_id=approval.pk, approver=manager, approve=True, reason="Agreed."
    )

    case = Discrepancy.objects.get(pk=worked_case.pk)
    assert case.state == State.RESOLVED
    assert case.resolution_code == "write_off"
    assert case.resolved_by == clerk
    event = AuditEvent.objects.get(action="approval.approved")
    assert event.actor == manager
    assert event.before == {"decision": "pending"}
    resolved = AuditEvent.objects.get(
        action="case.state_changed", after__state=State.RESOLVED
    )
    assert resolved.actor == manager


def test_requester_cannot_approve_own_write_off(worked_case, manager, second_manager):
    approval = request(worked_case, manager)

    with pytest.raises(CaseError) as raised:
        approvals.decide_approval(
            approval_id=approval.pk, approver=manager, approve=True, reason=""
        )

    assert str(raised.value) == (
        f"mona requested approval {approval.pk} and cannot also approve it: "
        "another manager must decide."
    )
    approvals.decide_approval(
        approval_id=approval.pk, approver=second_manager, approve=True, reason=""
    )
    approval.refresh_from_db()
    assert approval.approver == second_manager


def test_database_rejects_approver_equal_to_requester(worked_case, manager):
    approval = request(worked_case, manager)
    approval.approver = manager
    approval.decision = Approval.Decision.APPROVED
    approval.decided_at = approval.requested_at

    with pytest.raises(IntegrityError), transaction.atomic():
        approval.save()


def test_clerk_may_not_approve(worked_case, clerk, super_user):
    approval = request(worked_case, clerk)

    with pytest.raises(PermissionDenied) as raised:
        approvals.decide_approval(
            approval_id=approval.pk, approver=super_user, approve=True, reason=""
        )

    assert str(raised.value) == (
        f"petra may not decide approval {approval.pk}: only a manager decides "
        "write-offs."
    )


def test_rejected_approval_blocks_write_off(worked_case, clerk, manager):
    approval = request(worked_case, clerk)
    approvals.decide_approval(
        approval_id=approval.pk,
        approver=manager,
        approve=False,
        reason="Chase the customer first.",
    )

    with pytest.raises(CaseError):
        cases.resolve_case(
            case_id=worked_case.pk, actor=clerk, resolution_code="write_off", note=NOTE
        )


def test_reject_needs_reason(worked_case, clerk, manager):
    approval = request(worked_case, clerk)

    with pytest.raises(CaseError) as raised:
        approvals.decide_approval(
            approval_id=approval.pk, approver=manager, approve=False, reason=""
        )

    assert str(raised.value) == "Rejecting a write-off needs a reason."


def test_decided_approval_cannot_be_decided_again(
    worked_case, clerk, manager, second_manager
):
    approval = request(worked_case, clerk)
    approvals.decide_approval(
        approval_id=approval.pk, approver=manager, approve=True, reason=""
    )

    with pytest.raises(CaseError) as raised:
        approvals.decide_approval(
            approval_id=approval.pk, approver=second_manager, approve=False, reason="No"
        )

    assert str(raised.value) == f"Approval {approval.pk} was already approved."


def test_one_pending_request_per_case(worked_case, clerk):
    first = request(worked_case, clerk)

    with pytest.raises(CaseError) as raised:
        request(worked_case, clerk)

    assert str(raised.value) == (
        f"Case {worked_case.pk} has approval {first.pk} for a write-off of "
        "83.63 USD waiting for a manager: you cannot request a "
        "write-off until a manager decides it."
    )
    assert Approval.objects.filter(case=worked_case).count() == 1


def test_request_within_limit_is_rejected(worked_case, clerk, settings):
    settings.RECONCILIATION_WRITE_OFF_LIMIT = "100.00"

    with pytest.raises(CaseError) as raised:
        request(worked_case, clerk)

    assert str(raised.value) == (
        "A write-off of 83.63 USD is within the 100.00 limit, so it needs no "
        "approval: resolve the case with the Write-off resolution code."
    )


def test_approval_for_smaller_amount_does_not_cover(worked_case, clerk, manager):
    approval = request(worked_case, clerk)
    approvals.decide_approval(
        approval_id=approval.pk, approver=manager, approve=True, reason=""
    )
    Discrepancy.objects.filter(pk=worked_case.pk).update(difference="-120.00")

    with pytest.raises(CaseError):
        cases.resolve_case(
            case_id=worked_case.pk, actor=clerk, resolution_code="write_off", note=NOTE
        )


def test_request_on_resolved_case_is_rejected(worked_case, clerk):
    Discrepancy.objects.filter(pk=worked_case.pk).update(state=State.CLOSED)

    with pytest.raises(CaseError) as raised:
        request(worked_case, clerk)

    assert str(raised.value) == (
        f"Case {worked_case.pk} is closed: reopen it before requesting a write-off."
    )
