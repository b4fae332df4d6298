"""The trial's payment applied on the cash screen, bank charge and all.

fiona (finance clerk) opens Hanari Carnes's PAY-11080 of 2,714.00 USD, which
pays invoices of 1,332.00 and 1,402.00 less a bank charge of 20.00. The
screen suggests both invoices with the charge. She adds the suggestion to
the tray, changes a line's amount, removes a line and adds its invoice
again from the open list; the tray, its total and what is left update in
place each time, with no page load. Then she writes the 20.00 off as a
bank charge and confirms once. The payment is then applied in full and
the short-payment case the check opened is resolved by the write-off.
"""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Role
from conftest import PASSWORD, make_person
from reconciliation.models import Discrepancy, Payment
from reconciliation.tests.test_cash_tray import build_trial

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _pinned_settings(settings):
    settings.RECONCILIATION_PAYMENT_TOLERANCE = "0.01"
    settings.RECONCILIATION_WRITE_OFF_LIMIT = "50.00"


def sign_in(new_context, username: str) -> Page:
    page: Page = new_context().new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return page


def test_trial_payment_reconciled_with_bank_charge(new_context, artifacts):
    payment, first, second = build_trial()
    make_person("fiona", Role.FINANCE_CLERK, group="operations")

    page = sign_in(new_context, "fiona")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/reconciliation/work/cash/?payment={payment.pk}")

    suggestion = page.get_by_test_id("suggestion").first
    expect(suggestion).to_contain_text(f"{first.number} 1,332.00")
    expect(suggestion).to_contain_text(f"{second.number} 1,382.00")
    expect(suggestion.get_by_test_id("suggestion-why")).to_contain_text(
        "20.00 USD more than the 2,714.00 USD left: likely a bank charge"
    )
    page.screenshot(path=str(artifacts / "cash-tray-1-suggestion.png"), full_page=True)
    # A page load would drop this mark; the live tray keeps it.
    page.evaluate("window.trayMark = 'no reload'")
    suggestion.get_by_role("link", name="Add to tray").click()

    tray = page.get_by_test_id("tray")
    expect(tray.get_by_test_id("tray-line")).to_have_count(2)
    expect(tray.get_by_test_id("tray-total")).to_have_text("2,714.00 USD")
    expect(tray.get_by_test_id("tray-left")).to_have_text("0.00 USD")
    expect(page).to_have_url(re.compile(rf"tray={second.pk}%3A1382\.00"))

    # Change a line: the total and what is left follow as the box is left.
    tray.get_by_label(f"Amount for {second.number} in the tray").fill("1300.00")
    tray.get_by_label(f"Amount for {second.number} in the tray").press("Tab")
    expect(tray.get_by_test_id("tray-total")).to_have_text("2,632.00 USD")
    expect(tray.get_by_test_id("tray-left")).to_have_text("82.00 USD")
    # The swap keeps keyboard focus where Tab put it, on the line's Remove link.
    expect(page.locator(f"#tray-remove-{second.pk}")).to_be_focused()
    expect(tray.get_by_test_id("tray-line").nth(1)).to_contain_text("102.00")

    # Remove a line, then add its invoice again from the open list.
    tray.get_by_role("link", name=f"Remove {first.number} from the tray").click()
    expect(tray.get_by_test_id("tray-line")).to_have_count(1)
    expect(tray.get_by_test_id("tray-total")).to_have_text("1,300.00 USD")
    expect(tray.get_by_test_id("tray-left")).to_have_text("1,414.00 USD")
    box = page.get_by_label(f"Amount for {first.number}", exact=True)
    expect(box).to_have_value("1332.00")
    page.locator("form.allocate-form", has=box).get_by_role(
        "button", name="Add to tray"
    ).click()
    expect(tray.get_by_test_id("tray-line")).to_have_count(2)
    expect(tray.get_by_test_id("tray-total")).to_have_text("2,632.00 USD")
    tray.get_by_label(f"Amount for {second.number} in the tray").fill("1382.00")
    tray.get_by_label(f"Amount for {second.number} in the tray").press("Tab")
    expect(tray.get_by_test_id("tray-total")).to_have_text("2,714.00 USD")
    expect(tray.get_by_test_id("tray-left")).to_have_text("0.00 USD")
    assert page.evaluate("window.trayMark") == "no reload"
    expect(tray.get_by_label("Invoice")).to_have_value(str(second.pk))
    tray.get_by_label("Reason").select_option(label="Bank charge")
    tray.get_by_label("Note").fill("The bank kept 20.00 USD on the transfer.")
    page.screenshot(path=str(artifacts / "cash-tray-2-tray-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(artifacts / "cash-tray-3-tray-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    tray.get_by_role("button", name="Confirm allocation").click()

    status = page.get_by_role("status").first
    expect(status).to_contain_text("Payment PAY-11080 is applied in full.")
    expect(status).to_contain_text(f"Wrote off 20.00 USD on invoice {second.number}")
    page.screenshot(path=str(artifacts / "cash-tray-4-done.png"), full_page=True)
    expect(page.get_by_test_id("payments-panel")).not_to_contain_text("PAY-11080")
    expect(page.get_by_test_id("applied-in-full")).to_be_visible()
    expect(page.get_by_test_id("write-offs")).to_have_count(0)

    payment.refresh_from_db()
    assert payment.amount_unallocated == Decimal("0")
    case = Discrepancy.objects.get(invoice=second, code="SHORT_PAYMENT")
    assert (case.state, case.resolution_code) == ("resolved", "write_off")
    assert Payment.objects.get(pk=payment.pk).allocations.count() == 2
