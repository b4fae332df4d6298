"""The search page, the API and the list of searches that found nothing."""

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from answers.models import FaqEntry
from search.indexing import reindex_all
from search.models import MissedSearch
from search.services import record_missed_search


@pytest.fixture
def signed_in():
    def build(person) -> Client:
        client = Client()
        client.force_login(person)
        return client

    return build


def test_page_lists_hits_with_marked_snippets(content, outsider, signed_in):
    response = signed_in(outsider).get(reverse("search:search"), {"q": "remittance"})
    assert response.status_code == 200
    assert b'data-testid="search-hit"' in response.content
    assert b"<mark>remittance</mark>" in response.content


def test_page_hides_private_hits(content, outsider, signed_in):
    response = signed_in(outsider).get(
        reverse("search:search"), {"q": "pricingmatrixfile"}
    )
    assert response.status_code == 200
    assert b"pricingmatrixfile</mark>" not in response.content
    assert b'data-testid="search-hit"' not in response.content


def test_htmx_request_gets_results_only(content, outsider, signed_in):
    response = signed_in(outsider).get(
        reverse("search:search"), {"q": "remittance"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b"<mark>remittance</mark>" in response.content


def test_page_reports_bad_parameters(outsider, signed_in):
    response = signed_in(outsider).get(
        reverse("search:search"),
        {"q": "x", "since": "2024-13-01", "type": "video", "sort": "best"},
    )
    assert response.status_code == 400
    errors = response.context["errors"]
    assert errors == [
        "type='video' is not a result type: use one of post, blog, question, "
        "answer, comment, question_comment, faq, library, community, person.",
        "since='2024-13-01' is not a date: use YYYY-MM-DD.",
        "sort='best' is not a sort order: use relevance or date.",
    ]


@pytest.mark.parametrize("value", ["pricing-internal", "Pricing internal"])
def test_hidden_community_filter_reads_as_missing(content, outsider, signed_in, value):
    response = signed_in(outsider).get(
        reverse("search:search"), {"q": "x", "community": value}
    )
    assert response.status_code == 400
    assert response.context["errors"] == [
        f"No community found with the name or address {value!r}: "
        "pick one from the Community list."
    ]


def test_page_needs_sign_in(client):
    response = client.get(reverse("search:search"), {"q": "x"})
    assert response.status_code == 302


def test_api_returns_visible_hits(content, customer, signed_in):
    response = signed_in(customer).get(
        "/api/search", {"q": "otterconfirm OR walruscredit"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 1
    assert body["total_complete"] is True
    assert body["facets"] == {"faq": 1}
    assert body["facets_complete"] is True
    assert [(hit["kind"], hit["id"]) for hit in body["results"]] == [
        ("faq", content["customer_faq"].pk)
    ]
    assert body["results"][0]["url"] == reverse(
        "answers:faq_detail", args=[content["customer_faq"].pk]
    )


def test_api_rejects_bad_dates(outsider, signed_in):
    response = signed_in(outsider).get("/api/search", {"q": "x", "until": "soon"})
    assert response.status_code == 400
    assert response.json() == {"detail": "until='soon' is not a date: use YYYY-MM-DD."}


@pytest.mark.parametrize("path", ["/search/", "/api/search"])
def test_last_possible_until_date_is_no_bound(content, outsider, signed_in, path):
    response = signed_in(outsider).get(
        path, {"q": "remittance", "since": "0001-01-01", "until": "9999-12-31"}
    )

    assert response.status_code == 200
    assert b"remittance" in response.content


def test_api_needs_sign_in(client):
    assert client.get("/api/search", {"q": "x"}).status_code == 401


def test_empty_search_is_counted_without_the_person(
    content, outsider, sales_rep, signed_in
):
    # Two people, because one person's repeat within a minute counts once.
    signed_in(outsider).get(
        reverse("search:search"),
        {"q": "Credit  Hold", "context": "reconciliation.orders"},
    )
    signed_in(sales_rep).get(
        "/api/search", {"q": "credit hold", "context": "reconciliation.orders"}
    )
    rows = list(MissedSearch.objects.values())
    assert len(rows) == 1
    assert rows[0]["query"] == "credit hold"
    assert rows[0]["context_key"] == "reconciliation.orders"
    assert rows[0]["count"] == 2
    field_names = {field.name for field in MissedSearch._meta.get_fields()}
    assert field_names == {
        "id",
        "query",
        "context_key",
        "audience",
        "count",
        "first_searched_at",
        "last_searched_at",
    }


def test_search_with_hits_is_not_counted(content, outsider, signed_in):
    signed_in(outsider).get(reverse("search:search"), {"q": "remittance"})
    assert MissedSearch.objects.count() == 0


def test_missed_list_for_facilitators(db, facilitator, signed_in):
    record_missed_search(text="short pay code", context_key="orders")
    record_missed_search(text="Short pay CODE", context_key="orders")
    record_missed_search(text="bank line", context_key="")
    response = signed_in(facilitator).get(reverse("search:missed_searches"))
    assert response.status_code == 200
    assert [(row.query, row.count) for row in response.context["rows"]] == [
        ("short pay code", 2),
        ("bank line", 1),
    ]


@pytest.mark.parametrize("person_name", ["outsider", "customer", "moderator"])
def test_missed_list_hidden_from_others(request, person_name, signed_in):
    person = request.getfixturevalue(person_name)
    response = signed_in(person).get(reverse("search:missed_searches"))
    assert response.status_code == 403


@pytest.fixture
def many_matches(db):
    for number in range(4):
        FaqEntry.objects.create(
            question=f"Capword question {number}",
            answer="Text.",
            answer_html="<p>Text.</p>",
        )
    reindex_all(sources=["faq"])


@override_settings(SEARCH_CANDIDATE_LIMIT=3)
def test_page_marks_capped_counts(many_matches, outsider, signed_in):
    response = signed_in(outsider).get(reverse("search:search"), {"q": "capword"})
    page = response.content.decode()
    assert '<p data-testid="search-total">3+ results</p>' in page
    assert "Only the newest 3 matches are ranked and counted." in page
    assert '?q=capword&amp;type=faq" data-testid="facet-faq">FAQ entry 3+</a>' in page


@override_settings(SEARCH_CANDIDATE_LIMIT=3)
def test_api_reports_capped_counts(many_matches, outsider, signed_in):
    body = signed_in(outsider).get("/api/search", {"q": "capword"}).json()
    assert body["total"] == 3
    assert body["total_complete"] is False
    assert body["facets"] == {"faq": 3}
    assert body["facets_complete"] is False
    assert len(body["results"]) == 3


def test_page_without_cap_shows_exact_count(many_matches, outsider, signed_in):
    response = signed_in(outsider).get(reverse("search:search"), {"q": "capword"})
    page = response.content.decode()
    assert '<p data-testid="search-total">4 results</p>' in page
    assert 'data-testid="search-capped"' not in page


@pytest.mark.parametrize("page", ["abc", "\u00b2", "\uff11", "0", "1001", "9" * 30])
def test_bad_page_number_is_400(outsider, signed_in, page):
    expected = (
        f"page={page!r} is not a page number: use a whole number from 1 to 1000, "
        "in the digits 0 to 9."
    )
    client = signed_in(outsider)
    response = client.get(reverse("search:search"), {"q": "x", "page": page})
    assert response.status_code == 400
    assert response.context["errors"] == [expected]
    response = client.get("/api/search", {"q": "x", "page": page})
    assert response.status_code == 400
    assert response.json() == {"detail": expected}
