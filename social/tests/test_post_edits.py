"""Editing and deleting posts: history, re-rendering, tombstones."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.models import AuditEvent
from social.models import Hashtag, PostRevision
from social.selectors import posts_tagged
from social.services import delete_post, edit_post

pytestmark = pytest.mark.django_db


def test_edit_keeps_history_and_rerenders(sales_rep, open_post):
    edit_post(editor=sales_rep, post=open_post, body="Short-pay tip #cash")
    edit_post(editor=sales_rep, post=open_post, body="Short-pay tip #remit")

    open_post.refresh_from_db()
    assert 'href="/tags/remit/"' in open_post.body_html
    assert open_post.edited_at is not None
    assert list(open_post.hashtags.values_list("name", flat=True)) == ["remit"]
    assert list(PostRevision.objects.values_list("body", flat=True)) == [
        "Short-pay tip #cash",
        "Short-pay tip",
    ]
    event = AuditEvent.objects.filter(action="post.edited").last()
    assert event.before == {"body": "Short-pay tip #cash"}


def test_unchanged_edit_writes_nothing(sales_rep, open_post):
    edit_post(editor=sales_rep, post=open_post, body="  Short-pay tip ")
    assert PostRevision.objects.count() == 0
    assert not AuditEvent.objects.filter(action="post.edited").exists()


def test_only_author_edits_post(outsider, open_post):
    with pytest.raises(PermissionDenied) as error:
        edit_post(editor=outsider, post=open_post, body="mine now")
    assert str(error.value) == "Only the author of a post can edit it."


def test_edit_checks_length(sales_rep, open_post):
    with pytest.raises(ValidationError) as error:
        edit_post(editor=sales_rep, post=open_post, body="x" * 5001)
    assert error.value.messages == [
        "The post has 5001 characters; shorten it to 5000 or fewer."
    ]


def test_delete_leaves_tombstone_off_tag_pages(sales_rep, outsider, payments_community):
    from social.services import publish_post

    post = publish_post(author=sales_rep, community=payments_community, body="#cash")
    delete_post(actor=sales_rep, post=post)

    post.refresh_from_db()
    assert post.is_deleted
    assert (post.body, post.body_html) == ("", "")
    assert list(posts_tagged(outsider, "cash")) == []
    assert Hashtag.objects.filter(name="cash").exists()
    assert PostRevision.objects.get(post=post).body == "#cash"


def test_deleted_post_cannot_be_edited_or_deleted_again(sales_rep, open_post):
    delete_post(actor=sales_rep, post=open_post)
    with pytest.raises(ValidationError) as error:
        edit_post(editor=sales_rep, post=open_post, body="back")
    assert error.value.messages == ["This post was deleted, so it cannot be edited."]
    with pytest.raises(ValidationError) as error:
        delete_post(actor=sales_rep, post=open_post)
    assert error.value.messages == ["This post was already deleted."]


def test_outsider_cannot_delete_post(outsider, open_post):
    with pytest.raises(PermissionDenied) as error:
        delete_post(actor=outsider, post=open_post)
    assert str(error.value) == (
        "Only the author or a moderator of this community can delete this post."
    )


def test_platform_moderator_deletes_post(open_post):
    from accounts.models import Role
    from conftest import make_person

    moderator = make_person("mona", Role.MODERATOR, group="operations")
    delete_post(actor=moderator, post=open_post, reason="off topic")
    assert AuditEvent.objects.get(action="post.deleted").reason == "off topic"
