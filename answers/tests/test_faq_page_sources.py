"""The FAQ page's sources and a question page after its answer is deleted.

Margaret, a sales representative, asks; paula, the payments super-user,
answers; lena, a learning facilitator, makes the accepted answer an FAQ
entry.
"""

import pytest
from django.test import Client

from accounts.models import Role, SuperUserAssignment
from answers.services import (
    accept_answer,
    create_question,
    delete_answer,
    post_answer,
    promote_answer_to_faq,
)
from conftest import make_person

pytestmark = pytest.mark.django_db

BODY = "Check the **bank fee** first:\n\n- step one\n- step two\n\nx & y"


@pytest.fixture
def story(payments, payments_community):
    margaret = make_person("margaret", Role.SALES_REP, group="sales")
    paula = make_person("paula", Role.FINANCE_CLERK, group="operations")
    SuperUserAssignment.objects.create(person=paula, crm_function=payments)
    lena = make_person("lena", Role.FACILITATOR, group="customer_service")
    question = create_question(
        author=margaret, community=payments_community, title="Is it a fee?"
    )
    answer = post_answer(author=paula, question=question, body=BODY)
    accept_answer(actor=margaret, answer=answer)
    entry = promote_answer_to_faq(actor=lena, answer=answer)
    return {
        "margaret": margaret,
        "paula": paula,
        "question": question,
        "answer": answer,
        "entry": entry,
    }


def page_of(person, url: str) -> str:
    client = Client()
    client.force_login(person)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_source_excerpt_is_plain_text(story):
    page = page_of(story["margaret"], f"/questions/faq/{story['entry'].pk}/")

    assert "**bank fee**" not in page
    assert "- step one" not in page
    assert "Check the bank fee first: step one step two x &amp; y" in page


def test_deleted_source_notice_once(story):
    delete_answer(actor=story["paula"], answer=story["answer"])

    page = page_of(story["paula"], f"/questions/faq/{story['entry'].pk}/")

    assert "Only its owners can read it." in page
    assert page.count("Its accepted answer was deleted") == 1
    assert page.count("deleted") == 1


def test_question_counts_live_answers(story):
    delete_answer(actor=story["paula"], answer=story["answer"])

    page = page_of(story["margaret"], f"/questions/{story['question'].pk}/")

    assert "<h2>0 answers</h2>" in page
    assert "1 answer<" not in page
    assert "This answer was deleted." in page


def test_faq_answer_mention_plain(payments, payments_community):
    # The answer notified @margaret; the FAQ entry made from it notifies nobody.
    margaret = make_person("margaret", Role.SALES_REP, group="sales")
    paula = make_person("paula", Role.FINANCE_CLERK, group="operations")
    lena = make_person("lena", Role.FACILITATOR, group="customer_service")
    question = create_question(
        author=margaret, community=payments_community, title="Who books fees?"
    )
    answer = post_answer(author=paula, question=question, body="Ask @margaret.")
    accept_answer(actor=margaret, answer=answer)

    entry = promote_answer_to_faq(actor=lena, answer=answer)

    assert 'class="mention"' in answer.body_html
    assert 'class="mention"' not in entry.answer_html
    assert "Ask @margaret." in entry.answer_html
