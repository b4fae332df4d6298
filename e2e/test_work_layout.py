"""Pick and ship and cash application in a real browser, on a phone and a laptop.

The screenshots land in ``test-artifacts/`` so that a person can look at
both screens at both sizes.
"""

from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Role
from conftest import PASSWORD, make_person
from reconciliation.tests.factories import (
    PaymentFactory,
    create_invoice,
    create_order,
    create_shipment,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = (390, 844)
LAPTOP = (1366, 768)


def _signed_in_page(new_context, username: str, size: tuple[int, int]) -> Page:
    context = new_context()
    page: Page = context.new_page()
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    return page


def _page_width(page: Page) -> int:
    width: int = page.evaluate("document.documentElement.scrollWidth")
    return width


def test_pick_inputs_fit_a_phone(new_context, artifacts, customer_party):
    make_person("wanda", Role.WAREHOUSE, group="warehouse")
    order = create_order(
        lines=[("70", "36.36"), ("90", "14.00")],
        company=customer_party.company,
        customer=customer_party,
    )
    page = _signed_in_page(new_context, "wanda", PHONE)

    page.goto(f"/reconciliation/work/orders/{order.number}/fulfilment/")

    page.screenshot(path=artifacts / "fulfilment-phone.png", full_page=True)
    assert _page_width(page) <= PHONE[0]
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
    page = _signed_in_page(new_context, "fiona", LAPTOP)

    page.goto(f"/reconciliation/work/cash/?payment={chosen_payment.pk}")

    page.screenshot(path=artifacts / "cash-laptop.png", full_page=True)
    payments = page.get_by_test_id("payments-panel").bounding_box()
    invoices = page.get_by_test_id("invoices-panel").bounding_box()
    assert payments is not None
    assert invoices is not None
    assert invoices["x"] >= payments["x"] + payments["width"]
    assert invoices["y"] == payments["y"]
    expect(page.locator("tr.selected")).to_contain_text(chosen_payment.number)
    assert _page_width(page) <= LAPTOP[0]


def test_cash_panels_stack_on_a_phone(new_context, artifacts, chosen_payment):
    page = _signed_in_page(new_context, "fiona", PHONE)

    page.goto(f"/reconciliation/work/cash/?payment={chosen_payment.pk}")

    page.screenshot(path=artifacts / "cash-phone.png", full_page=True)
    payments = page.get_by_test_id("payments-panel").bounding_box()
    invoices = page.get_by_test_id("invoices-panel").bounding_box()
    assert payments is not None
    assert invoices is not None
    assert invoices["y"] >= payments["y"] + payments["height"]
    assert _page_width(page) <= PHONE[0]
    amount = page.get_by_label("Amount for").first.bounding_box()
    assert amount is not None
    assert amount["x"] + amount["width"] <= PHONE[0]
