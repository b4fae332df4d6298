"""The tray's old address after its allocation, in Chromium at 1280 and 390 px.

fiona (finance clerk) confirmed the trial's tray: PAY-11080 of 2,714.00 USD
on Hanari Carnes's invoices of 1,332.00 and 1,402.00, with the 20.00 bank
charge written off. The third user trial then pressed the back button and
saw "confirm it below", each line's message twice, an active-looking
disabled button and a page 1,561 px wide. Now the page says the payment
is applied in full and links the orders it paid. A tray that still has
money left but names an invoice paid since shows its message once, in a
row of its own, and its disabled button looks disabled.
"""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from conftest import make_person
from e2e.pages import PHONE, page_width, signed_in_page
from reconciliation import cash_work
from reconciliation.tests.test_cash_tray import build_trial

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = (1280, 900)


@pytest.fixture(autouse=True)
def _pinned_settings(settings):
    settings.RECONCILIATION_PAYMENT_TOLERANCE = "0.01"
    settings.RECONCILIATION_WRITE_OFF_LIMIT = "50.00"


def test_confirmed_tray_address_says_what_was_paid(new_context, artifacts):
    payment, first, second = build_trial()
    clerk = make_person("fiona", Role.FINANCE_CLERK, group="operations")
    cash_work.apply_tray(
        actor=clerk,
        payment_id=payment.pk,
        lines=[(first.pk, Decimal("1332.00")), (second.pk, Decimal("1382.00"))],
        write_off=cash_work.WriteOffRequest(
            invoice_id=second.pk,
            reason_code="bank_charge",
            note="The bank kept 20.00 USD on the transfer.",
        ),
    )
    address = (
        f"/reconciliation/work/cash/?payment={payment.pk}"
        f"&tray={first.pk}%3A1332.00&tray={second.pk}%3A1382.00"
    )

    page = signed_in_page(new_context, "fiona", DESKTOP)
    for name, (width, height) in (("1280", DESKTOP), ("390", PHONE)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(address)
        applied = page.get_by_test_id("applied-in-full")
        expect(applied).to_contain_text(
            "Payment PAY-11080 is applied in full, so the tray in this address "
            "has nothing left to allocate and is not shown."
        )
        expect(page.get_by_test_id("tray")).to_have_count(0)
        expect(page.get_by_text("confirm it below")).to_have_count(0)
        expect(applied.get_by_role("link", name=first.order.number)).to_be_visible()
        page.screenshot(
            path=str(artifacts / f"cash-stale-tray-{name}.png"), full_page=True
        )
        assert page_width(page) <= width

    applied.get_by_role("link", name=second.order.number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(second.order.number)


def test_tray_line_paid_since_shows_once_and_fits(new_context, artifacts):
    payment, first, second = build_trial(amount="3000.00")
    clerk = make_person("fiona", Role.FINANCE_CLERK, group="operations")
    cash_work.apply_cash(
        actor=clerk,
        payment_id=payment.pk,
        invoice_id=first.pk,
        amount=Decimal("1332.00"),
    )
    address = (
        f"/reconciliation/work/cash/?payment={payment.pk}"
        f"&tray={first.pk}%3A1332.00&tray={second.pk}%3A1402.00"
    )

    page = signed_in_page(new_context, "fiona", DESKTOP)
    for name, (width, height) in (("1280", DESKTOP), ("390", PHONE)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(address)
        tray = page.get_by_test_id("tray")
        expect(tray.get_by_test_id("tray-line-error")).to_have_count(1)
        expect(
            page.get_by_text(f"Invoice {first.number} is no longer open")
        ).to_have_count(1)
        confirm = tray.get_by_role("button", name="Confirm allocation")
        expect(confirm).to_be_disabled()
        page.screenshot(
            path=str(artifacts / f"cash-stale-line-{name}.png"), full_page=True
        )
        assert page_width(page) <= width
        # A disabled button is grey, not the accent colour of an active one.
        colours = confirm.evaluate(
            "button => [getComputedStyle(button).backgroundColor,"
            " getComputedStyle(button).cursor]"
        )
        assert colours == ["rgb(228, 231, 236)", "not-allowed"]


def test_write_off_note_required_follows_the_choice(new_context, artifacts):
    payment, first, second = build_trial()
    make_person("fiona", Role.FINANCE_CLERK, group="operations")
    page = signed_in_page(new_context, "fiona", DESKTOP)
    page.goto(
        f"/reconciliation/work/cash/?payment={payment.pk}"
        f"&tray={first.pk}%3A1332.00&tray={second.pk}%3A1382.00"
    )
    tray = page.get_by_test_id("tray")
    note = tray.get_by_test_id("write-off-note")
    expect(tray.get_by_label("Invoice")).to_have_value(str(second.pk))
    expect(note).to_have_attribute("required", "")
    expect(tray.get_by_text("Note (required for a write-off")).to_be_visible()

    # "No write-off" drops the requirement, and it stays dropped when an
    # amount changes; choosing the invoice again brings it back.
    tray.get_by_label("Invoice").select_option("")
    expect(note).not_to_have_attribute("required", "")
    amount = tray.get_by_label(f"Amount for {second.number} in the tray")
    amount.fill("1381.00")
    amount.press("Tab")
    expect(tray.get_by_test_id("tray-left")).to_have_text("1.00 USD")
    amount.fill("1382.00")
    amount.press("Tab")
    expect(tray.get_by_test_id("tray-left")).to_have_text("0.00 USD")
    expect(tray.get_by_label("Invoice")).to_have_value("")
    # The swapped-in drop-down sends its change only once htmx has processed
    # it, which happens just after the new tray shows. A person is slower.
    page.wait_for_function(
        "() => document.getElementById('writeoff-invoice')"
        "?.['htmx-internal-data']?.initHash !== undefined"
    )
    tray.get_by_label("Invoice").select_option(str(second.pk))
    expect(note).to_have_attribute("required", "")
    page.screenshot(path=str(artifacts / "cash-note-required.png"), full_page=True)
