from django.db import migrations, models

# As in 0006: on SQLite, adding columns to social_post rebuilds the table,
# which fails while the tag-row triggers name it, so they are dropped before
# and created again after.
SQLITE_TRIGGERS = [
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


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS social_post_hashtags_copy_time")
        schema_editor.execute("DROP TRIGGER IF EXISTS social_post_copy_helpful_count")


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        drop_triggers(apps, schema_editor)
        for statement in SQLITE_TRIGGERS:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("social", "0007_revision_keeps_heading"),
    ]

    operations = [
        migrations.RunPython(drop_triggers, create_triggers),
        migrations.AddField(
            model_name="post",
            name="like_count",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="post",
            name="celebrate_count",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="post",
            name="insightful_count",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="post",
            name="thanks_count",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
