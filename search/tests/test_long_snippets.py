"""A hit far into a long item is still shown in its snippet.

On PostgreSQL a body longer than ``HEADLINE_PREFIX_CHARACTERS`` is
headlined from its beginning first, and whole only when no hit is marked
there. Both paths must mark the searched word. SQLite builds every
snippet from the whole indexed text and must give the same.
"""

import pytest

from library.models import Document
from search.backends.postgresql import HEADLINE_PREFIX_CHARACTERS, compact
from search.indexing import reindex_all
from search.selectors import search

pytestmark = pytest.mark.django_db

FILLER = "ledger " * (HEADLINE_PREFIX_CHARACTERS // 3)


def _page(owner, title: str, body: str) -> Document:
    return Document.objects.create(
        title=title, summary="", body=body, body_html=f"<p>{body}</p>", owner=owner
    )


def test_early_hit_is_marked(facilitator, outsider):
    page = _page(facilitator, "Month end", f"Check each remittance first. {FILLER}")
    reindex_all(sources=["library"])

    results = search(outsider, "remittance")

    assert [hit.object_id for hit in results.hits] == [page.pk]
    assert "<mark>remittance</mark>" in str(results.hits[0].snippet_html)


def test_deep_hit_is_marked(facilitator, outsider):
    body = f"{FILLER} Then match the remittance to its invoice."
    assert body.index("remittance") > HEADLINE_PREFIX_CHARACTERS
    page = _page(facilitator, "Month end", body)
    reindex_all(sources=["library"])

    results = search(outsider, "remittance")

    assert [hit.object_id for hit in results.hits] == [page.pk]
    snippet = str(results.hits[0].snippet_html)
    assert "<mark>remittance</mark>" in snippet
    assert "Matched its" not in snippet


def test_short_and_long_bodies(facilitator, outsider):
    short = _page(facilitator, "Short", "A remittance without an invoice.")
    deep = _page(facilitator, "Deep", f"{FILLER} The remittance came late.")
    reindex_all(sources=["library"])

    results = search(outsider, "remittance")

    snippets = {hit.object_id: str(hit.snippet_html) for hit in results.hits}
    assert set(snippets) == {short.pk, deep.pk}
    assert all("<mark>remittance</mark>" in text for text in snippets.values())


def test_compact_keeps_literal_spaces():
    sql = """
        SELECT translate(key, '._', '  ')
            FROM   t
    """

    assert compact(sql) == "SELECT translate(key, '._', '  ') FROM   t"
