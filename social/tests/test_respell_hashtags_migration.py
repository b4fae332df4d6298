"""Migration 0012 respells the hashtags that a follow created the old way.

``outsider`` (Otto) follows tags, in the old way that stored his typing as
the spelling. ``sales_rep`` (Sally) posts in the open "Payments" community.
Each row is set up as migration 0011 left the tables: 0012 changes data only.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from core.models import AuditEvent
from social.models import Follow, Hashtag, Post
from social.services import publish_post

BEFORE = ("social", "0011_retag_symbol_hashtags")

pytestmark = pytest.mark.django_db(transaction=True)


def migrate_to(target: tuple[str, str] | None) -> None:
    """Migrate to ``target``, or every app to its latest migration for None."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = [target] if target else executor.loader.graph.leaf_nodes()
    executor.migrate(targets)


def days_ago(days: int):
    return timezone.now() - timedelta(days=days)


def old_follow(person, name: str, spelling: str, *, days: int) -> Hashtag:
    """Create a tag and its follow as a follow did before 0012: with a spelling."""
    hashtag = Hashtag.objects.create(name=name, display_name=spelling)
    follow = Follow.objects.create(follower=person, hashtag=hashtag)
    Follow.objects.filter(pk=follow.pk).update(created_at=days_ago(days))
    return hashtag


def post(author, community, body: str, *, days: int) -> Post:
    published = publish_post(author=author, community=community, body=body)
    Post.objects.filter(pk=published.pk).update(created_at=days_ago(days))
    return published


def spellings() -> dict[str, str]:
    return dict(Hashtag.objects.values_list("name", "display_name"))


def test_follow_created_tags_respelled(outsider, sales_rep, payments_community):
    try:
        migrate_to(BEFORE)
        old_follow(outsider, "remit", "REMIT", days=10)
        post(sales_rep, payments_community, "About #Remit today.", days=5)
        post(sales_rep, payments_community, "#remit again", days=4)
        old_follow(outsider, "zebra", "ZeBrA", days=10)
        # The earliest post was deleted but still links the tag.
        old_follow(outsider, "refund", "rEfUnD", days=10)
        deleted = post(sales_rep, payments_community, "#REFUND asked", days=6)
        Post.objects.filter(pk=deleted.pk).update(deleted_at=days_ago(1))
        post(sales_rep, payments_community, "A #Refund came in", days=3)
    finally:
        migrate_to(None)

    assert spellings() == {"remit": "Remit", "zebra": "", "refund": "Refund"}


def test_post_created_tag_kept(outsider, sales_rep, payments_community):
    try:
        migrate_to(BEFORE)
        post(sales_rep, payments_community, "The #Ledger closes.", days=10)
        post(sales_rep, payments_community, "#LEDGER again", days=2)
        # A follow after the first post left the spelling alone.
        follow = Follow.objects.create(
            follower=outsider, hashtag=Hashtag.objects.get(name="ledger")
        )
        Follow.objects.filter(pk=follow.pk).update(created_at=days_ago(5))
    finally:
        migrate_to(None)

    assert spellings() == {"ledger": "Ledger"}


def test_unfollowed_tag_found_by_audit_event(outsider, sales_rep, payments_community):
    # The follow row is gone, but its audit event dates the follow.
    try:
        migrate_to(BEFORE)
        hashtag = Hashtag.objects.create(name="credit", display_name="CREDIT")
        AuditEvent.objects.create(
            actor=outsider,
            action="follow.added",
            object_type="social.hashtag",
            object_id=str(hashtag.pk),
            source="screen",
        )
        AuditEvent.objects.filter(action="follow.added").update(
            occurred_at=days_ago(10)
        )
        post(sales_rep, payments_community, "A #Credit note", days=5)
    finally:
        migrate_to(None)

    assert spellings() == {"credit": "Credit"}


def test_unfollowed_tag_without_evidence_kept(sales_rep, payments_community):
    try:
        migrate_to(BEFORE)
        Hashtag.objects.create(name="orphan", display_name="ORPHAN")
    finally:
        migrate_to(None)

    assert spellings() == {"orphan": "ORPHAN"}
