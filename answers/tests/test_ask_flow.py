"""Ask from a CRM screen, answer, accept, promote to the FAQ, see it in the panel."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import Role
from answers.models import FaqEntry, Question
from answers.services import (
    accept_answer,
    create_question,
    post_answer,
    promote_answer_to_faq,
)
from assist.selectors import build_help_panel
from assist.services import ask_from_context
from core.models import AuditEvent
from core.testing import signed_in
from notifications.models import Notification

pytestmark = pytest.mark.django_db

SHORT_PAYMENT = "reconciliation.order.short_payment"


@pytest.fixture
def question(sales_rep, super_user, payments_community, customer_party, make_order):
    make_order("10250", customer_party)
    return ask_from_context(
        asker=sales_rep,
        context_key=SHORT_PAYMENT,
        title="Customer paid 72.60 short, write off or dispute?",
        body="Order 10250.",
        record_ref="10250",
    )


def test_question_lands_in_function_community_with_context(
    question, payments_community
):
    assert question.community == payments_community
    assert question.context.key == SHORT_PAYMENT
    assert question.record_ref == "10250"
    assert question.author_name == "Sally Tester"


def test_super_users_are_notified_once(question, super_user, sales_rep):
    notifications = Notification.objects.filter(recipient=super_user)
    assert [(n.kind, n.message, n.url) for n in notifications] == [
        (
            "question_routed",
            "Sally Tester asked on order 10250: Customer paid 72.60 short, write off or dispute?",
            f"/questions/{question.pk}/",
        )
    ]
    assert not Notification.objects.filter(recipient=sales_rep).exists()


def test_asking_records_an_audit_event(question, sales_rep):
    event = AuditEvent.objects.get(action="question.asked")
    assert event.actor == sales_rep
    assert event.object_id == str(question.pk)
    assert event.after == {"community": "payments", "context": SHORT_PAYMENT}


def test_external_question_goes_to_customer_community(
    customer, customer_community, payments_community, super_user
):
    asked = ask_from_context(
        asker=customer,
        context_key="portal.order",
        title="Where is my invoice?",
        body="",
    )
    assert asked.community == customer_community


def test_no_community_for_function_is_a_clear_error(sales_rep):
    with pytest.raises(
        LookupError, match="No open community takes questions for Payments"
    ):
        ask_from_context(
            asker=sales_rep, context_key=SHORT_PAYMENT, title="Hello?", body=""
        )
    assert Question.objects.count() == 0


def test_empty_title_is_rejected(sales_rep, payments_community):
    with pytest.raises(ValidationError, match="The question is empty"):
        ask_from_context(
            asker=sales_rep, context_key=SHORT_PAYMENT, title="   ", body=""
        )
    assert Question.objects.count() == 0


def test_full_flow_puts_answer_in_the_panel(
    question, super_user, facilitator, sales_rep
):
    answer = post_answer(
        author=super_user,
        question=question,
        body="Under 1 % is a **bank fee**: write it off. Above, open a dispute.",
    )
    accept_answer(actor=sales_rep, answer=answer)
    entry = promote_answer_to_faq(actor=facilitator, answer=answer)

    assert entry.question == question.title
    assert entry.source_answer == answer
    assert entry.crm_function.slug == "payments"
    assert entry.customer_visible is False
    assert list(entry.contexts.values_list("key", flat=True)) == [SHORT_PAYMENT]

    panel = build_help_panel(viewer=sales_rep, key=SHORT_PAYMENT)
    assert [item.pk for item in panel.faq_entries] == [entry.pk]
    assert "<strong>bank fee</strong>" in panel.faq_entries[0].answer_html


def test_asker_is_notified_of_answer_and_promotion(
    question, super_user, facilitator, sales_rep
):
    answer = post_answer(author=super_user, question=question, body="Write it off.")
    accept_answer(actor=sales_rep, answer=answer)
    promote_answer_to_faq(actor=super_user, answer=answer)

    kinds = sorted(
        Notification.objects.filter(recipient=sales_rep).values_list("kind", flat=True)
    )
    assert kinds == ["answer_posted", "faq_promoted"]
    super_user_kinds = sorted(
        Notification.objects.filter(recipient=super_user).values_list("kind", flat=True)
    )
    assert super_user_kinds == ["answer_accepted", "question_routed"]


def test_outsider_may_not_accept_or_promote(question, super_user, outsider, sales_rep):
    answer = post_answer(author=super_user, question=question, body="Write it off.")
    with pytest.raises(PermissionDenied, match="Only the asker"):
        accept_answer(actor=outsider, answer=answer)
    accept_answer(actor=sales_rep, answer=answer)
    with pytest.raises(PermissionDenied, match="Only a learning facilitator"):
        promote_answer_to_faq(actor=outsider, answer=answer)
    assert FaqEntry.objects.count() == 0


def test_asker_may_accept_but_not_promote(question, super_user, sales_rep):
    answer = post_answer(author=super_user, question=question, body="Write it off.")
    accept_answer(actor=sales_rep, answer=answer)
    with pytest.raises(PermissionDenied):
        promote_answer_to_faq(actor=sales_rep, answer=answer)


def test_unaccepted_answer_cannot_be_promoted(question, super_user, facilitator):
    answer = post_answer(author=super_user, question=question, body="Write it off.")
    with pytest.raises(ValidationError, match="Accept this answer first"):
        promote_answer_to_faq(actor=facilitator, answer=answer)


def test_answer_is_promoted_only_once(question, super_user, facilitator, sales_rep):
    answer = post_answer(author=super_user, question=question, body="Write it off.")
    accept_answer(actor=sales_rep, answer=answer)
    promote_answer_to_faq(actor=facilitator, answer=answer)
    with pytest.raises(ValidationError, match="already an FAQ entry"):
        promote_answer_to_faq(actor=facilitator, answer=answer)
    assert FaqEntry.objects.count() == 1


def test_general_customer_community_answer_is_customer_visible_faq(
    sales_rep, customer_community, facilitator
):
    asked = create_question(
        author=sales_rep, community=customer_community, title="Where are invoices?"
    )
    answer = post_answer(author=facilitator, question=asked, body="Under Invoices.")
    accept_answer(actor=sales_rep, answer=answer)
    entry = promote_answer_to_faq(actor=facilitator, answer=answer)
    assert entry.customer_visible is True


def test_customer_own_question_faq_stays_internal(
    customer, customer_community, facilitator
):
    asked = ask_from_context(
        asker=customer,
        context_key="portal.order",
        title="Where is my invoice?",
        body="",
    )
    assert asked.customer == customer.customer
    answer = post_answer(author=facilitator, question=asked, body="Under Invoices.")
    accept_answer(actor=customer, answer=answer)
    entry = promote_answer_to_faq(actor=facilitator, answer=answer)
    assert entry.customer_visible is False


def test_customer_question_is_hidden_from_other_customers(
    customer, customer_community, other_party, customer_party
):
    from conftest import make_person

    asked = ask_from_context(
        asker=customer,
        context_key="portal.order",
        title="Where is my invoice?",
        body="",
    )
    colleague = make_person("cole", Role.CUSTOMER, customer=customer_party)
    rival = make_person("rival", Role.CUSTOMER, customer=other_party)
    assert signed_in(colleague).get(f"/questions/{asked.pk}/").status_code == 200
    assert signed_in(rival).get(f"/questions/{asked.pk}/").status_code == 404


def test_private_community_answer_cannot_go_to_faq(facilitator, private_community):
    asked = create_question(
        author=facilitator, community=private_community, title="Floor?"
    )
    answer = post_answer(author=facilitator, question=asked, body="90 %.")
    accept_answer(actor=facilitator, answer=answer)
    with pytest.raises(
        ValidationError, match="Answers in a private community stay in it"
    ):
        promote_answer_to_faq(actor=facilitator, answer=answer)
    assert FaqEntry.objects.count() == 0


def test_record_of_hidden_order_is_rejected(
    customer, other_party, customer_community, make_order
):
    make_order("10248", other_party)
    with pytest.raises(
        ValidationError, match="Order '10248' is not among the orders you can see"
    ):
        ask_from_context(
            asker=customer,
            context_key="portal.order",
            title="Whose order?",
            body="",
            record_ref="10248",
        )
    assert Question.objects.count() == 0


def test_repeated_click_keeps_one_question(sales_rep, super_user, payments_community):
    first = ask_from_context(
        asker=sales_rep, context_key=SHORT_PAYMENT, title="Why?", body=""
    )
    second = ask_from_context(
        asker=sales_rep, context_key=SHORT_PAYMENT, title=" Why? ", body=""
    )
    assert second.pk == first.pk
    assert Question.objects.count() == 1
    assert Notification.objects.filter(recipient=super_user).count() == 1


def test_employee_question_never_lands_in_customer_space(
    sales_rep, payments, customer_community, payments_community
):
    customer_community.crm_functions.add(payments)
    asked = ask_from_context(
        asker=sales_rep, context_key=SHORT_PAYMENT, title="Margin?", body=""
    )
    assert asked.community == payments_community


def test_screen_without_function_is_a_clear_error(sales_rep, payments_community):
    with pytest.raises(LookupError, match="This screen belongs to no CRM function"):
        ask_from_context(
            asker=sales_rep, context_key="reconciliation", title="Hi?", body=""
        )


class TestPages:
    def test_ask_form_posts_and_redirects_back(
        self, sales_rep, super_user, payments_community, customer_party, make_order
    ):
        make_order("10250", customer_party)
        response = signed_in(sales_rep).post(
            "/assist/ask/",
            {
                "context": SHORT_PAYMENT,
                "record_ref": "10250",
                "title": "What now?",
                "body": "",
                "next": "/reconciliation/orders/10250/",
            },
        )
        assert response.status_code == 302
        assert response["Location"] == "/reconciliation/orders/10250/"
        assert Question.objects.get().context.key == SHORT_PAYMENT

    def test_ask_redirect_ignores_other_hosts(self, sales_rep, payments_community):
        response = signed_in(sales_rep).post(
            "/assist/ask/",
            {
                "context": SHORT_PAYMENT,
                "title": "What now?",
                "next": "https://evil.example/",
            },
        )
        assert response["Location"] == "/"

    def test_ask_with_htmx_returns_partial(self, sales_rep, payments_community):
        response = signed_in(sales_rep).post(
            "/assist/ask/",
            {"context": SHORT_PAYMENT, "title": "What now?"},
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 200
        # The fixture names no super-user for payments, so nobody is notified.
        assert b"Posted to Payments. Nobody could be notified directly" in (
            response.content
        )

    def test_ask_with_unknown_context_is_rejected(self, sales_rep, payments_community):
        response = signed_in(sales_rep).post(
            "/assist/ask/",
            {"context": "nope.nope", "title": "What now?"},
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 422
        assert b"Unknown help context &#x27;nope.nope&#x27;" in response.content
        assert Question.objects.count() == 0

    def test_answer_accept_promote_through_pages(
        self, question, super_user, facilitator, sales_rep
    ):
        response = signed_in(super_user).post(
            f"/questions/{question.pk}/answers/", {"body": "Write it off."}
        )
        assert response.status_code == 302
        answer = question.answers.get()

        accepted = signed_in(sales_rep).post(f"/questions/answers/{answer.pk}/accept/")
        assert accepted.status_code == 302
        client = signed_in(facilitator)
        response = client.post(
            f"/questions/answers/{answer.pk}/promote/",
            {"question_text": "Short payment under 1 %: write off?"},
        )
        entry = FaqEntry.objects.get()
        assert response["Location"] == f"/questions/faq/{entry.pk}/"
        assert entry.question == "Short payment under 1 %: write off?"

    def test_empty_answer_shows_error(self, question, super_user):
        response = signed_in(super_user).post(
            f"/questions/{question.pk}/answers/", {"body": " "}
        )
        assert response.status_code == 422
        assert b"The answer is empty: write at least one word." in response.content

    def test_outsider_accept_is_forbidden(self, question, super_user, outsider):
        answer = post_answer(author=super_user, question=question, body="Write it off.")
        response = signed_in(outsider).post(f"/questions/answers/{answer.pk}/accept/")
        assert response.status_code == 403
        question.refresh_from_db()
        assert question.accepted_answer is None


def test_super_user_cannot_accept_own_answer(question, super_user):
    answer = post_answer(author=super_user, question=question, body="Write it off.")
    with pytest.raises(PermissionDenied, match="You wrote this answer"):
        accept_answer(actor=super_user, answer=answer)
    question.refresh_from_db()
    assert question.accepted_answer is None


def test_asker_may_accept_own_answer(question, sales_rep):
    answer = post_answer(author=sales_rep, question=question, body="Found it myself.")
    accept_answer(actor=sales_rep, answer=answer)
    question.refresh_from_db()
    assert question.accepted_answer == answer


def test_own_answer_shows_no_accept_button(question, super_user):
    post_answer(author=super_user, question=question, body="Write it off.")
    response = signed_in(super_user).get(f"/questions/{question.pk}/")
    assert b"Accept this answer" not in response.content
