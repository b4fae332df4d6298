"""A customer reads FAQ entries without internal CRM function or screen names.

``customer`` is a customer account and ``outsider`` an employee. The entry
belongs to the payments function and covers an internal screen and a portal
screen. It is customer-visible because its source is in the customer
community.
"""

import pytest
from django.db import transaction

from answers.services import create_faq_entry
from assist.models import HelpContext
from core.testing import signed_in
from social.services import publish_post

pytestmark = pytest.mark.django_db

KEY = "reconciliation.order.short_payment"
PORTAL_KEY = "portal.order"


@pytest.fixture
def entry(sales_rep, facilitator, payments, customer_community):
    post = publish_post(
        author=sales_rep,
        community=customer_community,
        body="Statements arrive on the first working day of each month.",
    )
    with transaction.atomic():
        return create_faq_entry(
            actor=facilitator,
            source=post,
            question_text="When do statements come?",
            crm_function=payments,
            contexts=list(HelpContext.objects.filter(key__in=[KEY, PORTAL_KEY])),
        )


def test_customer_index_hides_functions_and_screens(entry, customer, payments):
    page = signed_in(customer).get("/questions/faq/")
    html = page.content.decode()

    assert page.status_code == 200
    assert [row.pk for row in page.context["page"]] == [entry.pk]
    assert 'name="function"' not in html
    assert f"<h2>{payments.name}</h2>" not in html
    assert "Short payment" not in html
    assert [context.key for context in page.context["contexts"]] == [PORTAL_KEY]


def test_employee_index_shows_functions_and_screens(entry, outsider, payments):
    html = signed_in(outsider).get("/questions/faq/").content.decode()

    assert 'name="function"' in html
    assert f"<h2>{payments.name}</h2>" in html
    assert "Short payment" in html


def test_customer_internal_screen_filter_unknown(entry, customer):
    page = signed_in(customer).get("/questions/faq/", {"context": KEY})
    unknown = signed_in(customer).get("/questions/faq/", {"context": "no.such"})

    assert page.status_code == 400
    assert page.context["filters"].errors == [
        f"No screen {KEY!r}: pick one from the list, or leave it empty for every "
        "screen."
    ]
    assert unknown.status_code == 400


def test_customer_function_filter_ignored(entry, customer, payments):
    page = signed_in(customer).get("/questions/faq/", {"function": "no-such"})

    assert page.status_code == 200
    assert [row.pk for row in page.context["page"]] == [entry.pk]


def test_customer_entry_page_hides_function(entry, customer, outsider, payments):
    customer_html = signed_in(customer).get(f"/questions/faq/{entry.pk}/")
    employee_html = signed_in(outsider).get(f"/questions/faq/{entry.pk}/")

    assert customer_html.status_code == 200
    assert f"FAQ · {payments.name}" not in customer_html.content.decode()
    assert f"FAQ · {payments.name}" in employee_html.content.decode()
