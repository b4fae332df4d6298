"""Customer accounts read staff names only of staff visible to customers.

``sales_rep`` (Sally Tester) keeps the default: hidden from customers. A
customer reads her as "Sales representative" on every Q&A surface, and
reads a colleague who chose to be visible by name.
"""

import pytest

from answers.models import FaqEntry, FaqSource
from answers.services import create_question, post_answer, post_question_comment
from notifications.models import Notification

pytestmark = pytest.mark.django_db

ROLE = "Sales representative"


@pytest.fixture
def asked(customer, customer_party, customer_community):
    return create_question(
        author=customer,
        community=customer_community,
        title="Where is my credit note?",
        customer=customer_party,
    )


@pytest.fixture
def answered(asked, sales_rep):
    answer = post_answer(author=sales_rep, question=asked, body="It is on its way.")
    post_question_comment(author=sales_rep, question=asked, body="Sent on Monday.")
    return answer


def test_customer_reads_hidden_staff_by_role(signed_in, answered, customer, sales_rep):
    client = signed_in(customer)
    question_id = answered.question_id

    page = client.get(f"/questions/{question_id}/").content.decode()
    listing = client.get("/questions/").content.decode()
    api = client.get(f"/api/answers/questions/{question_id}").json()
    told = Notification.objects.filter(recipient=customer).order_by("pk")
    messages = [notification.message for notification in told]

    assert sales_rep.display_name not in page
    assert page.count(ROLE) == 2
    assert sales_rep.display_name not in listing
    assert api["answers"][0]["author"] == ROLE
    assert api["author"] == customer.display_name
    assert messages == [
        f"{ROLE} answered your question: Where is my credit note?",
        f"{ROLE} commented on your question: Where is my credit note?",
    ]


def test_customer_reads_visible_staff_by_name(signed_in, asked, customer, sales_rep):
    sales_rep.visible_to_customers = True
    sales_rep.save(update_fields=["visible_to_customers"])
    post_answer(author=sales_rep, question=asked, body="It is on its way.")

    page = signed_in(customer).get(f"/questions/{asked.pk}/").content.decode()
    [told] = Notification.objects.filter(recipient=customer)

    assert sales_rep.display_name in page
    assert told.message.startswith(f"{sales_rep.display_name} answered")


def test_employee_reads_every_name(signed_in, answered, facilitator, sales_rep):
    client = signed_in(facilitator)
    page = client.get(f"/questions/{answered.question_id}/").content.decode()
    api = client.get(f"/api/answers/questions/{answered.question_id}").json()

    assert page.count(sales_rep.display_name) == 2
    assert api["answers"][0]["author"] == sales_rep.display_name


def test_faq_source_names_hidden_staff_by_role(
    signed_in, answered, customer, sales_rep
):
    entry = FaqEntry.objects.create(
        question="Credit notes",
        answer="x",
        answer_html="<p>x</p>",
        customer_visible=True,
    )
    FaqSource.objects.create(entry=entry, kind=FaqSource.Kind.ANSWER, answer=answered)

    page = signed_in(customer).get(f"/questions/faq/{entry.pk}/").content.decode()

    assert sales_rep.display_name not in page
    assert f"Answer by {ROLE} to: Where is my credit note?" in page
