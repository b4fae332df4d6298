"""Comments with one level of replies, their pages, edits and tombstones."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings

from core.models import AuditEvent
from notifications.models import Notification
from social.models import Comment, CommentRevision, Post
from social.selectors import comments_page, page_of_comment
from social.services import (
    delete_comment,
    delete_post,
    edit_comment,
    post_comment,
)

pytestmark = pytest.mark.django_db


def test_comment_renders_sanitized_markdown(outsider, open_post):
    comment = post_comment(
        author=outsider, post=open_post, body="**yes** [x](javascript:alert(1))"
    )
    assert "<strong>yes</strong>" in comment.body_html
    assert 'href="javascript' not in comment.body_html
    open_post.refresh_from_db()
    assert open_post.comment_count == 1


def test_reply_to_reply_attaches_to_same_parent(outsider, sales_rep, open_post):
    top = post_comment(author=outsider, post=open_post, body="top")
    reply = post_comment(author=sales_rep, post=open_post, body="r1", parent=top)
    nested = post_comment(author=outsider, post=open_post, body="r2", parent=reply)

    assert reply.parent_id == top.pk
    assert nested.parent_id == top.pk


def test_empty_comment_is_rejected(outsider, open_post):
    with pytest.raises(ValidationError) as error:
        post_comment(author=outsider, post=open_post, body=" \u200b\n")
    assert error.value.messages == ["The comment is empty: write at least one word."]
    assert Comment.objects.count() == 0


def test_long_comment_is_rejected(outsider, open_post):
    with pytest.raises(ValidationError) as error:
        post_comment(author=outsider, post=open_post, body="x" * 5001)
    assert error.value.messages == [
        "The comment has 5001 characters; shorten it to 5000 or fewer."
    ]


def test_parent_from_other_post_is_rejected(outsider, open_post, customer_post):
    other = post_comment(author=outsider, post=open_post, body="here")
    with pytest.raises(ValidationError) as error:
        post_comment(author=outsider, post=customer_post, body="x", parent=other)
    assert error.value.messages == [
        f"Comment {other.pk} belongs to another post: reply on that post."
    ]


def test_private_community_needs_membership_to_comment(outsider, private_post):
    with pytest.raises(PermissionDenied, match="Join this community before commenting"):
        post_comment(author=outsider, post=private_post, body="hi")


def test_comment_notifies_post_and_parent_authors(
    outsider, sales_rep, super_user, open_post
):
    top = post_comment(author=super_user, post=open_post, body="top")
    reply = post_comment(author=outsider, post=open_post, body="r", parent=top)

    kinds = set(
        Notification.objects.filter(subject_key=f"comment:{reply.pk}").values_list(
            "recipient__username", "kind"
        )
    )
    assert kinds == {
        ("sally", Notification.Kind.COMMENT_POSTED),
        ("petra", Notification.Kind.REPLY_POSTED),
    }


def test_edit_keeps_revision_and_rerenders(outsider, open_post):
    comment = post_comment(author=outsider, post=open_post, body="first")
    edit_comment(editor=outsider, comment=comment, body="*second*")

    comment.refresh_from_db()
    assert comment.body_html == "<p><em>second</em></p>\n"
    assert comment.edited_at is not None
    assert list(CommentRevision.objects.values_list("body", flat=True)) == ["first"]
    assert AuditEvent.objects.filter(action="comment.edited").count() == 1


def test_only_author_edits_comment(outsider, sales_rep, open_post):
    comment = post_comment(author=outsider, post=open_post, body="mine")
    with pytest.raises(PermissionDenied, match="Only the author of a comment"):
        edit_comment(editor=sales_rep, comment=comment, body="yours")


def test_deleted_comment_keeps_replies(outsider, sales_rep, open_post):
    top = post_comment(author=outsider, post=open_post, body="top")
    reply = post_comment(author=sales_rep, post=open_post, body="reply", parent=top)
    delete_comment(actor=outsider, comment=top)

    top.refresh_from_db()
    assert top.is_deleted
    assert top.body == ""
    assert list(top.replies.all()) == [reply]
    with pytest.raises(ValidationError) as error:
        post_comment(author=sales_rep, post=open_post, body="more", parent=reply)
    assert error.value.messages == [
        "This comment was deleted, so it takes no new replies."
    ]


def test_outsider_cannot_delete_others_comment(outsider, sales_rep, open_post):
    comment = post_comment(author=sales_rep, post=open_post, body="mine")
    with pytest.raises(PermissionDenied) as error:
        delete_comment(actor=outsider, comment=comment)
    assert str(error.value) == (
        "Only the author or a moderator of this community can delete this comment."
    )


def test_community_moderator_deletes_comment(member, moderator, private_post):
    comment = post_comment(author=member, post=private_post, body="oops")
    delete_comment(actor=moderator, comment=comment)
    comment.refresh_from_db()
    assert comment.is_deleted


def test_deleted_post_takes_no_comments(sales_rep, outsider, open_post):
    post_comment(author=outsider, post=open_post, body="before")
    delete_post(actor=sales_rep, post=open_post)

    with pytest.raises(ValidationError) as error:
        post_comment(author=outsider, post=open_post, body="after")
    assert error.value.messages == [
        "This post was deleted, so it takes no new comments."
    ]
    assert Comment.objects.filter(post=open_post).count() == 1


@override_settings(SOCIAL_COMMENTS_PAGE_SIZE=3)
def test_pages_keep_replies_after_their_parent(outsider, sales_rep, open_post):
    first = post_comment(author=outsider, post=open_post, body="a")
    second = post_comment(author=outsider, post=open_post, body="b")
    late_reply = post_comment(author=sales_rep, post=open_post, body="a1", parent=first)
    third = post_comment(author=outsider, post=open_post, body="c")
    open_post.refresh_from_db()

    page_one = [comment.pk for comment in comments_page(open_post, 1)]
    page_two = [comment.pk for comment in comments_page(open_post, 2)]

    assert page_one == [first.pk, late_reply.pk, second.pk]
    assert page_two == [third.pk]
    assert page_of_comment(late_reply) == 1
    assert page_of_comment(third) == 2


def test_comment_count_is_a_database_counter(outsider, open_post):
    for index in range(3):
        post_comment(author=outsider, post=open_post, body=f"c{index}")
    assert Post.objects.get(pk=open_post.pk).comment_count == 3
