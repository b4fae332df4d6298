"""Give the SQLite FTS5 table prefix indexes for prefixes of 2 to 8 characters.

Without a prefix index, FTS5 answers ``ship*`` by merging the rows of every
indexed term that starts with ``ship`` over the whole index, and bm25 does
it once more to count the matching rows. That merge cost in proportion to
all matches, not to the newest ones a search reads. With a prefix index of
the prefix's length (in characters, after the porter stemmer), the prefix is
read like one term. Longer prefixes still use the merge, and their results
are the same either way.

The table is created again with the same columns, tokenizer and external
content, then rebuilt from ``search_entry``. The triggers that keep it in
step stay: they are on ``search_entry`` and name the table, which keeps its
name. PostgreSQL has nothing to change (its prefix search reads the GIN
index).
"""

from django.db import migrations

_TABLE = """
    CREATE VIRTUAL TABLE search_entry_fts USING fts5(
        title, body, tags, contexts,
        content='search_entry', content_rowid='id',
        tokenize="porter unicode61 remove_diacritics 0"{prefix}
    )
"""
_REBUILD = "INSERT INTO search_entry_fts (search_entry_fts) VALUES ('rebuild')"
PREFIX_LENGTHS = "2 3 4 5 6 7 8"


def _recreate(schema_editor, prefix: str) -> None:
    if schema_editor.connection.vendor != "sqlite":
        return
    schema_editor.execute("DROP TABLE search_entry_fts", params=None)
    schema_editor.execute(_TABLE.format(prefix=prefix), params=None)
    schema_editor.execute(_REBUILD, params=None)


def add_prefix_indexes(apps, schema_editor):
    _recreate(schema_editor, f",\n        prefix='{PREFIX_LENGTHS}'")


def remove_prefix_indexes(apps, schema_editor):
    _recreate(schema_editor, "")


class Migration(migrations.Migration):
    dependencies = [("search", "0004_index_comments")]

    operations = [
        migrations.RunPython(
            add_prefix_indexes, remove_prefix_indexes, elidable=False
        )
    ]
