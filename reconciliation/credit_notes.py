"""Lines of a credit note that a sales rep offers on a case: what is credited.

The lines always add up to the credit note's amount, so the total that
``refresh_order`` derives from them is the amount the customer was offered:

- a price case on an invoice line credits the difference per unit on the
  invoiced quantity (10 units at 1.36), when the amount divides exactly;
- any other case on an invoice line credits whole units at the invoiced net
  price (2 units at 41.815), when the amount is such a value;
- otherwise the line credits the amount as 1 x amount on the case's product
  (or the product of a one-line invoice), and a case with no invoice line
  spreads it over the invoice's lines in proportion to what each billed,
  with the rounding on the last.

Credit lines name their product but no order line. So they credit money and
leave the invoiced and credited quantities that the matching pass compares
unchanged; a return's credit note is a separate document.

``credit_on_invoice`` adds up what an invoice is credited already and what
open proposals would credit, because the invoice total and the sales rep's
credit limit apply to that sum, not to one proposal.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum

from portal.models import ResolutionProposal
from reconciliation.models import (
    Discrepancy,
    DiscrepancyCode,
    Invoice,
    InvoiceLine,
    Product,
)
from reconciliation.money import (
    UNIT_PRICE_QUANTUM,
    format_money,
    format_price,
    format_quantity,
    quantize_money,
)

ONE = Decimal(1)
ZERO = Decimal(0)
OPEN_PROPOSAL_STATES = (
    ResolutionProposal.State.AWAITING_APPROVAL,
    ResolutionProposal.State.AWAITING_CUSTOMER,
)


@dataclass(frozen=True)
class InvoiceCredit:
    """Credit on one invoice, in the invoice's currency."""

    # Posted credit notes whose origin is the invoice, from any source.
    posted: Decimal
    # Draft credit notes of open proposals, which the customer may still accept.
    proposed: Decimal

    @property
    def total(self) -> Decimal:
        return self.posted + self.proposed


def credit_on_invoice(invoice: Invoice) -> InvoiceCredit:
    """Return what ``invoice`` is credited and what open proposals would credit.

    A cancelled credit note counts for nothing, and so does a draft without an
    open proposal (a copy that nobody offered).
    """
    posted = Invoice.objects.filter(
        kind=Invoice.Kind.CREDIT_NOTE,
        origin_invoice=invoice,
        state=Invoice.State.POSTED,
    ).aggregate(total=Sum("amount_total"))["total"]
    proposed = ResolutionProposal.objects.filter(
        credit_note__origin_invoice=invoice,
        credit_note__state=Invoice.State.DRAFT,
        state__in=OPEN_PROPOSAL_STATES,
    ).aggregate(total=Sum("credit_note__amount_total"))["total"]
    return InvoiceCredit(posted=posted or ZERO, proposed=proposed or ZERO)


@dataclass(frozen=True)
class CreditLine:
    product: Product
    description: str
    qty: Decimal
    unit_price: Decimal
    subtotal: Decimal


def plan_credit_lines(
    *, case: Discrepancy, invoice: Invoice, amount: Decimal
) -> list[CreditLine]:
    """Return the lines that credit ``amount`` of ``invoice`` for ``case``.

    An invoice without lines (a header-only import) gives no lines, and its
    credit note keeps the entered total.
    """
    lines = list(invoice.lines.select_related("product").order_by("pk"))
    if not lines:
        return []
    minor_units = invoice.currency.minor_units
    target = next(
        (
            line
            for line in lines
            if case.order_line_id is not None
            and line.order_line_id == case.order_line_id
        ),
        None,
    )
    if target is not None:
        return [_credit_on_line(case, invoice, target, amount, minor_units)]
    if len(lines) == 1:
        return [_money_credit(case, invoice, lines[0], amount)]
    return _spread_over_lines(invoice, lines, amount, minor_units)


def _credit_on_line(
    case: Discrepancy,
    invoice: Invoice,
    line: InvoiceLine,
    amount: Decimal,
    minor_units: int,
) -> CreditLine:
    product = line.product
    if case.code == DiscrepancyCode.PRICE_MISMATCH:
        unit_price = _exact_unit_price(amount, line.qty, minor_units)
        if unit_price is not None:
            price_text = format_price(unit_price, minor_units=minor_units)
            return CreditLine(
                product=product,
                description=(
                    f"Price difference of {price_text} per unit on "
                    f"{format_quantity(line.qty, product.uom)} of {product.name}, "
                    f"invoice {invoice.number}"
                ),
                qty=line.qty,
                unit_price=unit_price,
                subtotal=amount,
            )
    else:
        qty = _whole_quantity(amount, line.unit_net, line.qty, minor_units)
        if qty is not None:
            return CreditLine(
                product=product,
                description=(
                    f"{format_quantity(qty, product.uom)} of {product.name} "
                    f"from invoice {invoice.number}"
                ),
                qty=qty,
                unit_price=line.unit_net,
                subtotal=amount,
            )
    return _money_credit(case, invoice, line, amount)


def _money_credit(
    case: Discrepancy, invoice: Invoice, line: InvoiceLine, amount: Decimal
) -> CreditLine:
    """Credit ``amount`` as one unit on the line's product, named by the case."""
    return CreditLine(
        product=line.product,
        description=(
            f"{case.get_code_display()}: credit on {line.product.name} of invoice "
            f"{invoice.number}"
        ),
        qty=ONE,
        unit_price=amount,
        subtotal=amount,
    )


def _exact_unit_price(
    amount: Decimal, qty: Decimal, minor_units: int
) -> Decimal | None:
    """Return the price per unit that credits ``amount`` on ``qty``, if exact."""
    if qty <= 0:
        return None
    unit_price = (amount / qty).quantize(UNIT_PRICE_QUANTUM)
    if quantize_money(unit_price * qty, minor_units=minor_units) != amount:
        return None
    return unit_price


def _whole_quantity(
    amount: Decimal, unit_net: Decimal, invoiced: Decimal, minor_units: int
) -> Decimal | None:
    """Return the whole number of units worth ``amount``, at most ``invoiced``."""
    if unit_net <= 0:
        return None
    qty = (amount / unit_net).to_integral_value()
    if qty < 1 or qty > invoiced:
        return None
    if quantize_money(qty * unit_net, minor_units=minor_units) != amount:
        return None
    return qty


def _spread_over_lines(
    invoice: Invoice, lines: list[InvoiceLine], amount: Decimal, minor_units: int
) -> list[CreditLine]:
    billed = [line.subtotal + line.tax_amount for line in lines]
    total = sum(billed, Decimal(0))
    if total <= 0:
        billed = [ONE for _ in lines]
        total = Decimal(len(lines))
    shares: list[Decimal] = []
    for value in billed[:-1]:
        shares.append(quantize_money(amount * value / total, minor_units=minor_units))
    shares.append(amount - sum(shares, Decimal(0)))

    amount_text = format_money(amount, minor_units=minor_units)
    credit_lines = []
    for line, share in zip(lines, shares, strict=True):
        if share == 0:
            continue
        credit_lines.append(
            CreditLine(
                product=line.product,
                description=(
                    f"Share of the {amount_text} {invoice.currency_id} credit on "
                    f"{line.product.name}, invoice {invoice.number}"
                ),
                qty=ONE,
                unit_price=share,
                subtotal=share,
            )
        )
    return credit_lines


def create_credit_lines(credit_note: Invoice, lines: list[CreditLine]) -> None:
    """Save the planned lines on ``credit_note``, without tax.

    NOTE: a credit line carries the gross amount with tax rate 0, because the
    offered amount is what the customer pays less. The tax share of a credit
    is not split out.
    """
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=credit_note,
            product=line.product,
            description=line.description[:200],
            qty=line.qty,
            unit_price=line.unit_price,
            subtotal=line.subtotal,
        )
        for line in lines
    )
