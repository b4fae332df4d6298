"""Q&A notifications go only to people who may read what they name."""

import pytest
from django.test import Client

from answers.services import (
    accept_answer,
    create_question,
    post_answer,
    promote_answer_to_faq,
)
from notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_customer_not_told_of_internal_faq_entry(
    signed_in, customer, customer_party, customer_community, facilitator
):
    # A customer company's own question becomes an internal FAQ entry.
    question = create_question(
        author=customer,
        community=customer_community,
        title="Why was order SO-1 short-shipped?",
        customer=customer_party,
    )
    answer = post_answer(
        author=facilitator, question=question, body="The pallet was split."
    )
    accept_answer(actor=customer, answer=answer)
    entry = promote_answer_to_faq(
        actor=facilitator,
        answer=answer,
        question_text="Split pallets: margin rule for Alfreds after the audit",
    )
    client: Client = signed_in(customer)
    told = Notification.objects.filter(recipient=customer)

    assert not entry.customer_visible
    assert not told.filter(kind=Notification.Kind.FAQ_PROMOTED).exists()
    assert [n.kind for n in told] == [Notification.Kind.ANSWER_POSTED]
    for notification in told:
        assert "margin rule" not in notification.message
        assert client.get(notification.url).status_code == 200


def test_employee_asker_told_of_faq_entry(
    payments_question, sales_rep, super_user, facilitator
):
    answer = post_answer(
        author=super_user, question=payments_question, body="Book it as a fee."
    )
    accept_answer(actor=sales_rep, answer=answer)
    entry = promote_answer_to_faq(actor=facilitator, answer=answer)

    promoted = Notification.objects.filter(kind=Notification.Kind.FAQ_PROMOTED)
    assert {n.recipient for n in promoted} == {sales_rep, super_user}
    assert {n.url for n in promoted} == {f"/questions/faq/{entry.pk}/"}
