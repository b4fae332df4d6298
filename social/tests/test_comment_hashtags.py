"""Hashtags in comments are stored from the render and follow edits."""

import pytest
from django.core.exceptions import ValidationError

from social.models import Hashtag
from social.selectors import comments_tagged
from social.services import delete_comment, delete_post, edit_comment, post_comment

pytestmark = pytest.mark.django_db


def tags_of(comment) -> list[str]:
    return sorted(comment.hashtags.values_list("name", flat=True))


def test_comment_stores_hashtags_from_render(outsider, open_post):
    comment = post_comment(
        author=outsider,
        post=open_post,
        body="Try #ShortPay first, not `#code` or [#link](https://example.com)",
    )

    assert tags_of(comment) == ["shortpay"]
    assert Hashtag.objects.get(name="shortpay").display_name == "ShortPay"


def test_comment_reuses_existing_tag_spelling(sales_rep, outsider, open_post):
    post_comment(author=sales_rep, post=open_post, body="#Cash first")
    comment = post_comment(author=outsider, post=open_post, body="and #CASH again")

    assert tags_of(comment) == ["cash"]
    assert Hashtag.objects.get(name="cash").display_name == "Cash"


def test_edit_replaces_comment_hashtags(outsider, open_post):
    comment = post_comment(author=outsider, post=open_post, body="#cash and #bank")

    edit_comment(editor=outsider, comment=comment, body="only #credit now")

    assert tags_of(comment) == ["credit"]


def test_delete_clears_comment_hashtags(outsider, open_post):
    comment = post_comment(author=outsider, post=open_post, body="#cash")

    delete_comment(actor=outsider, comment=comment)

    assert tags_of(comment) == []


def test_comment_tag_cap_names_the_count(outsider, open_post):
    body = " ".join(f"#tag{index}x" for index in range(31))

    with pytest.raises(ValidationError) as raised:
        post_comment(author=outsider, post=open_post, body=body)

    assert raised.value.messages == [
        "The comment has 31 different hashtags; the limit is 30. Keep the ones "
        "people will search for."
    ]


def test_comments_tagged_follows_post_visibility(
    outsider, customer, member, facilitator, open_post, private_post, customer_post
):
    open_comment = post_comment(author=outsider, post=open_post, body="#cash open")
    private_comment = post_comment(
        author=facilitator, post=private_post, body="#cash private"
    )
    customer_comment = post_comment(
        author=customer, post=customer_post, body="#cash customer"
    )

    def ids(viewer) -> list[int]:
        return list(comments_tagged(viewer, "cash").values_list("pk", flat=True))

    assert ids(outsider) == [customer_comment.pk, open_comment.pk]
    assert ids(customer) == [customer_comment.pk]
    assert ids(member) == [customer_comment.pk, private_comment.pk, open_comment.pk]


def test_comments_tagged_leaves_out_deleted(outsider, open_post):
    comment = post_comment(author=outsider, post=open_post, body="#cash")
    kept = post_comment(author=outsider, post=open_post, body="#cash kept")
    delete_comment(actor=outsider, comment=comment)

    assert list(comments_tagged(outsider, "cash")) == [kept]


def test_comments_on_deleted_post_leave_tag(sales_rep, outsider, open_post):
    post_comment(author=outsider, post=open_post, body="#cash")

    delete_post(actor=sales_rep, post=open_post)

    assert list(comments_tagged(outsider, "cash")) == []
