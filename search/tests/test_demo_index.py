"""The demo data is searchable right after ``load_demo``.

Part of it is written with ``bulk_create``, which sends no signal the index
receivers see, so ``load_demo`` ends with ``reindex_all``.
"""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings

from accounts.models import Role, User
from answers.models import FaqEntry
from demo.knowledge import FAQ_SEEDS
from search.selectors import search

pytestmark = pytest.mark.django_db


@override_settings(DEBUG=True)
def test_demo_faq_entry_is_found_after_load_demo():
    call_command("load_demo", stdout=StringIO())
    seed = FAQ_SEEDS[0]
    entry = FaqEntry.objects.get(question=seed.question)
    facilitator = User.objects.filter(role=Role.FACILITATOR).order_by("pk").first()
    assert facilitator is not None

    results = search(facilitator, f'"{seed.question}"', page_size=100)

    assert ("faq", entry.pk) in [(hit.kind, hit.object_id) for hit in results.hits]
    assert results.facets["faq"] >= 1
