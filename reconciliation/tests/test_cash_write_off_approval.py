"""A write-off above the limit, from the cash screen to a manager's decision.

Named people: fiona (finance clerk), mona (manager). Hanari Carnes paid
invoices of 1,332.00 and 1,402.00 USD with one payment of 2,714.00
(``build_trial``): the bank kept 20.00. The write-off limit is 10.00, so
fiona's write-off of the 20.00 goes to a manager.
"""

from decimal import Decimal

import pytest

from accounts.models import Role
from core.models import AuditEvent
from core.testing import messages_of, signed_in
from reconciliation import approvals, cases
from reconciliation.models import Allocation, Approval, Discrepancy, Invoice, Payment
from reconciliation.tests.test_cash_tray import (
    APPLY_URL,
    CASH_URL,
    build_trial,
    tray_post,
)

pytestmark = pytest.mark.django_db

APPROVALS_URL = "/reconciliation/work/approvals/"
NOTE = "The bank kept 20.00 USD on the transfer."


@pytest.fixture(autouse=True)
def _pinned_settings(settings):
    settings.RECONCILIATION_PAYMENT_TOLERANCE = "0.01"
    settings.RECONCILIATION_WRITE_OFF_LIMIT = "10.00"


def decide_url(approval: Approval) -> str:
    return f"{APPROVALS_URL}{approval.pk}/decide/"


def request_on_cash_screen(clerk) -> tuple[Payment, Invoice, Invoice, Approval]:
    """Post fiona's tray with its write-off; return the documents and approval."""
    payment, first, second = build_trial()
    response = signed_in(clerk).post(
        APPLY_URL,
        tray_post(
            payment,
            [(first, "1332.00"), (second, "1382.00")],
            writeoff_invoice=second.pk,
            reason_code="bank_charge",
            note=NOTE,
        ),
        follow=True,
    )
    approval = Approval.objects.get()
    assert messages_of(response) == [
        f"Applied 2,714.00 USD of payment PAY-11080 to {first.number}, "
        f"{second.number}. Payment PAY-11080 is applied in full. The write-off "
        f"of 20.00 USD on invoice {second.number} is above your limit, so it was "
        f"sent to a manager for approval on case {approval.case_id}."
    ]
    return payment, first, second, approval


def figures(payment: Payment, invoice: Invoice) -> dict[str, object]:
    """Read what the decision may change: residuals, write-off, case."""
    payment.refresh_from_db()
    invoice.refresh_from_db()
    allocation = Allocation.objects.get(invoice=invoice)
    case = Discrepancy.objects.get(invoice=invoice, code="SHORT_PAYMENT")
    return {
        "payment_left": payment.amount_unallocated,
        "invoice_open": invoice.amount_residual,
        "forgiven": allocation.writeoff_forgiven,
        "case": (case.state, case.resolution_code),
    }


def test_request_waits_for_manager(clerk):
    payment, _, second, approval = request_on_cash_screen(clerk)

    assert (approval.decision, approval.requested_by, approval.amount) == (
        Approval.Decision.PENDING,
        clerk,
        Decimal("20.00"),
    )
    assert approval.request_reason == f"Bank charge: {NOTE}"
    assert figures(payment, second) == {
        "payment_left": Decimal("0"),
        "invoice_open": Decimal("20.00"),
        "forgiven": Decimal("0"),
        "case": ("in_progress", ""),
    }
    requested = AuditEvent.objects.get(action="approval.requested")
    assert (requested.actor, requested.actor_role, requested.reason) == (
        clerk,
        Role.FINANCE_CLERK,
        f"Bank charge: {NOTE}",
    )
    assert requested.after == {
        "case_id": approval.case_id,
        "action": "write_off",
        "amount": "20.0000",
        "currency": "USD",
    }


def test_cash_screen_names_waiting_write_off(clerk):
    payment, _, second, approval = request_on_cash_screen(clerk)

    page = signed_in(clerk).get(CASH_URL, {"payment": payment.pk})

    [(invoice, _, _, waiting)] = page.context["partly_paid"]
    assert (invoice, waiting.approval) == (second, approval)
    html = page.content.decode()
    assert (
        f"The write-off of 20.00 USD waits for a manager's approval (<a "
        f'href="/reconciliation/cases/{approval.case_id}/">case '
        f"{approval.case_id}</a>); it is booked when a manager approves it."
    ) in html
    assert "Write off 20.00 USD" not in html


def test_requester_cannot_approve_own_request(clerk):
    payment, _, second, approval = request_on_cash_screen(clerk)
    before = figures(payment, second)
    client = signed_in(clerk)

    # As a finance clerk, the approvals screen and its decision are not hers.
    assert client.get(APPROVALS_URL).status_code == 403
    refused = client.post(
        decide_url(approval), {"decision": "approve", "reason": "Mine"}
    )
    assert refused.status_code == 403

    # Made a manager later, she still cannot approve what she requested.
    clerk.role = Role.MANAGER
    clerk.save(update_fields=["role"])
    page = client.get(APPROVALS_URL)
    assert "Yours: another manager decides." in page.content.decode()
    own = client.post(
        decide_url(approval), {"decision": "approve", "reason": "Mine"}, follow=True
    )
    assert messages_of(own) == [
        f"fiona requested approval {approval.pk} and cannot also approve it: "
        "another manager must decide."
    ]
    with pytest.raises(cases.CaseError):
        approvals.decide_approval(
            approval_id=approval.pk, approver=clerk, approve=True, reason="Mine"
        )

    approval.refresh_from_db()
    assert approval.decision == Approval.Decision.PENDING
    assert figures(payment, second) == before
    assert not AuditEvent.objects.filter(action="approval.approved").exists()


def test_manager_approval_books_write_off(clerk, manager):
    payment, first, second, approval = request_on_cash_screen(clerk)

    done = signed_in(manager).post(
        decide_url(approval),
        {"decision": "approve", "reason": "A bank charge, as the statement shows."},
        follow=True,
    )

    assert messages_of(done) == [
        f"Approved the write-off of 20.00 USD on case {approval.case_id}. The "
        "write-off is booked and the case is resolved; the requester is told."
    ]
    approval.refresh_from_db()
    assert (approval.decision, approval.approver) == (
        Approval.Decision.APPROVED,
        manager,
    )
    assert figures(payment, second) == {
        "payment_left": Decimal("0"),
        "invoice_open": Decimal("0"),
        "forgiven": Decimal("20.00"),
        "case": ("resolved", "write_off"),
    }
    first.refresh_from_db()
    assert first.amount_residual == 0
    case = Discrepancy.objects.get(pk=approval.case_id)
    assert case.resolved_by == clerk
    assert case.resolution_note == (
        f"Write-off approved by {manager.display_name} (approval {approval.pk}): "
        f"Bank charge: {NOTE}"
    )

    approved = AuditEvent.objects.get(action="approval.approved")
    assert (approved.actor, approved.actor_role) == (manager, Role.MANAGER)
    assert (approved.before, approved.after) == (
        {"decision": "pending"},
        {"decision": "approved", "case_id": case.pk},
    )
    written = AuditEvent.objects.get(action="allocation.written_off")
    assert (written.actor, written.actor_role) == (manager, Role.MANAGER)
    assert (written.before["writeoff_forgiven"], written.after) == (
        "0.0000",
        {"writeoff_forgiven": "20.0000", "writeoff_kept": "0.0000", "case": case.pk},
    )
    resolved = AuditEvent.objects.filter(
        action="case.state_changed", object_id=str(case.pk)
    ).latest("pk")
    assert (resolved.actor, resolved.before["state"], resolved.after["state"]) == (
        manager,
        "in_progress",
        "resolved",
    )


def test_rejection_leaves_everything_as_before(clerk, manager):
    payment, _, second, approval = request_on_cash_screen(clerk)
    before = figures(payment, second)
    events = AuditEvent.objects.count()
    client = signed_in(manager)

    no_reason = client.post(
        decide_url(approval), {"decision": "reject", "reason": ""}, follow=True
    )
    assert messages_of(no_reason) == ["Rejecting a write-off needs a reason."]
    assert AuditEvent.objects.count() == events

    done = client.post(
        decide_url(approval),
        {"decision": "reject", "reason": "Ask the customer for the 20.00."},
        follow=True,
    )

    assert messages_of(done) == [
        f"Rejected the write-off of 20.00 USD on case {approval.case_id}. Nothing "
        "was written off; the requester is told to resolve the case another way."
    ]
    approval.refresh_from_db()
    assert (approval.decision, approval.approver) == (
        Approval.Decision.REJECTED,
        manager,
    )
    assert figures(payment, second) == before
    rejected = AuditEvent.objects.get(action="approval.rejected")
    assert (rejected.actor, rejected.actor_role, rejected.reason) == (
        manager,
        Role.MANAGER,
        "Ask the customer for the 20.00.",
    )
    assert (rejected.before, rejected.after) == (
        {"decision": "pending"},
        {"decision": "rejected", "case_id": approval.case_id},
    )
    assert not AuditEvent.objects.filter(action="allocation.written_off").exists()
