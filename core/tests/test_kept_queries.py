"""Kept queries: compiled once, run with new values, rows as the ORM reads them."""

from datetime import datetime
from typing import Any

import pytest
from django.db.models import Q, QuerySet

from accounts.models import User
from core.queries import KeptQuery, fetch_kept

pytestmark = pytest.mark.django_db


def _named(pk: int, username: object) -> QuerySet[Any]:
    return (
        User.objects.filter(Q(pk=pk) | Q(username=str(username)))
        .order_by("pk")
        .values_list("pk", "username", "date_joined")
    )


def _by_pk(pk: int) -> QuerySet[Any]:
    return User.objects.filter(pk=pk).values_list("username")


def _literal_percent(pk: int) -> QuerySet[Any]:
    return User.objects.filter(pk=pk).extra(where=["username <> '%s'"])


def test_each_value_takes_its_stand_ins_places():
    ada = User.objects.create_user("ada", password="x")
    bob = User.objects.create_user("bob", password="x")
    query = KeptQuery.of(_named, arity=2)
    (rows,) = fetch_kept([(query, [ada.pk, "bob"])])
    assert [(pk, name) for pk, name, _ in rows] == [(ada.pk, "ada"), (bob.pk, "bob")]
    (rows,) = fetch_kept([(query, [bob.pk, "nobody"])])
    assert [(pk, name) for pk, name, _ in rows] == [(bob.pk, "bob")]


def test_rows_are_converted_as_the_orm_converts_them():
    ada = User.objects.create_user("ada", password="x")
    (rows,) = fetch_kept([(KeptQuery.of(_named, arity=2), [ada.pk, "ada"])])
    # SQLite returns the time as text; the ORM's converter makes it a datetime.
    assert isinstance(rows[0][2], datetime)
    assert rows[0][2] == ada.date_joined


def test_statement_is_compiled_once_per_build_and_arity():
    assert KeptQuery.of(_by_pk) is KeptQuery.of(_by_pk)
    assert KeptQuery.of(_named, arity=2) is not KeptQuery.of(_by_pk)


def test_queries_run_together_in_the_order_given(django_assert_num_queries):
    ada = User.objects.create_user("ada", password="x")
    bob = User.objects.create_user("bob", password="x")
    with django_assert_num_queries(2):
        first, second = fetch_kept(
            [(KeptQuery.of(_by_pk), [bob.pk]), (KeptQuery.of(_by_pk), [ada.pk])]
        )
    assert (first, second) == ([("bob",)], [("ada",)])


def test_literal_percent_s_rejected():
    with pytest.raises(ValueError, match="literal %s"):
        KeptQuery.of(_literal_percent)
