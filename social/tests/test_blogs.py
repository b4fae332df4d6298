"""Blog posts and announcements: publishing rules, the compose page and the lists.

Named people: ``sales_rep`` (Sally, a sales representative), ``facilitator``
(Fran, a learning facilitator who owns the private pricing community),
``outsider`` (Otto, in no community) and ``customer`` (Carla).
"""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import Role
from conftest import make_person
from social.models import AnnouncementRead, Post
from social.services import publish_post

pytestmark = pytest.mark.django_db


def test_blog_post_keeps_title_summary_and_tags(sales_rep, payments_community):
    post = publish_post(
        author=sales_rep,
        community=payments_community,
        kind=Post.Kind.BLOG,
        title="  Settling   short payments ",
        summary="Three checks before a write-off.",
        body="Check the #remittance first.",
    )

    assert post.kind == "blog"
    assert post.title == "Settling short payments"
    assert post.summary == "Three checks before a write-off."
    assert list(post.hashtags.values_list("name", flat=True)) == ["remittance"]


def test_blog_needs_a_title(sales_rep, payments_community):
    with pytest.raises(ValidationError) as caught:
        publish_post(
            author=sales_rep,
            community=payments_community,
            kind=Post.Kind.BLOG,
            title=" \u200b ",
            body="text",
        )
    assert caught.value.messages == ["The blog post has no title: give it one."]
    assert Post.objects.count() == 0


def test_title_and_summary_limits(sales_rep, payments_community):
    with pytest.raises(ValidationError) as caught:
        publish_post(
            author=sales_rep,
            community=payments_community,
            kind=Post.Kind.BLOG,
            title="t" * 201,
            body="text",
        )
    assert caught.value.messages == [
        "The title has 201 characters; shorten it to 200 or fewer."
    ]

    with pytest.raises(ValidationError) as caught:
        publish_post(
            author=sales_rep,
            community=payments_community,
            kind=Post.Kind.BLOG,
            title="ok",
            summary="s" * 501,
            body="text",
        )
    assert caught.value.messages == [
        "The summary has 501 characters; shorten it to 500 or fewer."
    ]


def test_blog_body_may_be_long(sales_rep, payments_community):
    post = publish_post(
        author=sales_rep,
        community=payments_community,
        kind=Post.Kind.BLOG,
        title="Long",
        body="word " * 4_000,
    )
    assert len(post.body) == 19_999

    with pytest.raises(ValidationError) as caught:
        publish_post(
            author=sales_rep,
            community=payments_community,
            kind=Post.Kind.BLOG,
            title="Too long",
            body="w" * 50_001,
        )
    assert caught.value.messages == [
        "The post has 50001 characters; shorten it to 50000 or fewer."
    ]


def test_short_post_takes_no_title(sales_rep, payments_community):
    with pytest.raises(ValidationError) as caught:
        publish_post(
            author=sales_rep, community=payments_community, title="Hi", body="x"
        )
    assert caught.value.messages == [
        "A short post has no title or summary: publish it as a blog post to "
        "give it one."
    ]


def test_unknown_kind_rejected(sales_rep, payments_community):
    with pytest.raises(ValidationError) as caught:
        publish_post(
            author=sales_rep, community=payments_community, kind="poll", body="x"
        )
    assert caught.value.messages == [
        "'poll' is not a kind of post: use one of micro, blog, announcement."
    ]


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.EXECUTIVE, True),
        (Role.FACILITATOR, True),
        (Role.MANAGER, False),
        (Role.SALES_REP, False),
        (Role.HR, False),
    ],
)
def test_who_may_announce(payments_community, role, allowed):
    author = make_person("ann", role)
    publish = {
        "author": author,
        "community": payments_community,
        "kind": Post.Kind.ANNOUNCEMENT,
        "title": "Quarter close",
        "body": "Friday.",
    }
    if allowed:
        assert publish_post(**publish).kind == "announcement"
    else:
        with pytest.raises(PermissionDenied, match="Only executives and learning"):
            publish_post(**publish)
        assert Post.objects.count() == 0


def test_compose_page_offers_announcement_to_announcers(
    signed_in, sales_rep, facilitator, payments_community
):
    seen_by_rep = signed_in(sales_rep).get("/posts/new/").content.decode()
    seen_by_facilitator = signed_in(facilitator).get("/posts/new/").content.decode()

    assert 'value="announcement"' not in seen_by_rep
    assert 'value="announcement"' in seen_by_facilitator


def test_compose_publishes_and_opens_the_permalink(
    signed_in, sales_rep, payments_community
):
    response = signed_in(sales_rep).post(
        "/posts/new/",
        {
            "kind": "blog",
            "community": "payments",
            "title": "Short pays",
            "summary": "What to check.",
            "body": "Look at #remit notes.",
        },
    )

    post = Post.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/posts/{post.pk}/"
    page = signed_in(sales_rep).get(response["Location"]).content.decode()
    assert '<h1 class="post-title">Short pays</h1>' in page
    assert "What to check." in page
    assert "<title>Short pays · Commonplace</title>" in page


def test_compose_rejects_announcement_from_sales_rep(
    signed_in, sales_rep, payments_community
):
    response = signed_in(sales_rep).post(
        "/posts/new/",
        {
            "kind": "announcement",
            "community": "payments",
            "title": "Hi all",
            "body": "x",
        },
    )

    assert response.status_code == 422
    assert (
        "Only executives and learning facilitators can publish announcements: "
        "publish it as a blog post."
    ) in response.content.decode()
    assert Post.objects.count() == 0


def test_compose_offers_only_visible_communities(
    signed_in, outsider, payments_community, private_community
):
    response = signed_in(outsider).post(
        "/posts/new/",
        {
            "kind": "blog",
            "community": "pricing-internal",
            "title": "Leak",
            "body": "x",
        },
    )

    assert response.status_code == 422
    assert "Pricing internal" not in response.content.decode()
    assert Post.objects.count() == 0


def test_blog_list_shows_visible_blogs_only(
    signed_in, outsider, facilitator, payments_community, private_community
):
    shown = publish_post(
        author=facilitator,
        community=payments_community,
        kind=Post.Kind.BLOG,
        title="Open practice",
        body="Shared with all.",
    )
    publish_post(
        author=facilitator,
        community=private_community,
        kind=Post.Kind.BLOG,
        title="Secret pricing",
        body="Price list.",
    )
    publish_post(author=facilitator, community=payments_community, body="micro")

    response = signed_in(outsider).get("/posts/blogs/")

    assert [post.pk for post in response.context["feed"].posts] == [shown.pk]
    assert "Secret pricing" not in response.content.decode()


def test_blog_list_pages_with_cursor(
    signed_in, outsider, facilitator, payments_community
):
    posts = [
        publish_post(
            author=facilitator,
            community=payments_community,
            kind=Post.Kind.BLOG,
            title=f"Blog {number}",
            body="x",
        )
        for number in range(23)
    ]
    client = signed_in(outsider)

    first = client.get("/posts/blogs/").context
    second = client.get(f"/posts/blogs/?{first['more_query']}").context

    assert len(first["feed"].posts) == 20
    assert [post.pk for post in second["feed"].posts] == [
        post.pk for post in reversed(posts[:3])
    ]
    assert second["more_query"] == ""
    assert client.get("/posts/blogs/?cursor=junk").status_code == 400


def test_opening_an_announcement_marks_it_read(
    signed_in, outsider, facilitator, payments_community
):
    announcement = publish_post(
        author=facilitator,
        community=payments_community,
        kind=Post.Kind.ANNOUNCEMENT,
        title="Close",
        body="Friday.",
    )

    signed_in(outsider).get(f"/posts/{announcement.pk}/")
    signed_in(outsider).get(f"/posts/{announcement.pk}/")

    assert AnnouncementRead.objects.filter(person=outsider).count() == 1
