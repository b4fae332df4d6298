"""A customer is offered, accepted and shown only the portal's screens.

Named people: ``customer`` (Carla, a customer account) and ``sales_rep``
(Sally, an employee). The rule is ``assist.contexts.is_customer_context``,
the one search and the help panel use: the ask page, the ask service, the
question page, the community page and the question JSON follow it.
"""

import html
import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from answers.models import Question
from answers.services import ask_question, create_question
from assist.models import HelpContext

pytestmark = pytest.mark.django_db

INTERNAL = "reconciliation.order.bill_price_variance"
INTERNAL_TITLE = "Bill price variance"


def _client(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def _offered_keys(page: str) -> list[str]:
    select = re.search(r'<select name="context"[^>]*>(.*?)</select>', page, re.S)
    assert select is not None, "the ask page has no screen list"
    return [key for key in re.findall(r'value="([^"]*)"', select.group(1)) if key]


def test_customer_ask_page_offers_only_portal_screens(customer, customer_community):
    page = _client(customer).get("/questions/ask/").content.decode()

    keys = _offered_keys(page)
    assert keys, "the customer is offered no screen at all"
    assert all(key == "portal" or key.startswith("portal.") for key in keys), keys
    assert INTERNAL_TITLE not in page


def test_employee_ask_page_still_offers_internal_screens(sales_rep):
    page = _client(sales_rep).get("/questions/ask/").content.decode()

    assert INTERNAL in _offered_keys(page)


def test_customer_posting_internal_screen_is_refused_by_name(
    customer, customer_community
):
    response = _client(customer).post(
        "/questions/ask/",
        {
            "community": customer_community.pk,
            "title": "Why is my bill higher?",
            "context": INTERNAL,
        },
    )

    assert response.status_code == 422
    assert (
        f"Unknown help context {INTERNAL!r}: pick a screen from the list or "
        "leave it empty." in html.unescape(response.content.decode())
    )
    assert Question.objects.count() == 0


def test_customer_posting_portal_screen_is_kept(customer, customer_community):
    response = _client(customer).post(
        "/questions/ask/",
        {
            "community": customer_community.pk,
            "title": "Why is my bill higher?",
            "context": "portal.statement",
        },
    )

    assert response.status_code == 302
    assert Question.objects.get().context.key == "portal.statement"


def test_ask_service_refuses_internal_screen_for_customer(customer, customer_community):
    with pytest.raises(ValidationError, match=re.escape(repr(INTERNAL))):
        ask_question(
            asker=customer,
            community=customer_community,
            title="Why is my bill higher?",
            context=HelpContext.objects.get(key=INTERNAL),
        )
    assert Question.objects.count() == 0


@pytest.fixture
def internal_question_customers_read(sales_rep, customer_community):
    """An employee's question from an internal screen, in the customer corner."""
    return create_question(
        author=sales_rep,
        community=customer_community,
        title="How do we explain a price change?",
        context=HelpContext.objects.get(key=INTERNAL),
    )


def test_question_page_names_no_internal_screen_to_customer(
    customer, sales_rep, internal_question_customers_read
):
    url = f"/questions/{internal_question_customers_read.pk}/"

    customer_page = _client(customer).get(url).content.decode()
    employee_page = _client(sales_rep).get(url).content.decode()

    assert INTERNAL_TITLE not in customer_page
    assert INTERNAL not in customer_page
    assert f'data-context="{INTERNAL}"' in employee_page
    assert 'data-testid="question-context"' not in customer_page


def test_community_page_names_no_internal_screen_to_customer(
    customer, sales_rep, customer_community, internal_question_customers_read
):
    url = f"/communities/{customer_community.slug}/"

    customer_page = _client(customer).get(url).content.decode()
    employee_page = _client(sales_rep).get(url).content.decode()

    assert internal_question_customers_read.title in customer_page
    assert INTERNAL_TITLE not in customer_page
    assert INTERNAL_TITLE in employee_page


def test_question_json_names_no_internal_screen_to_customer(
    customer, sales_rep, internal_question_customers_read
):
    url = f"/api/answers/questions/{internal_question_customers_read.pk}"

    assert _client(customer).get(url).json()["context"] is None
    assert _client(sales_rep).get(url).json()["context"] == INTERNAL
