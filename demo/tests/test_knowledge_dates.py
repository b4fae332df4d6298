"""The demo's FAQ entries and documents are dated over the weeks before the load day.

So a person trying the demo can sort search results by date and filter them
by "From" and "To", and every load of the same day gives the same dates.
"""

from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from accounts.models import Role, User
from answers.models import FaqEntry
from demo.knowledge import DOCUMENT_SEEDS, FAQ_SEEDS, create_content
from library.models import Document
from search.backends.base import Order
from search.selectors import SearchFilters, search

pytestmark = pytest.mark.django_db

LOAD_DAY = date(2026, 12, 5)


def local_days(model) -> list[date]:
    return [
        timezone.localdate(created)
        for created in model.objects.order_by("pk").values_list("created_at", flat=True)
    ]


def hit_day(moment: datetime) -> date:
    """Return the local day of a search hit's ``created_at``.

    The SQLite backend returns it naive, in UTC.
    """
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)
    return timezone.localdate(moment)


def test_faq_entries_spread_before_load_day(facilitator):
    create_content(author=facilitator, as_of=LOAD_DAY)

    days = local_days(FaqEntry)
    assert len(days) == len(FAQ_SEEDS)
    assert len(set(days)) == len(FAQ_SEEDS)
    assert max(days) == LOAD_DAY - timedelta(days=2)
    assert min(days) <= LOAD_DAY - timedelta(weeks=6)
    # Later seeds are younger, so the newest-first order is the seed order reversed.
    assert days == sorted(days)


def test_documents_spread_before_load_day(facilitator):
    create_content(author=facilitator, as_of=LOAD_DAY)

    days = local_days(Document)
    assert len(set(days)) == len(DOCUMENT_SEEDS)
    assert max(days) == LOAD_DAY - timedelta(days=1)
    assert min(days) <= LOAD_DAY - timedelta(weeks=3)
    assert days == sorted(days)


def test_content_updated_when_created(facilitator):
    create_content(author=facilitator, as_of=LOAD_DAY)

    for model in (FaqEntry, Document):
        for created, updated in model.objects.values_list("created_at", "updated_at"):
            assert created == updated, model


def test_same_load_day_same_dates(facilitator):
    create_content(author=facilitator, as_of=LOAD_DAY)
    first = local_days(FaqEntry) + local_days(Document)
    FaqEntry.objects.all().delete()
    Document.objects.all().delete()

    create_content(author=facilitator, as_of=LOAD_DAY)

    assert local_days(FaqEntry) + local_days(Document) == first


@override_settings(DEBUG=True)
def test_search_date_filters_find_demo_content():
    call_command("load_demo", "--as-of", LOAD_DAY.isoformat(), stdout=StringIO())
    lena = User.objects.get(username="lena")
    assert lena.role == Role.FACILITATOR
    week_ago = LOAD_DAY - timedelta(weeks=1)

    older = search(
        lena,
        "payment",
        filters=SearchFilters(kinds=("faq", "library"), until=week_ago),
        page_size=100,
    )
    newer = search(
        lena,
        "payment",
        filters=SearchFilters(kinds=("faq", "library"), since=week_ago),
        page_size=100,
    )
    by_date = search(
        lena,
        "payment",
        filters=SearchFilters(kinds=("faq", "library")),
        order=Order.DATE,
        page_size=100,
    )

    assert older.total > 0
    assert newer.total > 0
    assert all(hit_day(hit.created_at) <= week_ago for hit in older.hits)
    assert all(hit_day(hit.created_at) >= week_ago for hit in newer.hits)
    dates = [hit.created_at for hit in by_date.hits]
    assert dates == sorted(dates, reverse=True)
    assert len({hit_day(moment) for moment in dates}) > 3
