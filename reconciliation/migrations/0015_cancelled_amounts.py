"""Add the value of cancelled units, and take it out of existing order totals.

An order's ``amount_total`` counted every ordered unit, cancelled ones
included. Each line with cancelled units gets ``amount_cancelled``, its
subtotal less the value of the units still due (rounded half up once per
line, as an invoice line is), and its order's total drops by the sum, as
``services.refresh_order`` now computes them.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def take_out_cancelled_units(
    apps: StateApps, schema_editor: BaseDatabaseSchemaEditor
) -> None:
    line_model = apps.get_model("reconciliation", "SalesOrderLine")
    order_model = apps.get_model("reconciliation", "SalesOrder")
    lines = line_model.objects.filter(qty_cancelled__gt=0).select_related(
        "order__currency"
    )
    cancelled_by_order: dict[int, Decimal] = {}
    for line in lines:
        quantum = Decimal(1).scaleb(-line.order.currency.minor_units)
        due = (line.qty_ordered - line.qty_cancelled) * line.unit_price
        due = due * (1 - line.discount_pct / Decimal(100))
        line.amount_cancelled = line.subtotal - due.quantize(
            quantum, rounding=ROUND_HALF_UP
        )
        line.save(update_fields=["amount_cancelled"])
        cancelled_by_order[line.order_id] = (
            cancelled_by_order.get(line.order_id, Decimal(0)) + line.amount_cancelled
        )
    for order in order_model.objects.filter(pk__in=cancelled_by_order):
        order.amount_cancelled = cancelled_by_order[order.pk]
        order.amount_total -= order.amount_cancelled
        order.save(update_fields=["amount_cancelled", "amount_total"])


def put_back_cancelled_units(
    apps: StateApps, schema_editor: BaseDatabaseSchemaEditor
) -> None:
    order_model = apps.get_model("reconciliation", "SalesOrder")
    orders = order_model.objects.filter(amount_cancelled__gt=0)
    orders.update(amount_total=models.F("amount_total") + models.F("amount_cancelled"))


class Migration(migrations.Migration):
    dependencies = [
        ("reconciliation", "0014_line_cancellation"),
    ]

    operations = [
        migrations.AddField(
            model_name="salesorder",
            name="amount_cancelled",
            field=models.DecimalField(
                decimal_places=4, default=Decimal("0"), max_digits=18
            ),
        ),
        migrations.AddField(
            model_name="salesorderline",
            name="amount_cancelled",
            field=models.DecimalField(
                decimal_places=4, default=Decimal("0"), max_digits=18
            ),
        ),
        migrations.RunPython(take_out_cancelled_units, put_back_cancelled_units),
    ]
