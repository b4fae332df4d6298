"""Migration 0006 spells stored tags as hashtags and merges the ones that meet.

Mona (``member``) tagged one item ``shortpayment`` and two items
``#Short Payment``, one of them with both. After the migration every item
has the one tag ``shortpayment``, once, and a tag with a new spelling and
no twin is renamed in place, keeping its slug.
"""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from library.models import DocumentTag, Tag
from library.tests.conftest import make_item

BEFORE = ("library", "0005_withdrawn_items_and_versions")
AFTER = ("library", "0006_tags_spelled_as_hashtags")


def migrate_to(target: tuple[str, str] | None) -> None:
    """Migrate to ``target``, or every app to its latest migration for None."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = [target] if target else executor.loader.graph.leaf_nodes()
    executor.migrate(targets)


@pytest.mark.django_db(transaction=True)
def test_stored_tags_are_respelled_and_merged(member):
    both = make_item(member, "Both tags")
    old_only = make_item(member, "Old spelling only")
    other = make_item(member, "Another tag")
    try:
        migrate_to(BEFORE)
        plain = Tag.objects.create(
            name="shortpayment", key="shortpayment", slug="shortpayment"
        )
        spaced = Tag.objects.create(
            name="#Short Payment", key="#short payment", slug="short-payment"
        )
        lone = Tag.objects.create(name="Bank fee", key="bank fee", slug="bank-fee")
        for document, tag in [
            (both, plain),
            (both, spaced),
            (old_only, spaced),
            (other, lone),
        ]:
            DocumentTag.objects.create(document=document, tag=tag, added_by=member)
        migrate_to(AFTER)
    finally:
        migrate_to(None)

    assert sorted(Tag.objects.values_list("name", "key", "slug")) == [
        ("Bankfee", "bankfee", "bank-fee"),
        ("shortpayment", "shortpayment", "shortpayment"),
    ]
    links = sorted(DocumentTag.objects.values_list("document__title", "tag__name"))
    assert links == [
        ("Another tag", "Bankfee"),
        ("Both tags", "shortpayment"),
        ("Old spelling only", "shortpayment"),
    ]
