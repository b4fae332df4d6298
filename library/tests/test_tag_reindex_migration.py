"""Migration 0008 rewrites the search entries whose tags 0006 respelled.

Before 0006, Mona (``member``) tagged "Short payments" ``#Short Payment``
and ``#Müller Straße``, and "Bank fees" ``shortpayment``. Carla (``customer``)
added ``#Short Payment`` to "Bank fees" too, and "Untagged" has no tag.
The index contains the keys as they were. After upgrading with ``migrate``
alone, with no manual step, each entry is the one the app would write now,
and a search finds the items by the new keys.
"""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from library.models import DocumentTag, Tag
from library.tests.conftest import make_item
from search.indexing import write_entries
from search.models import SearchEntry, SearchLabel
from search.sources import SOURCES
from search.tests.conftest import found

BEFORE = ("library", "0005_withdrawn_items_and_versions")
AFTER = ("library", "0008_reindex_respelled_tags")


def migrate_to(target: tuple[str, str] | None) -> None:
    """Migrate to ``target``, or every app to its latest migration for None."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = [target] if target else executor.loader.graph.leaf_nodes()
    executor.migrate(targets)


def indexed(document_id: int) -> tuple[str, str, str, list[str]]:
    """Return an item's entry as stored: title, body, tags and tag labels."""
    entry = SearchEntry.objects.get(kind="library", object_id=document_id)
    labels = SearchLabel.objects.filter(entry=entry, field=SearchLabel.Field.TAG)
    return (
        entry.title,
        entry.body,
        entry.tags,
        sorted(labels.values_list("value", flat=True)),
    )


@pytest.mark.django_db(transaction=True)
def test_upgrade_reindexes_respelled_tags(member, customer):
    short = make_item(member, "Short payments")
    fees = make_item(member, "Bank fees")
    untagged = make_item(member, "Untagged")
    items = [short.pk, fees.pk, untagged.pk]
    try:
        migrate_to(BEFORE)
        plain = Tag.objects.create(
            name="shortpayment", key="shortpayment", slug="shortpayment"
        )
        spaced = Tag.objects.create(
            name="#Short Payment", key="#short payment", slug="short-payment"
        )
        street = Tag.objects.create(
            name="#Müller Straße", key="#müller strasse", slug="mueller-strasse"
        )
        for document, tag, person in [
            (short, spaced, member),
            (short, street, member),
            (fees, plain, member),
            (fees, spaced, customer),
        ]:
            DocumentTag.objects.create(document=document, tag=tag, added_by=person)
        # The index as the app wrote it before 0006: the old keys.
        write_entries(SOURCES["library"], items)
        assert indexed(short.pk)[2:] == (
            "#short payment #müller strasse",
            ["#müller strasse", "#short payment"],
        )
        assert short.pk not in [pk for _, pk in found(member, "shortpayment")]
        before = indexed(untagged.pk)

        migrate_to(AFTER)

        migrated = {pk: indexed(pk) for pk in items}
        # The app's own indexing gives the same entries.
        write_entries(SOURCES["library"], items)
        assert migrated == {pk: indexed(pk) for pk in items}
    finally:
        migrate_to(None)

    _, body, tags, labels = migrated[short.pk]
    assert tags == "shortpayment müllerstrasse"
    assert labels == ["müllerstrasse", "shortpayment"]
    assert body.endswith("\u2029muellerstrasse")
    # Carla's tag is not indexed, and her link moved to the merged tag.
    assert migrated[fees.pk][2:] == ("shortpayment", ["shortpayment"])
    assert migrated[untagged.pk] == before
    assert found(member, "shortpayment") == sorted(
        [("library", fees.pk), ("library", short.pk)]
    )
    assert found(member, "muellerstrasse") == [("library", short.pk)]
