"""Name the order line on the unit lines of credit notes proposed from cases.

Before this step, a credit note that a sales rep proposed from a case (and
that the customer may have accepted in the portal) named no order line on
its lines, so the matching pass did not count the units it credited. Now a
line that credits units names the order line of the invoice line it
credits, and a goods case's line also names the case's shipment line
(docs/reconciliation.md, "Credit lines name the order line of the units
they credit").

For each credit note of a proposal on a case about units, the credited
invoice line is the one the planner credited: the first line of the
credit note's invoice that names the case's order line. A credit line gets
that order line when it credits whole units of it: same product, the
invoice line's net unit price, and a whole quantity of at most the
invoiced units. Price and money lines, and lines whose invoice line names
no order line, stay as they are. The order lines' running invoiced
quantity and amount and their order's invoice status are derived again as
``services.refresh_order`` derives them. The rules are copied here as they
stood when the step was written.

Backwards, the order line and shipment line are cleared on every line of
a credit note that a proposal names, as older code wrote them, and the
figures are derived again.
"""

from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

ZERO = Decimal(0)
HUNDRED = Decimal(100)
UNIT_PRICE_QUANTUM = Decimal("0.0001")
GOODS_CODES = ("DAMAGED", "NOT_RECEIVED")
UNIT_CODES = (
    *GOODS_CODES,
    "NOT_SHIPPED",
    "SHORT_SHIP",
    "OVER_SHIP",
    "PARTIAL_SHIP",
    "BACKORDER_OPEN",
    "WRONG_ITEM",
    "INVOICE_QTY_MISMATCH",
    "UNINVOICED_DELIVERY",
    "RETURN_NOT_CREDITED",
)
PREFIX = "shipment_line:"
KIND_SIGN = {"invoice": 1, "debit_note": 1, "credit_note": -1}


def _unit_net(line: Any) -> Decimal:
    net = line.unit_price * (1 - line.discount_pct / HUNDRED)
    return Decimal(net.quantize(UNIT_PRICE_QUANTUM, rounding=ROUND_HALF_UP))


def _not_whole(shipment_line: Any) -> Decimal:
    missing = ZERO
    if shipment_line.qty_received is not None:
        missing = (
            shipment_line.qty_shipped
            - shipment_line.qty_received
            - shipment_line.qty_damaged
        )
    return Decimal(shipment_line.qty_damaged + max(missing, ZERO))


def _shipment_line(apps: StateApps, case: Any) -> Any:
    """Return the shipment line a goods case is about, as the module finds it."""
    lines = apps.get_model("reconciliation", "ShipmentLine").objects.filter(
        order_line_id=case.order_line_id
    )
    _, _, tail = case.fingerprint.partition(PREFIX)
    if tail.isdigit():
        lines = lines.filter(pk=int(tail))
    elif case.shipment_id is not None:
        lines = lines.filter(shipment_id=case.shipment_id)
    else:
        return None
    return lines.order_by("pk").first()


def name_order_lines(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    invoice_line_model = apps.get_model("reconciliation", "InvoiceLine")
    proposal_model = apps.get_model("portal", "ResolutionProposal")
    proposals = (
        proposal_model.objects.filter(
            credit_note__isnull=False,
            credit_note__origin_invoice__isnull=False,
            case__code__in=UNIT_CODES,
            case__order_line__isnull=False,
        )
        .select_related("case", "credit_note")
        .order_by("pk")
    )
    touched: set[int] = set()
    for proposal in proposals:
        case = proposal.case
        credited = (
            invoice_line_model.objects.filter(
                invoice_id=proposal.credit_note.origin_invoice_id,
                order_line_id=case.order_line_id,
            )
            .order_by("pk")
            .first()
        )
        if credited is None:
            continue
        shipment_line = _shipment_line(apps, case) if case.code in GOODS_CODES else None
        lines = invoice_line_model.objects.filter(
            invoice_id=proposal.credit_note_id,
            order_line__isnull=True,
            amount_only=False,
            product_id=credited.product_id,
        ).order_by("pk")
        for line in lines:
            qty = line.qty
            if (
                line.unit_price != _unit_net(credited)
                or qty != qty.to_integral_value()
                or not 1 <= qty <= credited.qty
            ):
                continue
            line.order_line_id = credited.order_line_id
            fields = ["order_line"]
            if shipment_line is not None and qty <= _not_whole(shipment_line):
                line.shipment_line_id = shipment_line.pk
                fields.append("shipment_line")
            line.save(update_fields=fields)
            touched.add(credited.order_line_id)
    _derive_figures(apps, touched)


def clear_order_lines(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    invoice_line_model = apps.get_model("reconciliation", "InvoiceLine")
    proposal_model = apps.get_model("portal", "ResolutionProposal")
    notes = proposal_model.objects.filter(credit_note__isnull=False).values(
        "credit_note_id"
    )
    lines = invoice_line_model.objects.filter(
        invoice_id__in=notes, order_line__isnull=False
    )
    touched = set(lines.values_list("order_line_id", flat=True))
    lines.update(order_line=None, shipment_line=None)
    _derive_figures(apps, touched)


def _derive_figures(apps: StateApps, line_ids: Iterable[int]) -> None:
    """Derive the lines' invoiced quantity and amount, and their orders' status."""
    line_model = apps.get_model("reconciliation", "SalesOrderLine")
    invoice_line_model = apps.get_model("reconciliation", "InvoiceLine")
    order_model = apps.get_model("reconciliation", "SalesOrder")
    line_ids = set(line_ids)
    if not line_ids:
        return
    qty: dict[int, Decimal] = defaultdict(Decimal)
    amount: dict[int, Decimal] = defaultdict(Decimal)
    goods_credited: dict[int, Decimal] = defaultdict(Decimal)
    rows = invoice_line_model.objects.filter(
        order_line__order__in=line_model.objects.filter(pk__in=line_ids).values(
            "order_id"
        ),
        invoice__state="posted",
    ).values_list(
        "order_line_id", "invoice__kind", "qty", "subtotal", "shipment_line_id"
    )
    for line_id, kind, line_qty, subtotal, shipment_line_id in rows:
        qty[line_id] += KIND_SIGN[kind] * line_qty
        amount[line_id] += KIND_SIGN[kind] * subtotal
        if kind == "credit_note" and shipment_line_id is not None:
            goods_credited[line_id] += line_qty
    order_ids = set()
    for line in line_model.objects.filter(pk__in=line_ids):
        line.qty_invoiced = qty[line.pk]
        line.amount_invoiced = amount[line.pk]
        line.save(update_fields=["qty_invoiced", "amount_invoiced"])
        order_ids.add(line.order_id)
    for order in order_model.objects.filter(pk__in=order_ids):
        lines = list(
            line_model.objects.filter(order_id=order.pk).select_related("product")
        )
        order.invoice_status = _invoice_status(lines, goods_credited)
        order.save(update_fields=["invoice_status"])


def _invoice_status(lines: list[Any], goods_credited: dict[int, Decimal]) -> str:
    """Derive an order's invoice status from its lines, as ``services`` does.

    The units of a goods credit (a credit line naming a shipment line) count
    as billed, as in ``services.derive_invoice_status``.
    """

    def due(line: Any) -> Decimal:
        return Decimal(line.qty_ordered - line.qty_cancelled)

    def expected(line: Any) -> Decimal:
        if line.product.invoice_policy == "ordered":
            return due(line)
        return Decimal(line.qty_shipped)

    def billed(line: Any) -> Decimal:
        return Decimal(line.qty_invoiced) + goods_credited.get(line.pk, Decimal(0))

    if any(line.qty_invoiced > expected(line) for line in lines):
        return "upsell"
    if lines and all(billed(line) >= due(line) for line in lines):
        return "invoiced"
    if any(billed(line) < expected(line) for line in lines):
        return "to_invoice"
    if any(billed(line) > 0 for line in lines):
        return "partial"
    return "nothing"


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0005_proposal_withdrawn_by_report"),
        ("reconciliation", "0018_replacement_shipments"),
    ]

    operations = [
        migrations.RunPython(name_order_lines, clear_order_lines),
    ]
