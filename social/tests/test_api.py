"""The posts API with named people, and direct links to restricted posts.

``mia`` (``member``) and ``mo`` (``moderator``) belong to the private
"Pricing internal", which ``fran`` (``facilitator``) owns. ``otto``
(``outsider``) is an employee in no community, and ``carla``
(``customer``) is a customer account.
"""

import datetime
import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from communities.models import Community
from social.models import Post
from social.services import publish_post
from social.services.shares import share_post

pytestmark = pytest.mark.django_db

API = "/api/social"


def body_of(response) -> Any:
    return json.loads(response.content)


def send(client: Client, method: str, path: str, payload: dict[str, Any] | None = None):
    return getattr(client, method)(
        path, data=json.dumps(payload or {}), content_type="application/json"
    )


# --- Who may read a post ---


def test_member_reads_private_post(signed_in, member, private_post):
    response = signed_in(member).get(f"{API}/posts/{private_post.pk}")

    assert response.status_code == 200
    data = body_of(response)
    assert data["id"] == private_post.pk
    assert data["body"] == "Price list v7"
    assert data["body_html"] == "<p>Price list v7</p>\n"
    assert data["author"] == "Fran Tester"
    assert data["author_username"] == "fran"
    assert data["community"] == {
        "slug": "pricing-internal",
        "name": "Pricing internal",
        "visibility": "private",
    }
    assert data["reactions"] == [
        {"kind": "like", "label": "Like", "count": 0, "mine": False},
        {"kind": "celebrate", "label": "Celebrate", "count": 0, "mine": False},
        {"kind": "insightful", "label": "Insightful", "count": 0, "mine": False},
        {"kind": "thanks", "label": "Thanks", "count": 0, "mine": False},
    ]
    assert data["shared_from"] is None
    assert data["shares_hidden_post"] is False


@pytest.mark.parametrize("who", ["outsider", "customer"])
def test_private_post_is_404_like_missing(signed_in, who, request, private_post):
    client = signed_in(request.getfixturevalue(who))

    hidden = client.get(f"{API}/posts/{private_post.pk}")
    missing = client.get(f"{API}/posts/{private_post.pk + 1000}")

    assert hidden.status_code == 404
    assert missing.status_code == 404
    assert body_of(hidden) == {
        "detail": f"No post {private_post.pk} found among the posts you may see."
    }
    assert b"Price list" not in hidden.content
    assert b"Pricing internal" not in hidden.content


def test_neighbouring_ids_answer_alike(signed_in, outsider, private_post, open_post):
    client = signed_in(outsider)
    statuses = {
        number: client.get(f"{API}/posts/{number}").status_code
        for number in range(private_post.pk - 2, open_post.pk + 3)
    }

    assert statuses == {
        number: 200 if number == open_post.pk else 404 for number in statuses
    }


def test_customer_reads_customer_post_without_usernames(
    signed_in, customer, customer_post
):
    response = signed_in(customer).get(f"{API}/posts/{customer_post.pk}")

    assert response.status_code == 200
    data = body_of(response)
    # Sally is hidden from customers (the default), so the customer reads her role.
    assert data["author"] == "Sales representative"
    assert data["author_username"] is None


def test_customer_cannot_read_open_post(signed_in, customer, open_post):
    assert signed_in(customer).get(f"{API}/posts/{open_post.pk}").status_code == 404


def test_signed_out_gets_401(private_post):
    response = Client().get(f"{API}/posts/{private_post.pk}")

    assert response.status_code == 401
    assert b"Price list" not in response.content


def test_post_moved_to_private_follows_new_rule(
    signed_in, outsider, member, open_post, private_community
):
    client = signed_in(outsider)
    assert client.get(f"{API}/posts/{open_post.pk}").status_code == 200

    open_post.community = private_community
    open_post.save(update_fields=["community"])

    assert client.get(f"{API}/posts/{open_post.pk}").status_code == 404
    assert client.get(f"/posts/{open_post.pk}/").status_code == 404
    assert signed_in(member).get(f"{API}/posts/{open_post.pk}").status_code == 200


def test_community_made_private_follows_new_rule(
    signed_in, outsider, sales_rep, open_post, payments_community
):
    client = signed_in(outsider)
    assert client.get(f"{API}/posts/{open_post.pk}").status_code == 200

    payments_community.visibility = Community.Visibility.PRIVATE
    payments_community.save(update_fields=["visibility"])

    assert client.get(f"{API}/posts/{open_post.pk}").status_code == 404
    assert client.get(f"/posts/{open_post.pk}/").status_code == 404
    assert client.get(f"{API}/communities/payments/posts").status_code == 404
    assert client.get(f"{API}/posts/{open_post.pk}/comments").status_code == 404
    reaction = send(client, "put", f"{API}/posts/{open_post.pk}/reactions/like")
    assert reaction.status_code == 404


# --- Listing a community's posts ---


def make_posts(author, community, count: int, *, same_time=None) -> list[Post]:
    posts = [
        publish_post(author=author, community=community, body=f"Tip {index}")
        for index in range(count)
    ]
    if same_time is not None:
        Post.objects.filter(pk__in=[post.pk for post in posts]).update(
            created_at=same_time
        )
    return posts


def test_list_pages_through_ties_without_gaps(
    signed_in, sales_rep, outsider, payments_community
):
    stamp = timezone.now() - datetime.timedelta(hours=1)
    posts = make_posts(sales_rep, payments_community, 7, same_time=stamp)
    client = signed_in(outsider)

    seen: list[int] = []
    cursor = ""
    for _ in range(4):
        data = body_of(
            client.get(
                f"{API}/communities/payments/posts", {"limit": 3, "cursor": cursor}
            )
        )
        seen.extend(post["id"] for post in data["posts"])
        cursor = data["next_cursor"]
        if cursor is None:
            break
        # A post arriving between pages must not shift the next page.
        publish_post(author=sales_rep, community=payments_community, body="Late")

    assert seen == sorted((post.pk for post in posts), reverse=True)
    assert cursor is None


def test_list_is_404_for_hidden_community(signed_in, outsider, customer, private_post):
    for person in (outsider, customer):
        response = signed_in(person).get(f"{API}/communities/pricing-internal/posts")
        assert response.status_code == 404
        assert body_of(response) == {
            "detail": "No community 'pricing-internal' found among the communities "
            "you may see."
        }


def test_list_rejects_bad_cursor_and_limit(signed_in, outsider, payments_community):
    client = signed_in(outsider)

    bad_cursor = client.get(f"{API}/communities/payments/posts", {"cursor": "abc"})
    bad_limit = client.get(f"{API}/communities/payments/posts", {"limit": 0})

    assert bad_cursor.status_code == 422
    assert body_of(bad_cursor) == {
        "detail": "cursor='abc' is not a cursor this API gave out: start again "
        "without one."
    }
    assert bad_limit.status_code == 422
    assert body_of(bad_limit) == {"detail": "limit=0 is out of range: use 1 to 100."}


@pytest.mark.parametrize("count", [2, 30])
def test_list_queries_are_constant(
    signed_in, sales_rep, outsider, payments_community, count, django_assert_num_queries
):
    make_posts(sales_rep, payments_community, count)
    client = signed_in(outsider)

    # session, person, community, posts with authors, their hashtags, and
    # the viewer's own marks (reaction counts are on the post rows)
    with django_assert_num_queries(6):
        response = client.get(f"{API}/communities/payments/posts", {"limit": 50})
    assert len(body_of(response)["posts"]) == count


# --- Writing posts ---


def test_member_publishes_in_private_community(signed_in, member, private_community):
    response = send(
        signed_in(member),
        "post",
        f"{API}/communities/pricing-internal/posts",
        {"body": "New floor #pricing"},
    )

    assert response.status_code == 201
    data = body_of(response)
    assert data["hashtags"] == ["pricing"]
    assert Post.objects.get(pk=data["id"]).community == private_community


def test_outsider_cannot_post_in_private(signed_in, outsider, private_community):
    response = send(
        signed_in(outsider),
        "post",
        f"{API}/communities/pricing-internal/posts",
        {"body": "Hello"},
    )

    assert response.status_code == 404
    assert not Post.objects.exists()


def test_customer_posts_in_customer_space(signed_in, customer, customer_community):
    response = send(
        signed_in(customer),
        "post",
        f"{API}/communities/customer-corner/posts",
        {"body": "Where is my statement?"},
    )

    assert response.status_code == 201
    assert body_of(response)["author_username"] is None


def test_empty_post_is_422_with_message(signed_in, outsider, payments_community):
    response = send(
        signed_in(outsider), "post", f"{API}/communities/payments/posts", {"body": " "}
    )

    assert response.status_code == 422
    assert body_of(response) == {
        "detail": "The post is empty: write at least one word."
    }


def test_too_long_post_names_its_length(signed_in, outsider, payments_community):
    response = send(
        signed_in(outsider),
        "post",
        f"{API}/communities/payments/posts",
        {"body": "x" * 5001},
    )

    assert response.status_code == 422
    assert body_of(response) == {
        "detail": "The post has 5001 characters; shorten it to 5000 or fewer."
    }


def test_missing_body_is_422(signed_in, outsider, payments_community):
    response = send(signed_in(outsider), "post", f"{API}/communities/payments/posts")

    assert response.status_code == 422
    assert Post.objects.count() == 0


def test_author_edits_post(signed_in, facilitator, private_post):
    response = send(
        signed_in(facilitator),
        "patch",
        f"{API}/posts/{private_post.pk}",
        {"body": "Price list v8"},
    )

    assert response.status_code == 200
    assert body_of(response)["body"] == "Price list v8"
    assert body_of(response)["edited_at"] is not None
    assert private_post.revisions.get().body == "Price list v7"


def test_member_cannot_edit_others_post(signed_in, member, private_post):
    response = send(
        signed_in(member), "patch", f"{API}/posts/{private_post.pk}", {"body": "Mine"}
    )

    assert response.status_code == 403
    assert body_of(response) == {"detail": "Only the author of a post can edit it."}


def test_outsider_edit_is_404(signed_in, outsider, private_post):
    response = send(
        signed_in(outsider), "patch", f"{API}/posts/{private_post.pk}", {"body": "x"}
    )

    assert response.status_code == 404


def test_moderator_deletes_post_to_tombstone(signed_in, moderator, private_post):
    response = send(signed_in(moderator), "delete", f"{API}/posts/{private_post.pk}")

    assert response.status_code == 200
    data = body_of(response)
    assert data["deleted"] is True
    assert data["body"] == ""
    assert (data["title"], data["summary"]) == ("", "")
    assert data["author"] == ""
    assert data["author_username"] is None


def test_member_cannot_delete_others_post(signed_in, member, private_post):
    response = send(signed_in(member), "delete", f"{API}/posts/{private_post.pk}")

    assert response.status_code == 403
    assert body_of(response) == {
        "detail": "Only the author or a moderator of this community can delete "
        "this post."
    }


def test_second_delete_is_422(signed_in, facilitator, private_post):
    client = signed_in(facilitator)
    send(client, "delete", f"{API}/posts/{private_post.pk}")

    response = send(client, "delete", f"{API}/posts/{private_post.pk}")

    assert response.status_code == 422
    assert body_of(response) == {"detail": "This post was already deleted."}


# --- Shares through the API ---


def test_share_of_hidden_post_shows_no_quote(
    signed_in, outsider, member, open_post, private_community
):
    share = share_post(
        actor=member,
        original=open_post,
        community=open_post.community,
        comment="Read",
    )
    open_post.community = private_community
    open_post.save(update_fields=["community"])

    for_outsider = body_of(signed_in(outsider).get(f"{API}/posts/{share.pk}"))
    for_member = body_of(signed_in(member).get(f"{API}/posts/{share.pk}"))

    assert for_outsider["shared_from"] is None
    assert for_outsider["shares_hidden_post"] is True
    assert "Short-pay" not in json.dumps(for_outsider)
    assert for_member["shared_from"]["id"] == open_post.pk
    assert for_member["shared_from"]["body_html"] == "<p>Short-pay tip</p>\n"
    assert for_member["shares_hidden_post"] is False


def test_share_endpoint_creates_share(signed_in, member, open_post, private_community):
    response = send(
        signed_in(member),
        "post",
        f"{API}/posts/{open_post.pk}/shares",
        {"community": "pricing-internal", "comment": "For us"},
    )

    assert response.status_code == 201
    data = body_of(response)
    assert data["community"]["slug"] == "pricing-internal"
    assert data["shared_from"]["id"] == open_post.pk
    assert data["body"] == "For us"


def test_share_endpoint_rejects_wider_audience(
    signed_in, outsider, open_post, customer_community
):
    response = send(
        signed_in(outsider),
        "post",
        f"{API}/posts/{open_post.pk}/shares",
        {"community": "customer-corner"},
    )

    assert response.status_code == 422
    assert body_of(response)["detail"].startswith(
        f"Post {open_post.pk} is in Payments (open to employees), so it cannot be "
        "shared into Customer corner (customer-visible)"
    )
    assert not Post.objects.filter(shared_from=open_post).exists()


@pytest.mark.parametrize("who", ["outsider", "customer"])
def test_share_of_unreadable_post_is_404(
    signed_in, who, request, private_post, customer_community
):
    response = send(
        signed_in(request.getfixturevalue(who)),
        "post",
        f"{API}/posts/{private_post.pk}/shares",
        {"community": "customer-corner"},
    )

    assert response.status_code == 404
    assert b"Price list" not in response.content


@pytest.mark.parametrize("who", ["outsider", "customer"])
def test_quote_of_unreadable_post_is_404(signed_in, who, request, private_post):
    response = signed_in(request.getfixturevalue(who)).get(
        f"{API}/posts/{private_post.pk}/quote"
    )

    assert response.status_code == 404
    assert b"Price list" not in response.content


def test_quote_for_reader(signed_in, member, private_post):
    response = signed_in(member).get(f"{API}/posts/{private_post.pk}/quote")

    assert response.status_code == 200
    assert body_of(response) == {
        "id": private_post.pk,
        "url": f"/posts/{private_post.pk}/",
        "author": "Fran Tester",
        "community": {
            "slug": "pricing-internal",
            "name": "Pricing internal",
            "visibility": "private",
        },
        "body": "Price list v7",
        "body_html": "<p>Price list v7</p>\n",
    }


# --- The OpenAPI document ---


def test_openapi_lists_social_and_community_paths(signed_in, sales_rep):
    document = body_of(signed_in(sales_rep).get("/api/openapi.json"))

    paths = document["paths"]
    for path in [
        "/api/social/communities/{slug}/posts",
        "/api/social/posts/{post_id}",
        "/api/social/posts/{post_id}/comments",
        "/api/social/comments/{comment_id}",
        "/api/social/comments/{comment_id}/replies",
        "/api/social/posts/{post_id}/reactions/{kind}",
        "/api/social/posts/{post_id}/bookmark",
        "/api/social/posts/{post_id}/helpful",
        "/api/social/bookmarks",
        "/api/social/posts/{post_id}/quote",
        "/api/social/posts/{post_id}/shares",
        "/api/social/feed",
        "/api/social/follows",
        "/api/social/follows/people/{username}",
        "/api/social/follows/tags/{name}",
        "/api/social/follows/communities/{slug}",
        "/api/communities",
        "/api/communities/{slug}",
        "/api/communities/{slug}/members",
    ]:
        assert path in paths, path
    schemas = document["components"]["schemas"]
    assert "PostOut" in schemas
    assert "shares_hidden_post" in schemas["PostOut"]["properties"]
    assert set(paths["/api/social/posts/{post_id}"]) == {"get", "patch", "delete"}
    get_responses = paths["/api/social/posts/{post_id}"]["get"]["responses"]
    assert set(get_responses) == {"200", "404"}


def test_blog_post_through_api(signed_in, outsider, payments_community):
    response = send(
        signed_in(outsider),
        "post",
        f"{API}/communities/payments/posts",
        {"body": "Long text", "kind": "blog", "title": "Short pays", "summary": "How"},
    )

    assert response.status_code == 201
    data = body_of(response)
    assert (data["kind"], data["title"], data["summary"]) == (
        "blog",
        "Short pays",
        "How",
    )


def test_unknown_kind_names_the_value(signed_in, outsider, payments_community):
    response = send(
        signed_in(outsider),
        "post",
        f"{API}/communities/payments/posts",
        {"body": "Text", "kind": "poll", "title": "Vote"},
    )

    assert response.status_code == 422
    assert body_of(response) == {
        "detail": "'poll' is not a kind of post: use one of micro, blog, announcement."
    }
