"""Messages of the search page for empty, symbol-only and over-long queries."""

from urllib.parse import quote

import pytest
from django.test import Client, override_settings
from django.urls import reverse


@pytest.fixture
def signed_in():
    def build(person) -> Client:
        client = Client()
        client.force_login(person)
        return client

    return build


def page_for(client: Client, text: str) -> str:
    response = client.get(reverse("search:search"), {"q": text})
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_query_shows_hint(content, outsider, signed_in, text):
    page = page_for(signed_in(outsider), text)

    assert 'data-testid="search-hint"' in page
    assert "Type what you are looking for and press Search" in page
    assert "<code>NOT word</code> is <code>-word</code>" in page


def test_long_query_says_it_was_cut(content, outsider, signed_in):
    page = page_for(signed_in(outsider), "remittance " + "x" * 989)

    assert 'data-testid="search-truncated"' in page
    assert (
        "Your query has 1,000 characters, and only the first 256 were searched." in page
    )


def test_short_query_is_not_cut(content, outsider, signed_in):
    page = page_for(signed_in(outsider), "remittance")

    assert "search-truncated" not in page


@override_settings(SEARCH_MAX_QUERY_LENGTH=40)
def test_boxes_use_one_limit(content, outsider, signed_in):
    page = page_for(signed_in(outsider), "remittance")

    assert 'id="site-search"' in page
    assert page.count('maxlength="40"') == 2


def test_api_reports_cut_query(content, outsider, signed_in):
    client = signed_in(outsider)

    long_body = client.get("/api/search", {"q": "remittance " + "x" * 989}).json()
    short_body = client.get("/api/search", {"q": "remittance"}).json()

    assert long_body["query_truncated"] is True
    assert len(long_body["query"]) == 256
    assert short_body["query_truncated"] is False


def test_symbol_query_says_why_nothing(content, outsider, signed_in):
    page = page_for(signed_in(outsider), "😀")

    assert "Search looks for words of letters or digits, and “😀” has none" in page
    assert "search-symbol-tag" not in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("AND", "“AND” has only the operators AND and no word to look for."),
        ("OR NOT", "“OR NOT” has only the operators OR, NOT and no word to look for."),
        ("NOT bank", "“NOT bank” only leaves words out, so it finds nothing"),
        ("-bank -fee", "“-bank -fee” only leaves words out, so it finds nothing"),
    ],
)
def test_word_free_query_names_its_reason(
    content, outsider, signed_in, query, expected
):
    page = page_for(signed_in(outsider), query)

    assert expected in page
    assert "letters or digits" not in page


def test_symbol_query_links_library_tag(content, outsider, signed_in, library_tag):
    tag = library_tag(content["customer_doc"], "😀", "😀")

    page = page_for(signed_in(outsider), "😀")

    assert "search-symbol-tag" in page
    assert f'href="/library/?tag={quote(tag.slug)}"' in page
    assert "See the library items tagged 😀" in page


def test_hidden_library_tag_not_linked(content, customer, signed_in, library_tag):
    library_tag(content["internal_doc"], "😀", "😀")

    page = page_for(signed_in(customer), "😀")

    assert "search-symbol-tag" not in page
