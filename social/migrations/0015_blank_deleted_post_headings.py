"""Blank the title and summary of posts deleted before deletion blanked them.

Deletion used to blank only the body, so a deleted blog post or announcement
kept its title and summary, and the API sent them. Deletion now blanks every
text column. This migration does the same for the posts deleted earlier.
The title and summary move to the revision that the deletion wrote (the
post's newest), so the author and the moderators still find them in the
post's history.
"""

from typing import Any

from django.db import migrations


def blank_deleted_headings(apps: Any, schema_editor: Any) -> None:
    Post = apps.get_model("social", "Post")
    PostRevision = apps.get_model("social", "PostRevision")
    posts = Post.objects.filter(deleted_at__isnull=False).exclude(title="", summary="")
    for post in posts.only("pk", "title", "summary"):
        newest = (
            PostRevision.objects.filter(post_id=post.pk)
            .order_by("-created_at", "-id")
            .first()
        )
        if newest is not None and not (newest.title or newest.summary):
            newest.title = post.title
            newest.summary = post.summary
            newest.save(update_fields=["title", "summary"])
        elif newest is None or (newest.title, newest.summary) != (
            post.title,
            post.summary,
        ):
            PostRevision.objects.create(
                post_id=post.pk,
                title=post.title,
                summary=post.summary,
                body="",
                edited_by_name="",
            )
    posts.update(title="", summary="")


class Migration(migrations.Migration):
    dependencies = [("social", "0014_tombstone_title_may_be_blank")]

    operations = [
        migrations.RunPython(blank_deleted_headings, migrations.RunPython.noop)
    ]
