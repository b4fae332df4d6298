"""Sales rep decisions on price cases: uphold the price or offer a credit note.

A credit note over the rep's limit waits for a finance manager's approval;
one within it is offered to the customer at once. Each public function is one
transaction with an audit event whose source is the screen.
"""

import logging
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core.audit import record_event
from portal.models import ResolutionProposal
from reconciliation import cases, notices
from reconciliation.case_credit import case_open_amount
from reconciliation.credit_notes import (
    GoodsCreditError,
    InvoiceCredit,
    create_credit_lines,
    create_credit_note,
    credit_on_invoice,
    invoice_money,
    over_invoice_total,
    plan_credit_lines,
    proposal_over_total,
)
from reconciliation.goods_billing import GOODS_CODES, not_billed_message
from reconciliation.models import (
    Approval,
    Discrepancy,
    DiscrepancyCode,
    Invoice,
    ResolutionCode,
    Shipment,
)
from reconciliation.money import quantize_money
from reconciliation.services import RECEIVABLE_KINDS, lock_documents
from reconciliation.work import (
    SCREEN,
    State,
    WorkError,
    credit_limit,
    lock_case_for_rep,
    move_case,
    resolution_changes,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class UpheldPrice:
    """A price case resolved by keeping the invoiced price."""

    case: Discrepancy
    # The credit note proposal that waited for the customer and was withdrawn.
    withdrawn: ResolutionProposal | None


def uphold_invoiced_price(*, actor: User, case_id: int, reason: str) -> UpheldPrice:
    """Settle a price dispute by keeping the invoiced price.

    The case is resolved with ``ResolutionCode.PRICE_KEPT``, and neither the
    invoice nor the order changes.

    A credit note proposal that waits for the customer is withdrawn with its
    draft credit note, because keeping the price is the opposite decision and
    the customer must not accept both. A proposal that waits for a manager's
    approval is left to the manager, so the request is rejected.
    """
    if not reason.strip():
        raise WorkError("Say why the invoiced price is right.")
    with transaction.atomic():
        case = lock_case_for_rep(actor, case_id, "decide price disputes")
        if case.code != DiscrepancyCode.PRICE_MISMATCH:
            raise WorkError(
                "Case {case} is a {code} case, not a price one.",
                case_id=case.pk,
                code=case.code,
            )
        proposal = cases.open_proposal(case)
        if proposal is not None:
            if proposal.state != ResolutionProposal.State.AWAITING_CUSTOMER:
                raise WorkError(cases.open_proposal_message(case, proposal))
            _withdraw_for_rep(
                case,
                proposal,
                actor=actor,
                reason=f"The invoiced price is kept: {reason}",
            )
        code = ResolutionCode.PRICE_KEPT
        move_case(
            case,
            actor=actor,
            to=State.RESOLVED,
            reason=reason,
            changes=resolution_changes(case, code=code, note=reason, by=actor),
        )
    return UpheldPrice(case=case, withdrawn=proposal)


def withdraw_credit_proposal(
    *, actor: User, case_id: int, reason: str
) -> ResolutionProposal:
    """Withdraw the case's proposal that waits for the customer, and keep working.

    The draft credit note is cancelled and the case goes back in progress,
    so the sales rep can resolve it another way or propose again.
    """
    if not reason.strip():
        raise WorkError("Say why you withdraw the proposal, for the case's history.")
    with transaction.atomic():
        case = lock_case_for_rep(actor, case_id, "withdraw proposals")
        proposal = cases.open_proposal(case)
        if proposal is None:
            raise WorkError(
                "Case {case} has no proposal waiting for the customer: the "
                "customer may have answered it already, so reload the page.",
                case_id=case.pk,
            )
        if proposal.state != ResolutionProposal.State.AWAITING_CUSTOMER:
            raise WorkError(cases.open_proposal_message(case, proposal))
        _withdraw_for_rep(case, proposal, actor=actor, reason=reason)
        if case.state != State.IN_PROGRESS:
            move_case(
                case,
                actor=actor,
                to=State.IN_PROGRESS,
                reason=reason,
                changes={"resolution_code": "", "resolution_note": ""},
            )
    logger.info(
        "Proposal %s on case %s withdrawn by %s", proposal.pk, case_id, actor.pk
    )
    return proposal


def _withdraw_for_rep(
    case: Discrepancy, proposal: ResolutionProposal, *, actor: User, reason: str
) -> None:
    withdraw_proposal(proposal, actor=actor, reason=reason)
    record_event(
        actor=actor,
        action="proposal.withdrawn",
        target=proposal,
        source=SCREEN,
        before={"state": ResolutionProposal.State.AWAITING_CUSTOMER},
        after={"state": proposal.state, "case_id": case.pk},
        reason=reason,
    )


def propose_credit_note(
    *, actor: User, case_id: int, amount: Decimal, message: str
) -> ResolutionProposal:
    """Offer the customer a credit note on the case's invoice.

    Everything taken off the invoice counts: the posted credit notes, the
    open proposals of every case on it, what is written off it and this
    credit note. That sum may not exceed the invoice total, and the credit
    note may not exceed what the case leaves open. When the credit
    alone is above ``SALES_REP_CREDIT_LIMIT`` (in the company currency), the
    proposal waits for a manager's approval before the customer sees it.
    Write-offs do not count against the credit limit.
    """
    if not message.strip():
        raise WorkError("Write the customer a message that explains the credit note.")

    with transaction.atomic():
        case = lock_case_for_rep(actor, case_id, "issue credit notes")
        waiting = cases.open_proposal(case)
        if waiting is not None:
            raise WorkError(
                cases.open_proposal_message(case, waiting, on_decision_screen=True)
            )
        check_no_pending_approval(case, "propose a credit note")
        _check_no_pending_replacement(case)
        invoice = _creditable_invoice(case)
        amount = _check_credit_amount(invoice, amount)

        credit = credit_on_invoice(invoice)
        _check_invoice_total(invoice, credit, amount)
        _check_case_open_amount(case, invoice, amount)
        credit_note = _draft_credit_note(case, invoice, amount)
        in_company = _in_company_currency(invoice, credit.total + amount)
        needs_approval = in_company > credit_limit()
        proposal = ResolutionProposal.objects.create(
            case=case,
            resolution_code=ResolutionCode.CREDIT_NOTE,
            credit_note=credit_note,
            amount=amount,
            currency=invoice.currency_id,
            message=message.strip(),
            proposed_by=actor,
            state=ResolutionProposal.State.AWAITING_APPROVAL
            if needs_approval
            else ResolutionProposal.State.AWAITING_CUSTOMER,
        )
        record_event(
            actor=actor,
            action="credit_note.proposed",
            target=credit_note,
            source=SCREEN,
            after={
                "case_id": case.pk,
                "proposal_id": proposal.pk,
                "amount": str(amount),
                "currency": invoice.currency_id,
                "credited_before": str(credit.posted),
                "proposed_before": str(credit.proposed),
                "written_off_before": str(credit.written_off),
                "needs_approval": needs_approval,
                "lines": [
                    {
                        "product": line.product.sku,
                        "description": line.description,
                        "qty": str(line.qty),
                        "unit_price": str(line.unit_price),
                        "subtotal": str(line.subtotal),
                        # A share of a money credit, not units at a price.
                        "amount_only": line.amount_only,
                    }
                    for line in credit_note.lines.select_related("product")
                ],
            },
            reason=message,
        )
        if needs_approval:
            reason = _approval_reason(invoice, credit, amount, in_company)
            _request_credit_approval(case, proposal, actor, reason)
        else:
            offer_to_customer(case, proposal, actor)
    logger.info("Credit note %s proposed on case %s", credit_note.number, case_id)
    return proposal


def _check_no_pending_replacement(case: Discrepancy) -> None:
    """Raise while a replacement the customer accepted waits to ship.

    The customer agreed to get the units again, so crediting them too would
    settle the same units twice. Once it ships, the case resolves.
    """
    shipment = (
        Shipment.objects.filter(replaces_case=case, state=Shipment.State.DRAFT)
        .order_by("pk")
        .first()
    )
    if shipment is None:
        return
    raise WorkError(
        "Case {case} waits for replacement shipment {shipment}, which the "
        "customer accepted: a credit note would settle the same units twice. "
        "Wait for the warehouse to ship it, or ask them to discard it first.",
        case_id=case.pk,
        shipment=shipment.number,
    )


def _creditable_invoice(case: Discrepancy) -> Invoice:
    """Lock and return the case's invoice, or raise when it cannot be credited.

    The lock makes two proposals on the same invoice, from two cases, and a
    proposal and a write-off add up its credit one after the other.
    """
    if case.invoice_id is None and case.code in GOODS_CODES:
        raise WorkError(not_billed_message(case))
    if case.invoice_id is None or case.order is None:
        raise WorkError(
            "Case {case} names no invoice of an order, so there is nothing to credit.",
            case_id=case.pk,
        )
    lock_documents({Invoice: [case.invoice_id]})
    invoice = Invoice.objects.select_related("currency", "company").get(
        pk=case.invoice_id
    )
    if invoice.kind not in RECEIVABLE_KINDS:
        described = f"a {invoice.get_kind_display().lower()}"
    elif invoice.state == Invoice.State.DRAFT:
        described = "a draft"
    elif invoice.state != Invoice.State.POSTED:
        described = invoice.get_state_display().lower()
    else:
        return invoice
    raise WorkError(
        "Invoice {invoice} of case {case} is {described}: only a posted "
        "invoice or debit note can be credited.",
        case_id=case.pk,
        invoice=invoice.number,
        described=described,
    )


def _check_credit_amount(invoice: Invoice, amount: Decimal) -> Decimal:
    minor_units = invoice.currency.minor_units
    if amount <= 0:
        raise WorkError(
            f"Credit note amount {amount} is invalid: it must be positive, so enter "
            "the amount to credit the customer, more than 0."
        )
    if amount != quantize_money(amount, minor_units=minor_units):
        raise WorkError(
            f"Credit note amount {amount} has more than {minor_units} decimals, "
            f"which {invoice.currency_id} does not allow: round it."
        )
    return amount


def _check_invoice_total(
    invoice: Invoice, credit: InvoiceCredit, amount: Decimal
) -> None:
    """Raise unless ``amount`` fits in what is left of the invoice total.

    What is written off the invoice counts too, so a credit note cannot
    credit a difference that a clerk already wrote off.
    """
    if credit.taken_off == 0 and amount > invoice.amount_total:
        raise WorkError(
            f"A credit note of {invoice_money(invoice, amount)} is more than "
            f"invoice {invoice.number}'s total of "
            f"{invoice_money(invoice, invoice.amount_total)}: credit at most the "
            "invoice total."
        )
    message = over_invoice_total(invoice, credit, amount=amount, action="credit note")
    if message is not None:
        raise WorkError(message)


def _check_case_open_amount(
    case: Discrepancy, invoice: Invoice, amount: Decimal
) -> None:
    """Raise when ``amount`` is more than the money ``case`` leaves open.

    A credit note settles a case, so it credits the case's difference and no
    more. A credit beyond it would reach the customer as a balance in their
    favour that no case explains.
    """
    open_amount = case_open_amount(case, invoice)
    if open_amount is None or amount <= open_amount:
        return
    requested = invoice_money(invoice, amount)
    if open_amount == 0:
        raise WorkError(
            "Case {case} leaves nothing open on invoice {invoice}, so a "
            "credit note of {requested} has nothing to settle: resolve the case "
            "without a credit note.",
            case_id=case.pk,
            invoice=invoice.number,
            requested=requested,
        )
    open_text = invoice_money(invoice, open_amount)
    raise WorkError(
        "A credit note of {requested} is more than the {open_text} that case "
        "{case} leaves open: credit at most {open_text}. If the customer is "
        "owed more, record the rest on a case of its own first.",
        case_id=case.pk,
        requested=requested,
        open_text=open_text,
    )


def _in_company_currency(invoice: Invoice, amount: Decimal) -> Decimal:
    return cases.in_company_currency(invoice, amount, limit_name="credit limit")


def _approval_reason(
    invoice: Invoice, credit: InvoiceCredit, amount: Decimal, in_company: Decimal
) -> str:
    """Say why a credit note needs approval, naming the credit on its invoice."""
    currency = invoice.currency_id
    if credit.total == 0:
        return (
            f"Credit note of {amount} {currency} is above the {credit_limit()} "
            f"limit ({in_company:.2f} in company currency)."
        )
    return (
        f"Credit note of {invoice_money(invoice, amount)} brings the credit on invoice "
        f"{invoice.number} to {invoice_money(invoice, credit.total + amount)} "
        f"({in_company:.2f} in company currency), above the {credit_limit()} "
        f"limit. Already credited: {invoice_money(invoice, credit.posted)}, proposed "
        f"on open proposals: {invoice_money(invoice, credit.proposed)}."
    )


def _draft_credit_note(case: Discrepancy, invoice: Invoice, amount: Decimal) -> Invoice:
    """Create the draft credit note with lines that describe what it credits."""
    credit_note = create_credit_note(invoice, amount, state=Invoice.State.DRAFT)
    try:
        lines = plan_credit_lines(case=case, invoice=invoice, amount=amount)
    except GoodsCreditError as error:
        raise WorkError(_goods_split_message(invoice, error)) from error
    create_credit_lines(credit_note, lines)
    return credit_note


def _goods_split_message(invoice: Invoice, error: GoodsCreditError) -> str:
    nearest = " or ".join(invoice_money(invoice, value) for value in error.nearest)
    rate = f"{error.rate.normalize():f}"
    return (
        f"A credit note of {invoice_money(invoice, error.amount)} cannot be split "
        f"into a net amount and the {rate}% tax of invoice {invoice.number}, "
        f"each rounded as billed: enter {nearest} instead."
    )


def check_no_pending_approval(case: Discrepancy, action: str) -> None:
    """Raise when the locked ``case`` has an approval that waits for a manager.

    ``action`` says what the person tried, such as ``propose a credit note``.
    A second request while one waits would leave the manager two decisions
    on one case, of which only the first could still apply.
    """
    pending = (
        Approval.objects.select_for_update(of=("self",))
        .filter(case=case, decision=Approval.Decision.PENDING)
        .select_related("currency")
        .order_by("pk")
        .first()
    )
    if pending is None:
        return
    raise WorkError(cases.pending_approval_message(case, pending, action))


def _request_credit_approval(
    case: Discrepancy, proposal: ResolutionProposal, actor: User, reason: str
) -> None:
    approval = Approval.objects.create(
        case=case,
        action=ResolutionCode.CREDIT_NOTE,
        amount=proposal.amount,
        currency_id=proposal.currency,
        requested_by=actor,
        request_reason=reason,
    )
    record_event(
        actor=actor,
        action="approval.requested",
        target=approval,
        source=SCREEN,
        after={
            "case_id": case.pk,
            "action": approval.action,
            "amount": str(approval.amount),
            "currency": proposal.currency,
        },
        reason=approval.request_reason,
    )
    notices.approval_requested(approval, actor=actor)
    move_case(
        case,
        actor=actor,
        to=State.WAITING_INTERNAL,
        reason=f"Credit note waits for approval {approval.pk}.",
    )


def offer_to_customer(
    case: Discrepancy, proposal: ResolutionProposal, actor: User
) -> None:
    proposal.offered_at = timezone.now()
    proposal.save(update_fields=["offered_at"])
    number = proposal.credit_note.number if proposal.credit_note else ""
    note = (
        f"Credit note {number} of {proposal.amount} "
        f"{proposal.currency} offered to the customer."
    )
    move_case(
        case,
        actor=actor,
        to=State.PROPOSED_RESOLUTION,
        reason=note,
        changes={"resolution_code": proposal.resolution_code, "resolution_note": note},
        offering=proposal,
    )
    notices.resolution_offered(case, proposal, actor=actor)


def check_room_for_proposal(case: Discrepancy, proposal: ResolutionProposal) -> None:
    """Raise when the invoice's credit, this proposal included, exceeds its total."""
    message = offer_over_total(proposal)
    if message is None:
        return
    raise WorkError(
        f"{message} Approving it would take more than the invoice total off it: "
        "reject this approval."
    )


def offer_over_total(proposal: ResolutionProposal) -> str | None:
    """Lock the invoice an open proposal credits; return why it no longer fits.

    Return None while the posted credit, the write-offs and the open
    proposals, this one included, stay within the invoice total. The caller
    holds the case lock, and takes the order's lock first if it needs one.
    """
    credit_note = proposal.credit_note
    if credit_note is None or credit_note.origin_invoice_id is None:
        return None
    invoice_id = credit_note.origin_invoice_id
    lock_documents({Invoice: [invoice_id]})
    invoice = Invoice.objects.select_related("currency").get(pk=invoice_id)
    credit = credit_on_invoice(invoice)
    return proposal_over_total(invoice, credit, amount=proposal.amount)


def withdraw_proposal(
    proposal: ResolutionProposal, *, actor: User, reason: str
) -> None:
    """Mark an open proposal withdrawn and cancel its draft credit note.

    The customer's notice that invites them to accept or reject it goes too.
    """
    proposal.state = ResolutionProposal.State.WITHDRAWN
    proposal.decided_at = timezone.now()
    proposal.save(update_fields=["state", "decided_at"])
    notices.offer_closed(proposal)
    if proposal.credit_note is not None:
        cancel_credit_note(proposal.credit_note, actor=actor, reason=reason)


def cancel_credit_note(credit_note: Invoice, *, actor: User, reason: str) -> None:
    credit_note.state = Invoice.State.CANCELLED
    credit_note.save(update_fields=["state", "updated_at"])
    record_event(
        actor=actor,
        action="credit_note.cancelled",
        target=credit_note,
        source=SCREEN,
        before={"state": Invoice.State.DRAFT},
        after={"state": Invoice.State.CANCELLED},
        reason=reason,
    )
