"""The home feed and follows over the API, per person.

``otto`` (``outsider``) belongs to nothing, ``carla`` (``customer``) is a
customer account, and ``mia`` (``member``) belongs to the private
"Pricing internal".
"""

import json
from typing import Any

import pytest
from django.test import Client

from social.models import Follow
from social.services import publish_post

pytestmark = pytest.mark.django_db

API = "/api/social"


def body_of(response) -> Any:
    return json.loads(response.content)


def send(client: Client, method: str, path: str):
    return getattr(client, method)(path, content_type="application/json")


# --- Follows ---


def test_follow_person_brings_posts_to_feed(
    signed_in, outsider, sales_rep, payments_community
):
    client = signed_in(outsider)
    post = publish_post(author=sales_rep, community=payments_community, body="Tip")

    followed = send(client, "put", f"{API}/follows/people/sally")
    feed = body_of(client.get(f"{API}/feed"))

    assert followed.status_code == 200
    assert body_of(followed) == {"kind": "person", "target": "sally", "following": True}
    assert [item["id"] for item in feed["posts"]] == [post.pk]


def test_unfollow_person(signed_in, outsider, sales_rep):
    client = signed_in(outsider)
    send(client, "put", f"{API}/follows/people/sally")

    response = send(client, "delete", f"{API}/follows/people/sally")

    assert body_of(response) == {
        "kind": "person",
        "target": "sally",
        "following": False,
    }
    assert not Follow.objects.exists()


def test_follow_self_is_422(signed_in, outsider):
    response = send(signed_in(outsider), "put", f"{API}/follows/people/otto")

    assert response.status_code == 422
    assert body_of(response) == {"detail": "You cannot follow yourself."}


def test_customer_cannot_follow_hidden_staff(signed_in, customer, sales_rep):
    response = send(signed_in(customer), "put", f"{API}/follows/people/sally")

    assert response.status_code == 404
    assert body_of(response) == {
        "detail": "No person 'sally' found among the people you may see."
    }
    assert not Follow.objects.exists()


def test_follow_tag_normalizes_name(signed_in, outsider):
    response = send(signed_in(outsider), "put", f"{API}/follows/tags/%23ShortPay")

    assert body_of(response) == {
        "kind": "hashtag",
        "target": "shortpay",
        "following": True,
    }


def test_follow_invalid_tag_is_422(signed_in, outsider):
    response = send(signed_in(outsider), "put", f"{API}/follows/tags/123")

    assert response.status_code == 422
    assert body_of(response) == {
        "detail": "'123' is not a hashtag: use letters, digits and underscores, "
        "with at least one letter, optionally ending in up to three + or # "
        "signs (C++, C#), and at most 100 characters."
    }


@pytest.mark.parametrize("who", ["outsider", "customer"])
def test_follow_private_community_is_404(signed_in, who, request, private_community):
    response = send(
        signed_in(request.getfixturevalue(who)),
        "put",
        f"{API}/follows/communities/pricing-internal",
    )

    assert response.status_code == 404
    assert not Follow.objects.exists()


def test_customer_cannot_follow_open_community(signed_in, customer, payments_community):
    response = send(signed_in(customer), "put", f"{API}/follows/communities/payments")

    assert response.status_code == 404


def test_member_follows_private_community(signed_in, member, private_community):
    response = send(
        signed_in(member), "put", f"{API}/follows/communities/pricing-internal"
    )

    assert body_of(response) == {
        "kind": "community",
        "target": "pricing-internal",
        "following": True,
    }


def test_follow_list_leaves_out_lost_access(
    signed_in, member, sales_rep, private_community
):
    client = signed_in(member)
    send(client, "put", f"{API}/follows/people/sally")
    send(client, "put", f"{API}/follows/tags/cash")
    send(client, "put", f"{API}/follows/communities/pricing-internal")

    before = body_of(client.get(f"{API}/follows"))
    private_community.memberships.filter(person=member).delete()
    after = body_of(client.get(f"{API}/follows"))

    assert before == {
        "people": [{"username": "sally", "name": "Sally Tester"}],
        "hashtags": [{"name": "cash", "display_name": "cash"}],
        "communities": [
            {
                "slug": "pricing-internal",
                "name": "Pricing internal",
                "visibility": "private",
            }
        ],
    }
    assert after["communities"] == []


# --- The feed ---


def test_feed_leaves_out_posts_viewer_cannot_see(
    signed_in, outsider, facilitator, payments_community, private_community
):
    visible = publish_post(author=facilitator, community=payments_community, body="A")
    publish_post(author=facilitator, community=private_community, body="Secret floor")
    Follow.objects.create(follower=outsider, person=facilitator)

    response = signed_in(outsider).get(f"{API}/feed")

    assert [item["id"] for item in body_of(response)["posts"]] == [visible.pk]
    assert b"Secret floor" not in response.content


def test_feed_pages_without_repeats(signed_in, outsider, sales_rep, payments_community):
    posts = [
        publish_post(author=sales_rep, community=payments_community, body=f"Tip {n}")
        for n in range(5)
    ]
    Follow.objects.create(follower=outsider, person=sales_rep)
    client = signed_in(outsider)

    seen: list[int] = []
    cursor = ""
    for _ in range(5):
        page = body_of(client.get(f"{API}/feed", {"limit": 2, "cursor": cursor}))
        seen.extend(item["id"] for item in page["posts"])
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == [post.pk for post in reversed(posts)]


def test_feed_rejects_bad_parameters(signed_in, outsider):
    client = signed_in(outsider)

    sort = client.get(f"{API}/feed", {"sort": "oldest"})
    limit = client.get(f"{API}/feed", {"limit": 101})
    cursor = client.get(f"{API}/feed", {"cursor": "nonsense"})

    assert sort.status_code == 422
    assert body_of(sort) == {
        "detail": "Unknown feed order 'oldest': use one of newest, helpful."
    }
    assert limit.status_code == 422
    assert body_of(limit) == {"detail": "A feed page holds 1 to 100 posts, not 101."}
    assert cursor.status_code == 422
    assert body_of(cursor)["detail"].startswith("The feed position 'nonsense'")


@pytest.mark.parametrize("count", [2, 20])
def test_feed_queries_are_constant(
    signed_in, outsider, sales_rep, payments_community, count, django_assert_num_queries
):
    for number in range(count):
        publish_post(
            author=sales_rep, community=payments_community, body=f"#t {number}"
        )
    Follow.objects.create(follower=outsider, person=sales_rep)
    client = signed_in(outsider)

    # session, person, the feed (the sources with the pinned announcements,
    # the candidates, the posts with the viewer's marks), the posts'
    # hashtags and authors
    with django_assert_num_queries(7):
        response = client.get(f"{API}/feed", {"limit": 50})
    assert len(body_of(response)["posts"]) == count
