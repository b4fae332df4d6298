"""Template filters that show a case's stored codes and current figures."""

from django import template

from portal.models import ResolutionProposal
from reconciliation.duplicates import duplicate_outcome
from reconciliation.models import Approval, Currency, Discrepancy, ResolutionCode
from reconciliation.money import format_money

register = template.Library()


@register.filter
def resolution_label(code: str) -> str:
    """Return the label of a resolution code (``Write-off`` for ``write_off``).

    ``Approval.action`` stores a resolution code without a choices list, so
    the approvals table needs this to show the label. An unknown code is
    returned unchanged.
    """
    if code in ResolutionCode.values:
        return str(ResolutionCode(code).label)
    return code


@register.filter
def case_now(case: Discrepancy, currency: Currency | None = None) -> str:
    """Say what a money case's invoice has open now, or "" for other cases.

    A case's explanation is the text from when the pass detected it, such
    as "20.00 is still open", and stays as it was after a write-off or a
    credit note. This is the invoice's current figures, shown beside it:
    "invoice INV-11022: paid 1,382.00, written off 20.00, open 0.00 USD".
    ``currency`` is the invoice's currency when the page has it already
    (``figure_currency``), which saves reading it again.

    For a decided duplicate-invoice case, the line starts with what became
    of its invoice (``duplicates.duplicate_outcome``).
    """
    invoice = case.invoice
    if invoice is None or case.unit != invoice.currency_id:
        return ""
    outcome = duplicate_outcome(case)
    if outcome and invoice.state == invoice.State.CANCELLED:
        # A cancelled invoice's figures are no longer kept.
        return outcome
    if currency is None or currency.code != invoice.currency_id:
        currency = invoice.currency
    minor_units = currency.minor_units
    parts = [
        f"{label} {format_money(amount, minor_units=minor_units)}"
        for label, amount in (
            ("paid", invoice.amount_paid),
            ("credited", invoice.amount_credited),
            ("written off", invoice.amount_written_off),
        )
        if amount
    ]
    parts.append(
        f"open {format_money(invoice.amount_residual, minor_units=minor_units)} "
        f"{invoice.currency_id}"
    )
    figures = ", ".join(parts)
    if outcome:
        return f"{outcome} Invoice {invoice.number}: {figures}"
    return f"invoice {invoice.number}: {figures}"


@register.filter
def credit_proposal(approval: Approval) -> ResolutionProposal | None:
    """Return the credit note proposal that waits for ``approval``, or None.

    A credit note above the sales rep's limit waits as a proposal in
    ``awaiting_approval`` on the approval's case. The approvals screen shows
    its message, the rep's words to the customer, so the manager reads why
    the rep offers the credit. A write-off approval returns None.
    """
    if approval.action != ResolutionCode.CREDIT_NOTE:
        return None
    return (
        ResolutionProposal.objects.filter(
            case_id=approval.case_id,
            state=ResolutionProposal.State.AWAITING_APPROVAL,
            amount=approval.amount,
        )
        .order_by("-pk")
        .first()
    )
