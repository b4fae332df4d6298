"""The question page links an answer's FAQ entry only for readers of the entry.

Named people: ``customer`` (Carla) asks in the customer community, and the
entry promoted from her question is internal, because a customer's own
question may name her orders. ``super_user`` (Petra) owns the payments
FAQ, ``outsider`` (Otto) is another employee and ``facilitator`` (Fran)
answers and promotes.
"""

import pytest

from answers.models import FaqEntry
from answers.services import (
    accept_answer,
    create_question,
    post_answer,
    promote_answer_to_faq,
)

pytestmark = pytest.mark.django_db

LINK = "In the FAQ"


def _promoted(*, asker, community, facilitator, payments) -> FaqEntry:
    question = create_question(
        author=asker,
        community=community,
        title="Where is my credit note?",
        customer=asker.customer,
    )
    question.crm_function = payments
    question.save(update_fields=["crm_function"])
    answer = post_answer(author=facilitator, question=question, body="Sent today.")
    accept_answer(actor=asker, answer=answer)
    return promote_answer_to_faq(actor=facilitator, answer=answer)


def _question_page(signed_in, reader, entry: FaqEntry) -> str:
    question_id = entry.source_answer.question_id
    response = signed_in(reader).get(f"/questions/{question_id}/")
    assert response.status_code == 200
    return str(response.content.decode())


@pytest.fixture
def customer_entry(customer, customer_community, facilitator, payments):
    return _promoted(
        asker=customer,
        community=customer_community,
        facilitator=facilitator,
        payments=payments,
    )


@pytest.fixture
def held_entry(sales_rep, payments_community, facilitator, payments):
    entry = _promoted(
        asker=sales_rep,
        community=payments_community,
        facilitator=facilitator,
        payments=payments,
    )
    entry.owners_only = True
    entry.save(update_fields=["owners_only"])
    return entry


def test_customer_sees_no_link_to_internal_entry(signed_in, customer, customer_entry):
    assert not customer_entry.customer_visible
    page = _question_page(signed_in, customer, customer_entry)
    assert LINK not in page
    assert f"/questions/faq/{customer_entry.pk}/" not in page


def test_employee_sees_link_to_internal_entry(signed_in, outsider, customer_entry):
    page = _question_page(signed_in, outsider, customer_entry)
    assert f'href="/questions/faq/{customer_entry.pk}/">{LINK}' in page


def test_other_employee_sees_no_link_to_held_entry(signed_in, outsider, held_entry):
    page = _question_page(signed_in, outsider, held_entry)
    assert LINK not in page
    assert f"/questions/faq/{held_entry.pk}/" not in page


@pytest.mark.parametrize("reader_name", ["super_user", "facilitator"])
def test_owners_see_link_to_held_entry(request, signed_in, held_entry, reader_name):
    reader = request.getfixturevalue(reader_name)
    page = _question_page(signed_in, reader, held_entry)
    assert f'href="/questions/faq/{held_entry.pk}/">{LINK}' in page
