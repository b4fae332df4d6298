"""Lists and tables on a phone: every column stays in view.

On a phone each row is a card with a label per value (``stack-table``),
so the statuses are not pushed off the right edge of the screen.
"""

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Role
from conftest import make_person
from e2e.pages import PHONE, signed_in_page
from reconciliation.tests.conftest import make_case
from reconciliation.tests.factories import create_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIDEO = Path(__file__).resolve().parent / "media" / "demo-clip.mp4"


def _assert_in_view(page: Page, test_id: str, texts: list[str]) -> None:
    width: int = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE[0]
    table = page.get_by_test_id(test_id)
    for text in texts:
        cell = table.locator("td", has_text=text).first
        box = cell.bounding_box()
        assert box is not None, text
        assert box["x"] >= 0, text
        assert box["x"] + box["width"] <= PHONE[0], text


@pytest.fixture
def order(customer_party, sales_rep):
    order = create_order(
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
        number="SO-40001",
    )
    make_case(order, owner_role=Role.SALES_REP)
    return order


def test_order_and_case_lists_fit_phone(new_context, artifacts, order, sales_rep):
    page = signed_in_page(new_context, sales_rep.username, PHONE)

    page.goto("/reconciliation/orders/")
    page.screenshot(path=artifacts / "order-list-phone.png", full_page=True)
    _assert_in_view(page, "order-list", ["SO-40001", "Not shipped", "Not paid"])

    page.goto("/reconciliation/cases/")
    page.screenshot(path=artifacts / "case-list-phone.png", full_page=True)
    _assert_in_view(page, "case-list", ["SO-40001"])
    state = page.get_by_test_id("case-list").locator("td[data-label=State]").first
    expect(state).to_be_in_viewport()


def test_customer_orders_fit_phone(new_context, artifacts, order, customer):
    page = signed_in_page(new_context, customer.username, PHONE)

    page.goto("/reconciliation/portal/")
    page.screenshot(path=artifacts / "portal-orders-phone.png", full_page=True)
    _assert_in_view(page, "portal-orders", ["SO-40001", "Not shipped", "Not paid"])


def test_library_versions_fit_phone(new_context, artifacts, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    make_person("vera", Role.SALES_REP, group="sales")
    page = signed_in_page(new_context, "vera", PHONE)
    page.goto("/library/new/")
    page.get_by_label("Kind").select_option("video")
    page.get_by_label("Title").fill("Matching, in 8 seconds")
    page.get_by_label("File").set_input_files(VIDEO)
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_test_id("library-versions")).to_be_visible()

    page.screenshot(path=artifacts / "library-versions-phone.png", full_page=True)
    _assert_in_view(
        page, "library-versions", ["Version 1", "demo-clip.mp4", "video/mp4"]
    )
