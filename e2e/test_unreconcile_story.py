"""A payment matched to the wrong invoice, unreconciled from the order page.

The matching pass matched payment 42.41 USD to an invoice of 42.42 USD and
wrote the cent off. Fiona, the finance clerk, learns the payment was meant
for another order: she opens the order, follows "Unreconcile match", reads
what will be reversed, gives a reason and confirms. The order page then
shows the invoice open again and the message names the restored balances.
"""

from datetime import date

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Role
from conftest import PASSWORD, make_person
from reconciliation.matching import run_matching
from reconciliation.models import Invoice, MatchGroup
from reconciliation.tests.factories import (
    create_invoice,
    create_order,
    create_payment,
    create_shipment,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(new_context, username: str) -> Page:
    page: Page = new_context().new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return page


def test_clerk_unreconciles_from_order_page(new_context, artifacts, settings):
    settings.RECONCILIATION_LATE_DAYS = 0
    settings.RECONCILIATION_PAYMENT_TOLERANCE = "0.01"
    order = create_order(lines=[("1", "42.42")])
    create_shipment(order=order)
    invoice = create_invoice(order=order)
    payment = create_payment(invoice=invoice, amount="42.41")
    run_matching(company=order.company, as_of=date(2024, 6, 30))
    group = MatchGroup.objects.get(key=f"D:invoice:{invoice.pk}")
    make_person("fiona", Role.FINANCE_CLERK, group="operations")

    clerk = sign_in(new_context, "fiona")
    clerk.goto(f"/reconciliation/orders/{order.number}/")
    clerk.get_by_test_id(f"unreconcile-invoice-{invoice.number}").click()
    expect(clerk.get_by_role("heading", level=1)).to_have_text(
        f"Unreconcile match M{group.pk}"
    )
    expect(clerk.get_by_test_id("reversal-rows")).to_contain_text(payment.number)
    clerk.get_by_label("Reason").fill("Payment was meant for another order")
    clerk.screenshot(path=str(artifacts / "unreconcile-1-confirm.png"), full_page=True)

    clerk.get_by_test_id("confirm-unreconcile").click()
    clerk.wait_for_load_state()

    expect(clerk).to_have_url(f"/reconciliation/orders/{order.number}/")
    expect(clerk.locator(".message.success")).to_have_text(
        f"Unreconciled match M{group.pk}. Restored: invoice {invoice.number} is "
        f"open 42.42 USD, payment {payment.number} has 42.41 USD unallocated."
    )
    expect(clerk.get_by_test_id(f"unreconcile-invoice-{invoice.number}")).to_have_count(
        0
    )
    clerk.screenshot(path=str(artifacts / "unreconcile-2-done.png"), full_page=True)
    invoice.refresh_from_db()
    assert invoice.payment_state == Invoice.PaymentState.NOT_PAID
