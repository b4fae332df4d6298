"""Mark the credit note lines that credit an amount of money, not units.

Before this field, such a line was stored as 1 x amount with a description
that starts "Share of the ..." (a credit spread over an invoice's lines) or
holds ": credit on ..." (a credit on one product). The data step marks those
lines so that the screens stop showing them as "1 x amount".
"""

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps
from django.db.models import F, Q


def mark_amount_only(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    invoice_line = apps.get_model("reconciliation", "InvoiceLine")
    invoice_line.objects.filter(
        Q(description__startswith="Share of the ")
        | Q(description__contains=": credit on "),
        invoice__kind="credit_note",
        order_line__isnull=True,
        qty=1,
        unit_price=F("subtotal"),
    ).update(amount_only=True)


class Migration(migrations.Migration):
    dependencies = [
        ("reconciliation", "0015_cancelled_amounts"),
    ]

    operations = [
        migrations.AddField(
            model_name="invoiceline",
            name="amount_only",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(mark_amount_only, migrations.RunPython.noop),
    ]
