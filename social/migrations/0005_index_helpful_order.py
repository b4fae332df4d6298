"""Index the "most helpful" order per author, community and hashtag.

The tag rows gain ``post_helpful_count``, copied from the post on insert and
kept equal by a trigger when the post's count changes. On SQLite, adding the
column rebuilds the table, which drops the insert trigger from 0004, so the
insert trigger is created again here with both copies.
"""

from django.db import migrations, models

SQLITE_TRIGGERS = [
    "DROP TRIGGER IF EXISTS social_post_hashtags_copy_time",
    """
    CREATE TRIGGER social_post_hashtags_copy_time
    AFTER INSERT ON social_post_hashtags
    BEGIN
        UPDATE social_post_hashtags
        SET post_created_at = (
                SELECT created_at FROM social_post WHERE id = NEW.post_id
            ),
            post_helpful_count = (
                SELECT helpful_count FROM social_post WHERE id = NEW.post_id
            )
        WHERE id = NEW.id;
    END
    """,
    """
    CREATE TRIGGER social_post_copy_helpful_count
    AFTER UPDATE OF helpful_count ON social_post
    BEGIN
        UPDATE social_post_hashtags
        SET post_helpful_count = NEW.helpful_count
        WHERE post_id = NEW.id;
    END
    """,
]

POSTGRES_TRIGGERS = [
    """
    CREATE OR REPLACE FUNCTION social_post_hashtags_copy_time() RETURNS trigger AS $$
    BEGIN
        SELECT created_at, helpful_count
        INTO NEW.post_created_at, NEW.post_helpful_count
        FROM social_post WHERE id = NEW.post_id;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE FUNCTION social_post_copy_helpful_count() RETURNS trigger AS $$
    BEGIN
        UPDATE social_post_hashtags
        SET post_helpful_count = NEW.helpful_count
        WHERE post_id = NEW.id;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER social_post_copy_helpful_count
    AFTER UPDATE OF helpful_count ON social_post
    FOR EACH ROW WHEN (OLD.helpful_count IS DISTINCT FROM NEW.helpful_count)
    EXECUTE FUNCTION social_post_copy_helpful_count()
    """,
]

BACKFILL = """
UPDATE social_post_hashtags
SET post_helpful_count = (
    SELECT helpful_count FROM social_post
    WHERE social_post.id = social_post_hashtags.post_id
)
"""

SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS social_post_copy_helpful_count",
    "DROP TRIGGER IF EXISTS social_post_hashtags_copy_time",
]

# The insert trigger of 0004. SQLite needs it again after the column is
# removed on reversal, because removing a column rebuilds the table.
SQLITE_TIME_TRIGGER = """
CREATE TRIGGER social_post_hashtags_copy_time
AFTER INSERT ON social_post_hashtags
BEGIN
    UPDATE social_post_hashtags
    SET post_created_at = (
        SELECT created_at FROM social_post WHERE id = NEW.post_id
    )
    WHERE id = NEW.id;
END
"""

POSTGRES_REVERSE = [
    "DROP TRIGGER social_post_copy_helpful_count ON social_post",
    "DROP FUNCTION social_post_copy_helpful_count()",
    """
    CREATE OR REPLACE FUNCTION social_post_hashtags_copy_time() RETURNS trigger AS $$
    BEGIN
        NEW.post_created_at := (
            SELECT created_at FROM social_post WHERE id = NEW.post_id
        );
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql
    """,
]


def restore_time_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_TIME_TRIGGER)


def create_triggers(apps, schema_editor):
    schema_editor.execute(BACKFILL)
    postgres = schema_editor.connection.vendor == "postgresql"
    for statement in POSTGRES_TRIGGERS if postgres else SQLITE_TRIGGERS:
        schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for statement in POSTGRES_REVERSE if postgres else SQLITE_REVERSE:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("social", "0004_index_tag_timelines"),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, restore_time_trigger),
        migrations.AddField(
            model_name="posthashtag",
            name="post_helpful_count",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
        migrations.AddIndex(
            model_name="post",
            index=models.Index(
                fields=["author", "-helpful_count", "-created_at", "-id"],
                name="post_author_most_helpful",
            ),
        ),
        migrations.AddIndex(
            model_name="post",
            index=models.Index(
                fields=["community", "-helpful_count", "-created_at", "-id"],
                name="post_community_most_helpful",
            ),
        ),
        migrations.AddIndex(
            model_name="posthashtag",
            index=models.Index(
                fields=["hashtag", "-post_helpful_count", "-post_created_at", "-post"],
                name="post_hashtag_most_helpful",
            ),
        ),
    ]
