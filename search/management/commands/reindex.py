"""Rebuild the search index from the current rows."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from search.indexing import reindex_all
from search.sources import SOURCES


class Command(BaseCommand):
    help = "Rebuild search entries for every searchable object, or for some sources."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "sources",
            nargs="*",
            help=f"Sources to rebuild (default: all): {', '.join(SOURCES)}.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        sources: list[str] = options["sources"]
        unknown = [name for name in sources if name not in SOURCES]
        if unknown:
            raise CommandError(
                f"Unknown source {', '.join(map(repr, unknown))}: use one of "
                f"{', '.join(SOURCES)}."
            )
        counts = reindex_all(sources=sources or None)
        for name, count in counts.items():
            self.stdout.write(f"{name}: {count} indexed")
