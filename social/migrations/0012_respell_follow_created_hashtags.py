"""Give hashtags that a follow created the spelling of their earliest post.

A follow of a tag that nobody had used used to create the row with the
follower's typing as ``display_name``, and the first post with the tag kept
it. Now a follow leaves the spelling empty and the first post sets it. This
migration respells the rows made the old way.

A row counts as made by a follow when its first follow (the earliest
``Follow`` row or ``follow.added`` audit event) is no later than the first
post, comment or question that carries it. Such a row gets the spelling of
its earliest undeleted post, read from the post's text. With no such post
it gets no spelling (``""``), so it reads as its key, the lower-case name,
and the next post spells it. Rows that a post, comment or question created
keep their spelling.
"""

from typing import Any

from django.db import migrations
from django.db.models import Min

UNSPELLED = ""


def first_follow_times(apps: Any) -> dict[int, Any]:
    """Return the time of each hashtag's first follow, by hashtag id."""
    Follow = apps.get_model("social", "Follow")
    AuditEvent = apps.get_model("core", "AuditEvent")
    times: dict[int, Any] = {}
    follows = (
        Follow.objects.filter(hashtag__isnull=False)
        .values("hashtag")
        .annotate(first=Min("created_at"))
    )
    for row in follows:
        times[row["hashtag"]] = row["first"]
    events = (
        AuditEvent.objects.filter(action="follow.added", object_type="social.hashtag")
        .values("object_id")
        .annotate(first=Min("occurred_at"))
    )
    for row in events:
        if not row["object_id"].isdigit():
            continue
        pk = int(row["object_id"])
        if pk not in times or row["first"] < times[pk]:
            times[pk] = row["first"]
    return times


def first_use_times(apps: Any) -> dict[int, Any]:
    """Return when a post, comment or question first carried each hashtag."""
    times: dict[int, Any] = {}
    Hashtag = apps.get_model("social", "Hashtag")
    # The reverse names of the posts', comments' and questions' hashtags.
    for related_name in ("posts", "comments", "questions"):
        rows = (
            Hashtag.objects.filter(**{f"{related_name}__isnull": False})
            .values("pk")
            .annotate(first=Min(f"{related_name}__created_at"))
        )
        for row in rows:
            pk = row["pk"]
            if pk not in times or row["first"] < times[pk]:
                times[pk] = row["first"]
    return times


def earliest_post_spelling(apps: Any, hashtag: Any) -> str:
    """Return how the earliest undeleted post with ``hashtag`` spells it, or ""."""
    # The current renderer parses the text, as ``publish_post`` did.
    from core.markdown import render_markdown

    Post = apps.get_model("social", "Post")
    posts = Post.objects.filter(hashtags=hashtag, deleted_at__isnull=True).order_by(
        "created_at", "pk"
    )
    for body in posts.values_list("body", flat=True).iterator():
        for parsed in render_markdown(body).hashtags:
            if parsed.name == hashtag.name:
                return str(parsed.display_name)
    return UNSPELLED


def respell(apps: Any, schema_editor: Any) -> None:
    Hashtag = apps.get_model("social", "Hashtag")
    followed = first_follow_times(apps)
    if not followed:
        return
    used = first_use_times(apps)
    for hashtag in Hashtag.objects.filter(pk__in=list(followed)).order_by("pk"):
        first_use = used.get(hashtag.pk)
        if first_use is not None and first_use < followed[hashtag.pk]:
            continue
        spelling = earliest_post_spelling(apps, hashtag)
        if spelling != hashtag.display_name:
            Hashtag.objects.filter(pk=hashtag.pk).update(display_name=spelling)


class Migration(migrations.Migration):
    dependencies = [
        ("social", "0011_retag_symbol_hashtags"),
        ("core", "0001_initial"),
        ("answers", "0012_question_record_kind_purchase_order"),
    ]

    operations = [migrations.RunPython(respell, migrations.RunPython.noop)]
