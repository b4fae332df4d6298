"""Reactions, bookmarks and helpful marks: one row per person, set or cleared."""

import importlib
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, close_old_connections, connection, transaction

from accounts.models import Role
from conftest import make_person
from core.models import AuditEvent
from social.models import Bookmark, HelpfulMark, Post, Reaction
from social.services import delete_post, set_bookmark, set_helpful, set_reaction

pytestmark = pytest.mark.django_db


def test_reaction_set_twice_is_one_row(outsider, open_post):
    assert set_reaction(person=outsider, post=open_post, kind="like", active=True)
    assert not set_reaction(person=outsider, post=open_post, kind="like", active=True)

    assert Reaction.objects.count() == 1
    assert AuditEvent.objects.filter(action="reaction.added").count() == 1


def test_reaction_kinds_are_separate(outsider, open_post):
    set_reaction(person=outsider, post=open_post, kind="like", active=True)
    set_reaction(person=outsider, post=open_post, kind="thanks", active=True)
    assert Reaction.objects.count() == 2


def test_reaction_off_removes_row(outsider, open_post):
    set_reaction(person=outsider, post=open_post, kind="like", active=True)
    assert set_reaction(person=outsider, post=open_post, kind="like", active=False)
    assert not set_reaction(person=outsider, post=open_post, kind="like", active=False)
    assert Reaction.objects.count() == 0
    assert AuditEvent.objects.filter(action="reaction.removed").count() == 1


def test_unknown_reaction_kind_is_rejected(outsider, open_post):
    with pytest.raises(ValidationError) as error:
        set_reaction(person=outsider, post=open_post, kind="angry", active=True)
    assert error.value.messages == [
        "'angry' is not a reaction: use one of like, celebrate, insightful, thanks."
    ]


def test_database_rejects_duplicate_reaction(outsider, open_post):
    Reaction.objects.create(post=open_post, person=outsider, kind="like")
    with pytest.raises(IntegrityError), transaction.atomic():
        Reaction.objects.create(post=open_post, person=outsider, kind="like")


def test_database_rejects_unknown_kind(outsider, open_post):
    with pytest.raises(IntegrityError), transaction.atomic():
        Reaction.objects.create(post=open_post, person=outsider, kind="angry")


def test_deleted_post_takes_no_reactions(outsider, sales_rep, open_post):
    delete_post(actor=sales_rep, post=open_post)
    with pytest.raises(ValidationError) as error:
        set_reaction(person=outsider, post=open_post, kind="like", active=True)
    assert error.value.messages == ["This post was deleted, so it takes no reactions."]


def test_bookmark_is_unique_per_person(outsider, open_post):
    assert set_bookmark(person=outsider, post=open_post, active=True)
    assert not set_bookmark(person=outsider, post=open_post, active=True)
    assert Bookmark.objects.count() == 1
    assert set_bookmark(person=outsider, post=open_post, active=False)
    assert Bookmark.objects.count() == 0


def test_helpful_moves_counter_with_row(outsider, super_user, open_post):
    set_helpful(person=outsider, post=open_post, active=True)
    set_helpful(person=outsider, post=open_post, active=True)
    set_helpful(person=super_user, post=open_post, active=True)
    assert Post.objects.get(pk=open_post.pk).helpful_count == 2

    set_helpful(person=outsider, post=open_post, active=False)
    set_helpful(person=outsider, post=open_post, active=False)
    assert Post.objects.get(pk=open_post.pk).helpful_count == 1
    assert HelpfulMark.objects.count() == 1


def test_author_cannot_mark_own_post_helpful(sales_rep, open_post):
    with pytest.raises(ValidationError) as error:
        set_helpful(person=sales_rep, post=open_post, active=True)
    assert error.value.messages == ["You cannot mark your own post as helpful."]


@pytest.mark.django_db(transaction=True)
def test_concurrent_clicks_leave_one_row(outsider, open_post):
    """Eight threads set the same reaction and the same helpful mark at once."""
    # The SQLite test database is a file (see commonplace/settings_test.py),
    # so writers queue on the busy timeout as they do in the product.
    if connection.vendor == "sqlite":
        assert not connection.is_in_memory_db()
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def click() -> None:
        try:
            barrier.wait()
            set_reaction(person=outsider, post=open_post, kind="like", active=True)
            set_helpful(person=outsider, post=open_post, active=True)
        except BaseException as error:  # collected for the assert below
            errors.append(error)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Reaction.objects.filter(post=open_post).count() == 1
    assert HelpfulMark.objects.filter(post=open_post).count() == 1
    post = Post.objects.get(pk=open_post.pk)
    assert post.helpful_count == 1
    assert post.like_count == 1


def test_reaction_moves_its_counter_with_row(outsider, super_user, open_post):
    set_reaction(person=outsider, post=open_post, kind="like", active=True)
    set_reaction(person=outsider, post=open_post, kind="like", active=True)
    set_reaction(person=super_user, post=open_post, kind="like", active=True)
    set_reaction(person=super_user, post=open_post, kind="thanks", active=True)
    post = Post.objects.get(pk=open_post.pk)
    assert (post.like_count, post.thanks_count, post.celebrate_count) == (2, 1, 0)

    set_reaction(person=outsider, post=open_post, kind="like", active=False)
    set_reaction(person=outsider, post=open_post, kind="like", active=False)
    set_reaction(person=outsider, post=open_post, kind="thanks", active=False)
    post = Post.objects.get(pk=open_post.pk)
    assert (post.like_count, post.thanks_count) == (1, 1)


@pytest.mark.django_db(transaction=True)
def test_concurrent_reactions_of_many_people_keep_the_count(open_post):
    """Eight people click on, on again, off and on at once; the count ends at 8."""
    if connection.vendor == "sqlite":
        assert not connection.is_in_memory_db()
    people = [make_person(f"clicker{number}", Role.SALES_REP) for number in range(8)]
    barrier = threading.Barrier(len(people))
    errors: list[BaseException] = []

    def click(person) -> None:
        try:
            barrier.wait()
            for active in (True, True, False, True):
                set_reaction(person=person, post=open_post, kind="like", active=active)
            set_reaction(person=person, post=open_post, kind="thanks", active=True)
            set_reaction(person=person, post=open_post, kind="thanks", active=False)
        except BaseException as error:  # collected for the assert below
            errors.append(error)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=click, args=(person,)) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    post = Post.objects.get(pk=open_post.pk)
    assert post.like_count == Reaction.objects.filter(kind="like").count() == 8
    assert post.thanks_count == Reaction.objects.filter(kind="thanks").count() == 0


def test_data_migration_counts_existing_reactions(outsider, super_user, open_post):
    """Reactions written before the counters existed are counted by 0009."""
    Reaction.objects.create(post=open_post, person=outsider, kind="like")
    Reaction.objects.create(post=open_post, person=super_user, kind="like")
    Reaction.objects.create(post=open_post, person=super_user, kind="insightful")
    migration = importlib.import_module("social.migrations.0009_fill_reaction_counts")

    with connection.cursor() as cursor:
        cursor.execute(migration.FILL_COUNTS)

    post = Post.objects.get(pk=open_post.pk)
    counts = (post.like_count, post.insightful_count, post.celebrate_count)
    assert counts == (2, 1, 0)
    assert post.thanks_count == 0
