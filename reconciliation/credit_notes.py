"""Lines of a credit note that a sales rep offers on a case: what is credited.

The lines always add up to the credit note's amount, so the total that
``refresh_order`` derives from them is the amount the customer was offered:

- a price case on an invoice line credits the difference per unit on the
  invoiced quantity (10 units at 1.36), when the amount divides exactly;
- a case about units (``UNIT_CODES``: goods, shipped, invoiced or returned
  quantities) on an invoice line credits whole units at the invoiced net
  price (2 units at 41.815), when the amount is such a value;
- otherwise the line credits an amount of money on the case's product (or
  the product of a one-line invoice), and a case with no invoice line
  spreads it over the invoice's lines in proportion to what each billed,
  with the rounding on the last. Such a line is ``amount_only``: it is
  stored as 1 x amount, and screens show the amount, never "1 x".

Decision: a credit line names an order line exactly when it credits units
of that line, and its quantity is then those units. The matching pass
counts such a line as credited units of the order line, the return check
and the invoiced-quantity check alike (``billing_checks.credited_units``).
A unit line of a goods case also names the case's shipment line, so the
invoiced-quantity check can tell units the customer did not get whole from
a correction of units invoiced too many. A price line and a money line
name no order line: they credit money, and the units they mention are not
taken back (docs/reconciliation.md, "Credit lines name the order line of
the units they credit").

``credit_on_invoice`` adds up what an invoice is credited already, what open
proposals would credit and what is written off it. The sales rep's credit
limit applies to the credit, and the invoice total to the credit and the
write-offs together, so that a credit note and a write-off of the same
difference cannot both pass (``over_invoice_total``). Callers hold the
invoice's row lock while they add up and check, so two people at once check
one after the other.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from portal.models import ResolutionProposal
from reconciliation.goods_billing import (
    GOODS_CODES,
    case_shipment_line_id,
    units_not_whole,
)
from reconciliation.models import (
    Allocation,
    Discrepancy,
    DiscrepancyCode,
    Invoice,
    InvoiceLine,
    Product,
    ReturnLine,
    Shipment,
    ShipmentLine,
)
from reconciliation.money import (
    UNIT_PRICE_QUANTUM,
    format_money,
    format_price,
    format_quantity,
    line_subtotal,
    quantize_money,
)

HUNDRED = Decimal(100)
ONE = Decimal(1)
ZERO = Decimal(0)
OPEN_PROPOSAL_STATES = (
    ResolutionProposal.State.AWAITING_APPROVAL,
    ResolutionProposal.State.AWAITING_CUSTOMER,
)


@dataclass(frozen=True)
class InvoiceCredit:
    """Credit and write-offs on one invoice, in the invoice's currency."""

    # Posted credit notes whose origin is the invoice, from any source.
    posted: Decimal
    # Draft credit notes of open proposals, which the customer may still accept.
    proposed: Decimal
    # Money forgiven on the invoice: the positive write-offs of its live
    # allocations, from resolved cases and from the payment tolerance.
    written_off: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        """Credit posted and proposed, to which the credit limit applies."""
        return self.posted + self.proposed

    @property
    def taken_off(self) -> Decimal:
        """Credit and write-offs together, which the invoice total bounds."""
        return self.total + self.written_off


def credit_on_invoice(invoice: Invoice) -> InvoiceCredit:
    """Return what ``invoice`` is credited, offered as credit and written off.

    A cancelled credit note counts for nothing, and so does a draft without an
    open proposal (a copy that nobody offered). Write-offs count as
    ``forgiven_on_invoice`` adds them up.
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
    return InvoiceCredit(
        posted=posted or ZERO,
        proposed=proposed or ZERO,
        written_off=forgiven_on_invoice(invoice),
    )


def forgiven_on_invoice(invoice: Invoice) -> Decimal:
    """Add up the money forgiven on ``invoice`` by write-offs.

    Kept overpayments are stored apart (``Allocation.writeoff_kept``): the
    customer paid that money, so it makes no room for credit and never
    offsets money forgiven on the same or another allocation. A reversal
    row negates its original's forgiven amount, so the pair adds up to 0.
    """
    forgiven = Allocation.objects.filter(invoice=invoice).aggregate(
        total=Sum("writeoff_forgiven")
    )["total"]
    return forgiven or ZERO


def over_invoice_total(
    invoice: Invoice, credit: InvoiceCredit, *, amount: Decimal, action: str
) -> str | None:
    """Return why ``amount`` more taken off ``invoice`` exceeds its total, or None.

    ``action`` names what would take it off: ``credit note`` or ``write-off``.
    The message names the invoice total, what is credited, proposed and
    written off already, and the most that still fits.
    """
    if credit.taken_off + amount <= invoice.amount_total:
        return None
    room = invoice.amount_total - credit.taken_off
    if action == "write-off":
        next_step = _write_off_step(invoice, credit, room)
    elif room > 0:
        next_step = f"credit at most {invoice_money(invoice, room)}."
    elif credit.proposed > 0:
        next_step = (
            "nothing is left to take off it unless an open proposal is withdrawn."
        )
    else:
        next_step = "nothing is left to take off it."
    return (
        f"Invoice {invoice.number} totals "
        f"{invoice_money(invoice, invoice.amount_total)}: "
        f"{invoice_money(invoice, credit.posted)} of it is credited already, "
        f"{invoice_money(invoice, credit.proposed)} is proposed on open "
        f"proposals and {invoice_money(invoice, credit.written_off)} is written "
        f"off. A {action} of {invoice_money(invoice, amount)} would take "
        f"{invoice_money(invoice, credit.taken_off + amount)} off it: {next_step}"
    )


def proposal_over_total(
    invoice: Invoice, credit: InvoiceCredit, *, amount: Decimal
) -> str | None:
    """Return why an open proposal of ``amount`` no longer fits ``invoice``, or None.

    ``credit`` counts the proposal's own draft among the proposed credit, so
    the check is that everything taken off stays within the invoice total.
    """
    if credit.taken_off <= invoice.amount_total:
        return None
    return (
        f"Invoice {invoice.number} totals "
        f"{invoice_money(invoice, invoice.amount_total)}, but "
        f"{invoice_money(invoice, credit.posted)} of it is credited already, "
        f"{invoice_money(invoice, credit.proposed)} is proposed, including this "
        f"credit note of {invoice_money(invoice, amount)}, and "
        f"{invoice_money(invoice, credit.written_off)} is written off."
    )


def _write_off_step(invoice: Invoice, credit: InvoiceCredit, room: Decimal) -> str:
    """Return what a clerk can do when a write-off would not fit on ``invoice``.

    A write-off takes the case's whole difference, so the clerk cannot ask
    for less: the step is to free room or to resolve the case another way.
    """
    if credit.proposed > 0:
        return (
            "a write-off takes the case's whole difference, so wait for the "
            "customer's answer to the open proposals, or withdraw them, first."
        )
    if room > 0:
        return (
            "a write-off takes the case's whole difference, so resolve the case "
            "another way, such as a credit note of at most "
            f"{invoice_money(invoice, room)}."
        )
    return "nothing is left to take off it: resolve the case another way."


def invoice_money(invoice: Invoice, amount: Decimal) -> str:
    """Format ``amount`` in the invoice's currency, such as ``130.86 USD``."""
    minor_units = invoice.currency.minor_units
    return f"{format_money(amount, minor_units=minor_units)} {invoice.currency_id}"


# The cases whose difference is a quantity of the order line's product, so
# a credit of whole units credits units of that line.
UNIT_CODES = GOODS_CODES | frozenset(
    {
        DiscrepancyCode.NOT_SHIPPED,
        DiscrepancyCode.SHORT_SHIP,
        DiscrepancyCode.OVER_SHIP,
        DiscrepancyCode.PARTIAL_SHIP,
        DiscrepancyCode.BACKORDER_OPEN,
        DiscrepancyCode.WRONG_ITEM,
        DiscrepancyCode.INVOICE_QTY_MISMATCH,
        DiscrepancyCode.UNINVOICED_DELIVERY,
        DiscrepancyCode.RETURN_NOT_CREDITED,
    }
)
# The cases whose credit carries the tax of the invoice line it credits:
# goods the customer did not get whole, and units the customer sent back.
# Their credit names the shipment line the units left on, when it is known.
TAXED_UNIT_CODES = GOODS_CODES | {DiscrepancyCode.RETURN_NOT_CREDITED}


@dataclass(frozen=True)
class CreditLine:
    product: Product
    description: str
    qty: Decimal
    unit_price: Decimal
    subtotal: Decimal
    # Money credited without units: stored as 1 x amount, shown as the amount.
    amount_only: bool = False
    # A goods case's credit carries the tax of the invoice line it credits,
    # so ``subtotal`` is net and ``subtotal + tax_amount`` is the credit.
    tax_rate: Decimal = ZERO
    tax_amount: Decimal = ZERO
    # The order line whose units the line credits, or None on a money line.
    order_line_id: int | None = None
    # The shipment line of a goods case whose units the line credits.
    shipment_line_id: int | None = None


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
    if case.code in TAXED_UNIT_CODES:
        return goods_credit_line(case, invoice, line, amount)
    if case.code == DiscrepancyCode.PRICE_MISMATCH:
        # Money on every billed unit: the units stay billed, so the line
        # names no order line.
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
    elif case.code in UNIT_CODES:
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
                order_line_id=line.order_line_id,
            )
    return _money_credit(case, invoice, line, amount)


def goods_subtotal_and_tax(
    line: InvoiceLine, qty: Decimal, minor_units: int
) -> tuple[Decimal, Decimal]:
    """Return ``qty`` of ``line`` net and its tax, each rounded as a line is."""
    subtotal = line_subtotal(
        qty=qty,
        unit_price=line.unit_price,
        discount_pct=line.discount_pct,
        minor_units=minor_units,
    )
    return subtotal, line_tax(subtotal, line.tax_rate, minor_units)


def line_tax(subtotal: Decimal, rate: Decimal, minor_units: int) -> Decimal:
    """Return the tax on ``subtotal`` at ``rate`` percent, rounded as billed."""
    return quantize_money(subtotal * rate / HUNDRED, minor_units=minor_units)


def goods_credit_line(
    case: Discrepancy, invoice: Invoice, line: InvoiceLine, amount: Decimal
) -> CreditLine:
    """Credit damaged or missing units of ``line`` with its tax rate.

    ``amount`` includes tax. When it is a whole number of units, the line
    credits those units at the invoiced net price, and names the order line
    and the case's shipment line. Otherwise it credits the amount's net part
    on the product, as an amount, and names neither. Raise
    ``GoodsCreditError`` when no net amount plus its tax, rounded as billed,
    gives ``amount``.
    """
    minor_units = invoice.currency.minor_units
    product = line.product
    rate = line.tax_rate
    if line.unit_net > 0:
        gross_unit = line.unit_net * (1 + rate / HUNDRED)
        qty = (amount / gross_unit).to_integral_value()
        if 1 <= qty <= line.qty:
            subtotal, tax = goods_subtotal_and_tax(line, qty, minor_units)
            if subtotal + tax == amount:
                return CreditLine(
                    product=product,
                    description=(
                        f"{format_quantity(qty, product.uom)} of {product.name} "
                        f"from invoice {invoice.number}"
                    ),
                    qty=qty,
                    unit_price=line.unit_net,
                    subtotal=subtotal,
                    tax_rate=rate,
                    tax_amount=tax,
                    order_line_id=line.order_line_id,
                    shipment_line_id=(
                        return_shipment_line(case)
                        if case.code == DiscrepancyCode.RETURN_NOT_CREDITED
                        else _goods_shipment_line(case, qty)
                    ),
                )
    net = _net_of(amount, rate, minor_units)
    return CreditLine(
        product=product,
        description=(
            f"{case.get_code_display()}: credit on {product.name} of invoice "
            f"{invoice.number}"
        ),
        qty=ONE,
        unit_price=net,
        subtotal=net,
        amount_only=True,
        tax_rate=rate,
        tax_amount=amount - net,
    )


def _goods_shipment_line(case: Discrepancy, qty: Decimal) -> int | None:
    """Return the case's shipment line when ``qty`` fits in what it did not get whole.

    The invoiced-quantity check counts the units of a line that names a
    shipment line as units the customer did not get whole, up to that
    shipment line's damaged and missing units. A case whose shipment line
    is unknown, or reports fewer units, names none, and its units count as
    any credited units of the order line.
    """
    shipment_line_id = case_shipment_line_id(case)
    if shipment_line_id is None:
        return None
    shipment_line = ShipmentLine.objects.filter(pk=shipment_line_id).first()
    if shipment_line is None or qty > units_not_whole(shipment_line):
        return None
    return shipment_line_id


def return_shipment_line(case: Discrepancy) -> int | None:
    """Return the shipment line the case's returned units came back from, or None.

    It is the one shipment line that the received return lines of the
    case's order line name. When none names one, it is the order line's only
    shipment line on a shipped or delivered shipment. Units that came back
    from several shipment lines name none.
    """
    if case.order_line_id is None:
        return None
    named = set(
        ReturnLine.objects.filter(
            order_line_id=case.order_line_id,
            authorization__received_at__isnull=False,
            shipment_line__isnull=False,
        ).values_list("shipment_line_id", flat=True)
    )
    if named:
        return named.pop() if len(named) == 1 else None
    sent = list(
        ShipmentLine.objects.filter(
            order_line_id=case.order_line_id,
            shipment__state__in=(Shipment.State.SHIPPED, Shipment.State.DELIVERED),
            qty_shipped__gt=0,
        ).values_list("pk", flat=True)[:2]
    )
    return sent[0] if len(sent) == 1 else None


class GoodsCreditError(ValueError):
    """No net amount and its tax add up to the requested credit, to the cent."""

    def __init__(self, amount: Decimal, rate: Decimal, nearest: list[Decimal]):
        self.amount = amount
        self.rate = rate
        self.nearest = nearest
        super().__init__(f"{amount} cannot be split into net and {rate}% tax")


def _net_of(amount: Decimal, rate: Decimal, minor_units: int) -> Decimal:
    """Return the net amount whose tax at ``rate``, rounded, makes ``amount``."""
    step = Decimal(1).scaleb(-minor_units)
    estimate = quantize_money(amount / (1 + rate / HUNDRED), minor_units=minor_units)
    candidates = [estimate + step * offset for offset in range(-3, 4)]
    for net in candidates:
        if net >= 0 and net + line_tax(net, rate, minor_units) == amount:
            return net
    grosses = sorted(
        {net + line_tax(net, rate, minor_units) for net in candidates if net > 0}
    )
    below = [gross for gross in grosses if gross < amount][-1:]
    above = [gross for gross in grosses if gross > amount][:1]
    raise GoodsCreditError(amount, rate, below + above)


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
        amount_only=True,
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


def money_lines(invoice: Invoice, amount: Decimal) -> list[CreditLine]:
    """Return money lines that credit ``amount`` of ``invoice`` across its lines.

    Each line's share is in proportion to what it billed, as for a case with
    no invoice line. An invoice without lines gives no lines.
    """
    lines = list(invoice.lines.select_related("product").order_by("pk"))
    if not lines:
        return []
    return _spread_over_lines(invoice, lines, amount, invoice.currency.minor_units)


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
                amount_only=True,
            )
        )
    return credit_lines


def create_credit_note(invoice: Invoice, amount: Decimal, *, state: str) -> Invoice:
    """Create a credit note of ``amount`` on ``invoice``, dated today, without lines.

    It is numbered ``CN-<invoice>-<n>`` with the first ``n`` after the
    invoice's credit notes that no document of the company uses.
    """
    count = Invoice.objects.filter(origin_invoice=invoice).count()
    while True:
        count += 1
        number = f"CN-{invoice.number}-{count}"
        taken = Invoice.objects.filter(company_id=invoice.company_id, number=number)
        if not taken.exists():
            break
    today = timezone.localdate()
    return Invoice.objects.create(
        company_id=invoice.company_id,
        kind=Invoice.Kind.CREDIT_NOTE,
        number=number,
        customer_id=invoice.customer_id,
        order_id=invoice.order_id,
        origin_invoice=invoice,
        currency_id=invoice.currency_id,
        fx_rate=invoice.fx_rate,
        invoice_date=today,
        due_date=today,
        state=state,
        amount_total=amount,
        amount_residual=amount,
    )


def create_credit_lines(credit_note: Invoice, lines: list[CreditLine]) -> None:
    """Save the planned lines on ``credit_note``, without tax.

    NOTE: a credit line carries the gross amount with tax rate 0, because the
    offered amount is what the customer pays less. The tax share of a credit
    is not split out, except on a goods case's line, which credits the
    invoice line's net and tax apart (``goods_credit_line``). A line that
    credits units keeps the order line (and a goods case's shipment line) it
    names, so the matching pass counts its units.
    """
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=credit_note,
            product=line.product,
            description=line.description[:200],
            qty=line.qty,
            unit_price=line.unit_price,
            subtotal=line.subtotal,
            amount_only=line.amount_only,
            tax_rate=line.tax_rate,
            tax_amount=line.tax_amount,
            order_line_id=line.order_line_id,
            shipment_line_id=line.shipment_line_id,
        )
        for line in lines
    )
