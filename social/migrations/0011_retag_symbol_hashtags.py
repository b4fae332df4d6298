"""Render again and re-tag the text written before ``#C++`` kept its signs.

Until then ``#C++`` and ``#C#`` were stored as the tag ``c``, and the stored
HTML and search entries keep that until the text is edited.
"""

from typing import Any

from django.db import migrations
from django.db.models import Q

SYMBOL_TAG_PATTERN = r"#\w+[+#]"

# (app label, model, text fields) of every kind of text with hashtags.
TAGGED_TEXT = [
    ("social", "Post", ["body"]),
    ("social", "Comment", ["body"]),
    ("answers", "Question", ["title", "body"]),
    ("answers", "Answer", ["body"]),
    ("answers", "QuestionComment", ["body"]),
    ("answers", "FaqEntry", ["answer"]),
    ("library", "Document", ["body"]),
]


def retag(apps: Any, schema_editor: Any) -> None:
    """Run ``social.services.retagging`` when any stored text needs it.

    The service uses the current models, because saving through them is
    what rewrites the search entries. It runs only when the historical
    models find such text, so a new database never reaches it.
    NOTE: this assumes the current models match these tables. Once a later
    migration changes one of them, an old database that still needs this
    step fails here, and should have this migration faked and run
    ``manage.py retag_symbol_hashtags`` after migrating.
    """
    for app_label, model_name, fields in TAGGED_TEXT:
        condition = Q()
        for field in fields:
            condition |= Q(**{f"{field}__regex": SYMBOL_TAG_PATTERN})
        if apps.get_model(app_label, model_name).objects.filter(condition).exists():
            break
    else:
        return

    from social.services.retagging import retag_symbol_hashtags

    retag_symbol_hashtags()


class Migration(migrations.Migration):
    dependencies = [
        ("social", "0010_index_feed_reads_covering"),
        ("answers", "0012_question_record_kind_purchase_order"),
        ("library", "0005_withdrawn_items_and_versions"),
        ("search", "0008_missed_search_audience"),
    ]

    operations = [migrations.RunPython(retag, migrations.RunPython.noop)]
