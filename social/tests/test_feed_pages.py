"""The home page, its "load more" partial, the new-post poll and read marks."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from social.feed import home_feed
from social.models import AnnouncementRead, Follow, Post
from social.services import publish_post

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def announcement(facilitator, payments_community):
    return publish_post(
        author=facilitator,
        community=payments_community,
        kind=Post.Kind.ANNOUNCEMENT,
        title="Quarter close moves",
        body="Close the books on Friday.",
    )


def test_home_lists_followed_posts_with_bars(
    signed_in, outsider, sales_rep, payments_community
):
    post = publish_post(author=sales_rep, community=payments_community, body="Tip")
    Follow.objects.create(follower=outsider, person=sales_rep)

    response = signed_in(outsider).get("/")
    page = response.content.decode()

    assert response.status_code == 200
    assert [shown.pk for shown in response.context["feed"].posts] == [post.pk]
    assert f'id="post-bar-{post.pk}"' in page
    assert 'hx-trigger="every 30s"' in page


def test_empty_home_explains_what_to_do(signed_in, outsider):
    page = signed_in(outsider).get("/").content.decode()

    assert 'data-testid="feed-empty"' in page


def test_load_more_partial_and_plain_redirect(
    signed_in, outsider, sales_rep, payments_community
):
    posts = [
        publish_post(author=sales_rep, community=payments_community, body=f"{n}")
        for n in range(23)
    ]
    Follow.objects.create(follower=outsider, person=sales_rep)
    client = signed_in(outsider)
    first = client.get("/").context
    query = first["more_query"]

    partial = client.get(f"/posts/feed/?{query}", **HTMX)
    plain = client.get(f"/posts/feed/?{query}")

    assert partial.templates[0].name == "social/_feed_page.html"
    assert [post.pk for post in partial.context["feed"].posts] == [
        post.pk for post in reversed(posts[:3])
    ]
    assert plain.status_code == 302
    assert plain["Location"] == f"/?{query}"


def test_bad_cursor_and_sort_are_400(signed_in, outsider):
    client = signed_in(outsider)

    bad_cursor = client.get("/?cursor=xyz")
    bad_sort = client.get("/?sort=loudest")

    assert bad_cursor.status_code == 400
    assert "is not valid: reload the feed" in bad_cursor.content.decode()
    assert bad_sort.status_code == 400
    assert bad_sort.content.decode() == (
        "Unknown feed order 'loudest': use one of newest, helpful."
    )


def test_new_post_poll(signed_in, outsider, sales_rep, payments_community):
    Follow.objects.create(follower=outsider, person=sales_rep)
    client = signed_in(outsider)
    since = client.get("/").context["since"]
    publish_post(author=sales_rep, community=payments_community, body="new")

    response = client.get("/posts/feed/new/", {"since": since}, **HTMX)

    assert response.templates[0].name == "social/_feed_new.html"
    assert response.context["new_count"] == 1
    assert "1 new post</a>" in response.content.decode()
    assert client.get("/posts/feed/new/", {"since": "bad"}).status_code == 400


def test_announcement_pinned_until_marked_read(signed_in, outsider, announcement):
    client = signed_in(outsider)
    page = client.get("/").content.decode()
    assert 'data-testid="pinned-announcement"' in page
    assert "Quarter close moves" in page

    response = client.post(f"/posts/{announcement.pk}/read/", **HTMX)

    assert response.status_code == 200
    assert response.content == b""
    assert AnnouncementRead.objects.filter(person=outsider).count() == 1
    page = client.get("/").content.decode()
    assert 'data-testid="pinned-announcement"' not in page
    assert "Quarter close moves" in page


def test_hidden_announcement_cannot_be_marked(signed_in, customer, announcement):
    response = signed_in(customer).post(f"/posts/{announcement.pk}/read/")

    assert response.status_code == 404
    assert AnnouncementRead.objects.count() == 0


def test_home_query_count_does_not_grow_with_posts(
    signed_in, outsider, sales_rep, payments_community
):
    Follow.objects.create(follower=outsider, person=sales_rep)
    client = signed_in(outsider)
    counts = []
    for total in (1, 25):
        while (count := Post.objects.count()) < total:
            publish_post(
                author=sales_rep, community=payments_community, body=f"Post {count}"
            )
        with CaptureQueriesContext(connection) as queries:
            client.get("/")
        counts.append(len(queries))

    assert counts[0] == counts[1]
    assert len(home_feed(outsider, cursor=None).posts) == 20
