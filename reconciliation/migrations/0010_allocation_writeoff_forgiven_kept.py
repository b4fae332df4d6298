"""Split an allocation's one signed write-off into forgiven and kept money.

A positive write-off was money forgiven and a negative one an overpayment
kept, so each row's amount moves to the column of its sign. A reversal row
negates its original, so it takes the negated columns of its original. An
allocation that had both kinds booked on it stored only their net, and the
net is what moves: the parts cannot be told apart from the row.
"""

from decimal import Decimal

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

ZERO = Decimal(0)


def split_write_offs(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    allocation_model = apps.get_model("reconciliation", "Allocation")
    rows = allocation_model.objects.exclude(writeoff_amount=0)
    for allocation in rows.filter(reverses__isnull=True).iterator():
        amount = allocation.writeoff_amount
        allocation.writeoff_forgiven = max(amount, ZERO)
        allocation.writeoff_kept = max(-amount, ZERO)
        allocation.save(update_fields=["writeoff_forgiven", "writeoff_kept"])
    for reversal in rows.filter(reverses__isnull=False).iterator():
        # The original's amount is the negated amount of its reversal.
        original = -reversal.writeoff_amount
        reversal.writeoff_forgiven = -max(original, ZERO)
        reversal.writeoff_kept = -max(-original, ZERO)
        reversal.save(update_fields=["writeoff_forgiven", "writeoff_kept"])


def join_write_offs(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    allocation_model = apps.get_model("reconciliation", "Allocation")
    allocation_model.objects.update(
        writeoff_amount=models.F("writeoff_forgiven") - models.F("writeoff_kept")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("reconciliation", "0009_salesorder_match_fingerprint"),
    ]

    operations = [
        migrations.AddField(
            model_name="allocation",
            name="writeoff_forgiven",
            field=models.DecimalField(decimal_places=4, default=Decimal(0), max_digits=18),
        ),
        migrations.AddField(
            model_name="allocation",
            name="writeoff_kept",
            field=models.DecimalField(decimal_places=4, default=Decimal(0), max_digits=18),
        ),
        migrations.RunPython(split_write_offs, join_write_offs),
    ]
