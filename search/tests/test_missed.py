"""Which searches count as found nothing: finished ones, without filters, per audience."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import DatabaseError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from search import services
from search.models import MissedSearch, MissedSearchRepeat
from search.services import record_missed_search

LIVE = {"X-Search-Live": "true", "HX-Request": "true"}


@pytest.fixture
def signed_in():
    def build(person) -> Client:
        client = Client()
        client.force_login(person)
        return client

    return build


def counted() -> list[tuple[str, str, int]]:
    rows = MissedSearch.objects.order_by("query", "audience")
    return [(row.query, row.audience, row.count) for row in rows]


def test_live_requests_count_nothing(content, outsider, signed_in):
    client = signed_in(outsider)
    for prefix in ["z", "ze", "zeb", "zebr", "zebra"]:
        response = client.get(reverse("search:search"), {"q": prefix}, headers=LIVE)
        assert response.status_code == 200

    assert counted() == []


def test_live_miss_offers_deferred_count(content, outsider, signed_in):
    response = signed_in(outsider).get(
        reverse("search:search"), {"q": "zebracodeword"}, headers=LIVE
    )

    page = response.content.decode()
    assert 'data-testid="search-miss-pending"' in page
    assert 'hx-post="/search/missed/record/?q=zebracodeword"' in page
    assert 'hx-trigger="load delay:3s"' in page


def test_live_hit_offers_no_count(content, outsider, signed_in):
    response = signed_in(outsider).get(
        reverse("search:search"), {"q": "remittance"}, headers=LIVE
    )

    assert b"search-miss-pending" not in response.content


def test_shown_miss_is_counted_once(content, outsider, signed_in):
    response = signed_in(outsider).post(
        reverse("search:record_missed") + "?q=zebracodeword"
    )

    assert response.status_code == 204
    assert counted() == [("zebracodeword", "employee", 1)]


def test_shown_hit_is_not_counted(content, outsider, signed_in):
    response = signed_in(outsider).post(
        reverse("search:record_missed") + "?q=remittance"
    )

    assert response.status_code == 204
    assert counted() == []


def test_record_needs_post(content, outsider, signed_in):
    response = signed_in(outsider).get(
        reverse("search:record_missed") + "?q=zebracodeword"
    )

    assert response.status_code == 405
    assert counted() == []


def test_submitted_search_is_counted(content, outsider, sales_rep, signed_in):
    signed_in(outsider).get(reverse("search:search"), {"q": "zebracodeword"})
    signed_in(sales_rep).get(
        reverse("search:search"), {"q": "zebracodeword"}, headers={"HX-Request": "true"}
    )

    assert counted() == [("zebracodeword", "employee", 2)]


# One typed search counts once, however many requests carry it.


def test_enter_after_live_miss_counts_once(content, outsider, signed_in):
    client = signed_in(outsider)
    # Enter within 400 ms of the last key: the submit and the as-you-type
    # request both arrive, and the latter later sends its deferred count.
    client.get(reverse("search:search"), {"q": "zebracodeword"}, headers=LIVE)
    client.get(
        reverse("search:search"), {"q": "zebracodeword"}, headers={"HX-Request": "true"}
    )
    client.post(reverse("search:record_missed") + "?q=zebracodeword")

    assert counted() == [("zebracodeword", "employee", 1)]


def test_deferred_count_then_enter_counts_once(content, outsider, signed_in):
    client = signed_in(outsider)
    client.post(reverse("search:record_missed") + "?q=zebracodeword")
    client.get(reverse("search:search"), {"q": "Zebracodeword "})

    assert counted() == [("zebracodeword", "employee", 1)]


def test_repeated_api_search_counts_once(content, outsider, signed_in):
    client = signed_in(outsider)
    for _ in range(3):
        response = client.get("/api/search", {"q": "zebracodeword"})
        assert response.status_code == 200

    assert counted() == [("zebracodeword", "employee", 1)]


def test_page_then_api_counts_once(content, outsider, signed_in):
    client = signed_in(outsider)
    client.get(reverse("search:search"), {"q": "zebracodeword"})
    client.get("/api/search", {"q": "zebracodeword"})

    assert counted() == [("zebracodeword", "employee", 1)]


def test_other_context_counts_again(content, outsider, signed_in):
    client = signed_in(outsider)
    client.get("/api/search", {"q": "zebracodeword"})
    client.get("/api/search", {"q": "zebracodeword", "context": "reconciliation.cases"})

    rows = MissedSearch.objects.order_by("context_key")
    assert [(row.context_key, row.count) for row in rows] == [
        ("", 1),
        ("reconciliation.cases", 1),
    ]


def test_repeat_after_window_counts_again(content, outsider, signed_in):
    client = signed_in(outsider)
    client.get("/api/search", {"q": "zebracodeword"})
    MissedSearchRepeat.objects.update(expires_at=timezone.now())
    client.get("/api/search", {"q": "zebracodeword"})

    assert counted() == [("zebracodeword", "employee", 2)]
    [window] = MissedSearchRepeat.objects.all()
    assert window.expires_at > timezone.now() + timedelta(seconds=50)


def test_repeat_in_other_process_counts_once(content, outsider, signed_in):
    client = signed_in(outsider)
    client.get(reverse("search:search"), {"q": "zebracodeword"})
    # Another worker process starts with an empty memory cache.
    cache.clear()
    client.get("/api/search", {"q": "zebracodeword"})

    assert counted() == [("zebracodeword", "employee", 1)]


def test_window_open_until_expiry(content, outsider):
    assert record_missed_search(text="zebracodeword", searcher_id=outsider.pk)
    MissedSearchRepeat.objects.update(expires_at=timezone.now() + timedelta(seconds=1))

    assert not record_missed_search(text="zebracodeword", searcher_id=outsider.pk)
    assert counted() == [("zebracodeword", "employee", 1)]


def test_people_have_own_windows(content, outsider, sales_rep):
    assert record_missed_search(text="zebracodeword", searcher_id=outsider.pk)
    assert record_missed_search(text="zebracodeword", searcher_id=sales_rep.pk)

    assert counted() == [("zebracodeword", "employee", 2)]
    assert MissedSearchRepeat.objects.count() == 2


def test_counted_miss_deletes_expired_windows(content, outsider):
    ended = timezone.now() - timedelta(seconds=1)
    MissedSearchRepeat.objects.bulk_create(
        MissedSearchRepeat(key=f"{number:064x}", expires_at=ended)
        for number in range(3)
    )
    MissedSearchRepeat.objects.create(
        key="f" * 64, expires_at=timezone.now() + timedelta(seconds=30)
    )

    record_missed_search(text="zebracodeword", searcher_id=outsider.pk)

    keys = set(MissedSearchRepeat.objects.values_list("key", flat=True))
    assert len(keys) == 2
    assert "f" * 64 in keys
    assert f"{0:064x}" not in keys


def test_cleanup_deletes_at_most_limit(content, outsider, monkeypatch):
    monkeypatch.setattr(services, "EXPIRED_WINDOWS_PER_CLEANUP", 2)
    ended = timezone.now() - timedelta(seconds=1)
    MissedSearchRepeat.objects.bulk_create(
        MissedSearchRepeat(key=f"{number:064x}", expires_at=ended)
        for number in range(5)
    )

    record_missed_search(text="zebracodeword", searcher_id=outsider.pk)

    # Three expired windows remain, plus the one just opened.
    assert MissedSearchRepeat.objects.count() == 4


def test_record_stores_no_person(content, outsider, signed_in):
    signed_in(outsider).get("/api/search", {"q": "zebracodeword"})

    fields = {field.name for field in MissedSearch._meta.get_fields()}
    assert fields == {
        "id",
        "query",
        "context_key",
        "audience",
        "count",
        "first_searched_at",
        "last_searched_at",
    }
    # The repeat window's key is a digest, naming neither the person nor
    # the query.
    window_fields = {field.name for field in MissedSearchRepeat._meta.get_fields()}
    assert window_fields == {"key", "expires_at"}
    [key] = MissedSearchRepeat.objects.values_list("key", flat=True)
    assert re.fullmatch(r"[0-9a-f]{64}", key)


def test_filtered_miss_of_found_words_skipped(content, outsider, signed_in):
    client = signed_in(outsider)
    client.get(reverse("search:search"), {"q": "remittance", "type": "faq"})
    client.get(reverse("search:search"), {"q": "remittance", "since": "2999-01-01"})

    assert counted() == []


def test_filtered_miss_of_unknown_words_counted(content, outsider, signed_in):
    signed_in(outsider).get(
        reverse("search:search"), {"q": "zebracodeword", "type": "faq"}
    )

    assert counted() == [("zebracodeword", "employee", 1)]


def test_audiences_are_counted_apart(content, outsider, customer, signed_in):
    # The internal FAQ word is hidden from customers, so only they miss it.
    signed_in(outsider).get(reverse("search:search"), {"q": "walruscredit"})
    signed_in(customer).get(reverse("search:search"), {"q": "walruscredit"})
    signed_in(outsider).get(reverse("search:search"), {"q": "zebracodeword"})
    signed_in(customer).get(reverse("search:search"), {"q": "zebracodeword"})

    assert counted() == [
        ("walruscredit", "customer", 1),
        ("zebracodeword", "customer", 1),
        ("zebracodeword", "employee", 1),
    ]


def test_missed_list_shows_audience(
    content, outsider, customer, facilitator, signed_in
):
    signed_in(customer).get(reverse("search:search"), {"q": "walruscredit"})

    response = signed_in(facilitator).get(reverse("search:missed_searches"))

    page = response.content.decode()
    assert 'data-audience="customer"' in page
    assert '<td data-label="Audience">Customers</td>' in page


def test_failed_count_leaves_no_window(content, outsider, monkeypatch):
    def fail(**_kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(services, "_count_miss", fail)
    with pytest.raises(DatabaseError):
        record_missed_search(text="zebracodeword", searcher_id=outsider.pk)
    monkeypatch.undo()

    assert MissedSearchRepeat.objects.count() == 0
    assert record_missed_search(text="zebracodeword", searcher_id=outsider.pk)
    assert counted() == [("zebracodeword", "employee", 1)]
