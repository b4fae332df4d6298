"""Add the engine's full-text structures to ``search_entry``.

SQLite: an FTS5 table over the entry's text columns, with ``search_entry``
as its external content, kept in step by three triggers. The porter stemmer
wraps unicode61, and diacritics are kept (``Zähler`` is not ``Zahler``, the
same rule as tags).

PostgreSQL: a trigger fills ``vector`` with the English configuration
(title and tags weigh most, then contexts, then the body), and a GIN index
covers it. Dots, slashes, hyphens, underscores, ``@``, ``:``, ``<``, ``>``
and ``&`` count as spaces there, so ``report.pdf`` and ``SO-10348`` split
into words as they do in FTS5.

NOTE: on SQLite, a later migration that alters ``search_entry`` rebuilds the
table and drops these triggers; such a migration must create them again.
"""

import django.contrib.postgres.indexes
from django.db import migrations

SQLITE_CREATE = [
    """
    CREATE VIRTUAL TABLE search_entry_fts USING fts5(
        title, body, tags, contexts,
        content='search_entry', content_rowid='id',
        tokenize="porter unicode61 remove_diacritics 0"
    )
    """,
    """
    CREATE TRIGGER search_entry_fts_insert AFTER INSERT ON search_entry BEGIN
        INSERT INTO search_entry_fts (rowid, title, body, tags, contexts)
        VALUES (new.id, new.title, new.body, new.tags, new.contexts);
    END
    """,
    """
    CREATE TRIGGER search_entry_fts_delete AFTER DELETE ON search_entry BEGIN
        INSERT INTO search_entry_fts (search_entry_fts, rowid, title, body, tags, contexts)
        VALUES ('delete', old.id, old.title, old.body, old.tags, old.contexts);
    END
    """,
    """
    CREATE TRIGGER search_entry_fts_update
    AFTER UPDATE OF title, body, tags, contexts ON search_entry BEGIN
        INSERT INTO search_entry_fts (search_entry_fts, rowid, title, body, tags, contexts)
        VALUES ('delete', old.id, old.title, old.body, old.tags, old.contexts);
        INSERT INTO search_entry_fts (rowid, title, body, tags, contexts)
        VALUES (new.id, new.title, new.body, new.tags, new.contexts);
    END
    """,
    # Index rows that existed before this migration.
    "INSERT INTO search_entry_fts (search_entry_fts) VALUES ('rebuild')",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS search_entry_fts_update",
    "DROP TRIGGER IF EXISTS search_entry_fts_delete",
    "DROP TRIGGER IF EXISTS search_entry_fts_insert",
    "DROP TABLE IF EXISTS search_entry_fts",
]

# Its parser reads "<...>" as an HTML tag and drops it, and "&...;" as an
# entity; body text is plain text, so these signs are spaces too.
_WORDS = "translate(coalesce(NEW.{column}, ''), './-_@:<>&', '         ')"
POSTGRESQL_CREATE = [
    f"""
    CREATE FUNCTION search_entry_vector_update() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        NEW.vector :=
            setweight(to_tsvector('pg_catalog.english', {_WORDS.format(column="title")}), 'A')
            || setweight(to_tsvector('pg_catalog.english', {_WORDS.format(column="tags")}), 'A')
            || setweight(to_tsvector('pg_catalog.english', {_WORDS.format(column="contexts")}), 'B')
            || setweight(to_tsvector('pg_catalog.english', {_WORDS.format(column="body")}), 'C');
        RETURN NEW;
    END
    $$
    """,
    """
    CREATE TRIGGER search_entry_vector
    BEFORE INSERT OR UPDATE OF title, body, tags, contexts ON search_entry
    FOR EACH ROW EXECUTE FUNCTION search_entry_vector_update()
    """,
    # Fill the column for rows that existed before this migration.
    "UPDATE search_entry SET title = title",
    "CREATE INDEX search_entry_vector_gin ON search_entry USING gin (vector)",
]
POSTGRESQL_DROP = [
    "DROP INDEX IF EXISTS search_entry_vector_gin",
    "DROP TRIGGER IF EXISTS search_entry_vector ON search_entry",
    "DROP FUNCTION IF EXISTS search_entry_vector_update()",
]


def _run(schema_editor, statements_by_vendor):
    vendor = schema_editor.connection.vendor
    if vendor not in statements_by_vendor:
        raise RuntimeError(
            f"Search supports SQLite and PostgreSQL, not {vendor}: run Commonplace "
            "on one of them."
        )
    for statement in statements_by_vendor[vendor]:
        schema_editor.execute(statement, params=None)


def create_full_text(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_CREATE, "postgresql": POSTGRESQL_CREATE})


def drop_full_text(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP})


class Migration(migrations.Migration):
    dependencies = [("search", "0001_create_search_index")]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The GIN index is in the model state on both engines, so
            # makemigrations stays quiet, but only PostgreSQL builds it.
            state_operations=[
                migrations.AddIndex(
                    model_name="searchentry",
                    index=django.contrib.postgres.indexes.GinIndex(
                        fields=["vector"], name="search_entry_vector_gin"
                    ),
                )
            ],
            database_operations=[
                migrations.RunPython(create_full_text, drop_full_text, elidable=False)
            ],
        )
    ]
