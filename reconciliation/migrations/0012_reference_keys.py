"""Store the reference keys of invoices and payments, and fill existing rows.

The keys replace the indexes on the lowercase number and reference, which
only the payment matching read.
"""

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from reconciliation.reference_keys import reference_key

BATCH_SIZE = 2000


def fill_keys(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    columns = {
        "Invoice": {"number": "number_key", "reference": "reference_key"},
        "Payment": {"reference": "reference_key"},
    }
    for name, keys in columns.items():
        model = apps.get_model("reconciliation", name)
        batch = []
        for row in model.objects.only(*keys).order_by("pk").iterator(BATCH_SIZE):
            for source, key in keys.items():
                setattr(row, key, reference_key(getattr(row, source) or ""))
            batch.append(row)
            if len(batch) == BATCH_SIZE:
                model.objects.bulk_update(batch, list(keys.values()))
                batch = []
        model.objects.bulk_update(batch, list(keys.values()))


class Migration(migrations.Migration):
    dependencies = [
        ("reconciliation", "0011_remove_allocation_writeoff_amount"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="invoice",
            name="invoice_ref_ci_idx",
        ),
        migrations.RemoveIndex(
            model_name="invoice",
            name="invoice_number_ci_idx",
        ),
        migrations.AddField(
            model_name="invoice",
            name="number_key",
            field=models.CharField(blank=True, default="", max_length=160),
        ),
        migrations.AddField(
            model_name="invoice",
            name="reference_key",
            field=models.CharField(blank=True, default="", max_length=160),
        ),
        migrations.AddField(
            model_name="payment",
            name="reference_key",
            field=models.CharField(
                blank=True, db_index=True, default="", max_length=160
            ),
        ),
        migrations.AddIndex(
            model_name="invoice",
            index=models.Index(fields=["number_key"], name="invoice_number_key_idx"),
        ),
        migrations.AddIndex(
            model_name="invoice",
            index=models.Index(
                fields=["reference_key"], name="invoice_reference_key_idx"
            ),
        ),
        migrations.RunPython(fill_keys, migrations.RunPython.noop),
    ]
