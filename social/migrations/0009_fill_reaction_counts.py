from django.db import migrations

# One statement for every post with reactions: each post's four counters
# from one pass over its reaction rows (the unique index starts with the
# post). Row-value assignment works on PostgreSQL and on SQLite 3.15+.
FILL_COUNTS = """
UPDATE social_post
SET (like_count, celebrate_count, insightful_count, thanks_count) = (
    SELECT
        COALESCE(SUM(CASE WHEN kind = 'like' THEN 1 ELSE 0 END), 0),
        COALESCE(SUM(CASE WHEN kind = 'celebrate' THEN 1 ELSE 0 END), 0),
        COALESCE(SUM(CASE WHEN kind = 'insightful' THEN 1 ELSE 0 END), 0),
        COALESCE(SUM(CASE WHEN kind = 'thanks' THEN 1 ELSE 0 END), 0)
    FROM social_reaction
    WHERE social_reaction.post_id = social_post.id
)
WHERE id IN (SELECT post_id FROM social_reaction)
"""


def fill_counts(apps, schema_editor):
    schema_editor.execute(FILL_COUNTS)


class Migration(migrations.Migration):
    dependencies = [
        ("social", "0008_post_reaction_counts"),
    ]

    operations = [
        # Going back, the columns are dropped by reversing 0008.
        migrations.RunPython(fill_counts, migrations.RunPython.noop),
    ]
