"""Spell the hashtags that 0012 left unspelled from any kind of use.

Migration 0012 respelled the rows that a follow created from their
earliest undeleted post only. A row whose tag only comments or questions
carry kept no spelling (``""``) although ``store_hashtags`` spells a tag
at the first use of any kind. This migration gives every unspelled row the
spelling of its earliest use that some reader may still see:

- an undeleted post;
- an undeleted comment on an undeleted post;
- a question (questions are closed, never deleted), its title before its
  body, as ``answers.services.common.parse_question_tags`` reads them.

Uses are taken oldest first (by ``created_at``, then kind in the order
above, then id), and each spelling is read from the use's text with the
current renderer. A row with no such use keeps no spelling, so it reads as
its key and the next use spells it.
"""

import heapq
from collections.abc import Iterator
from typing import Any

from django.db import migrations

UNSPELLED = ""


def dated_texts(queryset: Any, kind: int, fields: list[str]) -> Iterator[tuple]:
    """Yield (created_at, kind, id, texts) for each row, oldest first."""
    rows = queryset.order_by("created_at", "pk").values_list(
        "created_at", "pk", *fields
    )
    for created_at, pk, *texts in rows.iterator():
        yield created_at, kind, pk, texts


def uses_of(apps: Any, hashtag: Any) -> Iterator[tuple]:
    """Yield every use of ``hashtag`` that a reader may see, oldest first."""
    Post = apps.get_model("social", "Post")
    Comment = apps.get_model("social", "Comment")
    Question = apps.get_model("answers", "Question")
    posts = Post.objects.filter(hashtags=hashtag, deleted_at__isnull=True)
    comments = Comment.objects.filter(
        hashtags=hashtag, deleted_at__isnull=True, post__deleted_at__isnull=True
    )
    questions = Question.objects.filter(hashtags=hashtag)
    return heapq.merge(
        dated_texts(posts, 0, ["body"]),
        dated_texts(comments, 1, ["body"]),
        dated_texts(questions, 2, ["title", "body"]),
    )


def earliest_spelling(apps: Any, hashtag: Any) -> str:
    """Return how the earliest visible use of ``hashtag`` spells it, or ""."""
    # The current renderer parses the text, as the services did.
    from core.markdown import render_markdown

    for _created_at, _kind, _pk, texts in uses_of(apps, hashtag):
        for text in texts:
            for parsed in render_markdown(text).hashtags:
                if parsed.name == hashtag.name:
                    return str(parsed.display_name)
    return UNSPELLED


def respell(apps: Any, schema_editor: Any) -> None:
    Hashtag = apps.get_model("social", "Hashtag")
    for hashtag in Hashtag.objects.filter(display_name=UNSPELLED).order_by("pk"):
        spelling = earliest_spelling(apps, hashtag)
        if spelling != UNSPELLED:
            Hashtag.objects.filter(pk=hashtag.pk, display_name=UNSPELLED).update(
                display_name=spelling
            )


class Migration(migrations.Migration):
    dependencies = [
        ("social", "0012_respell_follow_created_hashtags"),
    ]

    operations = [migrations.RunPython(respell, migrations.RunPython.noop)]
