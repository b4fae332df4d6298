"""The money a case leaves open: the most a credit note from that case may credit.

A case stores its difference in the unit it was found in: a currency for a
payment or an invoice amount, a product's unit of measure for goods, days for
a late delivery. This module converts the difference to money on the case's
invoice, so that ``work.propose_credit_note`` can bound a credit note by it
and the approvals screen can show it next to the requested credit.
"""

from decimal import Decimal

from django.db.models import Sum

from portal.models import ResolutionProposal
from reconciliation.models import Discrepancy, DiscrepancyCode, Invoice
from reconciliation.money import quantize_money

HUNDRED = Decimal(100)
ZERO = Decimal(0)
# Cases about money the customer has not paid. A posted credit note lowers
# the invoice's residual, so the residual bounds what is still open.
UNPAID_CODES = frozenset(
    {DiscrepancyCode.SHORT_PAYMENT, DiscrepancyCode.MISSING_PAYMENT}
)


def case_open_amount(case: Discrepancy, invoice: Invoice) -> Decimal | None:
    """Return what ``case`` leaves open in ``invoice``'s currency, or None.

    None means the case has no figure that converts to money (no difference,
    a delay in days, or goods on a line the invoice does not bill). Such a
    credit note is bounded by the invoice total only.
    """
    if case.difference is None:
        return None
    minor_units = invoice.currency.minor_units
    difference = abs(case.difference)
    if case.unit != invoice.currency_id:
        value = _goods_value(case, invoice, difference)
    elif case.code in UNPAID_CODES:
        # The stored difference can be older than the latest credit note, so
        # the invoice's residual, which counts every settled credit, caps it.
        return quantize_money(
            min(difference, max(invoice.amount_residual, ZERO)),
            minor_units=minor_units,
        )
    elif case.code == DiscrepancyCode.PRICE_MISMATCH:
        # The price check stores the difference per unit, so the money open
        # is that difference on every unit the invoice bills.
        billed = _billed_quantity(case, invoice)
        value = difference if billed is None else difference * billed
    else:
        # No check counts a case's own credit notes in such a difference, so
        # the credit accepted from the case is taken off it once, below.
        value = difference
    if value is None:
        return None
    open_amount = quantize_money(value, minor_units=minor_units)
    return max(open_amount - _accepted_credit(case), ZERO)


def _billed_quantity(case: Discrepancy, invoice: Invoice) -> Decimal | None:
    if case.order_line_id is None:
        return None
    billed: Decimal | None = invoice.lines.filter(
        order_line_id=case.order_line_id
    ).aggregate(total=Sum("qty"))["total"]
    return billed


def _goods_value(
    case: Discrepancy, invoice: Invoice, quantity: Decimal
) -> Decimal | None:
    """Value ``quantity`` of the case's order line at its invoiced price with tax."""
    if case.order_line_id is None:
        return None
    line = (
        invoice.lines.filter(order_line_id=case.order_line_id)
        .select_related("product")
        .order_by("pk")
        .first()
    )
    # A difference in another unit, such as days late, is not a quantity of
    # goods and has no price.
    if line is None or line.product.uom != case.unit:
        return None
    net = quantity * line.unit_net
    return net + net * line.tax_rate / HUNDRED


def _accepted_credit(case: Discrepancy) -> Decimal:
    """Sum the credit notes the customer accepted from ``case``.

    A quantity or price difference stays as found when a credit note is
    accepted, so the credit already given is taken off it here.
    """
    total: Decimal | None = ResolutionProposal.objects.filter(
        case=case, state=ResolutionProposal.State.ACCEPTED
    ).aggregate(total=Sum("amount"))["total"]
    return total or ZERO
