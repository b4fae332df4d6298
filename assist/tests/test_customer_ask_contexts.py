"""A customer asks only from the help contexts its own (portal) screens declare.

Named people: ``customer`` (Carla, a customer account) and ``sales_rep``
(Sally, an employee). An internal screen's key from a customer reads like
a key that no screen declares, on the ask, the panel and the service.
"""

import html

import pytest
from django.test import Client

from answers.models import Question
from assist.selectors import UnknownContextError
from assist.services import ask_and_route

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
INTERNAL = "reconciliation.work.cash"


def _client(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def _ask(person, context: str):
    return _client(person).post(
        "/assist/ask/",
        {"context": context, "title": "Where is my money?"},
        headers=HTMX,
    )


def test_customer_ask_from_internal_context_rejected(customer, customer_community):
    response = _ask(customer, INTERNAL)

    assert response.status_code == 422
    assert (
        f"Unknown help context {INTERNAL!r}: reload the page and ask again."
        in html.unescape(response.content.decode())
    )
    assert Question.objects.count() == 0


def test_customer_ask_internal_reads_like_unknown(customer, customer_community):
    internal = _ask(customer, INTERNAL).content.decode()
    unknown = _ask(customer, "nope.nothing").content.decode()

    assert internal.replace(INTERNAL, "KEY") == unknown.replace("nope.nothing", "KEY")


def test_customer_ask_from_portal_context_posts(customer, customer_community):
    response = _ask(customer, "portal.statement")

    assert response.status_code == 200
    assert Question.objects.get().context.key == "portal.statement"


def test_employee_ask_from_internal_context_posts(sales_rep, payments_community):
    response = _ask(sales_rep, INTERNAL)

    assert response.status_code == 200
    assert Question.objects.get().context.key == INTERNAL


def test_service_rejects_customer_internal_context(customer, customer_community):
    with pytest.raises(UnknownContextError):
        ask_and_route(asker=customer, context_key=INTERNAL, title="Hi", body="")

    assert Question.objects.count() == 0


def test_panel_hides_ask_form_from_customer_on_internal(customer):
    client = _client(customer)

    internal = client.get("/assist/panel/", {"context": INTERNAL})
    portal = client.get("/assist/panel/", {"context": "portal.order"})

    # An internal key reads as unknown to a customer, so no panel at all.
    assert internal.status_code == 404
    assert b'data-testid="ask-form"' not in internal.content
    assert b'data-testid="ask-form"' in portal.content


def test_panel_shows_ask_form_to_employee_on_internal(sales_rep):
    response = _client(sales_rep).get("/assist/panel/", {"context": INTERNAL})

    assert b'data-testid="ask-form"' in response.content
