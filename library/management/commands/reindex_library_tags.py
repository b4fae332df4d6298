"""Rewrite the search entries of library items whose indexed tags are stale.

A change to tags that sends no signal, such as an UPDATE in raw SQL, leaves
items with their old tag keys in the index. Run this to repair it. It
compares each item's indexed tag labels with the keys of its tags and
rewrites only the items that differ, ``REINDEX_BATCH_SIZE`` items per
transaction. Migration ``library.0008`` does the same once for the tags
that ``library.0006`` respelled, so an upgrade needs no manual step.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.db.models import Q

from accounts.models import Role
from library.models import DocumentTag
from search.indexing import REINDEX_BATCH_SIZE, write_entries
from search.models import Kind, SearchLabel
from search.sources import SOURCES


def stale_tag_items() -> list[int]:
    """Return the ids of library items whose indexed tags differ from their tags.

    The tags indexed are those ``search.sources`` indexes: the keys of the
    tags employees added to an item that is not withdrawn.
    """
    indexed: dict[int, set[str]] = {}
    labels = SearchLabel.objects.filter(
        entry__kind=Kind.LIBRARY, field=SearchLabel.Field.TAG
    ).values_list("entry__object_id", "value")
    for document_id, value in labels:
        indexed.setdefault(document_id, set()).add(value)
    current: dict[int, set[str]] = {}
    links = DocumentTag.objects.filter(
        Q(added_by__isnull=True) | ~Q(added_by__role=Role.CUSTOMER),
        document__withdrawn_at__isnull=True,
    ).values_list("document_id", "tag__key")
    for document_id, key in links:
        current.setdefault(document_id, set()).add(key)
    return sorted(
        document_id
        for document_id in indexed.keys() | current.keys()
        if indexed.get(document_id, set()) != current.get(document_id, set())
    )


class Command(BaseCommand):
    help = "Rewrite the search entries of library items whose indexed tags are stale."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Only count the items whose entries would be rewritten.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stale = stale_tag_items()
        if options["dry_run"]:
            self.stdout.write(f"library: {len(stale)} items with stale tags")
            return
        written = 0
        for start in range(0, len(stale), REINDEX_BATCH_SIZE):
            with transaction.atomic():
                written += write_entries(
                    SOURCES["library"], stale[start : start + REINDEX_BATCH_SIZE]
                )
        self.stdout.write(
            f"library: {len(stale)} items with stale tags, {written} entries written"
        )
