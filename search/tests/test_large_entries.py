"""One long item costs a search no more than SEARCH_MAX_INDEXED_CHARACTERS allow."""

import pytest
from django.db import connection
from django.test import override_settings

from library.models import Document
from search.indexing import reindex_all
from search.models import SearchEntry
from search.selectors import search
from search.text import HIT_END, HIT_START, SNIPPET_WORDS, marked_snippet

# 300,000 characters of one common word.
LARGE_BODY = "word " * 60_000
CAP = 5_000


@pytest.fixture
def large_page(facilitator):
    """A Markdown page by a facilitator, as long as an uploaded Markdown file may be."""
    return Document.objects.create(
        title="Huge page",
        summary="",
        body=LARGE_BODY,
        body_html=f"<p>{LARGE_BODY}</p>",
        owner=facilitator,
    )


def _indexed_instances(entry_id: int) -> int:
    """Return how many word positions the engine indexed for one entry."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_instances "
                "USING fts5vocab(main, search_entry_fts, instance)"
            )
            cursor.execute(
                "SELECT count(*) FROM temp.search_instances WHERE doc = %s",
                [entry_id],
            )
        else:
            # A lexeme keeps at most 256 positions, so count the body's words.
            cursor.execute(
                "SELECT array_length(regexp_split_to_array(trim(body), '\\s+'), 1) "
                "FROM search_entry WHERE id = %s",
                [entry_id],
            )
        return int(cursor.fetchone()[0])


@override_settings(SEARCH_MAX_INDEXED_CHARACTERS=CAP)
def test_large_page_indexes_capped_text(large_page):
    reindex_all(sources=["library"])

    entry = SearchEntry.objects.get(kind="library", object_id=large_page.pk)
    assert len(entry.body) <= CAP
    assert entry.body.endswith("word")
    assert _indexed_instances(entry.pk) <= CAP // len("word ") + 2
    large_page.refresh_from_db()
    assert large_page.body == LARGE_BODY


@override_settings(SEARCH_MAX_INDEXED_CHARACTERS=CAP)
def test_large_page_snippet_is_short(large_page, outsider):
    reindex_all(sources=["library"])

    results = search(outsider, "word")

    assert [hit.object_id for hit in results.hits] == [large_page.pk]
    snippet = str(results.hits[0].snippet_html)
    assert snippet.startswith("<mark>word</mark>")
    # PostgreSQL's ts_headline may join two fragments of up to 24 words.
    assert len(snippet.split()) <= 2 * SNIPPET_WORDS + 1


@override_settings(SEARCH_MAX_INDEXED_CHARACTERS=CAP)
def test_word_past_cap_is_not_found(facilitator, outsider):
    Document.objects.create(
        title="Long guide",
        summary="",
        body=LARGE_BODY + "tailword",
        body_html=f"<p>{LARGE_BODY} tailword</p>",
        owner=facilitator,
    )
    reindex_all(sources=["library"])

    assert search(outsider, "tailword").hits == []


def _marked(word: str) -> str:
    return f"{HIT_START}{word}{HIT_END}"


def test_snippet_centres_the_hit():
    words = [f"w{i}" for i in range(60)]
    words[30] = _marked("w30")

    snippet = marked_snippet(" ".join(words))

    assert snippet.startswith("…w19 ")
    assert f" {_marked('w30')} " in snippet
    assert snippet.endswith(" w42…")


def test_snippet_without_hits_starts_text():
    words = [f"w{i}" for i in range(30)]

    assert marked_snippet(" ".join(words)) == " ".join(words[:SNIPPET_WORDS]) + "…"
    assert marked_snippet("short body") == "short body"
    assert marked_snippet("") == ""


def test_snippet_prefers_distinct_hits():
    words = [f"w{i}" for i in range(200)]
    words[10] = _marked("credit")
    words[100] = _marked("credit")
    words[103] = _marked("note")

    snippet = marked_snippet(" ".join(words))

    assert _marked("note") in snippet
    assert snippet.count(HIT_START) == 2


def test_snippet_near_end_fills_window():
    words = [f"w{i}" for i in range(40)]
    words[38] = _marked("w38")

    snippet = marked_snippet(" ".join(words))

    assert snippet == "…" + " ".join(words[16:40])


def test_snippet_of_many_hits_is_short():
    snippet = marked_snippet(" ".join([_marked("word")] * 20_000))

    assert len(snippet.split()) == SNIPPET_WORDS
    assert snippet.endswith("…")
