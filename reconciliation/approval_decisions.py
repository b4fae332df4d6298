"""Finance manager decisions on approvals, and what follows a decided credit note."""

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Role, User
from portal.models import ProblemReport, ResolutionProposal
from reconciliation import approvals, cases
from reconciliation.credit_proposals import (
    check_room_for_proposal,
    offer_to_customer,
    withdraw_proposal,
)
from reconciliation.models import (
    Approval,
    Discrepancy,
)
from reconciliation.work import (
    State,
    WorkError,
    move_case,
    require_role,
)

# The values of the two decision buttons on the approvals and case screens.
APPROVE, REJECT = "approve", "reject"


def parse_decision(raw: str) -> bool:
    """Return True for an approval, False for a rejection; raise for anything else.

    Any other value is rejected so that a tampered form is never read as a
    rejection.
    """
    if raw == APPROVE:
        return True
    if raw == REJECT:
        return False
    raise WorkError(f"Decision {raw[:40]!r} is invalid: choose {APPROVE} or {REJECT}.")


def decide_approval(
    *, approval_id: int, approver: User, approve: bool, reason: str
) -> Approval:
    """Decide an approval from the approvals screen, as a manager.

    ``approvals.decide_approval`` records the decision and, for a credit
    note, offers the proposal to the customer or withdraws it.
    """
    require_role(approver, Role.MANAGER, "decide approvals")
    return approvals.decide_approval(
        approval_id=approval_id, approver=approver, approve=approve, reason=reason
    )


def follow_credit_note_decision(
    approval: Approval, *, approver: User, approve: bool, reason: str
) -> None:
    """Offer the waiting proposal of a decided credit-note approval, or withdraw it.

    The caller holds the case lock. Before the proposal is offered, the
    invoice total is checked again, in case another path posted a credit
    note on the invoice while the approval waited.
    """
    case = cases.lock_case(approval.case_id)
    proposal = (
        ResolutionProposal.objects.select_for_update(of=("self",))
        .select_related("credit_note")
        .filter(case=case, state=ResolutionProposal.State.AWAITING_APPROVAL)
        .first()
    )
    if proposal is None:
        return
    if approve:
        check_report_unchanged(case, proposal)
        check_room_for_proposal(case, proposal)
        proposal.state = ResolutionProposal.State.AWAITING_CUSTOMER
        proposal.save(update_fields=["state"])
        offer_to_customer(case, proposal, approver)
    else:
        withdraw_proposal(proposal, actor=approver, reason=reason)
        move_case(case, actor=approver, to=State.IN_PROGRESS, reason=reason)


def check_report_unchanged(case: Discrepancy, proposal: ResolutionProposal) -> None:
    """Raise when the customer reported more units after the credit was requested.

    The credit was worked out for the units reported then, so offering it
    would settle the case with too little. The manager rejects it, and the
    sales rep proposes again for the new quantity.
    """
    later = (
        ProblemReport.objects.filter(
            case=case, more_units=True, reported_at__gt=proposal.proposed_at
        )
        .order_by("reported_at", "pk")
        .first()
    )
    if later is None:
        return
    raise WorkError(
        "The customer reported more {kind} units on case {case} on {day}, after "
        "this credit note was requested, so it no longer covers the case: "
        "reject it with a reason, and the sales rep proposes again for the new "
        "quantity.",
        case_id=case.pk,
        kind=later.kind,
        day=f"{timezone.localtime(later.reported_at):%Y-%m-%d}",
    )


def pending_approvals() -> QuerySet[Approval]:
    return (
        Approval.objects.filter(decision=Approval.Decision.PENDING)
        .exclude(case__company__practice_session__isnull=False)
        .select_related(
            "case",
            "case__order",
            "case__invoice__currency",
            "currency",
            "requested_by",
        )
        .order_by("requested_at", "pk")
    )
