"""Name the shipment line on return lines, and on the credit of returned units.

A return line named only its order line, so a credit note for returned
units named no shipment line, and the order's invoice status then read
"To invoice" after it (docs/reconciliation.md, "Returned units name the
invoice and the shipment line"). This step adds
``ReturnLine.shipment_line`` and fills it where it can be told: the order
line has exactly one shipment line on a shipped or delivered shipment.
A line shipped over several shipments stays unnamed.

Then the unit lines (naming an order line, not ``amount_only``) of credit
notes proposed on ``RETURN_NOT_CREDITED`` cases get the shipment line
when the return lines of the case's order line name exactly one. The
touched order lines' invoiced figures and their orders' invoice status are
derived again, with the rules migration 0019 copied from ``services``.

Backwards, the shipment line is cleared on those credit lines, the
figures are derived again, and the column is dropped.
"""

import importlib
from typing import Any

import django.db.models.deletion
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

_credit_lines = importlib.import_module(
    "reconciliation.migrations.0019_credit_lines_name_order_lines"
)
RETURN_CODE = "RETURN_NOT_CREDITED"
SENT = ("shipped", "delivered")


def _return_credit_lines(apps: StateApps) -> Any:
    invoice_line_model = apps.get_model("reconciliation", "InvoiceLine")
    proposal_model = apps.get_model("portal", "ResolutionProposal")
    notes = proposal_model.objects.filter(
        credit_note__isnull=False, case__code=RETURN_CODE
    ).values("credit_note_id")
    return invoice_line_model.objects.filter(
        invoice_id__in=notes, order_line__isnull=False, amount_only=False
    )


def name_shipment_lines(
    apps: StateApps, schema_editor: BaseDatabaseSchemaEditor
) -> None:
    return_line_model = apps.get_model("reconciliation", "ReturnLine")
    shipment_line_model = apps.get_model("reconciliation", "ShipmentLine")
    unnamed = return_line_model.objects.filter(shipment_line__isnull=True)
    for return_line in unnamed.order_by("pk"):
        sent = list(
            shipment_line_model.objects.filter(
                order_line_id=return_line.order_line_id,
                shipment__state__in=SENT,
                qty_shipped__gt=0,
            ).values_list("pk", flat=True)[:2]
        )
        if len(sent) == 1:
            return_line.shipment_line_id = sent[0]
            return_line.save(update_fields=["shipment_line"])

    touched: set[int] = set()
    lines = _return_credit_lines(apps).filter(shipment_line__isnull=True)
    for line in lines.order_by("pk"):
        named = set(
            return_line_model.objects.filter(
                order_line_id=line.order_line_id, shipment_line__isnull=False
            ).values_list("shipment_line_id", flat=True)
        )
        if len(named) != 1:
            continue
        line.shipment_line_id = named.pop()
        line.save(update_fields=["shipment_line"])
        touched.add(line.order_line_id)
    _credit_lines._derive_figures(apps, touched)


def clear_shipment_lines(
    apps: StateApps, schema_editor: BaseDatabaseSchemaEditor
) -> None:
    lines = _return_credit_lines(apps).filter(shipment_line__isnull=False)
    touched = set(lines.values_list("order_line_id", flat=True))
    lines.update(shipment_line=None)
    _credit_lines._derive_figures(apps, touched)


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0005_proposal_withdrawn_by_report"),
        ("reconciliation", "0020_invoice_duplicate_kept_reason"),
    ]

    operations = [
        migrations.AddField(
            model_name="returnline",
            name="shipment_line",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="return_lines",
                to="reconciliation.shipmentline",
            ),
        ),
        migrations.RunPython(name_shipment_lines, clear_shipment_lines),
    ]
