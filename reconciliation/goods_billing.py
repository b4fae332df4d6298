"""The rule that picks the posted invoice that billed a goods case's units.

A customer's report of damaged or missing goods, and the matching pass's
receipt check, open a case on one shipment line. A credit note for those
units must credit the invoice that billed them, so the case names that
invoice (docs/reconciliation.md, "Goods cases name the invoice that billed
them"). The rule, in this order:

1. only posted invoices (not drafts, cancelled ones, credit or debit notes)
   that bill the case's order line count;
2. an invoice line that names the case's shipment line billed exactly
   those units, so its invoice is chosen;
3. otherwise the earliest invoice (by date, then id) that bills at least
   the case's quantity of the order line;
4. otherwise the invoice that bills the most units of the order line, the
   earliest of equals;
5. no such invoice: the line is not billed yet, and the case names none.
   The next matching pass after an invoice is posted links it.

The function reads plain rows, so the matching pass (with the documents it
has loaded) and the report (with a query) choose the same invoice.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from reconciliation.models import (
    Discrepancy,
    DiscrepancyCode,
    Invoice,
    InvoiceLine,
    ShipmentLine,
)

# The codes whose case is about units a customer did not get whole.
GOODS_CODES = frozenset({DiscrepancyCode.DAMAGED, DiscrepancyCode.NOT_RECEIVED})
# Prefix of the shipment line's id in a goods case's fingerprint.
SHIPMENT_LINE_PREFIX = "shipment_line:"
ZERO = Decimal(0)


@dataclass(frozen=True)
class BilledUnits:
    """One invoice line of a posted invoice that bills the case's order line."""

    invoice_id: int
    invoice_date: date
    shipment_line_id: int | None
    qty: Decimal


def choose_invoice(
    billed: Iterable[BilledUnits], *, shipment_line_id: int, qty: Decimal
) -> int | None:
    """Return the id of the invoice that billed the case's units, or None."""
    rows = list(billed)
    named = sorted(
        (row.invoice_date, row.invoice_id)
        for row in rows
        if row.shipment_line_id == shipment_line_id and row.qty > 0
    )
    if named:
        return named[0][1]
    units: dict[tuple[date, int], Decimal] = defaultdict(Decimal)
    for row in rows:
        units[(row.invoice_date, row.invoice_id)] += row.qty
    ordered = sorted((key, total) for key, total in units.items() if total > 0)
    for key, total in ordered:
        if total >= qty:
            return key[1]
    if not ordered:
        return None
    largest = max(total for _, total in ordered)
    return next(key[1] for key, total in ordered if total == largest)


def billed_units(
    invoices: Iterable[Invoice], lines: Iterable[InvoiceLine], order_line_id: int
) -> list[BilledUnits]:
    """Return the posted invoices' lines that bill ``order_line_id``."""
    posted = {
        invoice.pk: invoice.invoice_date
        for invoice in invoices
        if invoice.kind == Invoice.Kind.INVOICE
        and invoice.state == Invoice.State.POSTED
    }
    return [
        BilledUnits(
            invoice_id=line.invoice_id,
            invoice_date=posted[line.invoice_id],
            shipment_line_id=line.shipment_line_id,
            qty=line.qty,
        )
        for line in lines
        if line.order_line_id == order_line_id and line.invoice_id in posted
    ]


def case_quantity(code: str, shipment_line: ShipmentLine) -> Decimal:
    """Return the units a goods case on ``shipment_line`` is about."""
    if code == DiscrepancyCode.DAMAGED:
        return shipment_line.qty_damaged
    received = shipment_line.qty_received or Decimal(0)
    return shipment_line.qty_shipped - received - shipment_line.qty_damaged


def units_not_whole(shipment_line: ShipmentLine) -> Decimal:
    """Return the units of ``shipment_line`` the customer did not get whole.

    They are the damaged units and, once the customer confirmed a receipt,
    the units shipped that were neither received nor damaged. The
    invoiced-quantity check counts the units that credit notes credit on the
    shipment line as not billable up to this number.
    """
    missing = ZERO
    if shipment_line.qty_received is not None:
        missing = (
            shipment_line.qty_shipped
            - shipment_line.qty_received
            - shipment_line.qty_damaged
        )
    return shipment_line.qty_damaged + max(missing, ZERO)


def case_shipment_line_id(case: Discrepancy) -> int | None:
    """Return the id of the shipment line a goods case is about, or None.

    The pass and a customer's report store it in the case's fingerprint
    (``DAMAGED:shipment_line:12``). A case stored another way falls back to
    the first line of the case's shipment for the case's order line. A
    shipment line of another order line is never returned.
    """
    if case.order_line_id is None:
        return None
    lines = ShipmentLine.objects.filter(order_line_id=case.order_line_id)
    _, _, tail = case.fingerprint.partition(SHIPMENT_LINE_PREFIX)
    if tail.isdigit():
        lines = lines.filter(pk=int(tail))
    elif case.shipment_id is not None:
        lines = lines.filter(shipment_id=case.shipment_id)
    else:
        return None
    found: int | None = lines.order_by("pk").values_list("pk", flat=True).first()
    return found


def billing_invoice(code: str, shipment_line: ShipmentLine) -> Invoice | None:
    """Query and return the invoice that billed the units of a goods case."""
    lines = list(
        InvoiceLine.objects.filter(
            order_line_id=shipment_line.order_line_id,
            invoice__kind=Invoice.Kind.INVOICE,
            invoice__state=Invoice.State.POSTED,
        ).select_related("invoice")
    )
    invoices = {line.invoice_id: line.invoice for line in lines}
    chosen = choose_invoice(
        billed_units(invoices.values(), lines, shipment_line.order_line_id),
        shipment_line_id=shipment_line.pk,
        qty=case_quantity(code, shipment_line),
    )
    return None if chosen is None else invoices[chosen]


def not_billed_message(case: Discrepancy) -> str:
    """Say why a goods case offers no credit note yet, and what to do instead."""
    line = case.order_line
    order = case.order
    if line is None or order is None:
        return (
            f"Case {case.pk} names no order line, so no invoice billed its units: "
            "work it on the case page."
        )
    return (
        f"No posted invoice bills line {line.line_no} ({line.product.name}) of "
        f"order {order.number} yet, so there is nothing to credit. Have the "
        "invoice to come bill only the units the customer received whole. Once "
        "an invoice for the line is posted, the next matching pass names it on "
        "this case and you can propose a credit note here."
    )
