"""The record each work screen's help panel sends with a question.

Fiona (finance clerk) works the cash screen and finance cases, Mona (manager)
sees every case, Wanda (warehouse) works receipt cases and Sally (sales rep)
makes sales decisions. A screen offers its record only when the viewer may
see it, so the ask never rejects what a screen offered.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from answers.models import Question
from conftest import make_person
from core.testing import signed_in
from practice import services as practice
from reconciliation.models import (
    Discrepancy,
    Invoice,
    Party,
    Payment,
    PurchaseOrder,
    VendorBill,
)
from reconciliation.tests.factories import (
    PaymentFactory,
    create_invoice,
    create_order,
    create_shipment,
)

pytestmark = pytest.mark.django_db


def ask_from(client: Client, page) -> list[str]:
    """Post a question from ``page``'s help panel; return the flashed messages."""
    response = client.post(
        "/assist/ask/",
        {
            "context": page.context["help_context"],
            "record_kind": page.context["record_kind"],
            "record_ref": page.context["record_ref"],
            "title": "Which invoice does this payment settle?",
            "body": "",
            "next": "/",
        },
        follow=True,
    )
    return [str(item) for item in response.context["messages"]]


def panel_record(page) -> tuple[str, str]:
    return page.context["record_kind"], page.context["record_ref"]


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


@pytest.fixture
def vendor_bill(company) -> VendorBill:
    vendor = Party.objects.create(
        company=company, code="EXOTL", name="Exotic Liquids", currency_id="USD"
    )
    purchase_order = PurchaseOrder.objects.create(
        company=company,
        number="PO-1001",
        vendor=vendor,
        currency_id="USD",
        order_date=date(2024, 3, 1),
        promised_date=date(2099, 12, 31),
    )
    return VendorBill.objects.create(
        company=company,
        number="BILL-1",
        vendor=vendor,
        purchase_order=purchase_order,
        supplier_ref="EL-77",
        currency_id="USD",
        bill_date=date(2024, 3, 12),
    )


def make_case(company, code: str, owner_role: str, **records) -> Discrepancy:
    return Discrepancy.objects.create(
        company=company,
        code=code,
        severity="medium",
        owner_role=owner_role,
        expected_value=Decimal("0.00"),
        actual_value=Decimal("300.00"),
        difference=Decimal("300.00"),
        unit="USD",
        explanation="A case on one record.",
        rule="test@1",
        fingerprint=f"{code}:{Discrepancy.objects.count()}",
        due_at=timezone.now() + timedelta(days=3),
        **records,
    )


# Cash application


def test_cash_screen_names_selected_payment(clerk, payments_community, open_payment):
    client = signed_in(clerk)
    page = client.get("/reconciliation/work/cash/", {"payment": open_payment.pk})

    assert page.context["selected"] == open_payment
    assert panel_record(page) == ("payment", open_payment.number)
    html = page.content.decode()
    assert '<input type="hidden" name="record_kind" value="payment">' in html
    flashed = ask_from(client, page)

    assert len(flashed) == 1
    assert flashed[0].startswith("Posted to Payments."), flashed
    question = Question.objects.get()
    assert question.context.key == "reconciliation.work.cash"
    assert (question.record_kind, question.record_ref) == (
        "payment",
        open_payment.number,
    )
    shown = client.get(f"/questions/{question.pk}/").content.decode()
    assert (
        f'<a href="/reconciliation/work/cash/?payment={open_payment.pk}" '
        f'data-testid="question-record" data-kind="payment">payment '
        f"{open_payment.number}</a>"
    ) in shown


def test_cash_screen_without_selection(clerk, payments_community, open_payment):
    page = signed_in(clerk).get("/reconciliation/work/cash/")

    assert panel_record(page) == ("", "")


# The case page and the sales decision


def test_case_page_names_case_payment(clerk, manager, payments_community, open_payment):
    case = make_case(
        open_payment.company,
        "UNAPPLIED_PAYMENT",
        Role.FINANCE_CLERK,
        payment=open_payment,
    )

    for person in (clerk, manager):
        client = signed_in(person)
        page = client.get(f"/reconciliation/cases/{case.pk}/")
        assert page.status_code == 200
        assert panel_record(page) == ("payment", open_payment.number), person
        flashed = ask_from(client, page)
        assert flashed[0].startswith("Posted to Payments."), flashed

    stored = Question.objects.values_list("record_kind", "record_ref")
    assert list(stored) == [("payment", open_payment.number)] * 2


def test_case_page_names_case_bill(clerk, warehouse, vendor_bill):
    price = make_case(
        vendor_bill.company,
        "BILL_PRICE_VARIANCE",
        Role.FINANCE_CLERK,
        vendor_bill=vendor_bill,
        purchase_order=vendor_bill.purchase_order,
    )
    receipt = make_case(
        vendor_bill.company,
        "RECEIPT_SHORT",
        Role.WAREHOUSE,
        vendor_bill=vendor_bill,
        purchase_order=vendor_bill.purchase_order,
    )

    for person, case in ((clerk, price), (warehouse, receipt)):
        page = signed_in(person).get(f"/reconciliation/cases/{case.pk}/")
        assert panel_record(page) == ("vendor_bill", "BILL-1"), person


def test_case_page_prefers_order(clerk, short_payment_case):
    page = signed_in(clerk).get(f"/reconciliation/cases/{short_payment_case.pk}/")

    assert panel_record(page) == ("order", short_payment_case.order.number)


def test_sales_decision_names_invoice(sales_rep, customer_party):
    order = create_order(company=customer_party.company, customer=customer_party)
    create_shipment(order=order)
    invoice = create_invoice(order=order)
    Invoice.objects.filter(pk=invoice.pk).update(order=None)
    case = make_case(invoice.company, "PRICE_MISMATCH", Role.SALES_REP, invoice=invoice)

    page = signed_in(sales_rep).get(f"/reconciliation/work/cases/{case.pk}/")

    assert page.status_code == 200
    assert panel_record(page) == ("invoice", invoice.number)


def test_sales_decision_hides_unseen_payment(sales_rep, open_payment):
    """A sales rep may hold a payment case but not see payments: no record."""
    case = make_case(
        open_payment.company,
        "PAYMENT_NO_ORDER",
        Role.FINANCE_CLERK,
        payment=open_payment,
        assignee=sales_rep,
    )

    page = signed_in(sales_rep).get(f"/reconciliation/work/cases/{case.pk}/")

    assert page.status_code == 200
    assert panel_record(page) == ("", "")
    assert 'name="record_ref" value=""' in page.content.decode()


# Practice


def test_practice_cash_names_no_payment(company, customer_party):
    """A real payment with the sandbox payment's number is never named."""
    learner = make_person("lena", Role.FINANCE_CLERK, group="operations")
    session = practice.start_session(learner=learner, scenario_key="unapplied-payment")
    sandbox = Payment.objects.get(company=session.company, number="PR-PAY-5001")
    alpen = Party.objects.get(company=session.company, code="ALPEN")
    PaymentFactory.create(company=company, party=customer_party, number="PR-PAY-5001")
    client = signed_in(learner)
    url = f"/practice/sessions/{session.pk}/work/cash/"
    client.post(url, {"payment": sandbox.pk, "party": alpen.pk})

    page = client.get(url, {"payment": sandbox.pk})

    assert page.context["selected"] == sandbox
    assert panel_record(page) == ("", "")
    assert 'name="record_ref" value=""' in page.content.decode()
