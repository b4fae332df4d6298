"""Who may act on a question and its answers, through the pages and forged posts.

Sally asks in Payments and Petra, the payments super-user, answers. Only
Sally or a moderator (Mo) accepts the answer or withdraws its acceptance.
Petra, who wrote it, may do neither, whatever her other rights.
"""

import pytest
from django.core.exceptions import PermissionDenied

from answers.models import Answer, AnswerVote, Question
from answers.services import (
    accept_answer,
    close_as_duplicate,
    create_question,
    post_answer,
    unaccept_answer,
)
from core.models import AuditEvent

pytestmark = pytest.mark.django_db

OWN_ANSWER_MESSAGE = (
    "You wrote this answer, so only the asker or a moderator who did not write "
    "it can accept it or withdraw its acceptance."
)
ACCEPT_MESSAGE = (
    "Only the asker or a moderator of this community can accept an answer or "
    "withdraw its acceptance."
)


@pytest.fixture
def answer(payments_question, super_user) -> Answer:
    posted: Answer = post_answer(
        author=super_user, question=payments_question, body="Write it off below 1 %."
    )
    return posted


@pytest.fixture
def accepted(answer: Answer, sales_rep) -> Answer:
    accept_answer(actor=sales_rep, answer=answer)
    return answer


def accepted_id(question: Question) -> int | None:
    question.refresh_from_db()
    return question.accepted_answer_id


def page(client, question: Question) -> str:
    response = client.get(f"/questions/{question.pk}/")
    assert response.status_code == 200
    html: str = response.content.decode()
    return html


class TestWithdrawAcceptance:
    def test_answer_author_cannot_withdraw_in_service(self, accepted, super_user):
        with pytest.raises(PermissionDenied, match="You wrote this answer"):
            unaccept_answer(actor=super_user, question=accepted.question)

        assert accepted_id(accepted.question) == accepted.pk

    def test_answer_author_forged_post_is_403(self, accepted, super_user, signed_in):
        question = accepted.question
        response = signed_in(super_user).post(f"/questions/{question.pk}/unaccept/")

        assert response.status_code == 403
        assert OWN_ANSWER_MESSAGE in response.content.decode()
        assert accepted_id(question) == accepted.pk
        assert not AuditEvent.objects.filter(action="answer.unaccepted").exists()

    def test_answer_author_sees_no_withdraw_button(
        self, accepted, super_user, signed_in
    ):
        html = page(signed_in(super_user), accepted.question)

        assert "Withdraw the acceptance" not in html

    def test_facilitator_forged_post_is_403(self, accepted, facilitator, signed_in):
        question = accepted.question
        client = signed_in(facilitator)

        assert "Withdraw the acceptance" not in page(client, question)
        response = client.post(f"/questions/{question.pk}/unaccept/")
        assert response.status_code == 403
        assert ACCEPT_MESSAGE in response.content.decode()
        assert accepted_id(question) == accepted.pk

    def test_asker_withdraws_through_the_page(self, accepted, sales_rep, signed_in):
        question = accepted.question
        client = signed_in(sales_rep)

        assert "Withdraw the acceptance" in page(client, question)
        response = client.post(f"/questions/{question.pk}/unaccept/")
        assert response.status_code == 302
        assert accepted_id(question) is None

    def test_moderator_withdraws_through_the_page(self, accepted, moderator, signed_in):
        question = accepted.question
        client = signed_in(moderator)

        assert "Withdraw the acceptance" in page(client, question)
        response = client.post(f"/questions/{question.pk}/unaccept/")
        assert response.status_code == 302
        assert accepted_id(question) is None


class TestAccept:
    def test_facilitator_forged_post_is_403(self, answer, signed_in, facilitator):
        # Fran, a facilitator, neither asked nor moderates Payments.
        client = signed_in(facilitator)

        assert "Accept this answer" not in page(client, answer.question)
        response = client.post(f"/questions/answers/{answer.pk}/accept/")
        assert response.status_code == 403
        assert ACCEPT_MESSAGE in response.content.decode()
        assert accepted_id(answer.question) is None

    def test_answer_author_forged_post_is_403(self, answer, super_user, signed_in):
        response = signed_in(super_user).post(f"/questions/answers/{answer.pk}/accept/")

        assert response.status_code == 403
        assert OWN_ANSWER_MESSAGE in response.content.decode()
        assert accepted_id(answer.question) is None

    def test_moderator_accepts(self, answer, moderator, signed_in):
        client = signed_in(moderator)

        assert "Accept this answer" in page(client, answer.question)
        response = client.post(f"/questions/answers/{answer.pk}/accept/")
        assert response.status_code == 302
        assert accepted_id(answer.question) == answer.pk

    def test_moderator_cannot_accept_own_answer(self, payments_question, moderator):
        own = post_answer(author=moderator, question=payments_question, body="Mine.")

        with pytest.raises(PermissionDenied, match="You wrote this answer"):
            accept_answer(actor=moderator, answer=own)
        assert accepted_id(payments_question) is None


class TestOtherActions:
    def test_edit_by_another_person_is_403(
        self, answer, sales_rep, moderator, signed_in
    ):
        for person in (sales_rep, moderator):
            client = signed_in(person)
            assert f"/questions/answers/{answer.pk}/edit/" not in page(
                client, answer.question
            )
            response = client.post(
                f"/questions/answers/{answer.pk}/edit/", {"body": "Changed."}
            )
            assert response.status_code == 403
            assert "Only the author of an answer can edit it." in (
                response.content.decode()
            )
        answer.refresh_from_db()
        assert answer.body == "Write it off below 1 %."

    def test_delete_by_the_asker_is_403(self, answer, sales_rep, signed_in):
        client = signed_in(sales_rep)

        assert f"/questions/answers/{answer.pk}/delete/" not in page(
            client, answer.question
        )
        response = client.post(f"/questions/answers/{answer.pk}/delete/")
        assert response.status_code == 403
        assert "Only the author or a moderator of this community" in (
            response.content.decode()
        )
        answer.refresh_from_db()
        assert not answer.is_deleted

    def test_close_by_an_answerer_is_403(
        self, payments_question, outsider, sales_rep, payments_community, signed_in
    ):
        original = create_question(
            author=sales_rep, community=payments_community, title="Write off?"
        )
        post_answer(author=outsider, question=payments_question, body="Dispute it.")
        client = signed_in(outsider)

        assert 'data-testid="close-form"' not in page(client, payments_question)
        response = client.post(
            f"/questions/{payments_question.pk}/close/", {"original": original.pk}
        )
        assert response.status_code == 403
        assert "can close a question as a duplicate" in response.content.decode()
        payments_question.refresh_from_db()
        assert payments_question.duplicate_of_id is None

    def test_reopen_by_an_answerer_is_403(
        self, payments_question, outsider, sales_rep, payments_community, signed_in
    ):
        original = create_question(
            author=sales_rep, community=payments_community, title="Write off?"
        )
        close_as_duplicate(
            actor=sales_rep, question=payments_question, original_id=original.pk
        )
        client = signed_in(outsider)

        assert "Reopen" not in page(client, payments_question)
        response = client.post(f"/questions/{payments_question.pk}/reopen/")
        assert response.status_code == 403
        assert "can reopen a question" in response.content.decode()
        payments_question.refresh_from_db()
        assert payments_question.duplicate_of_id == original.pk

    def test_vote_on_own_answer_is_403(self, answer, super_user, signed_in):
        client = signed_in(super_user)

        assert 'data-testid="vote-up"' not in page(client, answer.question)
        response = client.post(
            f"/questions/answers/{answer.pk}/vote/",
            {"value": "1"},
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 403
        assert "You wrote this answer, so you cannot vote on it." in (
            response.content.decode()
        )
        assert not AnswerVote.objects.exists()
