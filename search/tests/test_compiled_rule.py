"""The kept visibility rule, the addresses read with the snippets, the API body."""

import datetime
import json

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from ninja.responses import NinjaJSONEncoder

from answers.models import Answer
from search.api import HitOut, SearchOut
from search.indexing import reindex_all
from search.selectors import (
    SearchFilters,
    filter_entries,
    search,
    search_where,
    visible_entries,
)

FILTERS = [
    SearchFilters(),
    SearchFilters(kinds=("faq", "post")),
    SearchFilters(community_id=-1),
    SearchFilters(context="reconciliation"),
    SearchFilters(since=datetime.date(2020, 1, 1), until=datetime.date(2099, 1, 1)),
]


def _ids_where(where):
    sql, params = where
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM search_entry WHERE {sql}", params)  # noqa: S608 (compiled rule, no request text)
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.parametrize("filters", FILTERS)
@pytest.mark.parametrize(
    "person_name", ["outsider", "customer", "member", "moderator", "sales_rep"]
)
def test_kept_rule_finds_what_the_queryset_finds(
    request, content, payments_community, person_name, filters
):
    person = request.getfixturevalue(person_name)
    if filters.community_id == -1:
        filters = SearchFilters(community_id=payments_community.pk)
    reindex_all()
    expected = set(
        filter_entries(visible_entries(person), filters).values_list("id", flat=True)
    )

    # Twice: the second reads the kept rule.
    assert _ids_where(search_where(person, filters)) == expected
    assert _ids_where(search_where(person, filters)) == expected


def test_kept_rule_follows_a_new_membership(content, outsider, private_community):
    from communities.models import Membership

    assert search(outsider, "pricingmatrixfile").total == 0
    Membership.objects.create(community=private_community, person=outsider)

    assert search(outsider, "pricingmatrixfile").total == 1


def test_addresses_of_each_kind(content, member, payments_community):
    reindex_all()
    answer = content["open_answer"]
    question_url = reverse("answers:question_detail", args=[answer.question_id])

    [answer_hit] = search(member, "narwhalsplit").hits
    [faq_hit] = search(member, "walruscredit").hits
    [person_hit] = [hit for hit in search(member, "mia").hits if hit.kind == "person"]
    [community_hit] = [
        hit for hit in search(member, "payments").hits if hit.kind == "community"
    ]

    assert answer_hit.url == f"{question_url}#answer-{answer.pk}"
    assert faq_hit.url == reverse(
        "answers:faq_detail", args=[content["internal_faq"].pk]
    )
    assert person_hit.url == reverse("people:profile", args=["mia"])
    assert community_hit.url == reverse(
        "communities:community_detail", args=[payments_community.slug]
    )


def test_deleted_object_hit_left_out(content, outsider):
    # In a test the index is not updated on commit, so the search entry
    # outlives its Answer row, as it does between a delete and its commit.
    Answer.objects.filter(pk=content["open_answer"].pk).delete()

    results = search(outsider, "narwhalsplit")

    assert results.hits == []


def test_api_body_is_the_schema_body(content, member):
    client = Client()
    client.force_login(member)
    results = search(member, "remittance OR narwhalsplit OR walruscredit")
    schema = SearchOut(
        query=results.query.text,
        query_truncated=results.query.truncated,
        total=results.total,
        total_complete=results.total_complete,
        page=results.page,
        page_count=results.page_count,
        facets=results.facets,
        facets_complete=results.facets_complete,
        results=[
            HitOut(
                kind=hit.kind,
                id=hit.object_id,
                url=hit.url,
                title_html=hit.title_html,
                snippet_html=hit.snippet_html,
                created_at=hit.created_at,
            )
            for hit in results.hits
        ],
    )

    response = client.get(
        "/api/search", {"q": "remittance OR narwhalsplit OR walruscredit"}
    )

    assert len(results.hits) == 3
    assert response["Content-Type"] == "application/json"
    assert response.content.decode() == json.dumps(
        schema.model_dump(), cls=NinjaJSONEncoder
    )
