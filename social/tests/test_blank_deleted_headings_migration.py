"""Migration 0015 blanks the heading of posts deleted before deletion did.

``sally`` (``sales_rep``) wrote the posts in the open "Payments" community,
and they were deleted the old way: body blanked, title and summary kept.
"""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from social.models import Post, PostRevision

BEFORE = ("social", "0014_tombstone_title_may_be_blank")

pytestmark = pytest.mark.django_db(transaction=True)


def migrate_to(target: tuple[str, str] | None) -> None:
    """Migrate to ``target``, or every app to its latest migration for None."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = [target] if target else executor.loader.graph.leaf_nodes()
    executor.migrate(targets)


def blog_post(author, community, title: str, summary: str) -> Post:
    return Post.objects.create(
        community=community,
        author=author,
        author_name=author.display_name,
        kind=Post.Kind.BLOG,
        title=title,
        summary=summary,
        body="Text",
        body_html="<p>Text</p>",
    )


def delete_the_old_way(post: Post) -> None:
    PostRevision.objects.create(post=post, body=post.body, edited_by_name="Sally")
    Post.objects.filter(pk=post.pk).update(
        body="", body_html="", deleted_at=timezone.now()
    )


def test_old_tombstones_lose_their_heading(sales_rep, payments_community):
    try:
        migrate_to(BEFORE)
        deleted = blog_post(sales_rep, payments_community, "Wombattitle", "wombat")
        delete_the_old_way(deleted)
        live = blog_post(sales_rep, payments_community, "Still here", "Kept")

        migrate_to(None)

        deleted.refresh_from_db()
        live.refresh_from_db()
        revision = deleted.revisions.get()
        assert (deleted.title, deleted.summary) == ("", "")
        assert (revision.title, revision.summary) == ("Wombattitle", "wombat")
        assert revision.body == "Text"
        assert (live.title, live.summary) == ("Still here", "Kept")
    finally:
        migrate_to(None)
