"""Four-eyes approval of write-offs and of credit notes above their limits.

A clerk requests a write-off approval for the case's difference when it is
above ``RECONCILIATION_WRITE_OFF_LIMIT``. The limit is an amount in the
company currency, so a write-off in another currency is converted at its
invoice's exchange rate first. A sales rep's credit note above the credit
limit requests its approval in ``credit_proposals.propose_credit_note``.

A manager who is not the requester approves or rejects either kind. The
database rejects an approval row whose approver is its requester, and
``decide_approval`` checks it first to give a clear message.
"""

import logging
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from core.audit import record_event
from core.models import AuditEvent
from reconciliation import notices
from reconciliation.cases import (
    TRANSITIONS,
    CaseError,
    case_invoice,
    check_money_case,
    check_write_off_room,
    finish_approved_write_off,
    in_company_currency,
    lock_case,
    lock_case_invoice,
    open_proposal,
    open_proposal_message,
    pending_approval_message,
    require_case_worker,
    write_off_amount,
    write_off_and_limit_text,
    write_off_limit,
)
from reconciliation.models import Approval, Discrepancy, Invoice, ResolutionCode
from reconciliation.money import format_money

logger = logging.getLogger(__name__)


def request_write_off(*, case_id: int, actor: User, reason: str) -> Approval:
    """Ask for approval to write off the case's difference above the limit."""
    if not reason.strip():
        raise CaseError("A write-off request needs a reason.")

    with transaction.atomic():
        case = lock_case(case_id)
        require_case_worker(actor, case)
        if not case.is_active:
            raise CaseError(
                "Case {case} is {state}: reopen it before requesting a write-off.",
                case_id=case.pk,
                state=case.state,
            )
        amount = write_off_amount(case)
        limit = write_off_limit()
        invoice = case_invoice(case)
        check_money_case(case, invoice)
        in_company = in_company_currency(invoice, amount, limit_name="write-off limit")
        if in_company <= limit:
            raise CaseError(_within_limit_message(case, invoice, amount, limit))
        _check_nothing_waits(case, amount)
        _check_room(case, amount)

        approval = Approval.objects.create(
            case=case,
            action=ResolutionCode.WRITE_OFF,
            amount=amount,
            currency_id=case.unit,
            requested_by=actor,
            request_reason=reason,
        )
        record_event(
            actor=actor,
            action="approval.requested",
            target=approval,
            source=AuditEvent.Source.SCREEN,
            after={
                "case_id": case.pk,
                "action": approval.action,
                "amount": str(amount),
                "currency": case.unit,
            },
            reason=reason,
        )
        notices.approval_requested(approval, actor=actor)
    logger.info(
        "Write-off approval %s requested on case %s by user %s",
        approval.pk,
        case_id,
        actor.pk,
    )
    return approval


def _check_nothing_waits(case: Discrepancy, amount: Decimal) -> None:
    """Raise when the locked ``case`` has a decision pending or one already made.

    A pending approval or a proposal that waits for the customer or a
    manager comes first: a write-off beside it would settle the same
    difference twice. An approved write-off that covers ``amount`` needs no
    second request, only the resolution.
    """
    pending = (
        Approval.objects.select_for_update(of=("self",))
        .filter(case=case, decision=Approval.Decision.PENDING)
        .select_related("currency")
        .order_by("pk")
        .first()
    )
    if pending is not None:
        raise CaseError(pending_approval_message(case, pending, "request a write-off"))
    proposal = open_proposal(case)
    if proposal is not None:
        raise CaseError(open_proposal_message(case, proposal))
    approved = (
        Approval.objects.filter(
            case=case,
            action=ResolutionCode.WRITE_OFF,
            decision=Approval.Decision.APPROVED,
            amount__gte=amount,
        )
        .select_related("currency")
        .order_by("pk")
        .first()
    )
    if approved is not None:
        minor_units = approved.currency.minor_units
        raise CaseError(
            "A manager already approved the write-off of {amount} {currency} "
            "on case {case} (approval {approval}): resolve the case with the "
            "Write-off resolution code.",
            case_id=case.pk,
            amount=format_money(approved.amount, minor_units=minor_units),
            currency=approved.currency_id,
            approval=approved.pk,
        )


def _check_room(case: Discrepancy, amount: Decimal) -> None:
    """Raise when the write-off would not fit on the invoice now.

    The request reserves nothing: ``resolve_case`` checks again, under the
    same invoice lock, when it books the write-off.
    """
    invoice = lock_case_invoice(case)
    residual = invoice.amount_residual
    if residual > 0:
        check_write_off_room(invoice, min(amount, residual))


def _within_limit_message(
    case: Discrepancy, invoice: Invoice, amount: Decimal, limit: Decimal
) -> str:
    """Say that no approval is needed, and how to resolve the case from its state."""
    amount_text, limit_text = write_off_and_limit_text(case, invoice, amount, limit)
    if Discrepancy.State.RESOLVED in TRANSITIONS.get(case.state, ()):
        next_step = "resolve the case with the Write-off resolution code."
    else:
        # The case page offers Resolve only on a case in progress (or one
        # with a proposed resolution), so the person starts work first.
        next_step = (
            "start work on the case, then resolve it with the Write-off "
            "resolution code."
        )
    return (
        f"A write-off of {amount_text} is within the {limit_text} limit, "
        f"so it needs no approval: {next_step}"
    )


def decide_approval(
    *, approval_id: int, approver: User, approve: bool, reason: str
) -> Approval:
    """Approve or reject a pending request; the approver is not the requester.

    A credit-note approval also decides its proposal: approved, it goes to
    the customer, and rejected, it is withdrawn with its draft credit note.
    An approved write-off is booked and resolves the case at once, so the
    requester has nothing left to do. A case that is no longer active can
    only have its approval rejected. The case page and the approvals screen
    both decide through here.
    """
    with transaction.atomic():
        # The case is locked before the approval, in the same order as
        # ``request_write_off`` and ``resolve_case``, so they cannot deadlock.
        case_id = (
            Approval.objects.filter(pk=approval_id)
            .values_list("case_id", flat=True)
            .first()
        )
        if case_id is None:
            raise CaseError(
                f"Approval {approval_id} was not found: it may have been "
                "withdrawn. Reload the approvals."
            )
        case = lock_case(case_id)
        approval = Approval.objects.select_for_update().get(pk=approval_id)
        label = _action_label(approval)
        if approver.role != Role.MANAGER or not approver.is_active:
            raise PermissionDenied(
                f"{approver.username} may not decide approval {approval.pk}: "
                f"only a manager decides {label}s."
            )
        if approver.pk == approval.requested_by_id:
            raise CaseError(
                f"{approver.username} requested approval {approval.pk} and cannot "
                "also approve it: another manager must decide."
            )
        if approval.decision != Approval.Decision.PENDING:
            raise CaseError(f"Approval {approval.pk} was already {approval.decision}.")
        if not approve and not reason.strip():
            raise CaseError(f"Rejecting a {label} needs a reason.")
        if approve and not case.is_active:
            # Rejecting stays possible, so a manager can clear the request.
            raise CaseError(
                "Case {case} is {state}, so approval {approval} is no longer "
                "needed: reject it with a reason to clear it.",
                case_id=case.pk,
                state=case.get_state_display().lower(),
                approval=approval.pk,
            )

        approval.decision = (
            Approval.Decision.APPROVED if approve else Approval.Decision.REJECTED
        )
        approval.approver = approver
        approval.decided_at = timezone.now()
        approval.reason = reason
        approval.save(update_fields=["decision", "approver", "decided_at", "reason"])
        record_event(
            actor=approver,
            action=f"approval.{approval.decision}",
            target=approval,
            source=AuditEvent.Source.SCREEN,
            before={"decision": Approval.Decision.PENDING},
            after={"decision": approval.decision, "case_id": approval.case_id},
            reason=reason,
        )
        if approval.action == ResolutionCode.CREDIT_NOTE:
            # Imported here because ``work`` imports this module at load time.
            from reconciliation.approval_decisions import follow_credit_note_decision

            follow_credit_note_decision(
                approval, approver=approver, approve=approve, reason=reason
            )
        elif approval.action == ResolutionCode.WRITE_OFF and approve:
            finish_approved_write_off(case, approver=approver, approval=approval)
        notices.approval_decided(approval, approver=approver)
    logger.info(
        "Approval %s %s by user %s", approval.pk, approval.decision, approver.pk
    )
    return approval


def _action_label(approval: Approval) -> str:
    """Return the approved action in lower case, such as ``write-off``."""
    if approval.action in ResolutionCode.values:
        return str(ResolutionCode(approval.action).label).lower()
    return approval.action
