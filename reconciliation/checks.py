"""The checks of the matching pass, on the documents of one order in memory.

Each check appends ``Finding`` and ``MatchRecord`` values to a ``Results`` and
writes nothing. ``matching`` loads the documents and stores what the checks
return. ``difference`` is always actual minus expected, in the unit the
finding names (a currency, a unit of measure, or days).

Control points run in a fixed order: order to shipment (A), shipment to
customer receipt (B), order and shipment to invoice (C, in
``billing_checks``), invoice to payment (D) and returns (F, both in
``cash_checks``). Quantities are summed per order line over every shipment,
invoice, credit note and return row that refers to it, so how the lines are
split across rows and documents does not change the result.
"""

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from reconciliation.goods_billing import billed_units, case_quantity, choose_invoice
from reconciliation.models import (
    Allocation,
    Currency,
    Invoice,
    InvoiceLine,
    MatchGroup,
    ReturnAuthorization,
    ReturnLine,
    SalesOrder,
    SalesOrderLine,
    Shipment,
    ShipmentLine,
)
from reconciliation.money import format_quantity
from reconciliation.replacements import covered_units
from reconciliation.services import COUNTED_SHIPMENT_STATES
from reconciliation.taxonomy import RULES, Rule
from reconciliation.tolerances import Tolerance, ToleranceBook

ZERO = Decimal(0)
Outcome = MatchGroup.Outcome


@dataclass(frozen=True)
class Finding:
    rule: Rule
    order_id: int | None
    fingerprint: str
    explanation: str
    expected: Decimal | None
    actual: Decimal | None
    difference: Decimal | None
    unit: str
    order_line_id: int | None = None
    invoice_id: int | None = None
    shipment_id: int | None = None
    payment_id: int | None = None
    purchase_order_id: int | None = None
    vendor_bill_id: int | None = None
    # The resolution code when the rule settled the finding itself, so the
    # case is stored resolved: a rounding write-off, a booked FX difference.
    settled_with: str = ""

    @property
    def code(self) -> str:
        return str(self.rule.code)

    @property
    def is_exception(self) -> bool:
        return not self.settled_with and not self.rule.informational


@dataclass(frozen=True)
class MatchRecord:
    """A match one rule made at one control point, before it is stored."""

    kind: str
    key: str
    rule: str
    rule_version: str
    outcome: str
    compared: dict[str, Any]
    residual: Decimal
    unit: str
    explanation: str = ""
    proposed: bool = False
    score: int = 0
    order_id: int | None = None
    order_line_id: int | None = None
    invoice_id: int | None = None
    payment_id: int | None = None
    purchase_order_id: int | None = None


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
    book: ToleranceBook
    # Duplicate invoice id -> the original it repeats, for the whole company.
    duplicates: dict[int, DuplicateOf]
    base_currency: str = ""
    base_minor_units: int = 2
    # Every currency by code, read once per pass.
    currencies: dict[str, Currency] = field(default_factory=dict)


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
    returns: list[ReturnAuthorization] = field(default_factory=list)
    return_lines: list[ReturnLine] = field(default_factory=list)
    # What ``shipped_by_line``, ``line_tolerance`` and ``order_tolerance``
    # returned, because the checks need them several times per order. The
    # pass changes no shipment, order line, product or customer while it
    # checks an order.
    _shipped: dict[int, Decimal] | None = field(default=None, repr=False, compare=False)
    # The units shipped replacements replace, by order line id, which
    # ``shipped_by_line`` takes off and the return check counts as settled.
    _replaced: dict[int, Decimal] = field(
        default_factory=dict, repr=False, compare=False
    )
    _line_tolerances: dict[int, Tolerance] = field(
        default_factory=dict, repr=False, compare=False
    )
    _order_tolerance: Tolerance | None = field(default=None, repr=False, compare=False)

    def has_writeoff(self) -> bool:
        posted = {i.id for i in self.invoices if i.state == Invoice.State.POSTED}
        return any(
            (
                allocation.writeoff_forgiven != 0
                or allocation.writeoff_kept != 0
                or allocation.fx_difference != 0
            )
            and allocation.invoice_id in posted
            for allocation in self.allocations
        )

    def order_tolerance(self, context: CheckContext) -> Tolerance:
        if self._order_tolerance is None:
            customer = self.order.customer
            self._order_tolerance = context.book.for_scope(
                customer_id=customer.commercial_partner_id
            )
        return self._order_tolerance

    def line_tolerance(self, line: SalesOrderLine, context: CheckContext) -> Tolerance:
        found = self._line_tolerances.get(line.id)
        if found is None:
            customer = self.order.customer
            found = context.book.for_scope(
                customer_id=customer.commercial_partner_id, group=line.product.group
            )
            self._line_tolerances[line.id] = found
        return found


@dataclass
class Results:
    findings: list[Finding] = field(default_factory=list)
    matches: list[MatchRecord] = field(default_factory=list)


def check_order(documents: OrderDocuments, context: CheckContext) -> Results:
    """Run every check on one order, control point by control point."""
    from reconciliation import billing_checks, cash_checks

    results = Results()
    if documents.order.state == SalesOrder.State.CANCELLED:
        cash_checks.check_cancelled_order(documents, context, results)
        return results
    check_wrong_items(documents, context, results)
    check_shipping(documents, context, results)
    check_late_shipments(documents, context, results)
    check_receipts(documents, context, results)
    billing_checks.check_billing(documents, context, results)
    cash_checks.check_cash(documents, context, results)
    cash_checks.check_returns(documents, context, results)
    return results


def order_label(order: SalesOrder, line: SalesOrderLine) -> str:
    return f"order {order.number} line {line.line_no} ({line.description})"


def is_wrong_item(shipment_line: ShipmentLine, line: SalesOrderLine) -> bool:
    return (
        shipment_line.product_id is not None
        and shipment_line.product_id != line.product_id
    )


def shipped_by_line(documents: OrderDocuments) -> dict[int, Decimal]:
    """Sum the shipped quantity of each order line over its counted shipments.

    Rows that shipped another product than the ordered one do not count.
    Nor do the units a replacement shipment sends again for a goods case, up
    to its replacement quantity (``replacements.covered_units``): they
    replace units shipped and billed before, so they are neither an
    over-shipment nor to be invoiced. Units beyond it count as usual.
    The result is kept on ``documents``: callers read it and must not change it.
    """
    if documents._shipped is not None:
        return documents._shipped
    counted = {s.id for s in documents.shipments if s.state in COUNTED_SHIPMENT_STATES}
    lines = {line.id: line for line in documents.lines}
    shipped: dict[int, Decimal] = defaultdict(Decimal)
    replacing = [
        s
        for s in documents.shipments
        if s.id in counted and s.replacement_line_id is not None
    ]
    by_shipment: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    for shipment_line in documents.shipment_lines:
        line = lines.get(shipment_line.order_line_id)
        if shipment_line.shipment_id not in counted or line is None:
            continue
        if not is_wrong_item(shipment_line, line):
            shipped[shipment_line.order_line_id] += shipment_line.qty_shipped
            if replacing:
                key = (shipment_line.shipment_id, shipment_line.order_line_id)
                by_shipment[key] += shipment_line.qty_shipped
    replaced = covered_units(replacing, by_shipment) if replacing else {}
    for line_id, units in replaced.items():
        shipped[line_id] -= units
    documents._replaced = replaced
    documents._shipped = shipped
    return shipped


def replaced_by_line(documents: OrderDocuments) -> dict[int, Decimal]:
    """Return the units shipped replacements replace, by order line id.

    These are the units ``shipped_by_line`` does not count as shipped: those
    of a counted replacement shipment on its replacement line, up to its
    replacement quantity. Units that did not ship, of a draft or discarded
    replacement, are not in it. Callers must not change the result.
    """
    shipped_by_line(documents)
    return documents._replaced


def _shipments_by_line(documents: OrderDocuments) -> dict[int, dict[str, str]]:
    counted = {
        s.id: s.number
        for s in documents.shipments
        if s.state in COUNTED_SHIPMENT_STATES
    }
    rows: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for shipment_line in documents.shipment_lines:
        number = counted.get(shipment_line.shipment_id)
        if number is not None:
            rows[shipment_line.order_line_id][number] += shipment_line.qty_shipped
    return {
        line_id: {number: str(qty) for number, qty in sorted(by_number.items())}
        for line_id, by_number in rows.items()
    }


def lines_on_open_backorder(documents: OrderDocuments) -> dict[int, date | None]:
    """Return the order lines that a draft backorder still carries.

    Each line maps to the latest day its backorders are expected
    (``Shipment.expected_delivery``), or None when no backorder of it has one.
    """
    expected = {
        shipment.id: shipment.expected_delivery
        for shipment in documents.shipments
        if shipment.state == Shipment.State.DRAFT and shipment.backorder_of_id
    }
    lines: dict[int, date | None] = {}
    for shipment_line in documents.shipment_lines:
        if shipment_line.shipment_id not in expected:
            continue
        day = expected[shipment_line.shipment_id]
        known = lines.get(shipment_line.order_line_id)
        lines[shipment_line.order_line_id] = (
            day if known is None or (day is not None and day > known) else known
        )
    return lines


def backordered_quantities(documents: OrderDocuments) -> dict[int, Decimal]:
    """Return the units each order line has on draft backorders, by line id.

    A backorder covers the units the sales rep moved to it, not the whole
    rest of its line: the other units stay due on the promised date.
    """
    drafts = {
        shipment.id
        for shipment in documents.shipments
        if shipment.state == Shipment.State.DRAFT and shipment.backorder_of_id
    }
    units: dict[int, Decimal] = {}
    for shipment_line in documents.shipment_lines:
        if shipment_line.shipment_id in drafts:
            line_id = shipment_line.order_line_id
            units[line_id] = units.get(line_id, ZERO) + shipment_line.qty_shipped
    return units


def check_wrong_items(
    documents: OrderDocuments, context: CheckContext, results: Results
) -> None:
    """Report shipment rows whose product is not the ordered line's product."""
    rule = RULES["WRONG_ITEM"]
    counted = {
        s.id: s for s in documents.shipments if s.state in COUNTED_SHIPMENT_STATES
    }
    lines = {line.id: line for line in documents.lines}
    for shipment_line in documents.shipment_lines:
        shipment = counted.get(shipment_line.shipment_id)
        line = lines.get(shipment_line.order_line_id)
        if shipment is None or line is None or not is_wrong_item(shipment_line, line):
            continue
        uom = line.product.uom
        sent = shipment_line.product
        qty = format_quantity(shipment_line.qty_shipped, uom)
        text = (
            f"Shipment {shipment.number} sent {qty} of {sent.sku if sent else '?'} "
            f"for {order_label(documents.order, line)}, which ordered "
            f"{line.product.sku}."
        )
        results.findings.append(
            Finding(
                rule=rule,
                order_id=documents.order.id,
                fingerprint=f"{rule.code}:shipment_line:{shipment_line.id}",
                explanation=text,
                expected=ZERO,
                actual=shipment_line.qty_shipped,
                difference=shipment_line.qty_shipped,
                unit=uom,
                order_line_id=line.id,
                shipment_id=shipment.id,
            )
        )


def check_shipping(
    documents: OrderDocuments, context: CheckContext, results: Results
) -> None:
    """Compare shipped with ordered quantities per line, and store the match.

    Cancelled units (``SalesOrderLine.qty_cancelled``) are not due, so a line
    whose rest was cancelled is shipped in full, not short.
    """
    shipped = shipped_by_line(documents)
    by_shipment = _shipments_by_line(documents)
    backordered = lines_on_open_backorder(documents)
    backordered_units = backordered_quantities(documents) if backordered else {}
    lines: list[LineMatch] = []
    for line in documents.lines:
        pk = line.id
        tolerance = documents.line_tolerance(line, context)
        qty = shipped[pk]
        finding = _shipping_finding(
            documents,
            context,
            line,
            qty,
            tolerance,
            on_backorder=pk in backordered,
            backorder_expected=backordered.get(pk),
            backordered=backordered_units.get(pk, ZERO),
        )
        if finding is not None:
            results.findings.append(finding)
        if qty <= 0 and finding is None:
            continue
        residual = qty - line.qty_due
        compared: dict[str, Any] = {"ordered": str(line.qty_ordered)}
        if line.qty_cancelled:
            # Only then, so the match of a line without cancellations keeps
            # the values it had before cancellations existed.
            compared["cancelled"] = str(line.qty_cancelled)
        compared["shipped"] = str(qty)
        compared["shipments"] = by_shipment.get(pk, {})
        lines.append(
            LineMatch(
                line=line,
                tolerance=tolerance,
                finding=finding,
                residual=residual,
                outcome=line_outcome(finding, residual),
                compared=compared,
            )
        )
    record = order_match(
        documents,
        lines,
        kind=MatchGroup.Kind.SHIPMENT,
        rule="shipment.quantity@1",
        tolerance_fields=("qty_under_pct", "qty_over_pct"),
    )
    if record is not None:
        results.matches.append(record)


@dataclass(frozen=True)
class LineMatch:
    """The values one rule compared for one order line, before the order's match."""

    line: SalesOrderLine
    tolerance: Tolerance
    finding: Finding | None
    residual: Decimal
    outcome: str
    compared: dict[str, Any]


# Rank of each outcome, so an order's match takes its worst line's outcome.
OUTCOME_RANK: dict[str, int] = {
    Outcome.CLEAN: 0,
    Outcome.IN_TOLERANCE: 1,
    Outcome.EXCEPTION: 2,
}


def order_match(
    documents: OrderDocuments,
    lines: list[LineMatch],
    *,
    kind: str,
    rule: str,
    tolerance_fields: tuple[str, ...],
) -> MatchRecord | None:
    """Return one match of the order at a per-line control point, or None.

    ``compared`` contains each line's values under ``lines`` (by line number,
    with its residual, unit, outcome and tolerance profile) and the values
    of each profile applied under ``tolerances``, by version. The match
    takes its worst line's outcome and is proposed when a line is an
    exception. Its residual is the lines' sum when they share one unit and
    no two lines differ in opposite directions. Otherwise it counts the
    lines with a residual, in the unit "lines", because a shortage on one
    line and an excess on another would add up to a residual of 0.
    """
    if not lines:
        return None
    tolerances: dict[str, dict[str, str]] = {}
    items = []
    units: set[str] = set()
    for match in lines:
        tolerance = match.tolerance
        version = tolerance.version
        if version not in tolerances:
            tolerances[version] = {
                "name": tolerance.name,
                **{name: str(getattr(tolerance, name)) for name in tolerance_fields},
            }
        uom = match.line.product.uom
        units.add(uom)
        items.append(
            {
                "line": match.line.line_no,
                **match.compared,
                "residual": str(match.residual),
                "unit": uom,
                "outcome": match.outcome,
                "tolerance": version,
            }
        )
    outcome = max((m.outcome for m in lines), key=OUTCOME_RANK.__getitem__)
    directions = {match.residual > 0 for match in lines if match.residual != 0}
    if len(units) == 1 and len(directions) <= 1:
        residual = sum((match.residual for match in lines), ZERO)
        unit = units.pop()
    else:
        residual = Decimal(sum(1 for match in lines if match.residual != 0))
        unit = "lines"
    order = documents.order
    return MatchRecord(
        kind=kind,
        key=f"{kind}:order:{order.id}",
        rule=rule,
        rule_version=_combined_version(list(tolerances)),
        outcome=outcome,
        compared={"lines": items, "tolerances": tolerances},
        residual=residual,
        unit=unit,
        explanation=" ".join(
            match.finding.explanation for match in lines if match.finding
        ),
        proposed=outcome == Outcome.EXCEPTION,
        order_id=order.id,
    )


def _combined_version(versions: list[str]) -> str:
    """Return the one profile version, or a short hash of several, in order."""
    if len(versions) == 1:
        return versions[0]
    text = " ".join(sorted(versions))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def line_outcome(finding: Finding | None, residual: Decimal) -> str:
    """Return a line's outcome from its finding, else from its residual."""
    if finding is not None and finding.is_exception:
        return Outcome.EXCEPTION
    return Outcome.CLEAN if residual == 0 else Outcome.IN_TOLERANCE


def _shipping_finding(
    documents: OrderDocuments,
    context: CheckContext,
    line: SalesOrderLine,
    qty: Decimal,
    tolerance: Tolerance,
    *,
    on_backorder: bool,
    backorder_expected: date | None = None,
    backordered: Decimal = ZERO,
) -> Finding | None:
    late = timedelta(days=tolerance.late_days)
    past_promise = context.as_of > line.promised_date + late
    # The rest on a backorder is late only after the expected date the sales
    # rep entered for it, when there is one.
    backorder_due = backorder_expected or line.promised_date
    due = line.qty_due
    short = tolerance.is_under(ordered=due, actual=qty)
    # Units of the rest that no backorder carries stay due on the promised
    # date, as on a line with no backorder.
    uncovered = short and tolerance.is_under(ordered=due, actual=qty + backordered)
    if on_backorder and uncovered:
        return _uncovered_finding(
            documents, line, qty, backordered, past_promise=past_promise
        )
    if short and on_backorder:
        if context.as_of > backorder_due + late:
            code = "BACKORDER_OPEN"
        elif qty > 0:
            code = "PARTIAL_SHIP"
        else:
            return None
    elif qty <= 0:
        if not past_promise or due <= 0:
            return None
        code = "NOT_SHIPPED"
    elif short:
        code = "SHORT_SHIP"
    elif tolerance.is_over(ordered=due, actual=qty):
        code = "OVER_SHIP"
    else:
        return None
    # The text is written only for a finding, which most lines do not have.
    uom = line.product.uom
    ordered = format_quantity(due, uom)
    label = order_label(documents.order, line)
    missing = format_quantity(due - qty, uom)
    if code == "BACKORDER_OPEN":
        if backorder_expected is None:
            due_text = f"the promised date {line.promised_date.isoformat()}"
        else:
            due_text = f"the expected date {backorder_expected.isoformat()}"
        text = (
            f"{missing} of {ordered} for {label} are still on backorder after "
            f"{due_text}."
        )
    elif code == "PARTIAL_SHIP":
        text = (
            f"{format_quantity(qty, uom)} of {ordered} shipped for {label}; "
            f"{missing} follow on a backorder."
        )
    elif code == "NOT_SHIPPED":
        text = (
            f"Nothing has been shipped for {label}: {ordered} ordered, "
            f"promised for {line.promised_date.isoformat()}."
        )
    elif code == "SHORT_SHIP":
        text = (
            f"Only {format_quantity(qty, uom)} of {ordered} shipped for {label}, "
            f"with no backorder open: {missing} short."
        )
    else:
        text = (
            f"{format_quantity(qty, uom)} shipped for {label} against {ordered} "
            f"ordered: {format_quantity(qty - due, uom)} too many."
        )
    if line.qty_cancelled > 0:
        text += (
            f" Of the {format_quantity(line.qty_ordered, uom)} ordered, "
            f"{format_quantity(line.qty_cancelled, uom)} were cancelled and are "
            "not counted."
        )
    return Finding(
        rule=RULES[code],
        order_id=documents.order.id,
        fingerprint=f"{code}:line:{line.id}",
        explanation=text,
        expected=due,
        actual=qty,
        difference=qty - due,
        unit=uom,
        order_line_id=line.id,
    )


def _uncovered_finding(
    documents: OrderDocuments,
    line: SalesOrderLine,
    qty: Decimal,
    backordered: Decimal,
    *,
    past_promise: bool,
) -> Finding | None:
    """Report the units of a line that neither shipped nor are on a backorder.

    Shipped short, they are a short shipment at once; not shipped at all,
    they are late after the promised date. The finding expects the line's
    due units less those on backorder, so the case covers only the rest.
    """
    if qty <= 0 and not past_promise:
        return None
    code = "SHORT_SHIP" if qty > 0 else "NOT_SHIPPED"
    uom = line.product.uom
    expected = line.qty_due - backordered
    label = order_label(documents.order, line)
    rest = format_quantity(expected - qty, uom)
    on_backorder = format_quantity(backordered, uom)
    if code == "SHORT_SHIP":
        text = (
            f"Only {format_quantity(qty, uom)} of {format_quantity(line.qty_due, uom)} "
            f"shipped for {label} and {on_backorder} follow on a backorder: "
            f"{rest} short with no backorder."
        )
    else:
        text = (
            f"Nothing has been shipped for {label}: "
            f"{format_quantity(line.qty_due, uom)} due, promised for "
            f"{line.promised_date.isoformat()}. {on_backorder} follow on a "
            f"backorder, so {rest} are late."
        )
    return Finding(
        rule=RULES[code],
        order_id=documents.order.id,
        fingerprint=f"{code}:line:{line.id}",
        explanation=text,
        expected=expected,
        actual=qty,
        difference=qty - expected,
        unit=uom,
        order_line_id=line.id,
    )


def check_late_shipments(
    documents: OrderDocuments, context: CheckContext, results: Results
) -> None:
    """Report shipments that left after their earliest line's due date,
    and deliveries signed for after the expected delivery date.

    A line's due date is its promised date. On a backorder with an expected
    date (``Shipment.expected_delivery``, set by the backorder decision) the
    due date is that date instead, for a draft and a shipped backorder alike.
    """
    promised = {line.id: line.promised_date for line in documents.lines}
    backorder_dates = {
        shipment.id: shipment.expected_delivery
        for shipment in documents.shipments
        if shipment.backorder_of_id and shipment.expected_delivery is not None
    }
    dates: dict[int, list[date]] = defaultdict(list)
    for shipment_line in documents.shipment_lines:
        day = backorder_dates.get(shipment_line.shipment_id)
        if day is None:
            day = promised[shipment_line.order_line_id]
        dates[shipment_line.shipment_id].append(day)

    late_days = documents.order_tolerance(context).late_days
    for shipment in documents.shipments:
        if shipment.state not in COUNTED_SHIPMENT_STATES or shipment.shipped_at is None:
            continue
        if shipment.replaces_case_id is not None:
            # A replacement leaves after the customer reported the goods it
            # replaces, so no promised date applies to it. Its expected
            # delivery date, when it has one, is still checked.
            finding = _late_delivery_finding(documents, shipment, late_days)
            if finding is not None:
                results.findings.append(finding)
            continue
        fallback = backorder_dates.get(shipment.id) or documents.order.promised_date
        due = min(dates[shipment.id], default=fallback)
        due_name = (
            "expected date of the backorder"
            if shipment.id in backorder_dates
            else "promised date"
        )
        finding = _late_finding(documents, shipment, due, due_name, late_days)
        if finding is not None:
            results.findings.append(finding)
        finding = _late_delivery_finding(documents, shipment, late_days)
        if finding is not None:
            results.findings.append(finding)


def _late_finding(
    documents: OrderDocuments,
    shipment: Shipment,
    due: date,
    due_name: str,
    late_days: int,
) -> Finding | None:
    if shipment.shipped_at is None:
        return None
    days_late = (shipment.shipped_at - due).days
    if days_late <= late_days:
        return None
    rule = RULES["LATE_SHIP"]
    text = (
        f"Shipment {shipment.number} for order {documents.order.number} left on "
        f"{shipment.shipped_at.isoformat()}, {days_late} days after the "
        f"{due_name} {due.isoformat()}."
    )
    if late_days:
        text += f" Shipments may leave up to {late_days} days late."
    return Finding(
        rule=rule,
        order_id=documents.order.id,
        fingerprint=f"{rule.code}:shipment:{shipment.id}",
        explanation=text,
        expected=Decimal(late_days),
        actual=Decimal(days_late),
        difference=Decimal(days_late - late_days),
        unit="days",
        shipment_id=shipment.id,
    )


def _late_delivery_finding(
    documents: OrderDocuments, shipment: Shipment, late_days: int
) -> Finding | None:
    if shipment.delivered_at is None or shipment.expected_delivery is None:
        return None
    days_late = (shipment.delivered_at - shipment.expected_delivery).days
    if days_late <= late_days:
        return None
    rule = RULES["LATE_DELIVERY"]
    text = (
        f"Shipment {shipment.number} for order {documents.order.number} was "
        f"delivered on {shipment.delivered_at.isoformat()}, {days_late} days after "
        f"the expected delivery date {shipment.expected_delivery.isoformat()}."
    )
    return Finding(
        rule=rule,
        order_id=documents.order.id,
        fingerprint=f"{rule.code}:shipment:{shipment.id}",
        explanation=text,
        expected=Decimal(late_days),
        actual=Decimal(days_late),
        difference=Decimal(days_late - late_days),
        unit="days",
        shipment_id=shipment.id,
    )


def check_receipts(
    documents: OrderDocuments, context: CheckContext, results: Results
) -> None:
    """Compare what the customer confirmed receiving with what was shipped."""
    counted = {
        s.id: s for s in documents.shipments if s.state in COUNTED_SHIPMENT_STATES
    }
    lines = {line.id: line for line in documents.lines}
    for shipment_line in documents.shipment_lines:
        shipment = counted.get(shipment_line.shipment_id)
        line = lines.get(shipment_line.order_line_id)
        if shipment is None or line is None:
            continue
        if shipment_line.qty_damaged > 0:
            results.findings.append(
                _receipt_finding("DAMAGED", documents, shipment, shipment_line, line)
            )
        received = shipment_line.qty_received
        if received is None:
            continue
        accounted = received + shipment_line.qty_damaged
        if accounted < shipment_line.qty_shipped:
            results.findings.append(
                _receipt_finding(
                    "NOT_RECEIVED", documents, shipment, shipment_line, line
                )
            )
        results.matches.append(
            MatchRecord(
                kind=MatchGroup.Kind.RECEIPT,
                key=f"B:shipment_line:{shipment_line.id}",
                rule="receipt.confirmed@1",
                rule_version="1",
                outcome=Outcome.CLEAN
                if accounted == shipment_line.qty_shipped
                and shipment_line.qty_damaged == 0
                else Outcome.EXCEPTION,
                compared={
                    "shipped": str(shipment_line.qty_shipped),
                    "received": str(received),
                    "damaged": str(shipment_line.qty_damaged),
                },
                residual=accounted - shipment_line.qty_shipped,
                unit=line.product.uom,
                order_id=documents.order.id,
                order_line_id=line.id,
            )
        )


def _bare(qty: Decimal) -> str:
    """Format a quantity without its unit, for "2 of 8 units"."""
    return f"{qty.normalize():,f}"


def _receipt_finding(
    code: str,
    documents: OrderDocuments,
    shipment: Shipment,
    shipment_line: ShipmentLine,
    line: SalesOrderLine,
) -> Finding:
    uom = line.product.uom
    shipped = shipment_line.qty_shipped
    label = order_label(documents.order, line)
    if code == "DAMAGED":
        actual = shipment_line.qty_damaged
        text = (
            f"The customer reported {_bare(actual)} of "
            f"{format_quantity(shipped, uom)} damaged in shipment {shipment.number} "
            f"for {label}."
        )
        expected, difference = ZERO, actual
    else:
        received = shipment_line.qty_received or ZERO
        actual = received + shipment_line.qty_damaged
        text = (
            f"The customer confirmed {_bare(received)} of "
            f"{format_quantity(shipped, uom)} shipped in shipment {shipment.number} "
            f"for {label}: {format_quantity(shipped - actual, uom)} not received."
        )
        expected, difference = shipped, actual - shipped
    rule = RULES[code]
    # The invoice that billed these units, so a credit note can credit it.
    invoice_id = choose_invoice(
        billed_units(documents.invoices, documents.invoice_lines, line.id),
        shipment_line_id=shipment_line.id,
        qty=case_quantity(code, shipment_line),
    )
    return Finding(
        rule=rule,
        order_id=documents.order.id,
        fingerprint=f"{code}:shipment_line:{shipment_line.id}",
        explanation=text,
        expected=expected,
        actual=actual,
        difference=difference,
        unit=uom,
        order_line_id=line.id,
        shipment_id=shipment.id,
        invoice_id=invoice_id,
    )
