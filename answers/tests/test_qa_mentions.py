"""@mentions in questions, answers and Q&A comments follow the post rules.

``sally`` (``sales_rep``) asked in the open "Payments" community. ``otto``
(``outsider``) is an employee who may read it, ``carla`` (``customer``) is a
customer account who may not. ``mia`` (``member``) asks in the private
"Pricing internal", which ``otto`` cannot read.
"""

import pytest
from django.core.exceptions import ValidationError

from answers.models import Answer, Question, QuestionComment
from answers.services import (
    ask_question,
    edit_answer,
    post_answer,
    post_question_comment,
)
from notifications.models import Notification
from social.models import Mention

pytestmark = pytest.mark.django_db

GROUP_MESSAGE = (
    "@all-employees names a group, not a person, and group mentions are not "
    "supported, so nobody would be notified."
)


def mentions_of(person) -> list[tuple[str, str]]:
    return list(
        Notification.objects.filter(
            recipient=person, kind=Notification.Kind.MENTIONED
        ).values_list("message", "url")
    )


def test_answer_mention_notifies_a_reader(
    sales_rep, outsider, payments_question, facilitator
):
    answer = post_answer(
        author=facilitator, question=payments_question, body="@otto can confirm"
    )

    assert mentions_of(outsider) == [
        (
            "Fran Tester mentioned you in an answer in Payments.",
            f"/questions/{payments_question.pk}/#answer-{answer.pk}",
        )
    ]
    assert Mention.objects.get().subject_key == f"answer:{answer.pk}"


def test_answer_mention_skips_non_readers(customer, payments_question, facilitator):
    post_answer(
        author=facilitator, question=payments_question, body="@carla please look"
    )

    assert mentions_of(customer) == []


def test_group_mention_in_answer_rejected(payments_question, facilitator):
    with pytest.raises(ValidationError) as raised:
        post_answer(
            author=facilitator,
            question=payments_question,
            body="@all-employees please read; @otto can confirm",
        )

    assert raised.value.messages[0].startswith(GROUP_MESSAGE)
    assert not Answer.objects.exists()
    assert not Notification.objects.filter(kind=Notification.Kind.MENTIONED).exists()


def test_answer_form_shows_group_message(signed_in, facilitator, payments_question):
    response = signed_in(facilitator).post(
        f"/questions/{payments_question.pk}/answers/",
        {"body": "@all-employees please read"},
    )

    assert response.status_code == 422
    assert GROUP_MESSAGE in response.content.decode()
    assert not Answer.objects.exists()


def test_question_body_mention_notifies_a_reader(
    sales_rep, outsider, payments_community
):
    question = ask_question(
        asker=sales_rep,
        community=payments_community,
        title="Who owns the CAMT import?",
        body="@otto see this",
    )

    assert mentions_of(outsider) == [
        (
            "Sally Tester mentioned you in a question in Payments.",
            f"/questions/{question.pk}/",
        )
    ]


def test_private_question_mention_stays_inside(member, outsider, private_community):
    ask_question(
        asker=member,
        community=private_community,
        title="What is the floor price for chai?",
        body="@otto do you know?",
    )

    assert mentions_of(outsider) == []


def test_group_mention_in_question_rejected(sales_rep, payments_community):
    with pytest.raises(ValidationError) as raised:
        ask_question(
            asker=sales_rep,
            community=payments_community,
            title="Who owns the CAMT import?",
            body="@all-employees see this",
        )

    assert raised.value.messages[0].startswith(GROUP_MESSAGE)
    assert not Question.objects.exists()


def test_comment_mention_notifies_asker_once(
    sales_rep, outsider, payments_question, facilitator
):
    comment = post_question_comment(
        author=facilitator,
        question=payments_question,
        body="@sally @otto is this still open?",
    )

    assert mentions_of(outsider) == [
        (
            "Fran Tester mentioned you in a comment in Payments.",
            f"/questions/{payments_question.pk}/#qa-comment-{comment.pk}",
        )
    ]
    assert Notification.objects.filter(recipient=sales_rep).count() == 1


def test_comment_over_mention_cap_rejected(
    settings, sales_rep, outsider, payments_question, facilitator
):
    settings.SOCIAL_MAX_MENTIONS = 1

    with pytest.raises(ValidationError) as raised:
        post_question_comment(
            author=facilitator, question=payments_question, body="@sally @otto"
        )

    assert raised.value.messages == [
        "The comment mentions 2 people; the limit is 1. Mention fewer people, "
        "or post in a community they belong to."
    ]
    assert not QuestionComment.objects.exists()


def test_edit_notifies_only_new_people(
    sales_rep, outsider, payments_question, facilitator
):
    answer = post_answer(
        author=facilitator, question=payments_question, body="@otto can confirm"
    )

    edit_answer(editor=facilitator, answer=answer, body="@otto and @sally can confirm")

    assert len(mentions_of(outsider)) == 1
    assert len(mentions_of(sales_rep)) == 1


def test_qa_mentions_share_rate_limit(
    settings, sales_rep, outsider, payments_question, facilitator
):
    settings.SOCIAL_MENTION_RATE_LIMIT = 1
    post_answer(author=facilitator, question=payments_question, body="@otto see")

    with pytest.raises(ValidationError) as raised:
        post_question_comment(
            author=facilitator, question=payments_question, body="@sally see"
        )

    assert "the limit is 1" in raised.value.messages[0]
    assert not QuestionComment.objects.exists()
