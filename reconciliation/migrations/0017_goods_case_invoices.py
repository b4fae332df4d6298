"""Name the invoice that billed the units on each open goods case.

Before this migration a damaged or missing goods case (``DAMAGED``,
``NOT_RECEIVED``) named no invoice, so no credit note could be proposed on
it. This step applies the rule of ``reconciliation/goods_billing.py`` to
each open such case that names none. The rule is copied here as it stood
when the migration was written, so that a later change to the module does
not change what this step did. A case whose line no posted invoice bills
keeps no invoice; the matching pass links it once one is posted.
"""

from collections import defaultdict
from decimal import Decimal

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

GOODS_CODES = ("DAMAGED", "NOT_RECEIVED")
OPEN_STATES = (
    "open",
    "assigned",
    "in_progress",
    "waiting_internal",
    "waiting_customer",
    "proposed_resolution",
    "reopened",
    "escalated",
)
PREFIX = "shipment_line:"


def link_goods_cases(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    discrepancy = apps.get_model("reconciliation", "Discrepancy")
    shipment_line_model = apps.get_model("reconciliation", "ShipmentLine")
    invoice_line_model = apps.get_model("reconciliation", "InvoiceLine")
    cases = discrepancy.objects.filter(
        code__in=GOODS_CODES,
        state__in=OPEN_STATES,
        invoice__isnull=True,
        order_line__isnull=False,
    ).order_by("pk")
    for case in cases:
        _, _, tail = case.fingerprint.partition(PREFIX)
        shipment_line = (
            shipment_line_model.objects.filter(pk=int(tail)).first()
            if tail.isdigit()
            else shipment_line_model.objects.filter(
                shipment_id=case.shipment_id, order_line_id=case.order_line_id
            ).first()
        )
        if shipment_line is None:
            continue
        if case.code == "DAMAGED":
            qty = shipment_line.qty_damaged
        else:
            received = shipment_line.qty_received or Decimal(0)
            qty = shipment_line.qty_shipped - received - shipment_line.qty_damaged
        rows = invoice_line_model.objects.filter(
            order_line_id=case.order_line_id,
            invoice__kind="invoice",
            invoice__state="posted",
        ).values_list("invoice_id", "invoice__invoice_date", "shipment_line_id", "qty")
        chosen = _choose(list(rows), shipment_line.pk, qty)
        if chosen is not None:
            discrepancy.objects.filter(pk=case.pk).update(invoice_id=chosen)


def _choose(rows: list[tuple], shipment_line_id: int, qty: Decimal) -> int | None:
    named = sorted(
        (day, invoice_id)
        for invoice_id, day, line_id, units in rows
        if line_id == shipment_line_id and units > 0
    )
    if named:
        return int(named[0][1])
    units_by_invoice: dict[tuple, Decimal] = defaultdict(Decimal)
    for invoice_id, day, _, units in rows:
        units_by_invoice[(day, invoice_id)] += units
    ordered = sorted((key, total) for key, total in units_by_invoice.items() if total > 0)
    for key, total in ordered:
        if total >= qty:
            return int(key[1])
    if not ordered:
        return None
    most = max(total for _, total in ordered)
    return int(next(key[1] for key, total in ordered if total == most))


class Migration(migrations.Migration):
    dependencies = [
        ("reconciliation", "0016_invoiceline_amount_only"),
    ]

    operations = [
        migrations.RunPython(link_goods_cases, migrations.RunPython.noop),
    ]
