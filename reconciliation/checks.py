"""The checks of the matching pass, on the documents of one order in memory.

Each check returns ``Finding`` values and writes nothing. ``matching`` loads
the documents and stores what the checks return. ``difference`` is always actual
minus expected, in the unit the finding names (a currency, a unit of measure,
or days).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from accounts.models import Role
from reconciliation.models import (
    Allocation,
    DiscrepancyCode,
    Invoice,
    InvoiceLine,
    SalesOrder,
    SalesOrderLine,
    Severity,
    Shipment,
    ShipmentLine,
)
from reconciliation.money import (
    TolerancePolicy,
    format_money,
    format_price,
    format_quantity,
    within_tolerance,
)
from reconciliation.services import (
    COUNTED_SHIPMENT_STATES,
    KIND_SIGN,
    RECEIVABLE_KINDS,
    InvoiceAmounts,
    apply_invoice_amounts,
    derive_invoice_amounts,
)

ZERO = Decimal(0)


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: str
    owner_role: str


RULES = {
    rule.code: rule
    for rule in (
        Rule(
            DiscrepancyCode.NOT_SHIPPED,
            "shipment.not_shipped@1",
            Severity.MEDIUM,
            Role.WAREHOUSE,
        ),
        Rule(
            DiscrepancyCode.SHORT_SHIP,
            "shipment.short@1",
            Severity.MEDIUM,
            Role.WAREHOUSE,
        ),
        Rule(
            DiscrepancyCode.OVER_SHIP,
            "shipment.over@1",
            Severity.MEDIUM,
            Role.WAREHOUSE,
        ),
        Rule(
            DiscrepancyCode.LATE_SHIP, "shipment.late@1", Severity.LOW, Role.WAREHOUSE
        ),
        Rule(
            DiscrepancyCode.PRICE_MISMATCH,
            "invoice.price@1",
            Severity.MEDIUM,
            Role.SALES_REP,
        ),
        Rule(
            DiscrepancyCode.INVOICE_QTY_MISMATCH,
            "invoice.quantity@1",
            Severity.MEDIUM,
            Role.FINANCE_CLERK,
        ),
        Rule(
            DiscrepancyCode.DUPLICATE_INVOICE,
            "invoice.duplicate@1",
            Severity.HIGH,
            Role.FINANCE_CLERK,
        ),
        Rule(
            DiscrepancyCode.MISSING_PAYMENT,
            "payment.missing@1",
            Severity.HIGH,
            Role.FINANCE_CLERK,
        ),
        Rule(
            DiscrepancyCode.SHORT_PAYMENT,
            "payment.short@1",
            Severity.MEDIUM,
            Role.FINANCE_CLERK,
        ),
        Rule(
            DiscrepancyCode.OVER_PAYMENT,
            "payment.over@1",
            Severity.MEDIUM,
            Role.FINANCE_CLERK,
        ),
    )
}
WRITEOFF_RULE = "payment.writeoff@1"


@dataclass(frozen=True)
class Finding:
    rule: Rule
    order_id: int
    fingerprint: str
    explanation: str
    expected: Decimal | None
    actual: Decimal | None
    difference: Decimal | None
    unit: str
    order_line_id: int | None = None
    invoice_id: int | None = None
    shipment_id: int | None = None

    @property
    def code(self) -> str:
        return str(self.rule.code)


@dataclass(frozen=True)
class DuplicateOf:
    """The original invoice that a duplicate repeats."""

    number: str
    reference: str
    invoice_date: date
    partner_name: str


@dataclass(frozen=True)
class CheckContext:
    as_of: date
    late_days: int
    tolerance: TolerancePolicy
    payment_tolerance: Decimal
    # Duplicate invoice id -> the original it repeats, for the whole company.
    duplicates: dict[int, DuplicateOf]


@dataclass
class OrderDocuments:
    """One order with every document that refers to it."""

    order: SalesOrder
    lines: list[SalesOrderLine] = field(default_factory=list)
    shipments: list[Shipment] = field(default_factory=list)
    shipment_lines: list[ShipmentLine] = field(default_factory=list)
    invoices: list[Invoice] = field(default_factory=list)
    invoice_lines: list[InvoiceLine] = field(default_factory=list)
    allocations: list[Allocation] = field(default_factory=list)

    def has_writeoff(self) -> bool:
        posted = {i.pk for i in self.invoices if i.state == Invoice.State.POSTED}
        return any(
            allocation.writeoff_amount != 0 and allocation.invoice_id in posted
            for allocation in self.allocations
        )


def check_order(documents: OrderDocuments, context: CheckContext) -> list[Finding]:
    """Run every check on one order, in the order shipment, invoice, payment."""
    findings = []
    findings.extend(check_shipping(documents, context))
    findings.extend(check_late_shipments(documents, context))
    findings.extend(check_invoiced_quantities(documents, context))
    findings.extend(check_prices(documents, context))
    findings.extend(check_duplicates(documents, context))
    findings.extend(check_payments(documents, context))
    return findings


def _shipped_by_line(documents: OrderDocuments) -> dict[int, Decimal]:
    counted = {s.pk for s in documents.shipments if s.state in COUNTED_SHIPMENT_STATES}
    shipped: dict[int, Decimal] = defaultdict(Decimal)
    for shipment_line in documents.shipment_lines:
        if shipment_line.shipment_id in counted:
            shipped[shipment_line.order_line_id] += shipment_line.qty_shipped
    return shipped


def _lines_on_open_backorder(documents: OrderDocuments) -> set[int]:
    """Return the order lines that a draft backorder shipment still carries."""
    open_backorders = {
        shipment.pk
        for shipment in documents.shipments
        if shipment.state == Shipment.State.DRAFT and shipment.backorder_of_id
    }
    return {
        shipment_line.order_line_id
        for shipment_line in documents.shipment_lines
        if shipment_line.shipment_id in open_backorders
    }


def check_shipping(documents: OrderDocuments, context: CheckContext) -> list[Finding]:
    """Compare shipped with ordered quantities per line: not shipped, short, over."""
    shipped = _shipped_by_line(documents)
    backordered = _lines_on_open_backorder(documents)
    order = documents.order
    findings = []
    for line in documents.lines:
        qty = shipped[line.pk]
        uom = line.product.uom
        ordered = format_quantity(line.qty_ordered, uom)
        label = f"order {order.number} line {line.line_no} ({line.description})"
        if qty <= 0:
            if context.as_of <= line.promised_date + timedelta(days=context.late_days):
                continue
            code = DiscrepancyCode.NOT_SHIPPED
            text = (
                f"Nothing has been shipped for {label}: {ordered} ordered, "
                f"promised for {line.promised_date.isoformat()}."
            )
        elif context.tolerance.is_under(ordered=line.qty_ordered, actual=qty):
            if line.pk in backordered:
                continue
            code = DiscrepancyCode.SHORT_SHIP
            text = (
                f"Only {format_quantity(qty, uom)} of {ordered} shipped for {label}, "
                f"with no backorder open: "
                f"{format_quantity(line.qty_ordered - qty, uom)} short."
            )
        elif context.tolerance.is_over(ordered=line.qty_ordered, actual=qty):
            code = DiscrepancyCode.OVER_SHIP
            text = (
                f"{format_quantity(qty, uom)} shipped for {label} against {ordered} "
                f"ordered: {format_quantity(qty - line.qty_ordered, uom)} too many."
            )
        else:
            continue
        findings.append(
            Finding(
                rule=RULES[code],
                order_id=order.pk,
                fingerprint=f"{code}:line:{line.pk}",
                explanation=text,
                expected=line.qty_ordered,
                actual=qty,
                difference=qty - line.qty_ordered,
                unit=uom,
                order_line_id=line.pk,
            )
        )
    return findings


def check_late_shipments(
    documents: OrderDocuments, context: CheckContext
) -> list[Finding]:
    """Report each shipment that left after its earliest line's promised date."""
    promised = {line.pk: line.promised_date for line in documents.lines}
    dates: dict[int, list[date]] = defaultdict(list)
    for shipment_line in documents.shipment_lines:
        dates[shipment_line.shipment_id].append(promised[shipment_line.order_line_id])

    findings = []
    rule = RULES[DiscrepancyCode.LATE_SHIP]
    for shipment in documents.shipments:
        if shipment.state not in COUNTED_SHIPMENT_STATES or shipment.shipped_at is None:
            continue
        due = min(dates[shipment.pk], default=documents.order.promised_date)
        days_late = (shipment.shipped_at - due).days
        if days_late <= context.late_days:
            continue
        text = (
            f"Shipment {shipment.number} for order {documents.order.number} left on "
            f"{shipment.shipped_at.isoformat()}, {days_late} days after the "
            f"promised date {due.isoformat()}."
        )
        if context.late_days:
            text += f" Shipments may leave up to {context.late_days} days late."
        findings.append(
            Finding(
                rule=rule,
                order_id=documents.order.pk,
                fingerprint=f"{rule.code}:shipment:{shipment.pk}",
                explanation=text,
                expected=Decimal(context.late_days),
                actual=Decimal(days_late),
                difference=Decimal(days_late - context.late_days),
                unit="days",
                shipment_id=shipment.pk,
            )
        )
    return findings


def _counted_invoices(
    documents: OrderDocuments, context: CheckContext
) -> dict[int, Invoice]:
    """Return the posted invoices of the order that are not duplicates."""
    return {
        invoice.pk: invoice
        for invoice in documents.invoices
        if invoice.state == Invoice.State.POSTED
        and invoice.pk not in context.duplicates
    }


def check_invoiced_quantities(
    documents: OrderDocuments, context: CheckContext
) -> list[Finding]:
    """Compare invoiced with shipped (or, by policy, ordered) quantities per line.

    A line that no invoice mentions yet is not checked: it is still to invoice.
    """
    invoices = _counted_invoices(documents, context)
    invoiced: dict[int, Decimal] = defaultdict(Decimal)
    for invoice_line in documents.invoice_lines:
        invoice = invoices.get(invoice_line.invoice_id)
        if invoice is not None and invoice_line.order_line_id is not None:
            invoiced[invoice_line.order_line_id] += (
                KIND_SIGN[invoice.kind] * invoice_line.qty
            )
    shipped = _shipped_by_line(documents)

    findings = []
    rule = RULES[DiscrepancyCode.INVOICE_QTY_MISMATCH]
    for line in documents.lines:
        if line.pk not in invoiced:
            continue
        by_delivery = (
            line.product.invoice_policy == line.product.InvoicePolicy.DELIVERED
        )
        expected = shipped[line.pk] if by_delivery else line.qty_ordered
        actual = invoiced[line.pk]
        if actual == expected:
            continue
        uom = line.product.uom
        basis = "shipped" if by_delivery else "ordered"
        text = (
            f"Order {documents.order.number} line {line.line_no} ({line.description}): "
            f"{format_quantity(actual, uom)} invoiced but "
            f"{format_quantity(expected, uom)} {basis}."
        )
        findings.append(
            Finding(
                rule=rule,
                order_id=documents.order.pk,
                fingerprint=f"{rule.code}:line:{line.pk}",
                explanation=text,
                expected=expected,
                actual=actual,
                difference=actual - expected,
                unit=uom,
                order_line_id=line.pk,
            )
        )
    return findings


def check_prices(documents: OrderDocuments, context: CheckContext) -> list[Finding]:
    """Compare each invoice line's net unit price with its order line's."""
    invoices = _counted_invoices(documents, context)
    order_lines = {line.pk: line for line in documents.lines}
    rule = RULES[DiscrepancyCode.PRICE_MISMATCH]
    findings = []
    for invoice_line in documents.invoice_lines:
        invoice = invoices.get(invoice_line.invoice_id)
        line = order_lines.get(invoice_line.order_line_id or 0)
        if invoice is None or invoice.kind != Invoice.Kind.INVOICE or line is None:
            continue
        expected = line.unit_net
        actual = invoice_line.unit_net
        if context.tolerance.price_matches(expected=expected, actual=actual):
            continue
        findings.append(
            Finding(
                rule=rule,
                order_id=documents.order.pk,
                fingerprint=f"{rule.code}:invoice_line:{invoice_line.pk}",
                explanation=_price_text(documents.order, invoice, invoice_line, line),
                expected=expected,
                actual=actual,
                difference=actual - expected,
                unit=invoice.currency_id,
                order_line_id=line.pk,
                invoice_id=invoice.pk,
            )
        )
    return findings


def _price_text(
    order: SalesOrder, invoice: Invoice, invoice_line: InvoiceLine, line: SalesOrderLine
) -> str:
    minor_units = invoice.currency.minor_units
    billed = format_price(invoice_line.unit_net, minor_units=minor_units)
    agreed = format_price(line.unit_net, minor_units=minor_units)
    gap = invoice_line.unit_net - line.unit_net
    direction = "more" if gap > 0 else "less"
    agreed_text = f"{agreed} {invoice.currency_id}"
    if line.discount_pct:
        list_price = format_price(line.unit_price, minor_units=minor_units)
        agreed_text += f" ({list_price} less {line.discount_pct.normalize():f}%)"
    return (
        f"Invoice {invoice.number} bills {line.description} (order "
        f"{order.number} line {line.line_no}) at {billed} {invoice.currency_id} "
        f"per unit, but the order price is {agreed_text}: "
        f"{format_price(abs(gap), minor_units=minor_units)} {direction} per unit."
    )


def check_duplicates(documents: OrderDocuments, context: CheckContext) -> list[Finding]:
    rule = RULES[DiscrepancyCode.DUPLICATE_INVOICE]
    findings = []
    for invoice in documents.invoices:
        original = context.duplicates.get(invoice.pk)
        if original is None:
            continue
        total = format_money(
            invoice.amount_total, minor_units=invoice.currency.minor_units
        )
        text = (
            f"Invoice {invoice.number} ({total} {invoice.currency_id}) duplicates "
            f"invoice {original.number} of {original.invoice_date.isoformat()}: same "
            f"customer ({original.partner_name}) and same reference "
            f"({invoice.reference!r} matches {original.reference!r})."
        )
        findings.append(
            Finding(
                rule=rule,
                order_id=documents.order.pk,
                fingerprint=f"{rule.code}:invoice:{invoice.pk}",
                explanation=text,
                expected=None,
                actual=invoice.amount_total,
                difference=invoice.amount_total,
                unit=invoice.currency_id,
                invoice_id=invoice.pk,
            )
        )
    return findings


def _receivables(documents: OrderDocuments, context: CheckContext) -> list[Invoice]:
    invoices = _counted_invoices(documents, context).values()
    return [invoice for invoice in invoices if invoice.kind in RECEIVABLE_KINDS]


def invoice_amounts(invoice: Invoice, documents: OrderDocuments) -> InvoiceAmounts:
    """Derive the invoice's paid and residual amounts from its allocations."""
    allocations = [a for a in documents.allocations if a.invoice_id == invoice.pk]
    return derive_invoice_amounts(
        total=invoice.amount_total,
        paid=sum((allocation.amount for allocation in allocations), ZERO),
        written_off=sum(
            (allocation.writeoff_amount for allocation in allocations), ZERO
        ),
        minor_units=invoice.currency.minor_units,
    )


def settle_within_tolerance(
    documents: OrderDocuments, context: CheckContext
) -> list[tuple[Allocation, Invoice, Decimal]]:
    """Write off residuals within the payment tolerance on the latest allocation.

    Return (allocation, invoice, amount written off) for each, with both objects
    changed in memory. The residual is then 0, so later runs find nothing to do.
    """
    settled = []
    for invoice in _receivables(documents, context):
        residual = invoice_amounts(invoice, documents).amount_residual
        allocations = [a for a in documents.allocations if a.invoice_id == invoice.pk]
        if residual == 0 or not allocations:
            continue
        if not within_tolerance(residual, context.payment_tolerance):
            continue

        minor_units = invoice.currency.minor_units
        allocation = allocations[-1]
        allocation.writeoff_amount += residual
        allocation.writeoff_reason = (
            f"Residual of {format_money(residual, minor_units=minor_units)} "
            f"{invoice.currency_id} is within the payment tolerance of "
            f"{format_money(context.payment_tolerance, minor_units=minor_units)} "
            f"{invoice.currency_id} ({WRITEOFF_RULE})."
        )
        apply_invoice_amounts(invoice, invoice_amounts(invoice, documents))
        settled.append((allocation, invoice, residual))
    return settled


def check_payments(documents: OrderDocuments, context: CheckContext) -> list[Finding]:
    """Report unpaid overdue invoices and residuals beyond the payment tolerance."""
    findings = []
    for invoice in _receivables(documents, context):
        amounts = invoice_amounts(invoice, documents)
        residual = amounts.amount_residual
        if within_tolerance(residual, context.payment_tolerance):
            continue
        settled = amounts.amount_paid + amounts.amount_written_off
        if settled == 0 and context.as_of <= invoice.due_date:
            continue
        findings.append(_payment_finding(documents.order, invoice, amounts))
    return findings


def _payment_finding(
    order: SalesOrder, invoice: Invoice, amounts: InvoiceAmounts
) -> Finding:
    minor_units = invoice.currency.minor_units
    total = invoice.amount_total
    settled = amounts.amount_paid + amounts.amount_written_off
    residual = amounts.amount_residual

    def money(amount: Decimal) -> str:
        return format_money(amount, minor_units=minor_units)

    if settled == 0:
        code = DiscrepancyCode.MISSING_PAYMENT
        text = (
            f"Invoice {invoice.number} for {money(total)} {invoice.currency_id} was "
            f"due on {invoice.due_date.isoformat()} and nothing has been paid."
        )
    elif residual > 0:
        code = DiscrepancyCode.SHORT_PAYMENT
        text = (
            f"Invoice {invoice.number} was paid {money(settled)} of {money(total)} "
            f"{invoice.currency_id}; {money(residual)} is still open."
        )
    else:
        code = DiscrepancyCode.OVER_PAYMENT
        text = (
            f"Invoice {invoice.number} was paid {money(settled)} of {money(total)} "
            f"{invoice.currency_id}; {money(-residual)} was paid too much."
        )
    return Finding(
        rule=RULES[code],
        order_id=order.pk,
        fingerprint=f"{code}:invoice:{invoice.pk}",
        explanation=text,
        expected=total,
        actual=settled,
        difference=settled - total,
        unit=invoice.currency_id,
        invoice_id=invoice.pk,
    )
