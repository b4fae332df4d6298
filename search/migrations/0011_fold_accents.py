"""Fold accents in the full-text index on both engines, and rebuild it.

"Muller" now finds "Müller" and "credit" finds "crédit", in text and in
queries alike. Snippets still show the stored text, accents included.

SQLite: the FTS5 table is created again with ``remove_diacritics 2`` (same
columns, external content and prefix indexes as migration 0005), then
rebuilt from ``search_entry``. The triggers that keep it in step stay,
because they are on ``search_entry`` and name the table by its name.

PostgreSQL: the ``unaccent`` extension provides a filtering dictionary. The
text search configuration ``english_unaccent`` is a copy of ``english`` whose
mappings for words with non-ASCII letters run ``unaccent`` before the
English stemmer. ``to_tsvector`` and the ``*to_tsquery`` functions are
immutable when they get a configuration, so the trigger and the queries use
it like ``english``. The trigger function is replaced and every entry is
written again, which refills ``vector`` and ``name_vector``.

NOTE: ``CREATE EXTENSION unaccent`` needs a role that may create it. The
extension is trusted since PostgreSQL 13, so the database's owner may.
"""

from django.db import migrations


_FTS_TABLE = """
    CREATE VIRTUAL TABLE search_entry_fts USING fts5(
        title, body, tags, contexts,
        content='search_entry', content_rowid='id',
        tokenize="porter unicode61 remove_diacritics {diacritics}",
        prefix='2 3 4 5 6 7 8'
    )
"""
_FTS_REBUILD = "INSERT INTO search_entry_fts (search_entry_fts) VALUES ('rebuild')"

CONFIG = "english_unaccent"
_PG_CREATE = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    f"CREATE TEXT SEARCH CONFIGURATION {CONFIG} (COPY = pg_catalog.english)",
    # Words of ASCII letters only have nothing to fold and keep their mapping.
    f"""
    ALTER TEXT SEARCH CONFIGURATION {CONFIG}
        ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem
    """,
]
# As in migrations 0002 and 0009: the parser reads "<...>" as a tag and
# "&...;" as an entity, so these signs are spaces.
_WORDS = "translate(coalesce(NEW.{column}, ''), './-_@:<>&', '         ')"


def trigger_function(config: str) -> str:
    """Return the trigger function of migration 0009 with ``config``."""

    def vector(column: str) -> str:
        return f"to_tsvector('{config}', {_WORDS.format(column=column)})"

    return f"""
    CREATE OR REPLACE FUNCTION search_entry_vector_update() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        NEW.vector :=
            setweight({vector("title")}, 'A')
            || setweight({vector("tags")}, 'A')
            || setweight({vector("contexts")}, 'B')
            || setweight({vector("body")}, 'C');
        NEW.name_vector := CASE WHEN NEW.kind = 'person' THEN
            setweight({vector("title")}, 'A')
        END;
        RETURN NEW;
    END
    $$
    """


# Rewriting every row runs the trigger, which refills both vectors.
_PG_REINDEX = "UPDATE search_entry SET title = title"


def _rebuild_fts(schema_editor, diacritics: int) -> None:
    schema_editor.execute("DROP TABLE search_entry_fts", params=None)
    schema_editor.execute(_FTS_TABLE.format(diacritics=diacritics), params=None)
    schema_editor.execute(_FTS_REBUILD, params=None)


def fold_accents(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        _rebuild_fts(schema_editor, 2)
    elif vendor == "postgresql":
        for statement in _PG_CREATE:
            schema_editor.execute(statement, params=None)
        schema_editor.execute(trigger_function(CONFIG), params=None)
        schema_editor.execute(_PG_REINDEX, params=None)


def keep_accents(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        _rebuild_fts(schema_editor, 0)
    elif vendor == "postgresql":
        schema_editor.execute(trigger_function("pg_catalog.english"), params=None)
        schema_editor.execute(_PG_REINDEX, params=None)
        # The extension stays: other objects may use it.
        schema_editor.execute(f"DROP TEXT SEARCH CONFIGURATION {CONFIG}", params=None)


class Migration(migrations.Migration):
    dependencies = [("search", "0010_missed_search_repeat_windows")]

    operations = [migrations.RunPython(fold_accents, keep_accents, elidable=False)]
