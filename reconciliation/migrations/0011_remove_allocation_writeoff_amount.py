"""Drop the signed write-off column that 0010 split into forgiven and kept.

The drop is a migration of its own because PostgreSQL does not alter a
table in the transaction that updated its rows while deferred foreign-key
checks of those rows are pending.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reconciliation", "0010_allocation_writeoff_forgiven_kept"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="allocation",
            name="writeoff_amount",
        ),
        migrations.AddConstraint(
            model_name="allocation",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("reverses__isnull", True),
                    ("writeoff_forgiven__gte", 0),
                    ("writeoff_kept__gte", 0),
                )
                | models.Q(
                    ("reverses__isnull", False),
                    ("writeoff_forgiven__lte", 0),
                    ("writeoff_kept__lte", 0),
                ),
                name="allocation_writeoff_sign",
            ),
        ),
    ]
