"""A learner practises on the real work screens and scores 100 %.

Lena, a finance clerk, starts two scenarios from the practice catalogue. She
applies an unidentified payment on the cash application screen, and decides
a backorder on the sales decision screen, each opened from her session and
marked as practice. The screenshots at 1366 and 390 px land in
``test-artifacts/`` for a person to look at.
"""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import Role
from conftest import PASSWORD, make_person
from practice.models import SandboxSession
from reconciliation.models import Allocation, Payment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"laptop": (1366, 900), "phone": (390, 844)}


def sign_in(new_context, username: str, size: tuple[int, int]) -> Page:
    page: Page = new_context().new_page()
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return page


def start(page: Page, scenario_key: str) -> SandboxSession:
    page.goto("/practice/")
    page.get_by_test_id(f"start-{scenario_key}").click()
    page.wait_for_load_state()
    return SandboxSession.objects.filter(scenario_key=scenario_key).latest("pk")


def check_work(page: Page) -> None:
    page.get_by_test_id("check").click()
    expect(page.get_by_test_id("score")).to_have_text("100 %")
    expect(page.get_by_test_id("session-status")).to_have_text("Finished")


@pytest.mark.parametrize("width", list(WIDTHS))
def test_learner_applies_cash_in_practice(new_context, artifacts, width):
    make_person("lena", Role.FINANCE_CLERK, group="operations")
    page = sign_in(new_context, "lena", WIDTHS[width])
    session = start(page, "unapplied-payment")

    # The unapplied payment's case links to the real cash application screen.
    page.get_by_test_id("screens-1").get_by_role(
        "link", name="Cash application"
    ).click()
    expect(page.get_by_test_id("practice-banner")).to_contain_text("Practice")
    expect(page.get_by_role("heading", name="Cash application")).to_be_visible()
    page.get_by_label("Customer of PR-PAY-5001").select_option(
        label="Alpenblick Feinkost (ALPEN)"
    )
    page.get_by_role("button", name="Assign customer").click()
    expect(page.locator(".message").first).to_contain_text(
        "Payment PR-PAY-5001 now belongs to Alpenblick Feinkost"
    )

    # The real screen's check: more than is left on the payment is rejected.
    amount = page.get_by_label("Amount for PR-INV-5001")
    amount.fill("300.00")
    page.get_by_role("button", name="Allocate").click()
    expect(page.locator(".message").first).to_contain_text(
        "Amount 300.00 EUR is more than the 208.50 EUR left on payment PR-PAY-5001"
    )
    page.get_by_label("Amount for PR-INV-5001").fill("208.50")
    page.screenshot(path=artifacts / f"practice-cash-{width}.png", full_page=True)
    page.get_by_role("button", name="Allocate").click()
    expect(page.locator(".message").first).to_have_text(
        "Applied 208.50 EUR of payment PR-PAY-5001 to invoice PR-INV-5001."
    )

    page.get_by_test_id("back-to-session").click()
    check_work(page)
    page.screenshot(path=artifacts / f"practice-session-{width}.png", full_page=True)

    payment = Payment.objects.get(company=session.company, number="PR-PAY-5001")
    assert Allocation.objects.get(payment=payment).invoice.number == "PR-INV-5001"


def test_learner_decides_backorder_in_practice(new_context, artifacts):
    make_person("lena", Role.FINANCE_CLERK, group="operations")
    page = sign_in(new_context, "lena", WIDTHS["laptop"])
    start(page, "unshipped-backorder")

    screens = page.get_by_test_id("screens-1")
    expect(screens.get_by_role("link", name="Pick and ship")).to_be_visible()
    screens.get_by_role("link", name="Sales decision").click()
    expect(page.get_by_test_id("practice-banner")).to_be_visible()
    form = page.get_by_test_id("backorder-form")
    form.get_by_label("Reason").fill("The honey arrives with the next delivery.")
    next_delivery = timezone.localdate() + datetime.timedelta(days=7)
    form.get_by_label("Rest expected on").fill(next_delivery.isoformat())
    form.get_by_role("button", name="Ship the rest later").click()
    expect(page.locator(".message").first).to_have_text(
        "Recorded the backorder decision."
    )
    expect(page.get_by_test_id("case-state")).to_have_text("Resolved")
    page.screenshot(path=artifacts / "practice-sales-laptop.png", full_page=True)

    page.get_by_test_id("back-to-session").click()
    check_work(page)


def test_learner_writes_off_on_case_page(new_context, artifacts):
    make_person("lena", Role.FINANCE_CLERK, group="operations")
    page = sign_in(new_context, "lena", WIDTHS["laptop"])
    start(page, "short-payment-write-off")

    page.get_by_test_id("screens-1").get_by_role("link", name="Case page").click()
    expect(page.get_by_test_id("practice-banner")).to_be_visible()
    page.get_by_test_id("move-in_progress").click()
    expect(page.get_by_test_id("case-state")).to_have_text("In progress")
    form = page.get_by_test_id("resolution-form")
    form.get_by_label("Resolution", exact=True).select_option(label="Write-off")
    form.get_by_label("Resolution note").fill("Bank fee below the limit.")
    page.screenshot(path=artifacts / "practice-case-laptop.png", full_page=True)
    form.get_by_role("button", name="Resolve case").click()
    expect(page.locator(".message").first).to_have_text(
        "Resolved case 1 with Write-off."
    )

    page.get_by_test_id("back-to-session").click()
    check_work(page)
