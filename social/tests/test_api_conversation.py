"""Comments, reactions, helpful marks and bookmarks over the API, per person.

``mia`` (``member``) and ``mo`` (``moderator``) belong to the private
"Pricing internal"; ``otto`` (``outsider``) belongs to nothing and
``carla`` (``customer``) is a customer account.
"""

import json
from typing import Any

import pytest
from django.test import Client

from social.models import Bookmark, Comment, Reaction
from social.services import post_comment

pytestmark = pytest.mark.django_db

API = "/api/social"


def body_of(response) -> Any:
    return json.loads(response.content)


def send(client: Client, method: str, path: str, payload: dict[str, Any] | None = None):
    return getattr(client, method)(
        path, data=json.dumps(payload or {}), content_type="application/json"
    )


def reaction(data: dict[str, Any], kind: str) -> Any:
    return next(item for item in data["reactions"] if item["kind"] == kind)


# --- Comments ---


def test_member_comments_and_replies(signed_in, member, moderator, private_post):
    client = signed_in(member)

    created = send(
        client, "post", f"{API}/posts/{private_post.pk}/comments", {"body": "#floor?"}
    )
    comment_id = body_of(created)["id"]
    reply = send(
        signed_in(moderator),
        "post",
        f"{API}/comments/{comment_id}/replies",
        {"body": "Yes"},
    )

    assert created.status_code == 201
    assert body_of(created)["hashtags"] == ["floor"]
    assert body_of(created)["author_username"] == "mia"
    assert reply.status_code == 201
    assert body_of(reply)["parent_id"] == comment_id
    assert body_of(reply)["url"] == (
        f"/posts/{private_post.pk}/comments/{body_of(reply)['id']}/"
    )


def test_reply_to_reply_joins_top_comment(signed_in, member, private_post):
    client = signed_in(member)
    top = post_comment(author=member, post=private_post, body="Top")
    first = post_comment(author=member, post=private_post, body="R1", parent=top)

    response = send(
        client, "post", f"{API}/comments/{first.pk}/replies", {"body": "R2"}
    )

    assert body_of(response)["parent_id"] == top.pk


def test_comment_with_parent_id(signed_in, member, private_post):
    top = post_comment(author=member, post=private_post, body="Top")

    response = send(
        signed_in(member),
        "post",
        f"{API}/posts/{private_post.pk}/comments",
        {"body": "Child", "parent_id": top.pk},
    )

    assert response.status_code == 201
    assert body_of(response)["parent_id"] == top.pk


def test_parent_from_other_post_is_422(signed_in, member, private_post, open_post):
    other = post_comment(author=member, post=open_post, body="Elsewhere")

    response = send(
        signed_in(member),
        "post",
        f"{API}/posts/{private_post.pk}/comments",
        {"body": "Child", "parent_id": other.pk},
    )

    assert response.status_code == 422
    assert body_of(response) == {
        "detail": f"Comment {other.pk} belongs to another post: reply on that post."
    }


@pytest.mark.parametrize("who", ["outsider", "customer"])
def test_comments_of_private_post_are_404(signed_in, who, request, private_post):
    comment = post_comment(author=private_post.author, post=private_post, body="Floor")
    client = signed_in(request.getfixturevalue(who))

    listing = client.get(f"{API}/posts/{private_post.pk}/comments")
    single = client.get(f"{API}/comments/{comment.pk}")
    write = send(
        client, "post", f"{API}/posts/{private_post.pk}/comments", {"body": "Hi"}
    )
    reply = send(client, "post", f"{API}/comments/{comment.pk}/replies", {"body": "Hi"})

    assert [r.status_code for r in (listing, single, write, reply)] == [404] * 4
    assert body_of(single) == {
        "detail": f"No comment {comment.pk} found among the comments you may see."
    }
    assert Comment.objects.count() == 1


def test_comment_list_pages(signed_in, outsider, open_post, settings):
    settings.SOCIAL_COMMENTS_PAGE_SIZE = 2
    for index in range(5):
        post_comment(author=outsider, post=open_post, body=f"c{index}")
    client = signed_in(outsider)

    last = body_of(client.get(f"{API}/posts/{open_post.pk}/comments", {"page": 3}))
    beyond = client.get(f"{API}/posts/{open_post.pk}/comments", {"page": 4})

    assert last["page"] == 3
    assert last["pages"] == 3
    assert last["comment_count"] == 5
    assert [comment["body"] for comment in last["comments"]] == ["c4"]
    assert beyond.status_code == 404
    assert body_of(beyond) == {
        "detail": "No page 4 in this thread: pages run from 1 to 3."
    }


def test_empty_comment_is_422(signed_in, outsider, open_post):
    response = send(
        signed_in(outsider),
        "post",
        f"{API}/posts/{open_post.pk}/comments",
        {"body": ""},
    )

    assert response.status_code == 422
    assert body_of(response) == {
        "detail": "The comment is empty: write at least one word."
    }


def test_author_edits_comment_and_tags_follow(signed_in, outsider, open_post):
    comment = post_comment(author=outsider, post=open_post, body="#cash")

    response = send(
        signed_in(outsider),
        "patch",
        f"{API}/comments/{comment.pk}",
        {"body": "#bank now"},
    )

    assert response.status_code == 200
    assert body_of(response)["hashtags"] == ["bank"]


def test_other_person_cannot_edit_comment(signed_in, outsider, sales_rep, open_post):
    comment = post_comment(author=outsider, post=open_post, body="Mine")

    response = send(
        signed_in(sales_rep), "patch", f"{API}/comments/{comment.pk}", {"body": "x"}
    )

    assert response.status_code == 403
    assert body_of(response) == {"detail": "Only the author of a comment can edit it."}


def test_moderator_deletes_comment(signed_in, member, moderator, private_post):
    comment = post_comment(author=member, post=private_post, body="Oops")

    response = send(signed_in(moderator), "delete", f"{API}/comments/{comment.pk}")

    assert response.status_code == 200
    assert body_of(response)["deleted"] is True
    assert body_of(response)["body"] == ""


def test_comment_place_names_its_page(signed_in, outsider, open_post, settings):
    settings.SOCIAL_COMMENTS_PAGE_SIZE = 2
    comments = [
        post_comment(author=outsider, post=open_post, body=f"c{index}")
        for index in range(5)
    ]

    response = signed_in(outsider).get(f"{API}/comments/{comments[3].pk}")

    assert body_of(response)["page"] == 2


# --- Reactions, helpful marks, bookmarks ---


def test_reaction_set_and_unset(signed_in, outsider, open_post):
    client = signed_in(outsider)

    added = send(client, "put", f"{API}/posts/{open_post.pk}/reactions/thanks")
    again = send(client, "put", f"{API}/posts/{open_post.pk}/reactions/thanks")
    removed = send(client, "delete", f"{API}/posts/{open_post.pk}/reactions/thanks")

    assert reaction(body_of(added), "thanks") == {
        "kind": "thanks",
        "label": "Thanks",
        "count": 1,
        "mine": True,
    }
    assert reaction(body_of(again), "thanks")["count"] == 1
    assert reaction(body_of(removed), "thanks") == {
        "kind": "thanks",
        "label": "Thanks",
        "count": 0,
        "mine": False,
    }
    assert Reaction.objects.count() == 0


def test_unknown_reaction_names_the_value(signed_in, outsider, open_post):
    response = send(
        signed_in(outsider), "put", f"{API}/posts/{open_post.pk}/reactions/wow"
    )

    assert response.status_code == 422
    assert body_of(response) == {
        "detail": "'wow' is not a reaction: use one of like, celebrate, insightful, "
        "thanks."
    }


@pytest.mark.parametrize("who", ["outsider", "customer"])
def test_writes_on_private_post_are_404(signed_in, who, request, private_post):
    client = signed_in(request.getfixturevalue(who))

    statuses = [
        send(client, "put", f"{API}/posts/{private_post.pk}/reactions/like"),
        send(client, "put", f"{API}/posts/{private_post.pk}/helpful"),
        send(client, "put", f"{API}/posts/{private_post.pk}/bookmark"),
        send(client, "patch", f"{API}/posts/{private_post.pk}", {"body": "x"}),
        send(client, "delete", f"{API}/posts/{private_post.pk}"),
    ]

    assert [response.status_code for response in statuses] == [404] * 5
    assert Reaction.objects.count() == 0
    assert Bookmark.objects.count() == 0


def test_own_post_helpful_is_422(signed_in, sales_rep, open_post):
    response = send(signed_in(sales_rep), "put", f"{API}/posts/{open_post.pk}/helpful")

    assert response.status_code == 422
    assert body_of(response) == {"detail": "You cannot mark your own post as helpful."}


def test_member_marks_helpful(signed_in, member, private_post):
    response = send(signed_in(member), "put", f"{API}/posts/{private_post.pk}/helpful")

    assert response.status_code == 200
    assert body_of(response)["helpful_count"] == 1
    assert body_of(response)["marked_helpful"] is True


def test_reaction_on_deleted_post_is_422(signed_in, facilitator, member, private_post):
    send(signed_in(facilitator), "delete", f"{API}/posts/{private_post.pk}")

    response = send(
        signed_in(member), "put", f"{API}/posts/{private_post.pk}/reactions/like"
    )

    assert response.status_code == 422
    assert body_of(response) == {
        "detail": "This post was deleted, so it takes no reactions."
    }


def test_bookmarks_list_only_visible(
    signed_in, member, private_post, open_post, private_community
):
    client = signed_in(member)
    send(client, "put", f"{API}/posts/{private_post.pk}/bookmark")
    send(client, "put", f"{API}/posts/{open_post.pk}/bookmark")

    before = body_of(client.get(f"{API}/bookmarks"))
    private_community.memberships.filter(person=member).delete()
    after = body_of(client.get(f"{API}/bookmarks"))

    assert [post["id"] for post in before] == [open_post.pk, private_post.pk]
    assert all(post["bookmarked"] for post in before)
    assert [post["id"] for post in after] == [open_post.pk]


def test_bookmark_unset(signed_in, outsider, open_post):
    client = signed_in(outsider)
    send(client, "put", f"{API}/posts/{open_post.pk}/bookmark")

    response = send(client, "delete", f"{API}/posts/{open_post.pk}/bookmark")

    assert body_of(response)["bookmarked"] is False
    assert Bookmark.objects.count() == 0
