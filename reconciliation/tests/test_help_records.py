"""Asking from a work screen's help panel with the record the screen passes.

The panel's ask accepts only an order number the asker can see, so a screen
about a payment must not hand it the payment's number.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from answers.models import Question
from reconciliation.models import Discrepancy, Payment
from reconciliation.tests.factories import (
    PaymentFactory,
    create_invoice,
    create_order,
    create_shipment,
)

pytestmark = pytest.mark.django_db


def signed_in(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def ask_from(client: Client, page) -> list[str]:
    """Post a question from ``page``'s help panel; return the flashed messages."""
    response = client.post(
        "/assist/ask/",
        {
            "context": page.context["help_context"],
            "record_ref": page.context["record_ref"],
            "title": "Which invoice does this payment settle?",
            "body": "",
            "next": "/",
        },
        follow=True,
    )
    return [str(item) for item in response.context["messages"]]


@pytest.fixture
def open_payment(customer_party) -> Payment:
    order = create_order(company=customer_party.company, customer=customer_party)
    create_shipment(order=order)
    invoice = create_invoice(order=order)
    return PaymentFactory.create(
        company=invoice.company,
        party=invoice.customer,
        amount=Decimal("300.00"),
        amount_unallocated=Decimal("300.00"),
    )


def test_cash_screen_ask_with_payment_selected(clerk, payments_community, open_payment):
    client = signed_in(clerk)
    page = client.get("/reconciliation/work/cash/", {"payment": open_payment.pk})

    assert page.context["selected"] == open_payment
    flashed = ask_from(client, page)

    assert len(flashed) == 1
    assert flashed[0].startswith("Posted to Payments."), flashed
    question = Question.objects.get()
    assert question.context.key == "reconciliation.work.cash"
    assert question.record_ref == ""


def test_case_page_ask_on_payment_case(clerk, payments_community, open_payment):
    case = Discrepancy.objects.create(
        company=open_payment.company,
        payment=open_payment,
        code="UNAPPLIED_PAYMENT",
        severity="medium",
        owner_role=clerk.role,
        expected_value=Decimal("0.00"),
        actual_value=Decimal("300.00"),
        difference=Decimal("300.00"),
        unit="USD",
        explanation="Payment received with no invoice to apply it to.",
        rule="payment.unapplied@1",
        fingerprint=f"{open_payment.number}:UNAPPLIED_PAYMENT",
        due_at=timezone.now() + timedelta(days=3),
    )
    client = signed_in(clerk)
    page = client.get(f"/reconciliation/cases/{case.pk}/")

    assert page.status_code == 200
    flashed = ask_from(client, page)

    assert len(flashed) == 1
    assert flashed[0].startswith("Posted to Payments."), flashed
    assert Question.objects.get().record_ref == ""
