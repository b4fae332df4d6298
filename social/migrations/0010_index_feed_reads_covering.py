"""Let the feed read each source's posts from an index alone.

The feed takes each followed person's and community's newest (or most
helpful) posts and tests whether each is deleted and, for a person's posts,
whether its community is visible. With the community and the deletion time
in the index, those tests need no lookup of the wide post row. Each new
index starts with the columns of the one it replaces, so it serves the same
reads.
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("communities", "0002_add_requests_invitations_pins_and_starters"),
        ("social", "0009_fill_reaction_counts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="post",
            name="social_post_communi_bb9248_idx",
        ),
        migrations.RemoveIndex(
            model_name="post",
            name="social_post_author__3d9dc2_idx",
        ),
        migrations.RemoveIndex(
            model_name="post",
            name="post_author_most_helpful",
        ),
        migrations.RemoveIndex(
            model_name="post",
            name="post_community_most_helpful",
        ),
        migrations.AddIndex(
            model_name="post",
            index=models.Index(
                fields=["community", "-created_at", "-id", "deleted_at"],
                name="post_community_newest",
            ),
        ),
        migrations.AddIndex(
            model_name="post",
            index=models.Index(
                fields=["author", "-created_at", "-id", "community", "deleted_at"],
                name="post_author_newest",
            ),
        ),
        migrations.AddIndex(
            model_name="post",
            index=models.Index(
                fields=[
                    "author",
                    "-helpful_count",
                    "-created_at",
                    "-id",
                    "community",
                    "deleted_at",
                ],
                name="post_author_helpful",
            ),
        ),
        migrations.AddIndex(
            model_name="post",
            index=models.Index(
                fields=[
                    "community",
                    "-helpful_count",
                    "-created_at",
                    "-id",
                    "deleted_at",
                ],
                name="post_community_helpful",
            ),
        ),
    ]
