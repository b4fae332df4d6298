"""Migration 0013 spells the tags that 0012 left unspelled, from any kind of use.

``outsider`` (Otto) followed each tag before anyone used it, so migration
0012 left its spelling empty. ``sales_rep`` (Sally) then used it in the
open "Payments" community, in a post, a comment or a question. Each use is
written through the services, and the spelling they set is cleared again,
as the tables were after 0012 respelled from posts only.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from answers.models import Question
from answers.services.questions import create_question
from social.models import Comment, Follow, Hashtag, Post
from social.services import post_comment, publish_post

AFTER_POSTS_ONLY = ("social", "0012_respell_follow_created_hashtags")

pytestmark = pytest.mark.django_db(transaction=True)


def migrate_to(target: tuple[str, str] | None) -> None:
    """Migrate to ``target``, or every app to its latest migration for None."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = [target] if target else executor.loader.graph.leaf_nodes()
    executor.migrate(targets)


def days_ago(days: int):
    return timezone.now() - timedelta(days=days)


def followed(person, name: str) -> None:
    """Create the tag as a follow did: no spelling yet."""
    hashtag = Hashtag.objects.create(name=name, display_name="")
    Follow.objects.create(follower=person, hashtag=hashtag)


def unspell_all() -> None:
    """Clear every spelling the services set, as 0012 left follow-made rows."""
    Hashtag.objects.update(display_name="")


def post(author, community, body: str, *, days: int) -> Post:
    published = publish_post(author=author, community=community, body=body)
    Post.objects.filter(pk=published.pk).update(created_at=days_ago(days))
    return published


def comment(author, on: Post, body: str, *, days: int) -> Comment:
    written = post_comment(author=author, post=on, body=body)
    Comment.objects.filter(pk=written.pk).update(created_at=days_ago(days))
    return written


def question(author, community, title: str, body: str = "", *, days: int):
    created = create_question(
        author=author, community=community, title=title, body=body
    )
    Question.objects.filter(pk=created.pk).update(created_at=days_ago(days))
    return created


def spellings() -> dict[str, str]:
    return dict(Hashtag.objects.values_list("name", "display_name"))


def test_comment_only_tag_spelled(outsider, sales_rep, payments_community):
    try:
        migrate_to(AFTER_POSTS_ONLY)
        followed(outsider, "chargeback")
        untagged = post(sales_rep, payments_community, "Card disputes", days=9)
        comment(sales_rep, untagged, "A #ChargeBack came in", days=8)
        comment(sales_rep, untagged, "#CHARGEBACK again", days=2)
        unspell_all()
    finally:
        migrate_to(None)

    assert spellings() == {"chargeback": "ChargeBack"}


def test_question_only_tag_spelled(outsider, sales_rep, payments_community):
    try:
        migrate_to(AFTER_POSTS_ONLY)
        followed(outsider, "dunning")
        followed(outsider, "lockbox")
        question(sales_rep, payments_community, "When does #Dunning start?", days=7)
        question(
            sales_rep,
            payments_community,
            "Where do cheques go?",
            "Is the #LockBox address new?",
            days=6,
        )
        unspell_all()
    finally:
        migrate_to(None)

    assert spellings() == {"dunning": "Dunning", "lockbox": "LockBox"}


def test_post_use_spells_tag(outsider, sales_rep, payments_community):
    try:
        migrate_to(AFTER_POSTS_ONLY)
        followed(outsider, "remit")
        post(sales_rep, payments_community, "About #Remit today.", days=5)
        unspell_all()
    finally:
        migrate_to(None)

    assert spellings() == {"remit": "Remit"}


def test_earliest_use_of_any_kind_wins(outsider, sales_rep, payments_community):
    try:
        migrate_to(AFTER_POSTS_ONLY)
        followed(outsider, "refund")
        followed(outsider, "credit")
        first = post(sales_rep, payments_community, "Returns desk", days=20)
        comment(sales_rep, first, "A #REFUND created", days=9)
        post(sales_rep, payments_community, "A #Refund came in", days=3)
        question(sales_rep, payments_community, "Is a #CreDit note due?", days=8)
        comment(sales_rep, first, "A #CREDIT again", days=4)
        unspell_all()
    finally:
        migrate_to(None)

    assert spellings() == {"refund": "REFUND", "credit": "CreDit"}


def test_hidden_uses_leave_tag_unspelled(outsider, sales_rep, payments_community):
    # A deleted comment, and a live comment on a deleted post, are read by
    # nobody, so their spelling must not become the tag's.
    try:
        migrate_to(AFTER_POSTS_ONLY)
        followed(outsider, "escrow")
        followed(outsider, "accrual")
        live = post(sales_rep, payments_community, "Month end", days=9)
        deleted_comment = comment(sales_rep, live, "An #EsCrOw question", days=8)
        Comment.objects.filter(pk=deleted_comment.pk).update(deleted_at=days_ago(1))
        deleted_post = post(sales_rep, payments_community, "Old thread", days=9)
        comment(sales_rep, deleted_post, "The #AcCrUaL moved", days=8)
        Post.objects.filter(pk=deleted_post.pk).update(deleted_at=days_ago(1))
        unspell_all()
    finally:
        migrate_to(None)

    assert spellings() == {"escrow": "", "accrual": ""}


def test_spelled_tag_kept(sales_rep, payments_community):
    try:
        migrate_to(AFTER_POSTS_ONLY)
        first = post(sales_rep, payments_community, "The #Ledger closes.", days=2)
        comment(sales_rep, first, "#LEDGER in a comment", days=9)
    finally:
        migrate_to(None)

    assert spellings() == {"ledger": "Ledger"}
