"""Add the comment kinds and the shown heading of untitled entries.

Changing the kind constraint rebuilds ``search_entry`` on SQLite, which
drops the FTS5 triggers of migration 0002, so the last step creates them
again. The FTS5 table keeps its rows, because the rebuilt table keeps every
entry id. Existing untitled post entries get a heading from their text.
Comments are indexed by ``manage.py reindex comment question_comment``.
"""

import re
from typing import Any

from django.db import migrations, models

SQLITE_TRIGGERS = [
    """
    CREATE TRIGGER IF NOT EXISTS search_entry_fts_insert
    AFTER INSERT ON search_entry BEGIN
        INSERT INTO search_entry_fts (rowid, title, body, tags, contexts)
        VALUES (new.id, new.title, new.body, new.tags, new.contexts);
    END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS search_entry_fts_delete
    AFTER DELETE ON search_entry BEGIN
        INSERT INTO search_entry_fts (search_entry_fts, rowid, title, body, tags, contexts)
        VALUES ('delete', old.id, old.title, old.body, old.tags, old.contexts);
    END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS search_entry_fts_update
    AFTER UPDATE OF title, body, tags, contexts ON search_entry BEGIN
        INSERT INTO search_entry_fts (search_entry_fts, rowid, title, body, tags, contexts)
        VALUES ('delete', old.id, old.title, old.body, old.tags, old.contexts);
        INSERT INTO search_entry_fts (rowid, title, body, tags, contexts)
        VALUES (new.id, new.title, new.body, new.tags, new.contexts);
    END
    """,
]
# Index form spells C++ as C0plus0plus0 and C# as C0sharp0 (search.text).
_ENCODED_WORD = re.compile(r"\b([^\W_]+?)((?:0plus|0sharp)+)0\b")
HEADING_LENGTH = 80


def recreate_triggers(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "sqlite":
        return
    for statement in SQLITE_TRIGGERS:
        schema_editor.execute(statement, params=None)


def _decoded(text: str) -> str:
    def signs(match: re.Match[str]) -> str:
        codes = match.group(2).replace("0plus", "+").replace("0sharp", "#")
        return match.group(1) + codes

    return _ENCODED_WORD.sub(signs, text)


def _heading(body: str) -> str:
    # The first sentence, cut at a word; the same rule as
    # search.sources.readable_title at the time of this migration.
    text = " ".join(_decoded(body).split())
    for end in (". ", "? ", "! "):
        if end in text[: HEADING_LENGTH + 1]:
            text = text[: text.index(end) + 1]
            break
    if len(text) <= HEADING_LENGTH:
        return text
    cut = text[:HEADING_LENGTH].rsplit(" ", 1)[0] or text[:HEADING_LENGTH]
    return cut.rstrip(" ,;:-") + "…"


def fill_post_headings(apps: Any, schema_editor: Any) -> None:
    entry = apps.get_model("search", "SearchEntry")
    untitled = entry.objects.using(schema_editor.connection.alias).filter(
        kind="post", title=""
    )
    batch = []
    for row in untitled.only("pk", "body").iterator(chunk_size=2000):
        row.heading = _heading(row.body)
        batch.append(row)
        if len(batch) == 2000:
            entry.objects.bulk_update(batch, ["heading"])
            batch = []
    entry.objects.bulk_update(batch, ["heading"])


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0003_denormalize_visibility"),
    ]

    operations = [
        # Runs last when the migration is reversed, after the rebuilds.
        migrations.RunPython(migrations.RunPython.noop, recreate_triggers),
        migrations.RemoveConstraint(
            model_name="searchentry",
            name="search_entry_kind_known",
        ),
        migrations.AddField(
            model_name="searchentry",
            name="heading",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.AlterField(
            model_name="searchentry",
            name="kind",
            field=models.CharField(
                choices=[
                    ("post", "Post"),
                    ("blog", "Blog post"),
                    ("question", "Question"),
                    ("answer", "Answer"),
                    ("comment", "Comment"),
                    ("question_comment", "Q&A comment"),
                    ("faq", "FAQ entry"),
                    ("library", "Library item"),
                    ("community", "Community"),
                    ("person", "Person"),
                ],
                max_length=20,
            ),
        ),
        migrations.AddConstraint(
            model_name="searchentry",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    kind__in=[
                        "post",
                        "blog",
                        "question",
                        "answer",
                        "comment",
                        "question_comment",
                        "faq",
                        "library",
                        "community",
                        "person",
                    ]
                ),
                name="search_entry_kind_known",
            ),
        ),
        migrations.RunPython(recreate_triggers, migrations.RunPython.noop),
        migrations.RunPython(fill_post_headings, migrations.RunPython.noop),
    ]
