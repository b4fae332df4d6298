"""The accepted answer's score copied to its question by database triggers.

The help panel orders answered questions by ``Question.accepted_score``, so
the copy must follow every way the score or the acceptance changes.
"""

import pytest

from accounts.models import Role
from answers.models import Answer, Question
from answers.selectors import visible_questions, visible_questions_outside_private
from answers.services import (
    accept_answer,
    create_question,
    post_answer,
    set_vote,
    unaccept_answer,
)
from answers.services.answering import delete_answer
from communities.models import Community
from conftest import make_person

pytestmark = pytest.mark.django_db


def copied_score(question: Question) -> int | None:
    return Question.objects.values_list("accepted_score", flat=True).get(pk=question.pk)


def test_accepted_score_follows_acceptance_and_votes(
    payments_question, super_user, sales_rep, outsider
):
    answer = post_answer(author=super_user, question=payments_question, body="Yes.")
    other = post_answer(author=outsider, question=payments_question, body="No.")
    set_vote(person=sales_rep, answer=answer, value=1)
    assert copied_score(payments_question) is None

    accept_answer(actor=sales_rep, answer=answer)
    assert copied_score(payments_question) == 1

    set_vote(person=outsider, answer=answer, value=1)
    set_vote(person=sales_rep, answer=other, value=-1)
    assert copied_score(payments_question) == 2

    accept_answer(actor=sales_rep, answer=other)
    assert copied_score(payments_question) == -1

    unaccept_answer(actor=sales_rep, question=payments_question)
    assert copied_score(payments_question) is None


def test_accepted_score_follows_signal_free_writes(payments_question, super_user):
    answer = post_answer(author=super_user, question=payments_question, body="Yes.")
    Question.objects.filter(pk=payments_question.pk).update(accepted_answer=answer)
    Answer.objects.filter(pk=answer.pk).update(score=7)
    assert copied_score(payments_question) == 7

    # A full save writes the stale value the instance holds; the trigger
    # puts the copy right again.
    payments_question.refresh_from_db()
    payments_question.accepted_score = 99
    payments_question.save()
    assert copied_score(payments_question) == 7


def test_accepted_answer_deleted_clears_score(
    payments_question, super_user, sales_rep, moderator
):
    answer = post_answer(author=super_user, question=payments_question, body="Yes.")
    accept_answer(actor=sales_rep, answer=answer)
    delete_answer(actor=moderator, answer=answer, reason="Wrong.")
    payments_question.refresh_from_db()
    assert payments_question.accepted_answer_id is None
    assert copied_score(payments_question) is None


def test_outside_private_matches_visible_questions(
    payments_question, private_question, customer, other_party, member, sales_rep
):
    corner = Community.objects.create(
        slug="corner", name="Corner", visibility=Community.Visibility.CUSTOMER
    )
    create_question(author=customer, community=corner, title="Where is my refund?")
    other = make_person("olga", Role.CUSTOMER, customer=other_party, group="customers")

    for viewer in (member, sales_rep, customer, other):
        expected = set(
            visible_questions(viewer)
            .exclude(community__visibility=Community.Visibility.PRIVATE)
            .values_list("pk", flat=True)
        )
        got = set(
            visible_questions_outside_private(viewer).values_list("pk", flat=True)
        )
        assert got == expected, viewer
    assert private_question.pk in visible_questions(member).values_list("pk", flat=True)
