"""The communities API with named people, and query counts.

People: ``otto`` (outsider), ``carla`` (customer), ``sally`` (member),
``mona`` (moderator) and ``olive`` (owner) of the open "Payments desk", the
private "Pricing vault" and the customer-visible "Customer lounge".
"""

import json
from typing import Any

import pytest

from accounts.models import Role
from communities.models import Membership
from communities.tests.conftest import signed_in
from conftest import make_person

pytestmark = pytest.mark.django_db

API = "/api/communities"


def body_of(response) -> Any:
    return json.loads(response.content)


@pytest.fixture
def everyone(outsider, customer, sales_rep, moderator, owner, desk, vault, lounge):
    return {
        "outsider": outsider,
        "customer": customer,
        "member": sales_rep,
        "moderator": moderator,
        "owner": owner,
    }


LISTED = {
    "outsider": ["customer-lounge", "payments-desk"],
    "customer": ["customer-lounge"],
    "member": ["customer-lounge", "payments-desk", "pricing-vault"],
    "moderator": ["customer-lounge", "payments-desk", "pricing-vault"],
    "owner": ["customer-lounge", "payments-desk", "pricing-vault"],
}


@pytest.mark.parametrize("who", list(LISTED))
def test_list_shows_visible_only(who, everyone):
    response = signed_in(everyone[who]).get(API)

    assert response.status_code == 200
    assert [item["slug"] for item in body_of(response)] == LISTED[who]


@pytest.mark.parametrize("who", list(LISTED))
def test_detail_status_per_person(who, everyone):
    client = signed_in(everyone[who])

    for slug in ["payments-desk", "pricing-vault", "customer-lounge"]:
        response = client.get(f"{API}/{slug}")
        expected = 200 if slug in LISTED[who] else 404
        assert response.status_code == expected, slug
        members = client.get(f"{API}/{slug}/members")
        assert members.status_code == expected, slug


def test_hidden_community_404_names_only_the_address(everyone):
    response = signed_in(everyone["outsider"]).get(f"{API}/pricing-vault")

    assert body_of(response) == {
        "detail": "No community 'pricing-vault' found among the communities you "
        "may see."
    }
    assert b"Discount" not in response.content


def test_detail_for_member(everyone, payments):
    response = signed_in(everyone["member"]).get(f"{API}/payments-desk")

    data = body_of(response)
    assert data["name"] == "Payments desk"
    assert data["visibility"] == "open"
    assert data["my_role"] == "member"
    assert data["member_count"] == 3
    assert data["crm_functions"] == ["payments"]
    assert data["posts_url"] == "/api/social/communities/payments-desk/posts"


def test_detail_for_customer_has_no_internal_fields(everyone, lounge, payments):
    lounge.crm_functions.add(payments)

    data = body_of(signed_in(everyone["customer"]).get(f"{API}/customer-lounge"))

    assert data["crm_functions"] == []
    assert data["learner_group"] is None
    assert data["my_role"] is None


def test_members_for_employee(everyone):
    data = body_of(signed_in(everyone["outsider"]).get(f"{API}/payments-desk/members"))

    assert data["member_count"] == 3
    assert data["listed_count"] == 3
    assert [(m["username"], m["role"]) for m in data["members"]] == [
        ("olive", "owner"),
        ("mona", "moderator"),
        ("sally", "member"),
    ]


def test_members_for_customer_list_visible_people(everyone, lounge, customer_party):
    other_customer = make_person(
        "cora", Role.CUSTOMER, customer=customer_party, group="customers"
    )
    for person in (everyone["customer"], other_customer, everyone["member"]):
        Membership.objects.create(community=lounge, person=person)
    owner = everyone["owner"]
    owner.visible_to_customers = True
    owner.save(update_fields=["visible_to_customers"])

    data = body_of(
        signed_in(everyone["customer"]).get(f"{API}/customer-lounge/members")
    )

    # A customer learns only how many members it may see, not the total.
    assert data["member_count"] == 2
    assert data["listed_count"] == 2
    assert [(m["username"], m["name"], m["role"]) for m in data["members"]] == [
        (None, "Olive Tester", "owner"),
        (None, "Carla Tester", "member"),
    ]


def test_members_page_out_of_range(everyone):
    response = signed_in(everyone["owner"]).get(
        f"{API}/payments-desk/members", {"page": 2}
    )

    assert response.status_code == 404
    assert body_of(response) == {
        "detail": "No page 2 of members: pages run from 1 to 1."
    }


def test_list_rejects_bad_limit(everyone):
    client = signed_in(everyone["owner"])

    too_big = client.get(API, {"limit": 101})
    negative = client.get(API, {"offset": -1})

    assert too_big.status_code == 422
    assert body_of(too_big) == {"detail": "limit=101 is out of range: use 1 to 100."}
    assert negative.status_code == 422
    assert body_of(negative) == {"detail": "offset=-1 is negative: use 0 or more."}


def add_members(community, count: int) -> None:
    for number in range(count):
        person = make_person(f"bulk{number}", Role.SALES_REP, group="sales")
        Membership.objects.create(community=community, person=person)


@pytest.mark.parametrize("extra", [0, 60])
def test_members_queries_constant(everyone, desk, extra, django_assert_num_queries):
    add_members(desk, extra)
    client = signed_in(everyone["outsider"])

    # session, person, community, listed count, member count, one page
    with django_assert_num_queries(6):
        response = client.get(f"{API}/payments-desk/members")
    assert len(body_of(response)["members"]) == min(3 + extra, 50)


@pytest.mark.parametrize("extra", [0, 20])
def test_list_queries_constant(everyone, owner, extra, django_assert_num_queries):
    from communities.services import create_community

    for number in range(extra):
        create_community(
            creator=owner,
            name=f"Extra {number}",
            purpose="More.",
            visibility="open",
        )
    client = signed_in(everyone["outsider"])

    # session, person, communities with member counts, their CRM functions
    with django_assert_num_queries(4):
        response = client.get(API, {"limit": 100})
    assert len(body_of(response)) == 2 + extra


@pytest.mark.parametrize("who", ["customer", "outsider", "member"])
def test_detail_count_matches_members_list(who, everyone, lounge, customer_party):
    other_customer = make_person(
        "cora", Role.CUSTOMER, customer=customer_party, group="customers"
    )
    for person in (everyone["customer"], other_customer, everyone["member"]):
        Membership.objects.create(community=lounge, person=person)
    client = signed_in(everyone[who])

    detail = body_of(client.get(f"{API}/customer-lounge"))
    members = body_of(client.get(f"{API}/customer-lounge/members"))
    listed = body_of(client.get(API))

    # Olive (owner), Carla, Cora and Sally are members; Carla is listed only
    # herself, as in the members list, so she learns no larger total.
    expected = 1 if who == "customer" else 4
    assert detail["member_count"] == expected
    assert members["member_count"] == expected
    assert listed[0]["member_count"] == expected
