"""Control point C: order and shipment to invoice, per order line.

The expected billable quantity of a line is what shipped (delivery policy) or
what was ordered (order policy), less the credited units that the customer
sent back or did not get whole: returned units, and damaged or missing units
that a goods case's credit note credits on their shipment line. Other
credited units correct units invoiced too many. A return not yet credited
is left to the return check, so one missing credit note is reported once.
A line that no invoice mentions yet is still to invoice, and becomes
``UNINVOICED_DELIVERY`` once its first shipment is older than the profile's
``uninvoiced_days``.
"""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from reconciliation.checks import (
    CheckContext,
    Finding,
    LineMatch,
    OrderDocuments,
    Results,
    line_outcome,
    order_label,
    order_match,
    shipped_by_line,
)
from reconciliation.goods_billing import units_not_whole
from reconciliation.models import (
    Invoice,
    InvoiceLine,
    MatchGroup,
    Product,
    SalesOrder,
    SalesOrderLine,
)
from reconciliation.money import (
    HUNDRED,
    format_money,
    format_price,
    format_quantity,
    quantize_money,
)
from reconciliation.services import COUNTED_SHIPMENT_STATES, KIND_SIGN
from reconciliation.taxonomy import RULES

ZERO = Decimal(0)


def counted_invoices(
    documents: OrderDocuments, context: CheckContext
) -> dict[int, Invoice]:
    """Return the posted invoices of the order that are not duplicates."""
    return {
        invoice.id: invoice
        for invoice in documents.invoices
        if invoice.state == Invoice.State.POSTED
        and invoice.id not in context.duplicates
    }


def returned_by_line(documents: OrderDocuments) -> dict[int, Decimal]:
    """Sum the accepted return quantity of each order line."""
    accepted = {r.id for r in documents.returns if r.received_at is not None}
    returned: dict[int, Decimal] = defaultdict(Decimal)
    for line in documents.return_lines:
        if line.authorization_id in accepted:
            returned[line.order_line_id] += line.qty_accepted
    return returned


def billed_by_line(
    documents: OrderDocuments, context: CheckContext
) -> tuple[dict[int, Decimal], dict[int, Decimal]]:
    """Return the net invoiced and the credited quantity of each order line.

    A line counts its quantity as units of the order line it names. A credit
    note names an order line only on a line that credits units of it
    (``credit_notes``), so a price or money credit counts nowhere here. A
    line marked ``amount_only`` is money whatever it names, and never counts.
    """
    invoices = counted_invoices(documents, context)
    invoiced: dict[int, Decimal] = defaultdict(Decimal)
    credited: dict[int, Decimal] = defaultdict(Decimal)
    for invoice_line in documents.invoice_lines:
        invoice = invoices.get(invoice_line.invoice_id)
        if (
            invoice is None
            or invoice_line.order_line_id is None
            or invoice_line.amount_only
        ):
            continue
        invoiced[invoice_line.order_line_id] += (
            KIND_SIGN[invoice.kind] * invoice_line.qty
        )
        if invoice.kind == Invoice.Kind.CREDIT_NOTE:
            credited[invoice_line.order_line_id] += invoice_line.qty
    return invoiced, credited


def credited_units(
    documents: OrderDocuments, context: CheckContext
) -> dict[int, Decimal]:
    """Return the units the counted credit notes credit, by order line id.

    The return check and the invoiced-quantity check both read this, so a
    credit note of units settles a return and lowers the invoiced quantity
    alike, whether a sales rep proposed it or an import brought it.
    """
    return billed_by_line(documents, context)[1]


def credited_not_whole(
    documents: OrderDocuments, context: CheckContext
) -> dict[int, Decimal]:
    """Return the credited units the customer did not get whole, by order line id.

    These are the units of credit note lines that name a shipment line, up
    to the damaged and missing units of that shipment line
    (``goods_billing.units_not_whole``). A goods case's credit note names
    its shipment line; units beyond what the shipment line reported count
    as other credited units.
    """
    not_whole: dict[int, Decimal] = defaultdict(Decimal)
    named = [
        invoice_line
        for invoice_line in documents.invoice_lines
        if invoice_line.shipment_line_id is not None
        and invoice_line.order_line_id is not None
        and not invoice_line.amount_only
    ]
    if not named:
        # Most orders: no line names a shipment line, so no invoice is read.
        return not_whole
    invoices = counted_invoices(documents, context)
    by_shipment_line: dict[int, Decimal] = defaultdict(Decimal)
    for invoice_line in named:
        invoice = invoices.get(invoice_line.invoice_id)
        shipment_line_id = invoice_line.shipment_line_id
        if (
            invoice is not None
            and invoice.kind == Invoice.Kind.CREDIT_NOTE
            and shipment_line_id is not None
        ):
            by_shipment_line[shipment_line_id] += invoice_line.qty
    if not by_shipment_line:
        return not_whole
    for shipment_line in documents.shipment_lines:
        units = by_shipment_line.get(shipment_line.id)
        if units is not None:
            not_whole[shipment_line.order_line_id] += min(
                units, units_not_whole(shipment_line)
            )
    return not_whole


def check_billing(
    documents: OrderDocuments, context: CheckContext, results: Results
) -> None:
    check_invoiced_quantities(documents, context, results)
    check_prices(documents, context, results)
    check_taxes(documents, context, results)
    check_freight(documents, context, results)
    check_duplicates(documents, context, results)
    check_uninvoiced(documents, context, results)


def check_invoiced_quantities(
    documents: OrderDocuments, context: CheckContext, results: Results
) -> None:
    """Compare invoiced with expected billable quantities per line."""
    invoiced, credited = billed_by_line(documents, context)
    not_whole = credited_not_whole(documents, context)
    shipped = shipped_by_line(documents)
    returned = returned_by_line(documents)
    rule = RULES["INVOICE_QTY_MISMATCH"]
    lines: list[LineMatch] = []
    for line in documents.lines:
        pk = line.id
        if pk not in invoiced:
            continue
        tolerance = documents.line_tolerance(line, context)
        policy = line.product.invoice_policy
        by_delivery = policy == Product.InvoicePolicy.DELIVERED
        # Cancelled units are not billable, so invoicing them is too much.
        basis_qty = shipped[pk] if by_delivery else line.qty_due
        # Credited units the customer sent back or did not get whole are not
        # billable. Other credited units correct units invoiced too many.
        line_not_whole = not_whole.get(pk, ZERO)
        expected = basis_qty - min(returned[pk] + line_not_whole, credited[pk])
        actual = invoiced[pk]
        residual = actual - expected
        inside = residual == 0 or (
            residual > 0
            and not tolerance.is_over_billed(expected=expected, actual=actual)
        )
        finding = None
        if not inside:
            finding = _quantity_finding(documents, line, expected, actual, by_delivery)
            results.findings.append(finding)
        compared = {
            "policy": policy,
            "expected_qty": str(expected),
            "invoiced_qty": str(actual),
            "credited_qty": str(credited[pk]),
            "returned_qty": str(returned[pk]),
        }
        if line_not_whole:
            # Only then, so the matches of other lines keep their values.
            compared["credited_not_whole_qty"] = str(line_not_whole)
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
        kind=MatchGroup.Kind.BILLING,
        rule=rule.name,
        tolerance_fields=("over_billing_pct",),
    )
    if record is not None:
        results.matches.append(record)


def _quantity_finding(
    documents: OrderDocuments,
    line: SalesOrderLine,
    expected: Decimal,
    actual: Decimal,
    by_delivery: bool,
) -> Finding:
    rule = RULES["INVOICE_QTY_MISMATCH"]
    uom = line.product.uom
    basis = "shipped" if by_delivery else "ordered"
    text = (
        f"Order {documents.order.number} line {line.line_no} ({line.description}): "
        f"{format_quantity(actual, uom)} invoiced but "
        f"{format_quantity(expected, uom)} {basis}."
    )
    return Finding(
        rule=rule,
        order_id=documents.order.id,
        fingerprint=f"{rule.code}:line:{line.id}",
        explanation=text,
        expected=expected,
        actual=actual,
        difference=actual - expected,
        unit=uom,
        order_line_id=line.id,
    )


def check_prices(
    documents: OrderDocuments, context: CheckContext, results: Results
) -> None:
    """Compare each invoice line's net unit price with its order line's."""
    invoices = counted_invoices(documents, context)
    order_lines = {line.id: line for line in documents.lines}
    rule = RULES["PRICE_MISMATCH"]
    for invoice_line in documents.invoice_lines:
        invoice = invoices.get(invoice_line.invoice_id)
        line = order_lines.get(invoice_line.order_line_id or 0)
        if invoice is None or invoice.kind != Invoice.Kind.INVOICE or line is None:
            continue
        tolerance = documents.line_tolerance(line, context)
        expected = line.unit_net
        actual = invoice_line.unit_net
        if tolerance.price_matches(expected=expected, actual=actual):
            continue
        results.findings.append(
            Finding(
                rule=rule,
                order_id=documents.order.id,
                fingerprint=f"{rule.code}:invoice_line:{invoice_line.id}",
                explanation=_price_text(documents.order, invoice, invoice_line, line),
                expected=expected,
                actual=actual,
                difference=actual - expected,
                unit=invoice.currency_id,
                order_line_id=line.id,
                invoice_id=invoice.id,
            )
        )


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


def check_taxes(
    documents: OrderDocuments, context: CheckContext, results: Results
) -> None:
    """Recompute each line's tax from its rate, rounded per line.

    A difference of at most the profile's rounding units is ``ROUNDING``,
    settled by the rule; a larger one is ``TAX_MISMATCH``.
    """
    invoices = counted_invoices(documents, context)
    order_lines = {line.id: line for line in documents.lines}
    for invoice_line in documents.invoice_lines:
        invoice = invoices.get(invoice_line.invoice_id)
        if invoice is None:
            continue
        minor_units = invoice.currency.minor_units
        expected = quantize_money(
            invoice_line.subtotal * invoice_line.tax_rate / HUNDRED,
            minor_units=minor_units,
        )
        difference = invoice_line.tax_amount - expected
        if difference == 0:
            continue
        line = order_lines.get(invoice_line.order_line_id or 0)
        if line is not None:
            tolerance = documents.line_tolerance(line, context)
        else:
            tolerance = documents.order_tolerance(context)
        allowance = tolerance.rounding_allowance(lines=1, minor_units=minor_units)
        code = "ROUNDING" if abs(difference) <= allowance else "TAX_MISMATCH"
        money = format_money
        text = (
            f"Invoice {invoice.number} charges "
            f"{money(invoice_line.tax_amount, minor_units=minor_units)} "
            f"{invoice.currency_id} tax on a line of "
            f"{money(invoice_line.subtotal, minor_units=minor_units)} at "
            f"{invoice_line.tax_rate.normalize():f}%, which is "
            f"{money(expected, minor_units=minor_units)} rounded per line."
        )
        if code == "ROUNDING":
            text += " The difference is within the rounding allowance."
        rule = RULES[code]
        results.findings.append(
            Finding(
                rule=rule,
                order_id=documents.order.id,
                fingerprint=f"{code}:tax:{invoice_line.id}",
                explanation=text,
                expected=expected,
                actual=invoice_line.tax_amount,
                difference=difference,
                unit=invoice.currency_id,
                order_line_id=invoice_line.order_line_id,
                invoice_id=invoice.id,
                settled_with="accepted_as_is" if code == "ROUNDING" else "",
            )
        )


def check_freight(
    documents: OrderDocuments, context: CheckContext, results: Results
) -> None:
    """Compare the freight billed on the order's invoices with the agreed freight.

    Only orders whose invoices bill freight at all are compared, because many
    companies keep freight on the order without billing it.
    """
    invoices = list(counted_invoices(documents, context).values())
    if not any(invoice.freight_amount for invoice in invoices):
        return
    order = documents.order
    billed = sum(
        (KIND_SIGN[invoice.kind] * invoice.freight_amount for invoice in invoices),
        ZERO,
    )
    tolerance = documents.order_tolerance(context)
    difference = billed - order.freight
    if abs(difference) <= tolerance.abs_amount:
        return
    rule = RULES["FREIGHT_MISMATCH"]
    minor_units = order.currency.minor_units
    text = (
        f"The invoices of order {order.number} bill "
        f"{format_money(billed, minor_units=minor_units)} {order.currency_id} "
        f"freight, but {format_money(order.freight, minor_units=minor_units)} "
        "was agreed on the order."
    )
    results.findings.append(
        Finding(
            rule=rule,
            order_id=order.id,
            fingerprint=f"{rule.code}:order:{order.id}",
            explanation=text,
            expected=order.freight,
            actual=billed,
            difference=difference,
            unit=order.currency_id,
        )
    )


def check_duplicates(
    documents: OrderDocuments, context: CheckContext, results: Results
) -> None:
    rule = RULES["DUPLICATE_INVOICE"]
    for invoice in documents.invoices:
        original = context.duplicates.get(invoice.id)
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
        results.findings.append(
            Finding(
                rule=rule,
                order_id=documents.order.id,
                fingerprint=f"{rule.code}:invoice:{invoice.id}",
                explanation=text,
                expected=None,
                actual=invoice.amount_total,
                difference=invoice.amount_total,
                unit=invoice.currency_id,
                invoice_id=invoice.id,
            )
        )


def _first_shipped(documents: OrderDocuments) -> dict[int, date]:
    """Return the earliest ship date of each order line."""
    dates = {
        s.id: s.shipped_at
        for s in documents.shipments
        if s.state in COUNTED_SHIPMENT_STATES and s.shipped_at is not None
    }
    first: dict[int, date] = {}
    for shipment_line in documents.shipment_lines:
        shipped_at = dates.get(shipment_line.shipment_id)
        if shipped_at is None:
            continue
        current = first.get(shipment_line.order_line_id)
        if current is None or shipped_at < current:
            first[shipment_line.order_line_id] = shipped_at
    return first


def check_uninvoiced(
    documents: OrderDocuments, context: CheckContext, results: Results
) -> None:
    """Report shipped lines that no invoice mentions after ``uninvoiced_days``."""
    # Any posted invoice counts here, a duplicate too: the duplicate case
    # already explains a line that only a duplicate bills.
    posted = {i.id for i in documents.invoices if i.state == Invoice.State.POSTED}
    invoiced = {
        line.order_line_id
        for line in documents.invoice_lines
        if line.invoice_id in posted
    }
    shipped = shipped_by_line(documents)
    first_shipped = _first_shipped(documents)
    rule = RULES["UNINVOICED_DELIVERY"]
    for line in documents.lines:
        shipped_at = first_shipped.get(line.id)
        if line.id in invoiced or shipped[line.id] <= 0 or shipped_at is None:
            continue
        tolerance = documents.line_tolerance(line, context)
        if context.as_of <= shipped_at + timedelta(days=tolerance.uninvoiced_days):
            continue
        uom = line.product.uom
        text = (
            f"{format_quantity(shipped[line.id], uom)} shipped for "
            f"{order_label(documents.order, line)} on {shipped_at.isoformat()} "
            f"and not invoiced after {tolerance.uninvoiced_days} days."
        )
        results.findings.append(
            Finding(
                rule=rule,
                order_id=documents.order.id,
                fingerprint=f"{rule.code}:line:{line.id}",
                explanation=text,
                expected=shipped[line.id],
                actual=ZERO,
                difference=-shipped[line.id],
                unit=uom,
                order_line_id=line.id,
            )
        )
