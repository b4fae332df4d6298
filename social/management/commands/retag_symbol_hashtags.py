"""Render again the stored text whose hashtags end in ``+`` or ``#``."""

from typing import Any

from django.core.management.base import BaseCommand

from social.services.retagging import retag_symbol_hashtags


class Command(BaseCommand):
    help = (
        "Render again, re-tag and re-index the posts, comments, questions, "
        "answers, FAQ entries and library pages that contain a hashtag such as "
        "#C++ or #C#, written before such tags kept their signs."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        for name, count in retag_symbol_hashtags().items():
            self.stdout.write(f"{name}: {count} rendered again")
