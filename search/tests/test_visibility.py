"""Who finds what: every result type for an outsider, a customer, a member, a moderator."""

import pytest

from search.indexing import reindex_all
from search.models import SearchEntry
from search.selectors import search, visible_entries
from search.sources import SOURCE_OF_KIND
from search.tests.conftest import found

# Distinctive word of each item in the ``content`` fixture.
WORDS = {
    "private_post": "pricingmatrixfile",
    "open_post": "remittance",
    "customer_post": "welcomeword",
    "private_question": "zebrafloor",
    "private_answer": "quokkafloor",
    "open_question": "lemurpay",
    "open_answer": "narwhalsplit",
    "internal_faq": "walruscredit",
    "customer_faq": "otterconfirm",
    "internal_doc": "falconprices",
    "customer_doc": "beaverdispute",
}
KINDS = {
    "private_post": "post",
    "open_post": "post",
    "customer_post": "post",
    "private_question": "question",
    "private_answer": "answer",
    "open_question": "question",
    "open_answer": "answer",
    "internal_faq": "faq",
    "customer_faq": "faq",
    "internal_doc": "library",
    "customer_doc": "library",
}
PRIVATE = {"private_post", "private_question", "private_answer"}
CUSTOMER_VISIBLE = {"customer_post", "customer_faq", "customer_doc"}


def _visible_items(person_name):
    if person_name == "customer":
        return CUSTOMER_VISIBLE
    if person_name == "member":
        return set(WORDS)
    return set(WORDS) - PRIVATE


@pytest.mark.parametrize("person_name", ["outsider", "customer", "member", "moderator"])
@pytest.mark.parametrize("item", sorted(WORDS))
def test_who_finds_each_item(request, content, person_name, item):
    person = request.getfixturevalue(person_name)
    expected = (
        [(KINDS[item], content[item].pk)] if item in _visible_items(person_name) else []
    )
    assert found(person, WORDS[item]) == expected


@pytest.mark.parametrize("person_name", ["outsider", "customer", "moderator"])
def test_counts_and_facets_leave_out_hidden(request, content, person_name):
    person = request.getfixturevalue(person_name)
    results = search(person, "zebrafloor OR quokkafloor OR pricingmatrixfile")
    assert results.total == 0
    assert results.facets == {}


def test_member_counts_private_hits(content, member):
    results = search(member, "zebrafloor OR quokkafloor OR pricingmatrixfile")
    assert results.total == 3
    assert results.facets == {"post": 1, "question": 1, "answer": 1}


def test_signed_out_finds_nothing(content):
    from django.contrib.auth.models import AnonymousUser

    assert search(AnonymousUser(), "remittance").total == 0


def test_leaving_private_community_hides_at_once(content, member, private_community):
    private_community.memberships.filter(person=member).delete()
    assert found(member, "zebrafloor") == []


def test_community_made_private_hides_its_posts(content, outsider, payments_community):
    payments_community.visibility = "private"
    payments_community.save()
    assert found(outsider, "remittance") == []


def test_post_moved_to_private_community_hides_at_once(
    transactional_db, content, outsider, member, private_community
):
    post = content["open_post"]
    post.community = private_community
    post.save()
    assert found(outsider, "remittance") == []
    assert found(member, "remittance") == [("post", post.pk)]


def test_community_opened_to_customers_shows_its_posts(
    content, customer, payments_community
):
    payments_community.visibility = "customer"
    payments_community.save()
    assert found(customer, "remittance") == [("post", content["open_post"].pk)]


def test_person_hidden_from_customers_on_commit(
    transactional_db, content, customer, sales_rep
):
    sales_rep.visible_to_customers = True
    sales_rep.save()
    assert found(customer, sales_rep.username) == [("person", sales_rep.pk)]
    sales_rep.visible_to_customers = False
    sales_rep.save()
    assert found(customer, sales_rep.username) == []
    assert found(customer, "carla") == [("person", customer.pk)]


def test_faq_entry_hidden_from_customers_on_commit(transactional_db, content, customer):
    entry = content["customer_faq"]
    entry.customer_visible = False
    entry.save()
    assert found(customer, "otterconfirm") == []


@pytest.mark.parametrize(
    "person_name", ["outsider", "customer", "member", "moderator", "sales_rep"]
)
def test_rule_agrees_with_each_kinds_selector(request, content, person_name):
    # The copied attributes must give exactly what the owning selectors give.
    person = request.getfixturevalue(person_name)
    reindex_all()
    by_rule = set(visible_entries(person).values_list("kind", "object_id"))
    by_selectors = {
        (kind, object_id)
        for kind, object_id in SearchEntry.objects.values_list("kind", "object_id")
        if SOURCE_OF_KIND[kind].visible(person).filter(pk=object_id).exists()
    }
    assert by_rule == by_selectors
    assert len(by_rule) > 0
