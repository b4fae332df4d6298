"""Answers: votes, comments, edits and deletions, acceptance and its withdrawal."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import Role, SuperUserAssignment
from answers.models import Answer, AnswerRevision, AnswerVote, FaqEntry, QuestionComment
from answers.services import (
    accept_answer,
    create_question,
    delete_answer,
    delete_question_comment,
    edit_answer,
    post_answer,
    post_question_comment,
    promote_answer_to_faq,
    set_vote,
    unaccept_answer,
)
from answers.services.answering import REPEATED_ANSWER_WINDOW
from conftest import make_person
from core.models import AuditEvent
from notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def answer(payments_question, super_user):
    return post_answer(
        author=super_user, question=payments_question, body="Write it off as a fee."
    )


@pytest.fixture
def faq_entry(answer, sales_rep, facilitator):
    accept_answer(actor=sales_rep, answer=answer)
    return promote_answer_to_faq(actor=facilitator, answer=answer)


class TestVotes:
    def test_up_then_down_then_none(self, answer, outsider):
        assert set_vote(person=outsider, answer=answer, value=1) == 1
        assert set_vote(person=outsider, answer=answer, value=-1) == -1
        assert set_vote(person=outsider, answer=answer, value=0) == 0
        answer.refresh_from_db()
        assert answer.score == 0
        assert AnswerVote.objects.count() == 0

    def test_repeated_click_counts_once(self, answer, outsider, sales_rep):
        set_vote(person=outsider, answer=answer, value=1)
        set_vote(person=outsider, answer=answer, value=1)
        set_vote(person=sales_rep, answer=answer, value=1)
        answer.refresh_from_db()
        assert answer.score == 2
        assert AnswerVote.objects.filter(answer=answer).count() == 2

    def test_database_keeps_one_vote_per_person(self, answer, outsider):
        AnswerVote.objects.create(answer=answer, person=outsider, value=1)
        with pytest.raises(IntegrityError), transaction.atomic():
            AnswerVote.objects.create(answer=answer, person=outsider, value=-1)

    def test_database_rejects_other_values(self, answer, outsider):
        with pytest.raises(IntegrityError), transaction.atomic():
            AnswerVote.objects.create(answer=answer, person=outsider, value=2)

    def test_own_answer_cannot_be_voted(self, answer, super_user):
        with pytest.raises(PermissionDenied, match="You wrote this answer"):
            set_vote(person=super_user, answer=answer, value=1)

    def test_unknown_value_is_rejected(self, answer, outsider):
        with pytest.raises(ValidationError, match="5 is not a vote"):
            set_vote(person=outsider, answer=answer, value=5)

    def test_vote_records_audit_event(self, answer, outsider):
        set_vote(person=outsider, answer=answer, value=-1)
        event = AuditEvent.objects.get(action="answer.voted")
        assert (event.before, event.after) == ({"vote": 0}, {"vote": -1})

    def test_htmx_vote_returns_the_box(self, signed_in, answer, outsider):
        response = signed_in(outsider).post(
            f"/questions/answers/{answer.pk}/vote/",
            {"value": "1"},
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 200
        html = response.content.decode()
        assert '<span class="score" data-testid="score">1</span>' in html
        assert 'aria-pressed="true" data-testid="vote-up"' in html

    def test_bad_vote_value_is_named(self, signed_in, answer, outsider):
        response = signed_in(outsider).post(
            f"/questions/answers/{answer.pk}/vote/",
            {"value": "7"},
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 422
        assert "&#x27;7&#x27; is not a vote" in response.content.decode()

    def test_hidden_answer_vote_is_404(
        self, signed_in, private_question, member, outsider
    ):
        hidden = post_answer(author=member, question=private_question, body="90 %.")
        response = signed_in(outsider).post(
            f"/questions/answers/{hidden.pk}/vote/", {"value": "1"}
        )
        assert response.status_code == 404
        assert AnswerVote.objects.count() == 0


class TestComments:
    def test_comment_on_answer_notifies_its_author(self, answer, outsider, super_user):
        comment = post_question_comment(
            author=outsider,
            question=answer.question,
            answer=answer,
            body="Which account?",
        )
        assert comment.answer == answer
        note = Notification.objects.get(recipient=super_user, kind="qa_comment_posted")
        assert note.message == (
            "Otto Tester commented on your answer: How do I write off a short payment?"
        )

    def test_comment_on_other_question_answer_is_rejected(
        self, answer, outsider, sales_rep, payments_community
    ):

        other = create_question(
            author=sales_rep, community=payments_community, title="Other?"
        )
        with pytest.raises(ValidationError, match="belongs to another question"):
            post_question_comment(
                author=outsider, question=other, answer=answer, body="Hm"
            )

    def test_empty_comment_is_rejected(self, payments_question, outsider):
        with pytest.raises(ValidationError, match="The comment is empty"):
            post_question_comment(
                author=outsider, question=payments_question, body=" \u200b"
            )

    def test_only_author_or_moderator_deletes(
        self, payments_question, outsider, sales_rep, moderator
    ):
        comment = post_question_comment(
            author=outsider, question=payments_question, body="Same here."
        )
        with pytest.raises(PermissionDenied, match="Only the author or a moderator"):
            delete_question_comment(actor=sales_rep, comment=comment)
        delete_question_comment(actor=moderator, comment=comment)
        comment.refresh_from_db()
        assert comment.body == ""
        assert comment.is_deleted

    def test_comment_page_flow(self, signed_in, payments_question, outsider):
        response = signed_in(outsider).post(
            f"/questions/{payments_question.pk}/comments/", {"body": "Same here."}
        )
        comment = QuestionComment.objects.get()
        assert response["Location"] == (
            f"/questions/{payments_question.pk}/#qa-comment-{comment.pk}"
        )

    def test_comment_markup_is_sanitized(self, payments_question, outsider):
        comment = post_question_comment(
            author=outsider,
            question=payments_question,
            body="[x](javascript:alert(1)) <img src=x onerror=alert(1)>",
        )
        assert "href" not in comment.body_html
        assert "<img" not in comment.body_html
        assert "&lt;img src=x onerror=alert(1)&gt;" in comment.body_html


class TestAcceptedAnswerChanges:
    def test_edit_keeps_acceptance_and_flags_faq(
        self, answer, faq_entry, super_user, facilitator
    ):
        edit_answer(editor=super_user, answer=answer, body="Write it off below 1 %.")
        answer.question.refresh_from_db()
        faq_entry.refresh_from_db()
        assert answer.question.accepted_answer_id == answer.pk
        assert faq_entry.review_flag == "source_edited"
        assert faq_entry.answer == "Write it off as a fee."
        assert (
            AnswerRevision.objects.get(answer=answer).body == "Write it off as a fee."
        )

    def test_edit_notifies_faq_owners(self, answer, faq_entry, super_user):

        other_owner = make_person("paula", Role.FINANCE_CLERK)
        SuperUserAssignment.objects.create(
            person=other_owner, crm_function=faq_entry.crm_function
        )
        edit_answer(editor=super_user, answer=answer, body="New text.")
        note = Notification.objects.get(recipient=other_owner)
        assert note.kind == "faq_needs_review"
        assert note.url == f"/questions/faq/{faq_entry.pk}/"
        # The editor is an owner too, and is never notified of their own edit.
        assert not Notification.objects.filter(
            recipient=super_user, kind="faq_needs_review"
        ).exists()

    def test_only_author_edits(self, answer, outsider):
        with pytest.raises(PermissionDenied, match="Only the author of an answer"):
            edit_answer(editor=outsider, answer=answer, body="Mine now.")

    def test_delete_unaccepts_and_tells_asker_and_owners(
        self, answer, faq_entry, sales_rep, moderator, super_user
    ):
        delete_answer(actor=moderator, answer=answer, reason="wrong account")
        answer.refresh_from_db()
        question = answer.question
        question.refresh_from_db()
        faq_entry.refresh_from_db()

        assert answer.is_deleted
        assert answer.body == ""
        assert question.accepted_answer is None
        assert faq_entry.review_flag == "source_deleted"
        assert faq_entry.source_answer_id == answer.pk
        asker_note = Notification.objects.get(
            recipient=sales_rep, kind="answer_unaccepted"
        )
        assert asker_note.message == (
            "The accepted answer to your question was deleted: "
            "How do I write off a short payment?"
        )
        assert Notification.objects.filter(
            recipient=super_user, kind="faq_needs_review"
        ).exists()
        actions = list(
            AuditEvent.objects.filter(
                action__in=["answer.deleted", "answer.unaccepted"]
            ).values_list("action", "reason")
        )
        assert actions == [
            ("answer.deleted", "wrong account"),
            ("answer.unaccepted", "the accepted answer was deleted"),
        ]

    def test_outsider_cannot_delete(self, answer, outsider):
        with pytest.raises(PermissionDenied, match="Only the author or a moderator"):
            delete_answer(actor=outsider, answer=answer)
        answer.refresh_from_db()
        assert not answer.is_deleted

    def test_deleted_answer_cannot_be_accepted_or_voted(
        self, answer, sales_rep, outsider, super_user
    ):
        delete_answer(actor=super_user, answer=answer)
        with pytest.raises(ValidationError, match="deleted, so it cannot be accepted"):
            accept_answer(actor=sales_rep, answer=answer)
        with pytest.raises(ValidationError, match="deleted, so it takes no votes"):
            set_vote(person=outsider, answer=answer, value=1)

    def test_unaccept_by_asker_flags_faq(self, answer, faq_entry, sales_rep):
        unaccept_answer(actor=sales_rep, question=answer.question)
        answer.question.refresh_from_db()
        faq_entry.refresh_from_db()
        assert answer.question.accepted_answer is None
        assert faq_entry.review_flag == "source_unaccepted"
        event = AuditEvent.objects.get(action="answer.unaccepted")
        assert (event.before, event.after) == (
            {"accepted_answer": answer.pk},
            {"accepted_answer": None},
        )

    def test_outsider_cannot_unaccept(self, answer, faq_entry, outsider):
        with pytest.raises(PermissionDenied, match="withdraw its acceptance"):
            unaccept_answer(actor=outsider, question=answer.question)

    def test_unaccept_without_acceptance_is_named(self, payments_question, sales_rep):
        with pytest.raises(ValidationError, match="No answer to this question"):
            unaccept_answer(actor=sales_rep, question=payments_question)

    def test_customer_may_accept_own_question(
        self, customer, customer_community, facilitator
    ):

        question = create_question(
            author=customer,
            community=customer_community,
            title="Invoice copy?",
            customer=customer.customer,
        )
        answer = post_answer(author=facilitator, question=question, body="Portal.")
        accept_answer(actor=customer, answer=answer)
        question.refresh_from_db()
        assert question.accepted_answer == answer


class TestQuestionPage:
    def test_answers_come_accepted_then_by_score(
        self, signed_in, payments_question, super_user, facilitator, outsider, sales_rep
    ):
        first = post_answer(author=super_user, question=payments_question, body="One")
        second = post_answer(author=facilitator, question=payments_question, body="Two")
        third = post_answer(author=outsider, question=payments_question, body="Three")
        set_vote(person=sales_rep, answer=second, value=1)
        accept_answer(actor=sales_rep, answer=third)
        response = signed_in(sales_rep).get(f"/questions/{payments_question.pk}/")
        order = [view.answer.pk for view in response.context["page"].answers]
        assert order == [third.pk, second.pk, first.pk]

    def test_query_count_is_bounded(
        self, signed_in, payments_question, super_user, outsider
    ):
        client = signed_in(outsider)
        for number in range(3):
            post_answer(
                author=super_user, question=payments_question, body=f"A{number}"
            )
        client.get(f"/questions/{payments_question.pk}/")
        with CaptureQueriesContext(connection) as few:
            client.get(f"/questions/{payments_question.pk}/")
        for number in range(10):
            answer = post_answer(
                author=super_user, question=payments_question, body=f"B{number}"
            )
            post_question_comment(
                author=outsider, question=payments_question, answer=answer, body="ok"
            )
        with CaptureQueriesContext(connection) as many:
            client.get(f"/questions/{payments_question.pk}/")
        assert len(many) == len(few)

    def test_deleted_answer_shows_tombstone(
        self, signed_in, answer, super_user, outsider
    ):
        delete_answer(actor=super_user, answer=answer)
        html = signed_in(outsider).get(f"/questions/{answer.question_id}/").content
        assert b"This answer was deleted." in html
        assert b"Write it off as a fee." not in html

    def test_edit_page_is_403_for_others(self, signed_in, answer, outsider):
        response = signed_in(outsider).get(f"/questions/answers/{answer.pk}/edit/")
        assert response.status_code == 403
        assert b"Only the author of an answer can edit it." in response.content

    def test_edit_page_saves(self, signed_in, answer, super_user):
        response = signed_in(super_user).post(
            f"/questions/answers/{answer.pk}/edit/", {"body": "Better text."}
        )
        assert response.status_code == 302
        answer.refresh_from_db()
        assert answer.body == "Better text."
        assert answer.edited_at is not None

    def test_answer_marked_up_script_is_sanitized(self, payments_question, super_user):
        answer = post_answer(
            author=super_user,
            question=payments_question,
            body='![A](B "<C D="E" onerror=alert(1) >")',
        )
        assert "<img" not in answer.body_html
        assert (
            answer.body_html == '<p>![A](B "&lt;C D="E" onerror=alert(1) &gt;")</p>\n'
        )


def test_private_community_answer_needs_membership(private_question, outsider, member):
    with pytest.raises(
        PermissionDenied, match="Join Pricing internal before answering"
    ):
        post_answer(author=outsider, question=private_question, body="Guess")
    assert Answer.objects.count() == 0
    assert FaqEntry.objects.count() == 0


class TestRepeatedAnswer:
    def test_double_submit_posts_once(
        self, signed_in, payments_question, outsider, sales_rep
    ):
        client = signed_in(outsider)
        url = f"/questions/{payments_question.pk}/answers/"
        first = client.post(url, {"body": "Use the split dialog."})
        second = client.post(url, {"body": "Use the split dialog. "}, follow=True)
        answer = Answer.objects.get(question=payments_question)
        assert first.status_code == 302
        assert second.redirect_chain[-1][0] == (
            f"/questions/{payments_question.pk}/#answer-{answer.pk}"
        )
        assert "You posted this answer already. It is shown below." in (
            second.content.decode()
        )
        assert Notification.objects.filter(recipient=sales_rep).count() == 1

    @pytest.mark.parametrize(
        "change",
        ["other text", "other author", "first deleted", "first older"],
    )
    def test_posted_again_when_not_a_repeat(
        self, payments_question, outsider, super_user, change
    ):
        first = post_answer(
            author=outsider, question=payments_question, body="Use the dialog."
        )
        author, body = outsider, "Use the dialog."
        if change == "other text":
            body = "Use the split dialog."
        elif change == "other author":
            author = super_user
        elif change == "first deleted":
            delete_answer(actor=outsider, answer=first)
        else:
            Answer.objects.filter(pk=first.pk).update(
                created_at=first.created_at - REPEATED_ANSWER_WINDOW
            )
        second = post_answer(author=author, question=payments_question, body=body)
        assert second.pk != first.pk
        assert payments_question.answers.count() == 2
