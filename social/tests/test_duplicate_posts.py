"""Publishing the same post twice in a few seconds makes one post.

The race tests start their writers together on a barrier, each on its own
database connection. On PostgreSQL the lock on the author's row makes the
later writers wait for the first commit and then find its post. SQLite lets
one writer in at a time, so the later writers also find it.
"""

import threading
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.utils import timezone

from communities.models import Membership
from library.tests.conftest import PDF_BYTES, PNG_BYTES
from social.models import Post
from social.services import publish_post
from social.services.attachments import check_attachments

# Seconds to wait for one writer. Each finishes in well under a second.
WRITER_TIMEOUT = 60


def test_settings_keep_check_on(sales_rep, payments_community):
    # No override here: every test publishes with the production window.
    first = publish_post(author=sales_rep, community=payments_community, body="Hi")
    again = publish_post(author=sales_rep, community=payments_community, body="Hi")

    assert again.pk == first.pk
    assert Post.objects.count() == 1


def run_together(count: int, writer) -> list[object]:
    """Run ``writer`` in ``count`` threads at once and return their results."""
    start = threading.Barrier(count)
    results: list[object] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait()
            results.append(writer())
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WRITER_TIMEOUT)
        assert not thread.is_alive(), f"writer timed out after {WRITER_TIMEOUT} s"
    assert errors == []
    return results


@pytest.mark.django_db
def test_second_publish_returns_first(sales_rep, payments_community):
    first = publish_post(author=sales_rep, community=payments_community, body="Tip")
    second = publish_post(author=sales_rep, community=payments_community, body="Tip")

    assert second.pk == first.pk
    assert Post.objects.count() == 1


@pytest.mark.django_db
def test_different_body_is_new_post(sales_rep, payments_community):
    publish_post(author=sales_rep, community=payments_community, body="Tip")
    publish_post(author=sales_rep, community=payments_community, body="Tip 2")

    assert Post.objects.count() == 2


@pytest.mark.django_db
def test_other_author_or_community_is_new_post(
    sales_rep, facilitator, payments_community, private_community
):
    Membership.objects.create(community=private_community, person=sales_rep)
    publish_post(author=sales_rep, community=payments_community, body="Tip")
    publish_post(author=facilitator, community=payments_community, body="Tip")
    publish_post(author=sales_rep, community=private_community, body="Tip")

    assert Post.objects.count() == 3


@pytest.mark.django_db
def test_same_body_after_window_is_new(sales_rep, payments_community, settings):
    settings.SOCIAL_DUPLICATE_POST_SECONDS = 30
    first = publish_post(author=sales_rep, community=payments_community, body="Tip")
    Post.objects.filter(pk=first.pk).update(
        created_at=timezone.now() - timedelta(seconds=31)
    )
    second = publish_post(author=sales_rep, community=payments_community, body="Tip")

    assert second.pk != first.pk
    assert Post.objects.count() == 2


@pytest.mark.django_db
def test_zero_window_allows_copies(sales_rep, payments_community, settings):
    settings.SOCIAL_DUPLICATE_POST_SECONDS = 0
    publish_post(author=sales_rep, community=payments_community, body="Tip")
    publish_post(author=sales_rep, community=payments_community, body="Tip")

    assert Post.objects.count() == 2


@pytest.mark.django_db
def test_same_body_after_delete_is_new(sales_rep, payments_community):
    first = publish_post(author=sales_rep, community=payments_community, body="Tip")
    Post.objects.filter(pk=first.pk).update(deleted_at=timezone.now())
    second = publish_post(author=sales_rep, community=payments_community, body="Tip")

    assert second.pk != first.pk


@pytest.mark.django_db
def test_other_attachment_is_new_post(
    sales_rep, payments_community, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)

    def publish(name: str, content: bytes) -> Post:
        upload = SimpleUploadedFile(name, content)
        return publish_post(
            author=sales_rep,
            community=payments_community,
            body="See the attached.",
            attachments=check_attachments([upload]),
        )

    first = publish("scan.png", PNG_BYTES)
    again = publish("scan.png", PNG_BYTES)
    other = publish("note.pdf", PDF_BYTES)

    assert again.pk == first.pk
    assert other.pk != first.pk
    assert first.attachments.count() == 1
    assert Post.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_parallel_publishes_make_one_post(sales_rep, payments_community):
    def publish() -> int:
        post = publish_post(
            author=sales_rep, community=payments_community, body="Once only"
        )
        return post.pk

    post_ids = run_together(3, publish)

    assert len(set(post_ids)) == 1
    assert Post.objects.filter(body="Once only").count() == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_form_posts_make_one_post(sales_rep, payments_community):
    def submit() -> int:
        client = Client()
        client.force_login(sales_rep)
        response = client.post(
            f"/communities/{payments_community.slug}/posts/", {"body": "Clicked"}
        )
        return response.status_code

    statuses = run_together(3, submit)

    assert statuses == [302, 302, 302]
    assert Post.objects.filter(body="Clicked").count() == 1
