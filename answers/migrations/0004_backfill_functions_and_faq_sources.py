"""Fill the fields the Q&A depth migration added, for rows that existed before it.

A question's CRM function comes from its context chain. Every FAQ entry made
from an answer gets an answer source row, and every entry starts its review
clock on the day it was last updated.
"""

import datetime
from typing import Any

from django.db import migrations

REVIEW_DAYS = 180


def _function_of(context: Any) -> Any:
    while context is not None:
        if context.crm_function_id is not None:
            return context.crm_function_id
        context = context.parent
    return None


def backfill(apps: Any, schema_editor: Any) -> None:
    Question = apps.get_model("answers", "Question")
    FaqEntry = apps.get_model("answers", "FaqEntry")
    FaqSource = apps.get_model("answers", "FaqSource")

    for question in Question.objects.filter(context__isnull=False).select_related(
        "context__parent__parent"
    ):
        question.crm_function_id = _function_of(question.context)
        question.save(update_fields=["crm_function"])

    for entry in FaqEntry.objects.all():
        reviewed_on = entry.updated_at.date()
        entry.last_reviewed_on = reviewed_on
        entry.review_due_on = reviewed_on + datetime.timedelta(days=REVIEW_DAYS)
        entry.save(update_fields=["last_reviewed_on", "review_due_on"])
        if entry.source_answer_id is not None:
            FaqSource.objects.get_or_create(
                entry=entry, kind="answer", answer_id=entry.source_answer_id
            )


class Migration(migrations.Migration):
    dependencies = [
        ("answers", "0003_add_qa_depth_and_faq_review"),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
