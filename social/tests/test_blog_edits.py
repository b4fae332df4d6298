"""Editing a blog post's title, summary and text, by service and through the page.

Named people: ``sales_rep`` (Sally, the author), ``facilitator`` (Fran, a
learning facilitator who did not write the post) and ``customer`` (Carla).
"""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.models import AuditEvent
from social.models import Post, PostRevision
from social.services import edit_post, publish_post
from social.services.posts import MAX_TITLE_LENGTH

pytestmark = pytest.mark.django_db


@pytest.fixture
def blog(sales_rep, payments_community) -> Post:
    return publish_post(
        author=sales_rep,
        community=payments_community,
        kind=Post.Kind.BLOG,
        title="Settling short payments",
        summary="Three checks before a write-off.",
        body="Check the #remittance first.",
    )


def test_heading_edit_keeps_history(sales_rep, blog):
    edit_post(
        editor=sales_rep,
        post=blog,
        title="  Settling   short payments, revised ",
        summary="Four checks now.",
        body="Check the #remittance and the #credit notes.",
    )

    blog.refresh_from_db()
    assert blog.title == "Settling short payments, revised"
    assert blog.summary == "Four checks now."
    assert sorted(blog.hashtags.values_list("name", flat=True)) == [
        "credit",
        "remittance",
    ]
    revision = PostRevision.objects.get(post=blog)
    assert (revision.title, revision.summary, revision.body) == (
        "Settling short payments",
        "Three checks before a write-off.",
        "Check the #remittance first.",
    )
    event = AuditEvent.objects.get(action="post.edited")
    assert event.before["title"] == "Settling short payments"
    assert event.after["title"] == "Settling short payments, revised"
    assert event.after["summary"] == "Four checks now."


def test_heading_left_out_is_kept(sales_rep, blog):
    edit_post(editor=sales_rep, post=blog, body="Only the text changes.")

    blog.refresh_from_db()
    assert blog.title == "Settling short payments"
    assert blog.summary == "Three checks before a write-off."
    assert blog.body == "Only the text changes."


def test_unchanged_edit_writes_nothing(sales_rep, blog):
    edit_post(
        editor=sales_rep,
        post=blog,
        title="Settling short payments",
        summary="Three checks before a write-off.",
        body="Check the #remittance first.",
    )

    assert PostRevision.objects.count() == 0
    assert not AuditEvent.objects.filter(action="post.edited").exists()


def test_empty_title_rejected(sales_rep, blog):
    with pytest.raises(ValidationError) as caught:
        edit_post(editor=sales_rep, post=blog, title=" ", body="New text.")

    assert caught.value.messages == ["The blog post has no title: give it one."]
    blog.refresh_from_db()
    assert blog.body == "Check the #remittance first."
    assert PostRevision.objects.count() == 0


def test_long_title_names_length(sales_rep, blog):
    with pytest.raises(ValidationError) as caught:
        edit_post(
            editor=sales_rep,
            post=blog,
            title="t" * (MAX_TITLE_LENGTH + 1),
            body="New text.",
        )

    assert caught.value.messages == [
        f"The title has {MAX_TITLE_LENGTH + 1} characters; shorten it to "
        f"{MAX_TITLE_LENGTH} or fewer."
    ]


def test_short_post_takes_no_title(sales_rep, open_post):
    with pytest.raises(ValidationError) as caught:
        edit_post(editor=sales_rep, post=open_post, title="A title", body="text")

    assert caught.value.messages == [
        "A short post has no title or summary: publish it as a blog post to give "
        "it one."
    ]


def test_only_author_edits_heading(facilitator, blog):
    with pytest.raises(PermissionDenied):
        edit_post(editor=facilitator, post=blog, title="Taken over", body="text")

    blog.refresh_from_db()
    assert blog.title == "Settling short payments"


def test_edit_page_shows_heading(signed_in, sales_rep, blog):
    response = signed_in(sales_rep).get(f"/posts/{blog.pk}/edit/")

    assert response.status_code == 200
    page = response.content.decode()
    assert 'value="Settling short payments"' in page
    assert ">Three checks before a write-off.</textarea>" in page


def test_edit_page_saves_heading(signed_in, sales_rep, blog):
    response = signed_in(sales_rep).post(
        f"/posts/{blog.pk}/edit/",
        {"title": "Short payments", "summary": "", "body": "New text."},
    )

    assert response.status_code == 302
    blog.refresh_from_db()
    assert (blog.title, blog.summary, blog.body) == ("Short payments", "", "New text.")
    history = signed_in(sales_rep).get(f"/posts/{blog.pk}/history/").content.decode()
    assert '<h2 data-testid="revision-title">Settling short payments</h2>' in history


def test_edit_page_keeps_rejected_input(signed_in, sales_rep, blog):
    response = signed_in(sales_rep).post(
        f"/posts/{blog.pk}/edit/",
        {"title": "", "summary": "Kept summary", "body": "Typed text."},
    )

    assert response.status_code == 422
    page = response.content.decode()
    assert "The title is empty: write at least one word." in page
    assert ">Kept summary</textarea>" in page
    assert ">Typed text.</textarea>" in page
    blog.refresh_from_db()
    assert blog.title == "Settling short payments"


def test_short_post_edit_page_untitled(signed_in, sales_rep, open_post):
    page = signed_in(sales_rep).get(f"/posts/{open_post.pk}/edit/").content.decode()

    assert 'name="title"' not in page
    assert 'name="body"' in page


def test_customer_edit_page_not_found(signed_in, customer, blog):
    response = signed_in(customer).get(f"/posts/{blog.pk}/edit/")

    assert response.status_code == 404
