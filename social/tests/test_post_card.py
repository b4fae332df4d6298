"""The post card that feeds, tag pages, community pages and permalinks share.

The card is written in Python (``social.templatetags.social_cards``), so
these tests pin what the template used to guarantee: names are escaped,
the links point at the right routes, and each kind of post shows its parts.
Named people: ``sales_rep`` (Sally, the author) and ``facilitator`` (Fran).
"""

import pytest
from django.urls import reverse

from communities.models import Community, Membership
from social.models import Post
from social.services import delete_post, edit_post, publish_post

pytestmark = pytest.mark.django_db


def _card(page: str, post: Post) -> str:
    start = page.index(f'id="post-{post.pk}"')
    return page[start : page.index("</article>", start)]


def test_byline_names_escaped(signed_in, sales_rep):
    sales_rep.first_name = "<script>alert(1)</script>"
    sales_rep.save()
    community = Community.objects.create(
        name="Cash & <b>credit</b>", slug="cash-credit", created_by=sales_rep
    )
    Membership.objects.create(community=community, person=sales_rep)
    post = publish_post(author=sales_rep, community=community, body="Tip")

    card = _card(signed_in(sales_rep).get("/").content.decode(), post)

    assert "<script>" not in card
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Tester" in card
    assert (
        '<a href="/communities/cash-credit/">Cash &amp; &lt;b&gt;credit&lt;/b&gt;</a>'
        in card
    )


def test_card_links_use_post_routes(signed_in, sales_rep, open_post):
    card = _card(signed_in(sales_rep).get("/").content.decode(), open_post)

    detail = reverse("posts:post_detail", args=[open_post.pk])
    assert f'<a href="{detail}#comments">0 comments</a>' in card
    assert (
        f'<a href="{reverse("posts:post_share", args=[open_post.pk])}">Share</a>'
        in card
    )
    assert f'action="{reverse("posts:reaction_set", args=[open_post.pk])}"' in card
    assert '<div class="prose"><p>Short-pay tip</p>\n</div>' in card


def test_edited_post_marked(signed_in, sales_rep, open_post):
    edit_post(editor=sales_rep, post=open_post, body="Short-pay tip, fixed")

    card = _card(signed_in(sales_rep).get("/").content.decode(), open_post)

    assert " · edited" in card


def test_deleted_post_shows_tombstone(signed_in, sales_rep, open_post):
    delete_post(actor=sales_rep, post=open_post)

    page = signed_in(sales_rep).get(f"/posts/{open_post.pk}/").content.decode()
    card = _card(page, open_post)

    assert 'data-testid="post-tombstone">This post was deleted.</p>' in card
    assert "Sally" not in card
    assert ">Share</a>" not in card


def test_blog_card_list_and_page(signed_in, sales_rep, payments_community):
    blog = publish_post(
        author=sales_rep,
        community=payments_community,
        kind=Post.Kind.BLOG,
        title="Settling short payments",
        summary="Three checks before a write-off.",
        body="The long text.",
    )
    client = signed_in(sales_rep)

    in_feed = _card(client.get("/").content.decode(), blog)
    on_page = _card(client.get(f"/posts/{blog.pk}/").content.decode(), blog)

    assert "Settling short payments</a></h2>" in in_feed
    assert "Three checks before a write-off." in in_feed
    assert "The long text." not in in_feed
    assert '<h1 class="post-title">Settling short payments</h1>' in on_page
    assert "The long text." in on_page
