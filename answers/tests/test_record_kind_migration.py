"""Migration 0011 marks the existing record numbers as orders' and keeps them.

It also rebuilds the question table on SQLite, so the accepted-score
triggers of migration 0007 must work after it, in both directions.
"""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.models import Role
from answers.models import Answer, Question
from communities.models import Community
from conftest import make_person

BEFORE_KIND = ("answers", "0010_faq_entry_held_index")


def migrate_to(target: tuple[str, str] | None) -> None:
    """Migrate to ``target``, or every app to its latest migration for None."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = [target] if target else executor.loader.graph.leaf_nodes()
    executor.migrate(targets)


def accepted_score(question: Question) -> int | None:
    return Question.objects.values_list("accepted_score", flat=True).get(pk=question.pk)


@pytest.mark.django_db(transaction=True)
def test_migration_keeps_order_numbers():
    author = make_person("sally", Role.SALES_REP, group="sales")
    space = Community.objects.create(slug="payments", name="Payments")
    on_order = Question.objects.create(
        community=space,
        author=author,
        author_name="Sally",
        title="Short payment on 10250?",
        record_kind="order",
        record_ref="10250",
    )
    on_screen = Question.objects.create(
        community=space, author=author, author_name="Sally", title="How?"
    )
    answer = Answer.objects.create(
        question=on_order, author=author, author_name="Sally", body="Yes.", score=2
    )
    Question.objects.filter(pk=on_order.pk).update(accepted_answer=answer)

    try:
        migrate_to(BEFORE_KIND)
        Answer.objects.filter(pk=answer.pk).update(score=3)
        score_before = accepted_score(on_order)
    finally:
        migrate_to(None)

    assert score_before == 3
    stored = dict(Question.objects.values_list("pk", "record_kind"))
    assert stored == {on_order.pk: "order", on_screen.pk: ""}
    assert Question.objects.get(pk=on_order.pk).record_ref == "10250"
    Answer.objects.filter(pk=answer.pk).update(score=5)
    assert accepted_score(on_order) == 5
