"""Pick and ship and cash application in a real browser, on a phone and a laptop.

The screenshots land in ``test-artifacts/`` so that a person can look at
both screens at both sizes.
"""

from decimal import Decimal

import pytest
from playwright.sync_api import FloatRect, expect

from accounts.models import Role
from conftest import make_person
from e2e.pages import LAPTOP, PHONE, page_width, signed_in_page
from reconciliation import credit_proposals
from reconciliation.tests.conftest import make_case
from reconciliation.tests.factories import (
    PaymentFactory,
    create_invoice,
    create_order,
    create_payment,
    create_shipment,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_pick_inputs_fit_a_phone(new_context, artifacts, customer_party):
    make_person("wanda", Role.WAREHOUSE, group="warehouse")
    order = create_order(
        lines=[("70", "36.36"), ("90", "14.00")],
        company=customer_party.company,
        customer=customer_party,
    )
    page = signed_in_page(new_context, "wanda", PHONE)

    page.goto(f"/reconciliation/work/orders/{order.number}/fulfilment/")

    page.screenshot(path=artifacts / "fulfilment-phone.png", full_page=True)
    assert page_width(page) <= PHONE[0]
    for name in ("picked_1", "shipped_1", "picked_2", "shipped_2"):
        box = page.locator(f"input[name={name}]").bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= PHONE[0]
    notifications = page.get_by_role("link", name="Notifications").bounding_box()
    assert notifications is not None
    assert notifications["x"] + notifications["width"] <= PHONE[0]


@pytest.fixture
def chosen_payment(customer_party):
    make_person("fiona", Role.FINANCE_CLERK, group="operations")
    order = create_order(company=customer_party.company, customer=customer_party)
    create_shipment(order=order)
    create_invoice(order=order)
    return PaymentFactory.create(
        company=customer_party.company,
        party=customer_party,
        amount=Decimal("5.00"),
        reference="remittance 9",
    )


def test_cash_panels_sit_side_by_side(new_context, artifacts, chosen_payment):
    page = signed_in_page(new_context, "fiona", LAPTOP)

    page.goto(f"/reconciliation/work/cash/?payment={chosen_payment.pk}")

    page.screenshot(path=artifacts / "cash-laptop.png", full_page=True)
    payments = page.get_by_test_id("payments-panel").bounding_box()
    invoices = page.get_by_test_id("invoices-panel").bounding_box()
    assert payments is not None
    assert invoices is not None
    assert invoices["x"] >= payments["x"] + payments["width"]
    assert invoices["y"] == payments["y"]
    expect(page.locator("tr.selected")).to_contain_text(chosen_payment.number)
    assert page_width(page) <= LAPTOP[0]


def test_cash_panels_stack_on_a_phone(new_context, artifacts, chosen_payment):
    page = signed_in_page(new_context, "fiona", PHONE)

    page.goto(f"/reconciliation/work/cash/?payment={chosen_payment.pk}")

    page.screenshot(path=artifacts / "cash-phone.png", full_page=True)
    payments = page.get_by_test_id("payments-panel").bounding_box()
    invoices = page.get_by_test_id("invoices-panel").bounding_box()
    assert payments is not None
    assert invoices is not None
    assert invoices["y"] >= payments["y"] + payments["height"]
    assert page_width(page) <= PHONE[0]
    amount = page.get_by_label("Amount for").first.bounding_box()
    assert amount is not None
    assert amount["x"] + amount["width"] <= PHONE[0]


def _right_edge(locator_box: FloatRect | None) -> float:
    assert locator_box is not None
    return locator_box["x"] + locator_box["width"]


def test_statement_fits_a_phone(new_context, artifacts, customer, customer_party):
    order = create_order(company=customer_party.company, customer=customer_party)
    create_shipment(order=order)
    invoice = create_invoice(order=order)
    # Paid 5.00 more than the 10.00 invoice, so the customer has a credit.
    create_payment(invoice=invoice, amount="15.00")
    page = signed_in_page(new_context, "carla", PHONE)

    page.goto("/reconciliation/portal/statement/")

    page.screenshot(path=artifacts / "statement-phone.png", full_page=True)
    assert page_width(page) <= PHONE[0]
    balance = page.get_by_test_id("balance")
    expect(balance).to_have_text("5.00 USD")
    assert _right_edge(balance.bounding_box()) <= PHONE[0]
    expect(page.get_by_text("Credit balance: we owe you")).to_be_visible()
    for label in ("Charged", "Credited", "Balance"):
        cell = page.locator(f'td[data-label="{label}"]:not(:empty)').first
        expect(cell).to_be_visible()
        assert _right_edge(cell.bounding_box()) <= PHONE[0]


def test_approval_buttons_fit_a_phone(
    new_context, artifacts, customer_party, sales_rep, settings
):
    make_person("mona", Role.MANAGER, group="operations")
    settings.SALES_REP_CREDIT_LIMIT = "1.00"
    order = create_order(
        company=customer_party.company, customer=customer_party, sales_rep=sales_rep
    )
    create_shipment(order=order)
    invoice = create_invoice(order=order)
    create_payment(invoice=invoice, amount="7.00")
    case = make_case(order, invoice=invoice, difference="-3.00")
    credit_proposals.propose_credit_note(
        actor=sales_rep, case_id=case.pk, amount=Decimal("3.00"), message="Sorry"
    )
    page = signed_in_page(new_context, "mona", PHONE)

    page.goto("/reconciliation/work/approvals/")

    page.screenshot(path=artifacts / "approvals-phone.png", full_page=True)
    assert page_width(page) <= PHONE[0]
    reason = page.get_by_label("Reason for your decision")
    expect(reason).to_be_visible()
    expect(page.get_by_text("Reason for your decision")).to_be_visible()
    for name in ("Approve", "Reject"):
        button = page.get_by_role("button", name=name)
        expect(button).to_be_visible()
        assert _right_edge(button.bounding_box()) <= PHONE[0]


def test_decide_link_fits_a_phone(new_context, artifacts, customer_party, sales_rep):
    order = create_order(
        company=customer_party.company, customer=customer_party, sales_rep=sales_rep
    )
    create_shipment(order=order)
    invoice = create_invoice(order=order)
    make_case(order, invoice=invoice)
    page = signed_in_page(new_context, "sally", PHONE)

    page.goto(f"/reconciliation/orders/{order.number}/")

    page.screenshot(path=artifacts / "order-decide-phone.png", full_page=True)
    assert page_width(page) <= PHONE[0]
    decide = page.get_by_role("link", name="Decide")
    expect(decide).to_be_visible()
    assert _right_edge(decide.bounding_box()) <= PHONE[0]
    paid = page.get_by_test_id("order-lines").locator('td[data-label="Paid"]')
    expect(paid).to_be_visible()
    assert _right_edge(paid.bounding_box()) <= PHONE[0]
