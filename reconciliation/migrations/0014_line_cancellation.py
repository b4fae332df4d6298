"""Add cancelled units of order lines, and record earlier "Cancel the rest" decisions.

Before this migration a case resolved with ``cancel_remainder`` cancelled no
units, so the rest of its line stayed shippable. Each such line, on a case
that is still resolved or closed, gets one cancellation of what it has not
shipped now, by the person who resolved the case, at that time and with the
case's resolution note as the reason. The line's ``qty_cancelled`` and the
order's delivery status are set as ``services.refresh_order`` would set them.
"""

from decimal import Decimal

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

# The backorder codes whose rest "Cancel the rest" decides (``work.BACKORDER_CODES``).
BACKORDER_CODES = ("SHORT_SHIP", "PARTIAL_SHIP", "BACKORDER_OPEN", "NOT_SHIPPED")


def record_earlier_cancellations(
    apps: StateApps, schema_editor: BaseDatabaseSchemaEditor
) -> None:
    case_model = apps.get_model("reconciliation", "Discrepancy")
    cancellation_model = apps.get_model("reconciliation", "LineCancellation")
    line_model = apps.get_model("reconciliation", "SalesOrderLine")
    order_model = apps.get_model("reconciliation", "SalesOrder")
    decided = (
        case_model.objects.filter(
            resolution_code="cancel_remainder",
            code__in=BACKORDER_CODES,
            state__in=["resolved", "closed"],
            order_line__isnull=False,
            resolved_by__isnull=False,
        )
        .select_related("order_line")
        .order_by("order_line_id", "-resolved_at", "-pk")
    )
    latest = {}
    for case in decided:
        latest.setdefault(case.order_line_id, case)
    order_ids = set()
    for case in latest.values():
        line = case.order_line
        rest = line.qty_ordered - line.qty_shipped
        if rest <= 0:
            continue
        cancellation_model.objects.create(
            company_id=case.company_id,
            order_line=line,
            qty=rest,
            case=case,
            reason=case.resolution_note or "Cancel the rest",
            cancelled_by_id=case.resolved_by_id,
            cancelled_at=case.resolved_at or case.updated_at,
        )
        line.qty_cancelled = rest
        line.save(update_fields=["qty_cancelled"])
        order_ids.add(line.order_id)
    for order in order_model.objects.filter(pk__in=order_ids):
        lines = list(line_model.objects.filter(order=order))
        if any(line.qty_shipped > 0 for line in lines):
            full = all(
                line.qty_shipped >= line.qty_ordered - line.qty_cancelled
                for line in lines
            )
            order.delivery_status = "full" if full else "partial"
            order.save(update_fields=["delivery_status"])


class Migration(migrations.Migration):

    dependencies = [
        ('reconciliation', '0013_resolution_code_price_kept'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='salesorderline',
            name='qty_cancelled',
            field=models.DecimalField(decimal_places=4, default=Decimal('0'), max_digits=16),
        ),
        migrations.CreateModel(
            name='LineCancellation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('qty', models.DecimalField(decimal_places=4, max_digits=16)),
                ('reason', models.TextField()),
                ('cancelled_at', models.DateTimeField()),
                ('reversed_at', models.DateTimeField(blank=True, null=True)),
                ('reversal_reason', models.TextField(blank=True)),
                ('cancelled_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('case', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='cancellations', to='reconciliation.discrepancy')),
                ('company', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to='reconciliation.company')),
                ('order_line', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='cancellations', to='reconciliation.salesorderline')),
                ('reversed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['order_line', 'cancelled_at', 'id'],
                'constraints': [models.CheckConstraint(condition=models.Q(('qty__gt', 0)), name='line_cancellation_qty_positive')],
            },
        ),
        migrations.RunPython(record_earlier_cancellations, migrations.RunPython.noop),
    ]
