"""Each social form names its value and says what to do.

Every text field a person fills in is tried empty, with only spaces and one
character over its limit; the pages keep the typed text and save nothing.
"""

from typing import Any

import pytest

from communities.models import Community
from core.tests.form_checks import check_text_field
from social.forms import (
    CommentForm,
    HomePostForm,
    LongFormEditForm,
    LongFormPostForm,
    PostForm,
)
from social.models import Comment, Post

pytestmark = pytest.mark.django_db


def _too_long(name: str, limit: int) -> str:
    return f"{name} has {limit + 1} characters; shorten it to {limit} or fewer."


POST_EMPTY = "The post is empty: write at least one word."


def test_post_form():
    check_text_field(
        PostForm,
        {"body": "A tip."},
        "body",
        limit=5_000,
        empty=POST_EMPTY,
        too_long=_too_long("The post", 5_000),
    )


def test_home_post_form(payments_community):
    def build(data: dict[str, Any]) -> HomePostForm:
        return HomePostForm(data, communities=Community.objects.all())

    check_text_field(
        build,
        {"community": payments_community.slug, "body": "A tip."},
        "body",
        limit=5_000,
        empty=POST_EMPTY,
        too_long=_too_long("The post", 5_000),
    )


def test_comment_form():
    check_text_field(
        CommentForm,
        {"body": "Thanks."},
        "body",
        limit=5_000,
        empty="The comment is empty: write at least one word.",
        too_long=_too_long("The comment", 5_000),
    )


LONG_FORM_CASES = [
    (
        "title",
        200,
        "The title is empty: write at least one word.",
        _too_long("The title", 200),
    ),
    ("summary", 500, None, _too_long("The summary", 500)),
    (
        "body",
        50_000,
        "The text is empty: write at least one word.",
        _too_long("The text", 50_000),
    ),
]


@pytest.mark.parametrize(("field", "limit", "empty", "too_long"), LONG_FORM_CASES)
def test_long_form_edit_form(field, limit, empty, too_long):
    check_text_field(
        LongFormEditForm,
        {"title": "Short payments", "summary": "", "body": "How we settle them."},
        field,
        limit=limit,
        empty=empty,
        too_long=too_long,
    )


@pytest.mark.parametrize(("field", "limit", "empty", "too_long"), LONG_FORM_CASES)
def test_long_form_post_form(payments_community, field, limit, empty, too_long):
    def build(data: dict[str, Any]) -> LongFormPostForm:
        return LongFormPostForm(
            data, communities=Community.objects.all(), may_announce=False
        )

    check_text_field(
        build,
        {
            "kind": Post.Kind.BLOG,
            "community": payments_community.slug,
            "title": "Short payments",
            "summary": "",
            "body": "How we settle them.",
        },
        field,
        limit=limit,
        empty=empty,
        too_long=too_long,
    )


def test_home_post_form_without_community(payments_community):
    form = HomePostForm({"body": "A tip."}, communities=Community.objects.all())

    assert not form.is_valid()
    assert form.errors["community"] == ["Choose the community to post in."]


# --- The pages: nothing saved, the typed text stays ---


def test_long_community_post_keeps_the_typed_text(
    signed_in, sales_rep, payments_community
):
    typed = "Tip. " * 1_001

    response = signed_in(sales_rep).post(
        f"/communities/{payments_community.slug}/posts/", {"body": typed}
    )

    page = response.content.decode()
    assert response.status_code == 422
    assert (
        f"The post has {len(typed.strip())} characters; shorten it to 5000 or fewer."
        in page
    )
    assert f"{typed}</textarea>" in page
    assert Post.objects.count() == 0


def test_blank_comment_saves_nothing(signed_in, sales_rep, open_post):
    response = signed_in(sales_rep).post(
        f"/posts/{open_post.pk}/comments/new/", {"body": " \n "}
    )

    assert response.status_code == 422
    assert "The comment is empty: write at least one word." in response.content.decode()
    assert Comment.objects.count() == 0
