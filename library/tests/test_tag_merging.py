"""A renamed or merged tag reaches the search index of every item it is on.

Mona (``member``, a sales representative) tagged items; Mo (``moderator``)
curates the library's tags. The index stores each item's tag keys as
labels, and a tag filter in search matches them, so a rename or a merge
must rewrite the entries of the items, after commit and in batches.
"""

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from library.management.commands.reindex_library_tags import stale_tag_items
from library.models import DocumentTag, Tag
from library.services import LibraryInputError, add_tags, merge_tags, rename_tag
from library.tests.conftest import make_item
from search.models import SearchLabel
from search.selectors import SearchFilters, search

pytestmark = pytest.mark.django_db(transaction=True)


def indexed_tags() -> list[tuple[str, str]]:
    """Return (item title, tag label) pairs of the library's search entries."""
    from library.models import Document

    titles = dict(Document.objects.values_list("pk", "title"))
    labels = SearchLabel.objects.filter(
        entry__kind="library", field=SearchLabel.Field.TAG
    ).values_list("entry__object_id", "value")
    return sorted((titles[pk], value) for pk, value in labels)


def tagged_titles(person, tag: str) -> list[str]:
    from library.models import Document

    # The merge test's items have "Ledger" in their titles. A stop word such
    # as "about" finds nothing on PostgreSQL.
    filters = SearchFilters(kinds=("library",), tag=tag)
    results = search(person, "ledger", filters=filters)
    ids = [hit.object_id for hit in results.hits]
    return sorted(Document.objects.filter(pk__in=ids).values_list("title", flat=True))


def test_rename_rewrites_item_entries(member, moderator):
    first, second = make_item(member, "First"), make_item(member, "Second")
    for item in (first, second):
        add_tags(document=item, person=member, names=["Refnd"])
    tag = Tag.objects.get(key="refnd")

    rename_tag(tag=tag, person=moderator, name="#Refund")

    assert indexed_tags() == [("First", "refund"), ("Second", "refund")]
    assert Tag.objects.get(pk=tag.pk).slug == "refnd"


def test_rename_reindexes_in_batches(member, moderator):
    def rename_cost(count: int, old: str, new: str) -> int:
        for number in range(count):
            item = make_item(member, f"{old} {number}")
            add_tags(document=item, person=member, names=[old])
        tag = Tag.objects.get(key=old.casefold())
        with CaptureQueriesContext(connection) as queries:
            rename_tag(tag=tag, person=moderator, name=new)
        return len(queries.captured_queries)

    assert rename_cost(2, "Alpha", "Alef") == rename_cost(6, "Beta", "Bet")
    assert len(indexed_tags()) == 8


def test_merge_moves_links_and_entries(member, moderator):
    both = make_item(member, "Ledger both")
    old_only = make_item(member, "Ledger old only")
    add_tags(document=both, person=member, names=["Credit note", "CreditNote2"])
    add_tags(document=old_only, person=member, names=["CreditNote2"])
    old, kept = Tag.objects.get(key="creditnote2"), Tag.objects.get(key="creditnote")

    assert merge_tags(tag=old, into=kept, person=moderator) == kept

    assert not Tag.objects.filter(pk=old.pk).exists()
    links = sorted(DocumentTag.objects.values_list("document__title", "tag__key"))
    assert links == [
        ("Ledger both", "creditnote"),
        ("Ledger old only", "creditnote"),
    ]
    assert indexed_tags() == [
        ("Ledger both", "creditnote"),
        ("Ledger old only", "creditnote"),
    ]
    assert tagged_titles(moderator, "#CreditNote") == ["Ledger both", "Ledger old only"]
    assert tagged_titles(moderator, "CreditNote2") == []


def test_rename_to_existing_name_merges(member, moderator):
    item = make_item(member, "Fees")
    add_tags(document=item, person=member, names=["Bank fees", "Fees"])
    spaced = Tag.objects.get(key="bankfees")
    fees = Tag.objects.get(key="fees")

    assert rename_tag(tag=spaced, person=moderator, name="fees") == fees

    assert indexed_tags() == [("Fees", "fees")]


def test_only_curators_change_tags(member, moderator):
    item = make_item(member, "Item")
    add_tags(document=item, person=member, names=["One", "Two"])
    one, two = Tag.objects.get(key="one"), Tag.objects.get(key="two")

    with pytest.raises(PermissionDenied, match="facilitator or a moderator"):
        rename_tag(tag=one, person=member, name="Uno")
    with pytest.raises(PermissionDenied, match="facilitator or a moderator"):
        merge_tags(tag=one, into=two, person=member)
    with pytest.raises(LibraryInputError, match="'One' cannot be merged into itself"):
        merge_tags(tag=one, into=one, person=moderator)

    assert indexed_tags() == [("Item", "one"), ("Item", "two")]


def test_command_fixes_silent_rename(member, moderator):
    stale, fresh = make_item(member, "Stale"), make_item(member, "Fresh")
    add_tags(document=stale, person=member, names=["#Short Payment"])
    add_tags(document=fresh, person=member, names=["Refund"])
    # As migration 0006 did: the key changes with no signal sent.
    Tag.objects.filter(key="shortpayment").update(key="short-payment")
    assert stale_tag_items() == [stale.pk]

    call_command("reindex_library_tags", "--dry-run")
    assert indexed_tags() == [("Fresh", "refund"), ("Stale", "shortpayment")]

    call_command("reindex_library_tags")

    assert indexed_tags() == [("Fresh", "refund"), ("Stale", "short-payment")]
    assert stale_tag_items() == []
