"""Store the kind of the record a question is about, beside its number.

Before this migration a question's record could only be an order, so every
question with a record number is marked as being about an order. Adding a
NOT NULL column rebuilds the table on SQLite, so the accepted-score triggers
of migration 0007 are dropped before the rebuild and created again after it.
"""

import importlib

from django.db import migrations, models

accepted_score = importlib.import_module(
    "answers.migrations.0007_question_accepted_score"
)


def mark_order_records(apps, schema_editor):
    Question = apps.get_model("answers", "Question")
    Question.objects.exclude(record_ref="").update(record_kind="order")


def drop_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for statement in accepted_score.SQLITE_DROP:
        schema_editor.execute(statement, params=None)


def create_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for statement in accepted_score.SQLITE_CREATE:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("answers", "0010_faq_entry_held_index"),
    ]

    # SQLite rebuilds the table under a new name and renames it back, which
    # fails while a trigger on answers_answer names answers_question. So the
    # triggers are dropped around the rebuild, in both directions.
    operations = [
        migrations.RunPython(
            drop_sqlite_triggers, create_sqlite_triggers, elidable=False
        ),
        migrations.AddField(
            model_name="question",
            name="record_kind",
            field=models.CharField(
                blank=True,
                choices=[
                    ("order", "Order"),
                    ("payment", "Payment"),
                    ("invoice", "Invoice"),
                    ("vendor_bill", "Vendor bill"),
                ],
                max_length=20,
            ),
        ),
        migrations.RunPython(
            create_sqlite_triggers, drop_sqlite_triggers, elidable=False
        ),
        migrations.RunPython(
            mark_order_records, migrations.RunPython.noop, elidable=False
        ),
    ]
