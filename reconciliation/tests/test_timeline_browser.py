"""The order timeline in Chromium on a phone: it fits, filters and pages."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Role
from conftest import PASSWORD, make_person
from core.audit import record_event
from core.models import AuditEvent
from reconciliation.services import refresh_order
from reconciliation.tests.conftest import make_case
from reconciliation.tests.factories import (
    create_invoice,
    create_order,
    create_payment,
    create_shipment,
)
from reconciliation.timeline import ENTRIES_PER_PAGE

# Playwright's sync API runs an event loop in the test thread, and Django
# rejects ORM calls from such a thread unless this variable marks them safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


def signed_in_phone(browser, base_url: str, username: str) -> Page:
    page: Page = browser.new_context(base_url=base_url, viewport=PHONE).new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    return page


def test_timeline_fits_filters_and_pages(browser, live_server, customer_party):
    clerk = make_person("fiona", Role.FINANCE_CLERK, group="operations")
    order = create_order(
        lines=[("10", "36.36")],
        company=customer_party.company,
        customer=customer_party,
    )
    create_shipment(order=order)
    invoice = create_invoice(order=order)
    create_payment(invoice=invoice, amount="279.97")
    refresh_order(order=order)
    case = make_case(order, invoice=invoice)
    for number in range(ENTRIES_PER_PAGE + 2):
        record_event(
            actor=clerk,
            action="case.state_changed",
            target=case,
            source=AuditEvent.Source.SCREEN,
            before={"state": "open"},
            after={"state": "in_progress"},
            reason=f"Call {number} with the customer <b>about the deduction</b>",
        )
    page = signed_in_phone(browser, live_server.url, "fiona")

    page.goto(f"/reconciliation/orders/{order.number}/")
    timeline = page.get_by_test_id("timeline")
    expect(timeline).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    entries = page.get_by_test_id("timeline-entry")
    expect(entries).to_have_count(ENTRIES_PER_PAGE)
    newest = entries.first
    expect(newest).to_contain_text("Case moved")
    expect(newest).to_contain_text(
        f"Call {ENTRIES_PER_PAGE + 1} with the customer <b>about the deduction</b>"
    )
    box = newest.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= PHONE["width"]

    page.get_by_test_id("timeline-older").click()
    expect(page.get_by_text("Page 2 of 2")).to_be_visible()
    expect(page.get_by_test_id("timeline-entry").first).to_contain_text("Call 1 ")

    page.get_by_test_id("timeline-kind").select_option("shipments")
    page.get_by_role("button", name="Filter").last.click()
    expect(page.get_by_test_id("timeline-kind")).to_have_value("shipments")
    shipments = page.get_by_test_id("timeline-entry")
    expect(shipments.first).to_contain_text(f"Shipment {order.shipments.get().number}")
    for index in range(shipments.count()):
        expect(shipments.nth(index)).to_contain_text("Shipment")


DESKTOP = {"width": 1280, "height": 900}


def test_timeline_columns_fit_at_1280(browser, live_server, customer_party):
    """The trial's "From" column was cut off at 1,280 px; every column now fits."""
    clerk = make_person("fiona", Role.FINANCE_CLERK, group="operations")
    order = create_order(
        lines=[("10", "36.36")],
        company=customer_party.company,
        customer=customer_party,
    )
    create_shipment(order=order)
    invoice = create_invoice(order=order)
    create_payment(invoice=invoice, amount="279.97")
    refresh_order(order=order)
    case = make_case(order, invoice=invoice)
    for rule in ("payment.reference_and_amount@1", "cash.bank_charge@1"):
        record_event(
            actor=None,
            action="discrepancy.updated",
            target=case,
            source=AuditEvent.Source.RULE,
            before={"state": "open", "difference": "-83.63", "currency": "USD"},
            after={
                "state": "in_progress",
                "difference": "-20.00",
                "currency": "USD",
                "rule": rule,
                "rule_version": "8f89902b5760a1b2",
            },
            reason=rule,
        )
    # The trial's write-off note: markup shown as text and long words, which
    # a clerk's note often has (a statement's address, a file name).
    record_event(
        actor=clerk,
        action="allocation.written_off",
        target=invoice.allocations.get(),
        source=AuditEvent.Source.SCREEN,
        before={"writeoff_forgiven": "0", "currency": "USD"},
        after={"writeoff_forgiven": "20.00", "currency": "USD"},
        reason=(
            "Bank charge: <script>alert(1)</script><b>Bank fee</b> 20 USD per "
            "https://bank.example/statements/2026-11/hanari-carnes-transfer-fees.pdf"
        ),
    )
    page: Page = browser.new_context(
        base_url=live_server.url, viewport=DESKTOP
    ).new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("fiona")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    page.goto(f"/reconciliation/orders/{order.number}/#timeline")
    table = page.get_by_test_id("timeline-entries")
    expect(table).to_be_visible()
    expect(table).to_contain_text("cash.bank_charge@1, version 8f89902b5760a1b2")
    artifacts = Path("test-artifacts")
    artifacts.mkdir(exist_ok=True)
    page.screenshot(path=str(artifacts / "timeline-1280.png"), full_page=True)
    wrap_fits = page.evaluate(
        "(() => { const wrap = document.querySelector("
        "'[data-testid=timeline-entries]').parentElement;"
        " return wrap.scrollWidth <= wrap.clientWidth; })()"
    )
    assert wrap_fits, "the timeline table scrolls sideways at 1280 px"
    assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]
    header = page.get_by_role("columnheader", name="From")
    header_box = header.bounding_box()
    wrap_box = table.locator("xpath=..").bounding_box()
    assert header_box is not None and wrap_box is not None
    assert header_box["x"] + header_box["width"] <= wrap_box["x"] + wrap_box["width"]
