"""Closing duplicate questions into their original."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import Role
from answers.models import Question
from answers.services import (
    close_as_duplicate,
    create_question,
    post_answer,
    post_question_comment,
    reopen_question,
)
from communities.models import Membership
from conftest import make_person
from core.models import AuditEvent
from notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def original(sales_rep, payments_community):
    return create_question(
        author=sales_rep, community=payments_community, title="Short payment write-off?"
    )


@pytest.fixture
def repeat(outsider, payments_community):
    return create_question(
        author=outsider, community=payments_community, title="Write off a short pay?"
    )


def test_asker_closes_own_question(repeat, original, outsider):
    closed = close_as_duplicate(
        actor=outsider, question=repeat, original_id=original.pk
    )
    assert closed.duplicate_of == original
    assert closed.closed_by == outsider
    event = AuditEvent.objects.get(action="question.closed_as_duplicate")
    assert event.after == {
        "duplicate_of": original.pk,
        "moved_duplicates": [],
        "reopened_duplicates": [],
    }


def test_super_user_and_moderator_may_close(repeat, original, super_user, moderator):
    close_as_duplicate(actor=super_user, question=repeat, original_id=original.pk)
    reopen_question(actor=moderator, question=repeat)
    close_as_duplicate(actor=moderator, question=repeat, original_id=original.pk)
    repeat.refresh_from_db()
    assert repeat.duplicate_of == original


def test_asker_is_notified_with_link_to_original(
    repeat, original, super_user, outsider
):
    close_as_duplicate(actor=super_user, question=repeat, original_id=original.pk)
    note = Notification.objects.get(recipient=outsider, kind="question_closed")
    assert note.url == f"/questions/{original.pk}/"


def test_other_employee_may_not_close(repeat, original, member):
    with pytest.raises(PermissionDenied, match="can close a question as a duplicate"):
        close_as_duplicate(actor=member, question=repeat, original_id=original.pk)
    repeat.refresh_from_db()
    assert repeat.duplicate_of is None


def test_original_hidden_from_closer_is_rejected(
    repeat, private_community, facilitator, super_user
):
    hidden = create_question(
        author=facilitator, community=private_community, title="Floor price?"
    )
    with pytest.raises(
        ValidationError, match=f"No question {hidden.pk} found among those you can see"
    ):
        close_as_duplicate(actor=super_user, question=repeat, original_id=hidden.pk)


def test_missing_original_reads_like_hidden(repeat, super_user):
    with pytest.raises(ValidationError, match="No question 999999 found"):
        close_as_duplicate(actor=super_user, question=repeat, original_id=999999)


def test_original_hidden_from_asker_is_rejected(
    private_community, facilitator, outsider, payments_community
):

    Membership.objects.create(community=private_community, person=outsider)
    hidden = create_question(
        author=outsider, community=private_community, title="Floor price?"
    )
    Membership.objects.filter(person=outsider).delete()
    public = create_question(
        author=outsider, community=payments_community, title="Floor price again?"
    )
    with pytest.raises(ValidationError, match="The asker of this question cannot see"):
        close_as_duplicate(actor=facilitator, question=public, original_id=hidden.pk)


def test_no_self_duplicate(original, sales_rep):
    with pytest.raises(ValidationError, match="cannot be a duplicate of itself"):
        close_as_duplicate(actor=sales_rep, question=original, original_id=original.pk)


def test_no_chain_into_a_duplicate(
    repeat, original, sales_rep, outsider, payments_community
):
    close_as_duplicate(actor=outsider, question=repeat, original_id=original.pk)
    third = create_question(
        author=sales_rep, community=payments_community, title="Short pay again"
    )
    with pytest.raises(ValidationError, match=f"Question {repeat.pk} is itself closed"):
        close_as_duplicate(actor=sales_rep, question=third, original_id=repeat.pk)


def test_no_cycle_when_closing_original_back(repeat, original, sales_rep, outsider):
    close_as_duplicate(actor=outsider, question=repeat, original_id=original.pk)
    with pytest.raises(ValidationError, match="is itself closed as a duplicate"):
        close_as_duplicate(actor=sales_rep, question=original, original_id=repeat.pk)


def test_closing_an_original_moves_its_duplicates(
    repeat, original, sales_rep, outsider, payments_community
):
    close_as_duplicate(actor=outsider, question=repeat, original_id=original.pk)
    root = create_question(
        author=outsider, community=payments_community, title="Write-offs explained"
    )
    close_as_duplicate(actor=sales_rep, question=original, original_id=root.pk)
    pointing = dict(
        Question.objects.filter(duplicate_of__isnull=False).values_list(
            "pk", "duplicate_of_id"
        )
    )
    assert pointing == {repeat.pk: root.pk, original.pk: root.pk}


def test_closed_question_takes_no_new_answers(repeat, original, outsider, super_user):
    post_answer(author=super_user, question=repeat, body="Kept.")
    close_as_duplicate(actor=outsider, question=repeat, original_id=original.pk)
    with pytest.raises(ValidationError, match="answer there"):
        post_answer(author=super_user, question=repeat, body="Late.")
    assert repeat.answers.count() == 1


def test_closed_question_takes_no_new_comments(repeat, original, outsider, sales_rep):
    close_as_duplicate(actor=outsider, question=repeat, original_id=original.pk)
    with pytest.raises(ValidationError, match="comment there"):
        post_question_comment(author=sales_rep, question=repeat, body="Me too.")


def test_reopen_restores_question(repeat, original, outsider):
    close_as_duplicate(actor=outsider, question=repeat, original_id=original.pk)
    reopen_question(actor=outsider, question=repeat)
    repeat.refresh_from_db()
    assert repeat.duplicate_of is None
    assert repeat.closed_at is None
    assert AuditEvent.objects.filter(action="question.reopened").count() == 1


class TestPages:
    def test_duplicate_page_links_original_and_keeps_answers(
        self, signed_in, repeat, original, outsider, super_user
    ):
        post_answer(author=super_user, question=repeat, body="Still readable.")
        close_as_duplicate(actor=outsider, question=repeat, original_id=original.pk)
        response = signed_in(outsider).get(f"/questions/{repeat.pk}/")
        html = response.content.decode()
        assert response.status_code == 200
        assert (
            f'<a href="/questions/{original.pk}/" data-testid="original-link">'
            "Short payment write-off?</a>"
        ) in html
        assert "Still readable." in html
        assert "Post answer" not in html

    def test_original_lists_visible_duplicates(
        self, signed_in, repeat, original, outsider
    ):
        close_as_duplicate(actor=outsider, question=repeat, original_id=original.pk)
        html = signed_in(outsider).get(f"/questions/{original.pk}/").content.decode()
        assert "Asked before as" in html
        assert f'href="/questions/{repeat.pk}/">Write off a short pay?</a>' in html

    def test_close_form_accepts_an_address(self, signed_in, repeat, original, outsider):
        response = signed_in(outsider).post(
            f"/questions/{repeat.pk}/close/",
            {"original": f"http://127.0.0.1:8000/questions/{original.pk}/#answer-3"},
        )
        assert response.status_code == 302
        repeat.refresh_from_db()
        assert repeat.duplicate_of == original

    def test_close_form_rejects_arabic_indic_number(
        self, signed_in, repeat, original, outsider
    ):
        arabic = "".join(chr(0x0660 + int(digit)) for digit in str(original.pk))
        response = signed_in(outsider).post(
            f"/questions/{repeat.pk}/close/", {"original": arabic}
        )
        assert response.status_code == 422
        assert "is not a question number or address" in response.content.decode()
        repeat.refresh_from_db()
        assert repeat.duplicate_of is None

    def test_close_form_rejects_garbage(self, signed_in, repeat, outsider):
        response = signed_in(outsider).post(
            f"/questions/{repeat.pk}/close/", {"original": "the other one"}
        )
        assert response.status_code == 422
        assert (
            "&#x27;the other one&#x27; is not a question number or address"
            in response.content.decode()
        )

    def test_close_of_hidden_question_is_404(
        self, signed_in, private_community, facilitator, outsider, original
    ):
        hidden = create_question(
            author=facilitator, community=private_community, title="Floor?"
        )
        response = signed_in(outsider).post(
            f"/questions/{hidden.pk}/close/", {"original": str(original.pk)}
        )
        assert response.status_code == 404

    def test_outsider_close_is_403(self, signed_in, original, repeat, member):
        response = signed_in(member).post(
            f"/questions/{repeat.pk}/close/", {"original": str(original.pk)}
        )
        assert response.status_code == 403


class TestApi:
    def test_api_names_visible_original_and_tags(
        self, signed_in, repeat, original, outsider
    ):
        close_as_duplicate(actor=outsider, question=repeat, original_id=original.pk)
        body = signed_in(outsider).get(f"/api/answers/questions/{repeat.pk}").json()
        assert body["duplicate_of"] == original.pk
        assert body["tags"] == []

    def test_api_hides_original_the_reader_cannot_open(
        self, signed_in, private_community, member, payments_community, facilitator
    ):
        hidden = create_question(
            author=member, community=private_community, title="Floor price?"
        )
        public = create_question(
            author=member, community=payments_community, title="Floor price again?"
        )
        close_as_duplicate(actor=member, question=public, original_id=hidden.pk)

        reader = make_person("rita", Role.SALES_REP)
        body = signed_in(reader).get(f"/api/answers/questions/{public.pk}").json()
        assert body["duplicate_of"] is None


class TestMovedDuplicateHiddenOriginal:
    """Closing an original moves its duplicates only where their askers may follow."""

    @pytest.fixture
    def setup(self, outsider, sales_rep, member, payments_community, private_community):
        original = create_question(
            author=member, community=payments_community, title="Floor price rules?"
        )
        hidden_from_outsider = create_question(
            author=outsider, community=payments_community, title="Floor price, again?"
        )
        seen_by_all = create_question(
            author=sales_rep, community=payments_community, title="Floor price how?"
        )
        Membership.objects.create(community=private_community, person=sales_rep)
        for asker, duplicate in (
            (outsider, hidden_from_outsider),
            (sales_rep, seen_by_all),
        ):
            close_as_duplicate(actor=asker, question=duplicate, original_id=original.pk)
        root = create_question(
            author=member, community=private_community, title="Chai floor price"
        )
        close_as_duplicate(actor=member, question=original, original_id=root.pk)
        return original, hidden_from_outsider, seen_by_all, root

    def test_duplicate_asker_cannot_open_is_reopened(self, setup):
        original, reopened, moved, root = setup
        reopened.refresh_from_db()
        moved.refresh_from_db()
        original.refresh_from_db()
        assert reopened.duplicate_of_id is None
        assert reopened.closed_at is None
        assert reopened.closed_by_id is None
        assert moved.duplicate_of_id == root.pk
        assert original.duplicate_of_id == root.pk

    def test_asker_is_told_without_naming_original(self, setup, outsider):
        _, reopened, _, root = setup
        notice = Notification.objects.get(
            recipient=outsider, kind=Notification.Kind.QUESTION_REOPENED
        )
        assert notice.message == (
            "Your question is open again, because the question it was closed "
            "into was closed into one you cannot open: Floor price, again?"
        )
        assert notice.url == f"/questions/{reopened.pk}/"
        assert root.title not in notice.message

    def test_audit_records_the_reason(self, setup, member):
        original, reopened, moved, root = setup
        event = AuditEvent.objects.get(
            action="question.reopened", object_id=str(reopened.pk)
        )
        assert event.actor == member
        assert event.before == {"duplicate_of": original.pk}
        assert event.reason == (
            f"question {original.pk} was closed into question {root.pk}, "
            "which the asker cannot open"
        )
        closed = AuditEvent.objects.get(
            action="question.closed_as_duplicate", object_id=str(original.pk)
        )
        assert closed.after["moved_duplicates"] == [moved.pk]
        assert closed.after["reopened_duplicates"] == [reopened.pk]

    def test_reopened_question_page_links_nothing_hidden(
        self, setup, signed_in, outsider
    ):
        _, reopened, _, root = setup
        page = signed_in(outsider).get(f"/questions/{reopened.pk}/")
        assert page.status_code == 200
        assert page.context["page"].question.is_duplicate is False
        assert page.context["page"].original is None
        assert f"/questions/{root.pk}/".encode() not in page.content
        assert root.title.encode() not in page.content

    def test_customer_duplicate_is_reopened(
        self, customer, facilitator, customer_community, payments_community
    ):
        original = create_question(
            author=facilitator, community=customer_community, title="Late statement?"
        )
        repeat = create_question(
            author=customer, community=customer_community, title="Statement is late"
        )
        close_as_duplicate(actor=customer, question=repeat, original_id=original.pk)
        internal = create_question(
            author=facilitator, community=payments_community, title="Statement runs"
        )
        close_as_duplicate(
            actor=facilitator, question=original, original_id=internal.pk
        )
        repeat.refresh_from_db()
        assert repeat.duplicate_of_id is None
        assert Notification.objects.filter(
            recipient=customer, kind=Notification.Kind.QUESTION_REOPENED
        ).exists()
