"""Mentions notify people who can see the post, once, within the limits."""

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from accounts.models import Role
from conftest import make_person
from notifications.models import Notification
from social.models import Mention, Post
from social.services import edit_comment, edit_post, post_comment, publish_post

pytestmark = pytest.mark.django_db


def mentioned_usernames() -> set[str]:
    rows = Notification.objects.filter(kind=Notification.Kind.MENTIONED)
    return set(rows.values_list("recipient__username", flat=True))


def test_mention_notifies_once(sales_rep, outsider, payments_community):
    post = publish_post(
        author=sales_rep, community=payments_community, body="@otto and @OTTO, look"
    )
    notification = Notification.objects.get(kind=Notification.Kind.MENTIONED)
    assert notification.recipient == outsider
    assert notification.subject_key == f"post:{post.pk}"
    assert notification.url == f"/posts/{post.pk}/"
    assert notification.message == ("Sally Tester mentioned you in a post in Payments.")


def test_mention_skips_people_who_cannot_see(
    facilitator, member, outsider, customer, private_community
):
    publish_post(
        author=facilitator,
        community=private_community,
        body="@mia @otto @carla see the price list",
    )
    assert mentioned_usernames() == {"mia"}


def test_customer_only_notified_in_customer_space(
    sales_rep, customer, payments_community, customer_community
):
    publish_post(author=sales_rep, community=payments_community, body="@carla hi")
    assert mentioned_usernames() == set()
    publish_post(author=sales_rep, community=customer_community, body="@carla hi")
    assert mentioned_usernames() == {"carla"}


def test_mentions_in_code_and_quotes_do_not_notify(
    sales_rep, outsider, super_user, payments_community
):
    body = "```java\n@otto\n@Override\n```\nand `@petra` inline\n\n> @otto said @all\n"
    publish_post(author=sales_rep, community=payments_community, body=body)
    assert mentioned_usernames() == set()
    assert Mention.objects.count() == 0


def test_email_and_url_are_not_mentions(sales_rep, outsider, payments_community):
    publish_post(
        author=sales_rep,
        community=payments_community,
        body="write to otto@example.com or https://social.example.com/@otto/1",
    )
    assert mentioned_usernames() == set()


def test_author_is_not_notified_of_own_mention(sales_rep, payments_community):
    publish_post(author=sales_rep, community=payments_community, body="@sally me")
    assert mentioned_usernames() == set()


def test_edit_notifies_only_newly_mentioned(
    sales_rep, outsider, super_user, payments_community
):
    post = publish_post(author=sales_rep, community=payments_community, body="@otto")
    Notification.objects.update(read_at="2026-01-01T00:00:00Z")
    edit_post(editor=sales_rep, post=post, body="@otto and @petra")

    rows = Notification.objects.filter(kind=Notification.Kind.MENTIONED)
    assert rows.count() == 2
    assert rows.filter(recipient=outsider, read_at__isnull=False).count() == 1
    assert rows.filter(recipient=super_user, read_at__isnull=True).count() == 1


def test_comment_edit_notifies_only_newly_mentioned(
    sales_rep, outsider, super_user, open_post
):
    comment = post_comment(author=sales_rep, post=open_post, body="@otto")
    edit_comment(editor=sales_rep, comment=comment, body="@otto @petra")
    edit_comment(editor=sales_rep, comment=comment, body="@otto @petra again")

    keys = Notification.objects.filter(kind=Notification.Kind.MENTIONED).values_list(
        "recipient__username", "subject_key"
    )
    assert sorted(keys) == [
        ("otto", f"comment:{comment.pk}"),
        ("petra", f"comment:{comment.pk}"),
    ]


@override_settings(SOCIAL_MAX_MENTIONS=3)
def test_mention_cap_is_inclusive(sales_rep, payments_community):
    for name in ["ann", "ben", "cid", "dee"]:
        make_person(name, Role.SALES_REP, group="sales")

    publish_post(author=sales_rep, community=payments_community, body="@ann @ben @cid")
    with pytest.raises(ValidationError) as error:
        publish_post(
            author=sales_rep,
            community=payments_community,
            body="@ann @ben @cid @dee",
        )
    assert error.value.messages == [
        "The post mentions 4 people; the limit is 3. Mention fewer people, or "
        "post in a community they belong to."
    ]
    assert Post.objects.count() == 1
    assert mentioned_usernames() == {"ann", "ben", "cid"}


@override_settings(SOCIAL_MAX_MENTIONS=2)
def test_unknown_names_do_not_count_toward_cap(sales_rep, payments_community):
    make_person("ann", Role.SALES_REP, group="sales")
    publish_post(
        author=sales_rep,
        community=payments_community,
        body="@ann @nobody @ghost @somebody",
    )
    assert mentioned_usernames() == {"ann"}


@override_settings(SOCIAL_MAX_MENTIONS=2)
def test_comment_mention_cap(sales_rep, outsider, super_user, facilitator, open_post):
    with pytest.raises(ValidationError) as error:
        post_comment(author=sales_rep, post=open_post, body="@otto @petra @fran")
    assert error.value.messages == [
        "The comment mentions 3 people; the limit is 2. Mention fewer people, or "
        "post in a community they belong to."
    ]


@override_settings(SOCIAL_MENTION_RATE_LIMIT=2, SOCIAL_MENTION_RATE_WINDOW_MINUTES=60)
def test_rate_limit_per_author(
    sales_rep, outsider, super_user, facilitator, payments_community
):
    publish_post(author=sales_rep, community=payments_community, body="@otto")
    publish_post(author=sales_rep, community=payments_community, body="@petra")
    with pytest.raises(ValidationError) as error:
        publish_post(author=sales_rep, community=payments_community, body="@fran")
    assert error.value.messages == [
        "You have mentioned 2 people in the last 60 minutes and this would add 1; "
        "the limit is 2. Wait before mentioning more people, or remove some "
        "mentions."
    ]
    assert Post.objects.count() == 2

    publish_post(author=facilitator, community=payments_community, body="@otto")
    assert Notification.objects.filter(recipient=outsider).count() == 2


def test_quoted_mention_in_reply_does_not_notify(
    sales_rep, outsider, super_user, open_post
):
    post_comment(author=sales_rep, post=open_post, body="> @otto wrote @all\n\nagreed")
    assert mentioned_usernames() == set()
