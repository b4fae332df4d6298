"""A deleted post's title and summary leave every surface with its body.

``sally`` (``sales_rep``) publishes a blog post in the customer-visible
"Customer corner"; ``mona`` moderates that community and deletes it.
``carla`` (``customer``) reads the community, and ``otto`` (``outsider``)
reads the open "Payments" community.
"""

import json
from typing import Any

import pytest
from django.test import Client

from accounts.models import Role
from communities.models import Membership
from conftest import make_person
from social.models import Bookmark, Post
from social.services import publish_post
from social.services.posts import delete_post
from social.services.reactions import set_bookmark

pytestmark = pytest.mark.django_db

API = "/api/social"
TITLE = "Price list with internal margin 12% for Kuh"
SUMMARY = "Internal margin summary hyraxsecret"


def body_of(response) -> Any:
    return json.loads(response.content)


@pytest.fixture
def mona(customer_community):
    person = make_person("mona", Role.FINANCE_CLERK, group="operations")
    Membership.objects.create(
        community=customer_community, person=person, role=Membership.Role.MODERATOR
    )
    return person


@pytest.fixture
def margin_post(sales_rep, customer_community):
    return publish_post(
        author=sales_rep,
        community=customer_community,
        kind=Post.Kind.BLOG,
        title=TITLE,
        summary=SUMMARY,
        body="The margin is 12% #pricing",
    )


def assert_no_heading(content: bytes) -> None:
    assert b"hyraxsecret" not in content
    assert b"internal margin 12%" not in content


def test_deletion_moves_heading_to_history(mona, margin_post):
    delete_post(actor=mona, post=margin_post, reason="internal pricing")

    margin_post.refresh_from_db()
    assert (margin_post.title, margin_post.summary, margin_post.body) == ("", "", "")
    revision = margin_post.revisions.get()
    assert (revision.title, revision.summary) == (TITLE, SUMMARY)
    assert revision.body == "The margin is 12% #pricing"


def test_customer_api_shows_no_heading(signed_in, customer, mona, margin_post):
    carla = signed_in(customer)
    assert carla.put(f"{API}/posts/{margin_post.pk}/bookmark").status_code == 200
    delete_post(actor=mona, post=margin_post, reason="internal pricing")

    single = carla.get(f"{API}/posts/{margin_post.pk}")
    listed = carla.get(f"{API}/communities/customer-corner/posts")
    bookmarks = carla.get(f"{API}/bookmarks")

    for response in (single, listed, bookmarks):
        assert response.status_code == 200
        assert_no_heading(response.content)
    data = body_of(single)
    assert data["deleted"] is True
    assert (data["title"], data["summary"], data["body"]) == ("", "", "")
    assert [post["title"] for post in body_of(bookmarks)] == [""]


def test_customer_pages_show_no_heading(signed_in, customer, mona, margin_post):
    carla = signed_in(customer)
    set_bookmark(person=customer, post=margin_post, active=True)
    delete_post(actor=mona, post=margin_post, reason="internal pricing")

    for url in (
        f"/posts/{margin_post.pk}/",
        "/communities/customer-corner/",
        "/posts/bookmarks/",
        "/posts/blogs/",
        "/",
        "/tags/pricing/",
    ):
        response = carla.get(url)
        assert response.status_code in (200, 404), url
        assert_no_heading(response.content)


def test_deleted_post_cannot_be_bookmarked(signed_in, outsider, open_post, sales_rep):
    delete_post(actor=sales_rep, post=open_post)
    otto = signed_in(outsider)

    response = otto.put(f"{API}/posts/{open_post.pk}/bookmark")

    assert response.status_code == 422
    assert body_of(response) == {
        "detail": f"Post {open_post.pk} was deleted, so it cannot be bookmarked."
    }
    assert not Bookmark.objects.exists()


def test_old_bookmark_can_be_removed(signed_in, outsider, open_post, sales_rep):
    set_bookmark(person=outsider, post=open_post, active=True)
    delete_post(actor=sales_rep, post=open_post)

    response = signed_in(outsider).delete(f"{API}/posts/{open_post.pk}/bookmark")

    assert response.status_code == 200
    assert body_of(response)["bookmarked"] is False
    assert not Bookmark.objects.exists()


def test_bookmark_button_names_deletion(signed_in, outsider, open_post, sales_rep):
    delete_post(actor=sales_rep, post=open_post)

    response = signed_in(outsider).post(
        f"/posts/{open_post.pk}/bookmark/", {"active": "1"}, follow=True
    )

    assert f"Post {open_post.pk} was deleted, so it cannot be bookmarked." in (
        response.content.decode()
    )
    assert not Bookmark.objects.exists()


def test_activity_hides_deleted_post_title(
    client: Client, signed_in, outsider, sales_rep, payments_community
):
    from social.services.comments import post_comment

    post = publish_post(
        author=sales_rep,
        community=payments_community,
        kind=Post.Kind.BLOG,
        title="Wombattitle deleted",
        summary="wombatsummary",
        body="Text",
    )
    post_comment(author=outsider, post=post, body="A reply")
    delete_post(actor=sales_rep, post=post)

    response = signed_in(sales_rep).get(f"/people/{outsider.username}/")

    assert b"Wombattitle" not in response.content
    assert b"wombatsummary" not in response.content
