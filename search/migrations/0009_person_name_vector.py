"""Store a person's name as its own vector, so ranking people parses nothing.

A search ranks a person by the name alone plus a fraction of the rank over
the whole profile (``search.backends.base.PERSON_PROFILE_WEIGHT``). On
PostgreSQL the name's vector was built from the title for every person in a
search's window, while the statement ran: for a common word on the medium
benchmark set, 587 people in the window cost about 1.7 ms of the statement's
4.6 ms. The trigger of migration 0002 now fills ``name_vector`` for people
when it fills ``vector``, with the same configuration and weight, and this
migration fills it for the people already indexed. SQLite ranks people in
its FTS5 table and leaves the column NULL.
"""

from django.contrib.postgres.search import SearchVectorField
from django.db import migrations

# As in migration 0002: its parser reads "<...>" as a tag and "&...;" as an
# entity, so these signs are spaces.
_WORDS = "translate(coalesce(NEW.{column}, ''), './-_@:<>&', '         ')"
_VECTOR = f"""
        NEW.vector :=
            setweight(to_tsvector('pg_catalog.english', {_WORDS.format(column="title")}), 'A')
            || setweight(to_tsvector('pg_catalog.english', {_WORDS.format(column="tags")}), 'A')
            || setweight(to_tsvector('pg_catalog.english', {_WORDS.format(column="contexts")}), 'B')
            || setweight(to_tsvector('pg_catalog.english', {_WORDS.format(column="body")}), 'C');
"""
_NAME_VECTOR = f"""
        NEW.name_vector := CASE WHEN NEW.kind = 'person' THEN
            setweight(to_tsvector('pg_catalog.english', {_WORDS.format(column="title")}), 'A')
        END;
"""


def _function(body: str) -> str:
    return f"""
    CREATE OR REPLACE FUNCTION search_entry_vector_update() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        {body}
        RETURN NEW;
    END
    $$
    """


def fill_name_vectors(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(_function(_VECTOR + _NAME_VECTOR), params=None)
    # The trigger runs on an update of the title and fills both vectors.
    schema_editor.execute(
        "UPDATE search_entry SET title = title WHERE kind = 'person'", params=None
    )


def restore_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_function(_VECTOR), params=None)


class Migration(migrations.Migration):
    dependencies = [("search", "0008_missed_search_audience")]

    operations = [
        migrations.AddField(
            model_name="searchentry",
            name="name_vector",
            field=SearchVectorField(editable=False, null=True),
        ),
        migrations.RunPython(fill_name_vectors, restore_trigger, elidable=False),
    ]
