"""Copy the visibility attributes each kind's rule reads into the index rows.

The columns are added with plain ``ALTER TABLE`` (see below). The data
step fills the new columns of existing entries from their source
rows, so the index is right without a ``manage.py reindex``.
"""

from typing import Any

from django.db import migrations, models
from django.db.models import OuterRef, Q, Subquery


def fill_visibility(apps: Any, schema_editor: Any) -> None:
    entry = apps.get_model("search", "SearchEntry")
    question = apps.get_model("answers", "Question")
    answer = apps.get_model("answers", "Answer")
    faq_entry = apps.get_model("answers", "FaqEntry")
    document = apps.get_model("library", "Document")
    user = apps.get_model("accounts", "User")
    entries = entry.objects.using(schema_editor.connection.alias)

    def column(model: Any, name: str) -> Subquery:
        return Subquery(model.objects.filter(pk=OuterRef("object_id")).values(name))

    entries.filter(kind="question").update(customer_id=column(question, "customer_id"))
    entries.filter(kind="answer").update(
        customer_id=column(answer, "question__customer_id")
    )
    for kind, model in (("faq", faq_entry), ("library", document)):
        shown = model.objects.filter(customer_visible=True).values("pk")
        entries.filter(kind=kind, object_id__in=shown).update(customer_visible=True)
    people = user.objects.filter(
        ~Q(role="customer") & Q(visible_to_customers=True)
    ).values("pk")
    entries.filter(kind="person", object_id__in=people).update(customer_visible=True)


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0002_add_full_text_index"),
        ("answers", "0005_faq_entry_learner_groups"),
        ("library", "0003_document_learner_groups"),
        ("accounts", "0004_add_skills_and_endorsements"),
    ]

    # Plain ALTER TABLE on both engines: Django's AddField would rebuild the
    # table on SQLite, which drops the FTS5 triggers of migration 0002.
    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE search_entry ADD COLUMN customer_id bigint NULL",
                    "ALTER TABLE search_entry DROP COLUMN customer_id",
                ),
                migrations.RunSQL(
                    "ALTER TABLE search_entry ADD COLUMN customer_visible boolean"
                    " NOT NULL DEFAULT false",
                    "ALTER TABLE search_entry DROP COLUMN customer_visible",
                ),
            ],
            state_operations=[
                migrations.AddField(
                    model_name="searchentry",
                    name="customer_id",
                    field=models.BigIntegerField(blank=True, null=True),
                ),
                migrations.AddField(
                    model_name="searchentry",
                    name="customer_visible",
                    field=models.BooleanField(default=False),
                ),
            ],
        ),
        migrations.RunPython(fill_visibility, migrations.RunPython.noop),
    ]
