"""The cached part of a post card never shows stale or hidden content.

Each test first renders a page so the card is in the cache, changes the
post (or who may see it), and reads the page again. ``member`` belongs to
the private pricing community; ``outsider`` belongs to nothing.
"""

import pytest
from django.core.cache import cache

from communities.models import Community
from social.models import Follow, Post
from social.services import delete_post, edit_post, publish_post
from social.services.shares import share_post
from social.templatetags.social_cards import _card_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader(signed_in, outsider, sales_rep):
    Follow.objects.create(follower=outsider, person=sales_rep)
    return signed_in(outsider)


def home(client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    page: str = response.content.decode()
    return page


def test_card_is_cached_after_a_page(reader, open_post):
    assert "Short-pay tip" in home(reader)

    shown = Post.objects.select_related("community").get(pk=open_post.pk)
    key = _card_key(shown, shown.author_name, show_community=True, full=False)
    head, meta = cache.get(key)
    assert "Short-pay tip" in head
    assert shown.author_name in meta


def test_edited_post_shows_new_text(reader, sales_rep, open_post):
    assert "Short-pay tip" in home(reader)

    edit_post(editor=sales_rep, post=open_post, body="Short-pay rule, revised")

    page = home(reader)
    assert "Short-pay rule, revised" in page
    assert "Short-pay tip" not in page
    assert " · edited" in page


def test_deleted_post_shows_tombstone(reader, sales_rep, open_post):
    permalink = f"/posts/{open_post.pk}/"
    assert "Short-pay tip" in home(reader)
    assert "Short-pay tip" in reader.get(permalink).content.decode()

    delete_post(actor=sales_rep, post=open_post)

    assert "Short-pay tip" not in home(reader)
    page = reader.get(permalink).content.decode()
    assert "Short-pay tip" not in page
    assert 'data-testid="post-tombstone"' in page


def test_post_moved_to_private_space_leaves_outsider_page(
    reader, signed_in, member, open_post, private_community
):
    assert "Short-pay tip" in home(reader)
    Follow.objects.create(follower=member, person=open_post.author)
    assert open_post.community.name in home(signed_in(member))

    open_post.community = private_community
    open_post.save(update_fields=["community"])

    assert "Short-pay tip" not in home(reader)
    member_page = home(signed_in(member))
    assert "Short-pay tip" in member_page
    assert private_community.name in member_page


def test_renamed_community_and_author_show_new_names(reader, open_post):
    assert "Short-pay tip" in home(reader)

    Community.objects.filter(pk=open_post.community_id).update(name="Cash desk")
    Post.objects.filter(pk=open_post.pk).update(author_name="Sally Renamed")

    page = home(reader)
    assert "Cash desk" in page
    assert "Sally Renamed" in page


def test_quote_hidden_from_reader_whatever_was_cached(
    signed_in, outsider, member, sales_rep, open_post, private_community
):
    """A share's quote is read per reader, never from the cached card."""
    second = Community.objects.create(slug="floor", name="Floor")
    share = share_post(actor=sales_rep, original=open_post, community=second)
    open_post.community = private_community
    open_post.save(update_fields=["community"])
    for person in (member, outsider):
        Follow.objects.create(follower=person, person=sales_rep)

    member_page = home(signed_in(member))
    assert f'id="post-{share.pk}"' in member_page
    assert "Short-pay tip" in member_page

    outsider_page = home(signed_in(outsider))
    assert f'id="post-{share.pk}"' in outsider_page
    assert "Short-pay tip" not in outsider_page
    assert 'data-testid="quote-hidden"' in outsider_page


def test_key_changes_with_every_shown_value(open_post, private_community):
    post = Post.objects.select_related("community").get(pk=open_post.pk)
    first = _card_key(post, "Sam Seller", show_community=True, full=False)

    changes = {
        "body_html": "<p>new</p>",
        "title": "A title",
        "summary": "A summary",
        "author_name": "Someone else",
        "kind": Post.Kind.BLOG,
    }
    for name, value in changes.items():
        changed = Post.objects.select_related("community").get(pk=open_post.pk)
        setattr(changed, name, value)
        key = _card_key(changed, "Sam Seller", show_community=True, full=False)
        assert key != first, name

    moved = Post.objects.select_related("community").get(pk=open_post.pk)
    moved.community = private_community
    assert _card_key(moved, "Sam Seller", show_community=True, full=False) != first
    assert _card_key(post, "Sam Seller", show_community=False, full=False) != first
    assert _card_key(post, "Sam Seller", show_community=True, full=True) != first
    role = _card_key(post, "Sales representative", show_community=True, full=False)
    assert role != first


def test_new_post_reaches_page_with_cached_cards(reader, sales_rep, open_post):
    home(reader)
    newer = publish_post(
        author=sales_rep, community=open_post.community, body="Second tip"
    )

    page = home(reader)
    assert f'id="post-{newer.pk}"' in page
    assert "Second tip" in page
