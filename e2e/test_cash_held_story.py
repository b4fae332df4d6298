"""A held duplicate invoice on the cash screen, at desk and phone widths.

fiona (finance clerk) opens Hanari Carnes's payment. One of the customer's
open invoices repeats the reference of an earlier one and is held until its
duplicate-invoice case is decided. The open list marks it held, names the
original and links the case, and offers no amount box for it; no
suggestion offers it. She follows the link to the case.
"""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from conftest import make_person
from e2e.test_cash_tray_story import sign_in
from reconciliation.models import Discrepancy
from reconciliation.tests.test_cash_held_duplicates import build_held, duplicate_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _pinned_settings(settings):
    settings.RECONCILIATION_PAYMENT_TOLERANCE = "0.01"
    settings.RECONCILIATION_WRITE_OFF_LIMIT = "50.00"


def test_held_copy_marked_and_linked(new_context, artifacts):
    payment, first, copy = build_held(amount="1332.00")
    case = duplicate_case(copy)
    make_person("fiona", Role.FINANCE_CLERK, group="operations")

    page = sign_in(new_context, "fiona")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/reconciliation/work/cash/?payment={payment.pk}")

    held = page.get_by_test_id("held-invoice")
    expect(held).to_have_count(1)
    expect(held).to_contain_text(copy.number)
    expect(held).to_contain_text(f"Possible duplicate of invoice {first.number}")
    expect(held.get_by_role("textbox")).to_have_count(0)
    expect(page.get_by_test_id("suggestions")).not_to_contain_text(copy.number)
    page.screenshot(path=str(artifacts / "cash-held-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(artifacts / "cash-held-390.png"), full_page=True)

    held.get_by_role("link", name=f"case {case.pk}").click()

    expect(page).to_have_url(re.compile(rf"/reconciliation/cases/{case.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Duplicate invoice")
    assert Discrepancy.objects.get(pk=case.pk).code == "DUPLICATE_INVOICE"
