"""The money a case leaves open: the most a credit note from that case may credit.

A case stores its difference in the unit it was found in: a currency for a
payment or an invoice amount, a product's unit of measure for goods, days for
a late delivery. This module converts the difference to money on the case's
invoice, so that ``credit_proposals.propose_credit_note`` can bound a credit note by it
and the approvals screen can show it next to the requested credit.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Sum

from portal.models import ResolutionProposal
from reconciliation.credit_notes import goods_subtotal_and_tax
from reconciliation.models import (
    Discrepancy,
    DiscrepancyCode,
    Invoice,
    InvoiceLine,
    ReturnLine,
)
from reconciliation.money import UNIT_PRICE_QUANTUM, line_subtotal, quantize_money

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
    if case.code == DiscrepancyCode.RETURN_NOT_CREDITED:
        # The return check counts every unit credit note, this case's too,
        # so its stored gap already leaves out what the pass saw credited.
        units = min(difference, _returned_not_credited(case))
        if units <= 0:
            return ZERO
        value = _goods_value(case, invoice, units)
        return None if value is None else quantize_money(value, minor_units=minor_units)
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
        gap = price_gap(case, invoice)
        value = difference if gap is None else gap.total
    else:
        # No check counts a case's own credit notes in such a difference, so
        # the credit accepted from the case is taken off it once, below.
        value = difference
    if value is None:
        return None
    open_amount = quantize_money(value, minor_units=minor_units)
    return max(open_amount - _accepted_credit(case), ZERO)


@dataclass(frozen=True)
class PriceGap:
    """The money a price difference adds to the invoice's units of one order line.

    Each side is rounded once to the currency's minor unit, as an invoice
    line is: ``total`` is ``quantity`` at the invoiced price less
    ``quantity`` at the order price. ``per_unit`` is ``total`` over
    ``quantity`` to the four decimals of a unit price, which is the price a
    credit note line for ``total`` carries. It can differ from the gap
    between the two prices in the fourth decimal, because the totals are
    rounded first.
    """

    quantity: Decimal
    total: Decimal
    per_unit: Decimal
    # The size of the gap between the two unit prices, which is the case's
    # difference.
    difference: Decimal
    # ``quantity`` at the invoiced and at the order price, each rounded as an
    # invoice line is. None when the case has no order price.
    billed: Decimal | None = None
    agreed: Decimal | None = None

    @property
    def rounded_apart(self) -> bool:
        """Return whether rounding the totals moved ``per_unit`` off ``difference``."""
        return self.per_unit != self.difference


def price_gap(case: Discrepancy, invoice: Invoice) -> PriceGap | None:
    """Return the price difference of ``case`` over the units ``invoice`` bills.

    The prices are the case's expected (order) net unit price and that
    price plus the size of the difference. None when the case names no
    order line or the invoice bills none of it.
    """
    if case.order_line_id is None or case.difference is None:
        return None
    quantity: Decimal | None = invoice.lines.filter(
        order_line_id=case.order_line_id
    ).aggregate(total=Sum("qty"))["total"]
    if quantity is None or quantity <= 0:
        return None
    minor_units = invoice.currency.minor_units
    difference = abs(case.difference)
    if case.expected_value is None:
        total = quantize_money(difference * quantity, minor_units=minor_units)
        billed = agreed = None
    else:
        billed, agreed = (
            line_subtotal(
                qty=quantity,
                unit_price=price,
                discount_pct=ZERO,
                minor_units=minor_units,
            )
            for price in (case.expected_value + difference, case.expected_value)
        )
        total = billed - agreed
    per_unit = (total / quantity).quantize(UNIT_PRICE_QUANTUM, rounding=ROUND_HALF_UP)
    return PriceGap(
        quantity=quantity,
        total=total,
        per_unit=per_unit,
        difference=difference,
        billed=billed,
        agreed=agreed,
    )


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
    # Rounded as an invoice line is, net and tax apart, so that the credit
    # for every unit of the case is exactly the most it may credit.
    net, tax = goods_subtotal_and_tax(line, quantity, invoice.currency.minor_units)
    return net + tax


def _accepted_credit(case: Discrepancy) -> Decimal:
    """Sum the credit notes the customer accepted from ``case``.

    A quantity or price difference stays as found when a credit note is
    accepted, so the credit already given is taken off it here.
    """
    total: Decimal | None = ResolutionProposal.objects.filter(
        case=case, state=ResolutionProposal.State.ACCEPTED
    ).aggregate(total=Sum("amount"))["total"]
    return total or ZERO


def _returned_not_credited(case: Discrepancy) -> Decimal:
    """Return the accepted returned units of the case's line that no credit covers.

    It is read now, not at the last pass, so a credit accepted since then
    counts at once: the accepted units of received returns less the units of
    posted credit note lines that name the order line. Replacements are not
    counted here; the case's stored gap, which the caller takes when it is
    smaller, leaves them out.
    """
    if case.order_line_id is None:
        return ZERO
    returned = ReturnLine.objects.filter(
        order_line_id=case.order_line_id,
        authorization__received_at__isnull=False,
    ).aggregate(total=Sum("qty_accepted"))["total"]
    credited = InvoiceLine.objects.filter(
        order_line_id=case.order_line_id,
        amount_only=False,
        invoice__kind=Invoice.Kind.CREDIT_NOTE,
        invoice__state=Invoice.State.POSTED,
    ).aggregate(total=Sum("qty"))["total"]
    return (returned or ZERO) - (credited or ZERO)
