"""Sending the same comment twice in a few seconds makes one comment.

Comments follow the post rule (SOCIAL_DUPLICATE_POST_SECONDS). The race
tests start their writers together on a barrier, each on its own database
connection: on PostgreSQL the lock on the post's row makes the later writers
wait for the first commit and then find its comment.
"""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from notifications.models import Notification
from social.models import Comment, Post
from social.services import delete_comment, post_comment
from social.tests.test_duplicate_posts import run_together


def comment_count(post: Post) -> int:
    post.refresh_from_db()
    return post.comment_count


@pytest.mark.django_db
def test_second_comment_returns_first(outsider, open_post):
    first = post_comment(author=outsider, post=open_post, body="Agreed")
    notices = Notification.objects.count()
    again = post_comment(author=outsider, post=open_post, body="Agreed")

    assert again.pk == first.pk
    assert Comment.objects.count() == 1
    assert comment_count(open_post) == 1
    assert Notification.objects.count() == notices


@pytest.mark.django_db
def test_other_text_author_or_parent_is_new(outsider, sales_rep, open_post):
    top = post_comment(author=outsider, post=open_post, body="Agreed")
    post_comment(author=outsider, post=open_post, body="Agreed, twice")
    post_comment(author=sales_rep, post=open_post, body="Agreed")
    reply = post_comment(author=outsider, post=open_post, body="Agreed", parent=top)

    assert reply.pk != top.pk
    assert Comment.objects.count() == 4


@pytest.mark.django_db
def test_same_comment_after_window_is_new(outsider, open_post, settings):
    settings.SOCIAL_DUPLICATE_POST_SECONDS = 30
    first = post_comment(author=outsider, post=open_post, body="Agreed")
    Comment.objects.filter(pk=first.pk).update(
        created_at=timezone.now() - timedelta(seconds=31)
    )
    second = post_comment(author=outsider, post=open_post, body="Agreed")

    assert second.pk != first.pk
    assert comment_count(open_post) == 2


@pytest.mark.django_db
def test_zero_window_allows_copies(outsider, open_post, settings):
    settings.SOCIAL_DUPLICATE_POST_SECONDS = 0
    post_comment(author=outsider, post=open_post, body="Agreed")
    post_comment(author=outsider, post=open_post, body="Agreed")

    assert Comment.objects.count() == 2


@pytest.mark.django_db
def test_same_comment_after_delete_is_new(outsider, open_post):
    first = post_comment(author=outsider, post=open_post, body="Agreed")
    delete_comment(actor=outsider, comment=first)
    second = post_comment(author=outsider, post=open_post, body="Agreed")

    assert second.pk != first.pk


@pytest.mark.django_db
def test_api_sent_twice_answers_first_comment(outsider, open_post, signed_in):
    client = signed_in(outsider)
    url = f"/api/social/posts/{open_post.pk}/comments"

    answers = [
        client.post(url, json.dumps({"body": "seq"}), content_type="application/json")
        for _ in range(2)
    ]

    assert [answer.status_code for answer in answers] == [201, 201]
    assert answers[0].json()["id"] == answers[1].json()["id"]
    assert Comment.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_page_comments_make_one(outsider, open_post):
    def submit() -> int:
        client = Client()
        client.force_login(outsider)
        response = client.post(
            f"/posts/{open_post.pk}/comments/new/", {"body": "Clicked"}
        )
        return response.status_code

    statuses = run_together(5, submit)

    assert statuses == [302] * 5
    assert Comment.objects.filter(body="Clicked").count() == 1
    assert comment_count(open_post) == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_api_comments_make_one(outsider, open_post):
    def submit() -> int:
        client = Client()
        client.force_login(outsider)
        response = client.post(
            f"/api/social/posts/{open_post.pk}/comments",
            json.dumps({"body": "Sent five times"}),
            content_type="application/json",
        )
        return response.status_code

    statuses = run_together(5, submit)

    assert statuses == [201] * 5
    assert Comment.objects.filter(body="Sent five times").count() == 1
