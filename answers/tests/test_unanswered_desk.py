"""The unanswered desk of a CRM function: overdue questions, then younger ones."""

import datetime

import pytest
from django.test import override_settings
from django.utils import timezone

from answers.models import Question
from answers.services import create_question, post_answer

pytestmark = pytest.mark.django_db

DESK = "/questions/functions/payments/unanswered/"


def _ask(author, community, title: str, *, hours_ago: float) -> Question:
    question = create_question(author=author, community=community, title=title)
    Question.objects.filter(pk=question.pk).update(
        created_at=timezone.now() - datetime.timedelta(hours=hours_ago)
    )
    return question


def test_empty_desk_states_the_threshold(
    signed_in, sales_rep, super_user, payments_community
):
    _ask(sales_rep, payments_community, "Fresh one", hours_ago=1)
    html = signed_in(super_user).get(DESK).content.decode()
    assert "Every question has an answer." not in html
    assert "No question has waited more than 24 hours without an answer." in html


@override_settings(ANSWERS_UNANSWERED_AFTER_HOURS=2)
def test_threshold_text_follows_setting(
    signed_in, sales_rep, super_user, payments_community
):
    html = signed_in(super_user).get(DESK).content.decode()
    assert "No question has waited more than 2 hours without an answer." in html
    assert "Waiting less than 2 hours" in html


def test_younger_questions_listed_below(
    signed_in, sales_rep, super_user, payments_community
):
    old = _ask(sales_rep, payments_community, "Old one", hours_ago=30)
    fresh = _ask(sales_rep, payments_community, "Fresh one", hours_ago=1)
    fresher = _ask(sales_rep, payments_community, "Fresher one", hours_ago=0.5)
    answered = _ask(sales_rep, payments_community, "Answered one", hours_ago=1)
    post_answer(author=super_user, question=answered, body="Done.")

    response = signed_in(super_user).get(DESK)
    html = response.content.decode()
    assert [q.pk for q in response.context["page"]] == [old.pk]
    assert [q.pk for q in response.context["recent"]] == [fresh.pk, fresher.pk]
    assert "Waiting less than 24 hours" in html
    assert "Answered one" not in html


def test_younger_list_hides_other_functions(
    signed_in, sales_rep, super_user, payments_community, private_community
):
    _ask(sales_rep, payments_community, "Fresh one", hours_ago=1)
    other = create_question(
        author=sales_rep, community=private_community, title="Hidden floor price"
    )
    response = signed_in(super_user).get(DESK)
    assert other.pk not in [q.pk for q in response.context["recent"]]
    assert "Hidden floor price" not in response.content.decode()
