"""Give the post-hashtag table an explicit model and a newest-first tag index.

The table keeps its name and columns. It gains ``post_created_at``, copied
from the post by a trigger on insert, and an index on (hashtag, time, post),
so a tag's newest posts are read from the index without sorting.
"""

import django.db.models.deletion
from django.db import migrations, models

SQLITE_TRIGGER = """
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

POSTGRES_TRIGGER = [
    """
    CREATE FUNCTION social_post_hashtags_copy_time() RETURNS trigger AS $$
    BEGIN
        NEW.post_created_at := (
            SELECT created_at FROM social_post WHERE id = NEW.post_id
        );
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER social_post_hashtags_copy_time
    BEFORE INSERT ON social_post_hashtags
    FOR EACH ROW EXECUTE FUNCTION social_post_hashtags_copy_time()
    """,
]

BACKFILL = """
UPDATE social_post_hashtags
SET post_created_at = (
    SELECT created_at FROM social_post WHERE social_post.id = social_post_hashtags.post_id
)
"""


def create_trigger(apps, schema_editor):
    schema_editor.execute(BACKFILL)
    if schema_editor.connection.vendor == "postgresql":
        for statement in POSTGRES_TRIGGER:
            schema_editor.execute(statement)
    else:
        schema_editor.execute(SQLITE_TRIGGER)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "DROP TRIGGER social_post_hashtags_copy_time ON social_post_hashtags"
        )
        schema_editor.execute("DROP FUNCTION social_post_hashtags_copy_time()")
    else:
        schema_editor.execute("DROP TRIGGER social_post_hashtags_copy_time")


class Migration(migrations.Migration):
    dependencies = [
        ("social", "0003_kinds_follows_reads"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="PostHashtag",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "post",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                to="social.post",
                            ),
                        ),
                        (
                            "hashtag",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                to="social.hashtag",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "social_post_hashtags",
                        "unique_together": {("post", "hashtag")},
                    },
                ),
                migrations.AlterField(
                    model_name="post",
                    name="hashtags",
                    field=models.ManyToManyField(
                        blank=True,
                        related_name="posts",
                        through="social.PostHashtag",
                        to="social.hashtag",
                    ),
                ),
            ],
        ),
        migrations.AddField(
            model_name="posthashtag",
            name="post_created_at",
            field=models.DateTimeField(editable=False, null=True),
        ),
        migrations.RunPython(create_trigger, drop_trigger),
        migrations.AddIndex(
            model_name="posthashtag",
            index=models.Index(
                fields=["hashtag", "-post_created_at", "-post"],
                name="post_hashtag_newest_first",
            ),
        ),
    ]
