"""The index follows committed writes: create, edit, delete, rollback, reindex.

These tests commit for real (``transactional_db``), because the index is
written after the outermost transaction commits.
"""

import logging

import pytest
from django.core.management import call_command
from django.db import transaction

from answers.models import FaqEntry
from search.models import SearchEntry
from search.tests.conftest import found
from social.services import delete_post, edit_post, publish_post


def test_published_post_is_found_after_commit(
    transactional_db, sales_rep, payments_community
):
    post = publish_post(
        author=sales_rep, community=payments_community, body="Ibexword tip"
    )
    assert found(sales_rep, "ibexword") == [("post", post.pk)]


def test_nothing_is_indexed_before_commit(sales_rep, payments_community):
    publish_post(author=sales_rep, community=payments_community, body="Yakword tip")
    assert SearchEntry.objects.filter(kind="post").count() == 0


def test_rolled_back_post_is_never_indexed(
    transactional_db, sales_rep, payments_community
):
    with pytest.raises(RuntimeError), transaction.atomic():
        publish_post(author=sales_rep, community=payments_community, body="Gnuword")
        raise RuntimeError("roll back")
    assert SearchEntry.objects.filter(kind="post").count() == 0


def test_edit_replaces_indexed_text(transactional_db, sales_rep, payments_community):
    post = publish_post(
        author=sales_rep, community=payments_community, body="Old okapiword"
    )
    edit_post(editor=sales_rep, post=post, body="New tapirword")
    assert found(sales_rep, "okapiword") == []
    assert found(sales_rep, "tapirword") == [("post", post.pk)]


def test_deleted_post_is_never_found(transactional_db, sales_rep, payments_community):
    post = publish_post(
        author=sales_rep, community=payments_community, body="Dingoword tip"
    )
    assert found(sales_rep, "dingoword") == [("post", post.pk)]
    delete_post(actor=sales_rep, post=post)
    assert found(sales_rep, "dingoword") == []
    assert not SearchEntry.objects.filter(kind="post", object_id=post.pk).exists()


def test_removed_row_leaves_the_index(transactional_db, outsider):
    entry = FaqEntry.objects.create(
        question="Where is the lynxword form?", answer="Here.", answer_html="Here."
    )
    assert found(outsider, "lynxword") == [("faq", entry.pk)]
    entry.delete()
    assert found(outsider, "lynxword") == []


def test_one_task_per_transaction(
    transactional_db, sales_rep, payments_community, caplog
):
    caplog.set_level(logging.DEBUG, logger="search.indexing")
    publish_post(author=sales_rep, community=payments_community, body="#a #b")
    # The post's save, its hashtag signals and the audit event share one task.
    runs = [r.getMessage() for r in caplog.records if r.name == "search.indexing"]
    assert runs == ["search.reindexed count=1"]


def test_reindex_command_rebuilds_everything(content, outsider):
    SearchEntry.objects.all().delete()
    call_command("reindex")
    assert found(outsider, "remittance") == [("post", content["open_post"].pk)]


def test_reindex_command_rejects_unknown_source(db):
    from django.core.management import CommandError

    with pytest.raises(CommandError) as error:
        call_command("reindex", "posts")
    assert str(error.value) == (
        "Unknown source 'posts': use one of post, comment, question, answer, "
        "question_comment, faq, library, community, person."
    )
