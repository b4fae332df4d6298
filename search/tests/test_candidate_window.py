"""A search ranks and counts only the newest matches: the candidate window.

``candidate_limit`` is passed small here so that a handful of rows fills
the window. Creation times are set explicitly and the index is rebuilt, so
entry ids follow creation order as they do in production.
"""

import datetime

import pytest
from django.utils import timezone

from answers.models import FaqEntry
from search.indexing import reindex_all, write_entries
from search.models import SearchEntry
from search.selectors import SearchFilters, search
from search.sources import SOURCES
from social.models import Post
from social.services import publish_post

DAY = datetime.timedelta(days=1)


def _faq_entries(question: str, count: int, *, newest_days_ago: int = 0) -> list[int]:
    """Create ``count`` FAQ entries one day apart; return their ids, newest first."""
    now = timezone.now()
    ids = []
    for number in range(count):
        entry = FaqEntry.objects.create(
            question=question, answer="Text.", answer_html="<p>Text.</p>"
        )
        age = (newest_days_ago + count - 1 - number) * DAY
        FaqEntry.objects.filter(pk=entry.pk).update(created_at=now - age)
        ids.append(entry.pk)
    return ids[::-1]


def _hit_ids(results) -> list[int]:
    return [hit.object_id for hit in results.hits]


@pytest.fixture
def seven_matches(db):
    ids = _faq_entries("Where is the capword report?", 7)
    reindex_all(sources=["faq"])
    return ids


def test_common_word_counts_stop_at_limit(outsider, seven_matches):
    results = search(outsider, "capword", candidate_limit=5)
    assert results.total == 5
    assert results.total_complete is False
    assert results.facets == {"faq": 5}
    assert results.facets_complete is False


def test_window_holds_the_newest_matches(outsider, seven_matches):
    results = search(outsider, "capword", candidate_limit=5)
    # Equal text ranks equally, so ties fall back to the newest entry first.
    assert _hit_ids(results) == seven_matches[:5]


def test_limit_equal_to_matches_is_complete(outsider, seven_matches):
    results = search(outsider, "capword", candidate_limit=7)
    assert results.total == 7
    assert results.total_complete is True
    assert results.facets_complete is True
    assert _hit_ids(results) == seven_matches


def test_pages_end_at_the_window(outsider, seven_matches):
    results = search(outsider, "capword", candidate_limit=5, page_size=2, page=10)
    assert results.page == 3
    assert results.page_count == 3
    assert _hit_ids(results) == [seven_matches[4]]


def test_rare_word_found_behind_common_ones(outsider, db):
    old = _faq_entries("Capword and rareword together", 1, newest_days_ago=30)
    _faq_entries("Only capword here", 6)
    reindex_all(sources=["faq"])
    assert _hit_ids(search(outsider, "rareword", candidate_limit=3)) == old
    assert _hit_ids(search(outsider, "capword rareword", candidate_limit=3)) == old
    common = search(outsider, "capword", candidate_limit=3)
    assert old[0] not in _hit_ids(common)


def test_title_match_ranks_first_in_window(outsider, db):
    body_only = FaqEntry.objects.create(
        question="Unrelated heading",
        answer="The rankword appears here.",
        answer_html="<p>The rankword appears here.</p>",
    )
    in_title = FaqEntry.objects.create(
        question="Rankword in the title",
        answer="Details.",
        answer_html="<p>Details.</p>",
    )
    FaqEntry.objects.filter(pk=in_title.pk).update(created_at=timezone.now() - DAY)
    reindex_all(sources=["faq"])
    results = search(outsider, "rankword", candidate_limit=10)
    assert _hit_ids(results) == [in_title.pk, body_only.pk]


def test_hidden_matches_take_no_window_place(
    outsider, facilitator, private_community, payments_community, db
):
    visible = [
        publish_post(author=facilitator, community=payments_community, body=text)
        for text in ("Slotword one", "Slotword two", "Slotword three")
    ]
    for number in range(5):
        publish_post(
            author=facilitator, community=private_community, body=f"Slotword {number}"
        )
    # The visible posts are the oldest, the private ones the newest.
    for age, post in enumerate(reversed(visible), start=10):
        Post.objects.filter(pk=post.pk).update(created_at=timezone.now() - age * DAY)
    reindex_all(sources=["post"])
    results = search(outsider, "slotword", candidate_limit=3)
    assert results.total == 3
    assert results.total_complete is True
    assert sorted(_hit_ids(results)) == sorted(post.pk for post in visible)


def test_kind_filter_has_own_window(outsider, facilitator, payments_community, db):
    faq_ids = _faq_entries("Kindword question", 2, newest_days_ago=20)
    posts = [
        publish_post(
            author=facilitator, community=payments_community, body=f"Kindword {index}"
        )
        for index in range(5)
    ]
    reindex_all(sources=["faq", "post"])
    results = search(
        outsider,
        "kindword",
        filters=SearchFilters(kinds=("faq",)),
        candidate_limit=3,
    )
    assert _hit_ids(results) == faq_ids
    assert results.total == 2
    assert results.total_complete is True
    # The facets count the newest three matches of every kind: all posts.
    assert results.facets == {"post": 3}
    assert results.facets_complete is False
    assert len(posts) == 5


def test_rebuilt_index_ids_follow_creation_time(
    outsider, facilitator, payments_community, db
):
    newer_faq = _faq_entries("Orderword", 1)
    post = publish_post(
        author=facilitator, community=payments_community, body="Orderword post"
    )
    Post.objects.filter(pk=post.pk).update(created_at=timezone.now() - 3 * DAY)
    older_faq = _faq_entries("Orderword", 1, newest_days_ago=5)
    reindex_all(sources=["post", "faq"])
    by_id = SearchEntry.objects.order_by("id").values_list("kind", "object_id")
    assert list(by_id) == [
        ("faq", older_faq[0]),
        ("post", post.pk),
        ("faq", newer_faq[0]),
    ]


def test_rewritten_entry_keeps_its_id(outsider, seven_matches):
    oldest = seven_matches[-1]
    before = SearchEntry.objects.get(kind="faq", object_id=oldest).pk
    FaqEntry.objects.filter(pk=oldest).update(question="Where is the new capword?")
    write_entries(SOURCES["faq"], [oldest])
    entry = SearchEntry.objects.get(kind="faq", object_id=oldest)
    assert entry.pk == before
    assert entry.title == "Where is the new capword?"
    # An edit does not move an old entry into the window of newest matches.
    assert oldest not in _hit_ids(search(outsider, "capword", candidate_limit=5))


@pytest.fixture
def prefix_entry(db):
    FaqEntry.objects.create(
        question="Reconciling a shipment",
        answer="Reconciliation of shipped lines, then the reconciled total.",
        answer_html="<p>Reconciliation of shipped lines, then the reconciled total.</p>",
    )
    reindex_all(sources=["faq"])


def test_prefix_terms_are_marked(outsider, prefix_entry):
    hit = search(outsider, "reconcil* ship*").hits[0]
    assert hit.title_html == "<mark>Reconciling</mark> a <mark>shipment</mark>"
