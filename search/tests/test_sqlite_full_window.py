"""SQLite ranks a full candidate window by the columns with the terms.

bm25 counts each term's rows over the whole index before it ranks, which
for a common phrase costs more than the rest of the search. So when more
entries match than fit in the window, the window is ranked by
``column_score`` and then newest first. A window that contains every
match keeps bm25. ``search/tests/conftest.py`` collects this file on SQLite only.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import PersonSkill, Role, Skill
from answers.models import FaqEntry
from conftest import make_person
from search.backends.sqlite import column_expression
from search.indexing import reindex_all
from search.query import parse_query
from search.selectors import Order, search
from social.models import Post
from social.services import publish_post

DAY = datetime.timedelta(days=1)


def _age(model, pk: int, days: int) -> None:
    model.objects.filter(pk=pk).update(created_at=timezone.now() - days * DAY)


def _faq(question: str, answer: str, days_ago: int) -> int:
    entry = FaqEntry.objects.create(
        question=question, answer=answer, answer_html=f"<p>{answer}</p>"
    )
    _age(FaqEntry, entry.pk, days_ago)
    return entry.pk


def _hits(results) -> list[tuple[str, int]]:
    return [(hit.kind, hit.object_id) for hit in results.hits]


@pytest.fixture
def full_window(facilitator, payments_community, db):
    """Six matches of "fullword"; a window of 4 contains the newest four.

    The two oldest are body matches left out of that window.
    """
    _faq("Oldest heading", "The fullword in an old body.", 30)
    _faq("Second heading", "Another fullword body.", 25)
    tagged = publish_post(
        author=facilitator, community=payments_community, body="Read this #fullword"
    )
    _age(Post, tagged.pk, 15)
    titled = _faq("Fullword in the title", "Details follow.", 12)
    newer_body = _faq("Third heading", "A fullword body again.", 5)
    newest = _faq("Fourth heading", "The newest fullword body.", 1)
    reindex_all(sources=["faq", "post"])
    return {
        "titled": titled,
        "tagged": tagged.pk,
        "newer_body": newer_body,
        "newest": newest,
    }


def test_full_window_column_order(outsider, full_window):
    results = search(outsider, "fullword", candidate_limit=4)
    assert results.total_complete is False
    assert _hits(results) == [
        ("faq", full_window["titled"]),
        ("post", full_window["tagged"]),
        ("faq", full_window["newest"]),
        ("faq", full_window["newer_body"]),
    ]


def test_full_window_ranks_without_bm25(outsider, full_window):
    with CaptureQueriesContext(connection) as captured:
        search(outsider, "fullword", candidate_limit=4)
    assert not [query for query in captured if "bm25" in query["sql"]]


def test_complete_window_ranks_with_bm25(outsider, full_window):
    with CaptureQueriesContext(connection) as captured:
        results = search(outsider, "fullword", candidate_limit=10)
    assert results.total_complete is True
    assert [query for query in captured if "bm25" in query["sql"]]
    assert _hits(results)[0] == ("faq", full_window["titled"])


def test_full_window_ranks_only_wanted_terms(outsider, full_window):
    # An excluded word drops its entries but scores nothing for the rest.
    results = search(outsider, "fullword -again", candidate_limit=3)
    assert results.total_complete is False
    assert _hits(results) == [
        ("faq", full_window["titled"]),
        ("post", full_window["tagged"]),
        ("faq", full_window["newest"]),
    ]


def test_full_window_date_order(outsider, full_window):
    results = search(outsider, "fullword", candidate_limit=4, order=Order.DATE)
    assert _hits(results) == [
        ("faq", full_window["newest"]),
        ("faq", full_window["newer_body"]),
        ("faq", full_window["titled"]),
        ("post", full_window["tagged"]),
    ]


def test_full_window_ranks_people(outsider, db):
    named = make_person("fullword", Role.SALES_REP, group="sales")
    named.first_name = "Fullword"
    named.save()
    skilled = make_person("quinn", Role.SALES_REP, group="sales")
    skill = Skill.objects.create(name="fullword", display_name="Fullword")
    PersonSkill.objects.create(person=skilled, skill=skill)
    body_only = _faq("Heading", "A fullword body.", 3)
    _faq("Filler heading", "Another fullword body.", 40)
    reindex_all(sources=["person", "faq"])
    hits = _hits(search(outsider, "fullword", candidate_limit=3))
    # The name ranks first; a skill alone ranks below content found in a body.
    assert hits == [("person", named.pk), ("faq", body_only), ("person", skilled.pk)]


def test_column_expression_wanted_terms():
    query = parse_query('"credit note" OR refund ship* -draft')
    assert column_expression(query, "tags") == (
        'tags : ("credit note" OR "refund" OR "ship" *)'
    )
