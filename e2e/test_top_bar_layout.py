"""The top bar and the missed searches page in a real browser, at 1366 and 390 px.

The screenshots land in ``test-artifacts/`` so that a person can look at the
bar of each role at both widths.
"""

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import Role
from conftest import make_person
from e2e.pages import LAPTOP, PHONE, page_width, signed_in_page
from reconciliation.models import Company, Currency, Party
from search.models import MissedSearch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Pixels two items on one row may differ in their vertical centres.
ROW_TOLERANCE = 4


def _centre_y(page: Page, selector: str) -> list[float]:
    centres: list[float] = page.evaluate(
        """(selector) => Array.from(document.querySelectorAll(selector))
            .map((element) => element.getBoundingClientRect())
            .filter((box) => box.width > 0)
            .map((box) => box.top + box.height / 2)""",
        selector,
    )
    return centres


def _person(role: Role) -> str:
    """Create a person in ``role`` and return their username."""
    username = f"bar-{role.value}"
    customer = None
    if role == Role.CUSTOMER:
        company = Company.objects.create(
            name="Bar Company", base_currency=Currency.objects.get(code="USD")
        )
        customer = Party.objects.create(
            company=company, code="C-BAR", name="Wagner and Kühn", currency_id="USD"
        )
    make_person(username, role, customer=customer)
    return username


@pytest.mark.parametrize("role", list(Role))
def test_top_bar_is_one_row_at_1366(new_context, artifacts, role):
    page = signed_in_page(new_context, _person(role), LAPTOP)
    page.goto("/")

    page.locator(".topbar").screenshot(path=artifacts / f"topbar-{role.value}-1366.png")
    brand = _centre_y(page, ".topbar .brand")[0]
    parts = (
        ".mainnav > a",
        ".more-menu summary",
        "#site-search",
        ".who-name",
        ".who button",
    )
    for selector in parts:
        centres = _centre_y(page, selector)
        assert centres, selector
        for centre in centres:
            assert abs(centre - brand) <= ROW_TOLERANCE, (selector, centre, brand)
    assert page_width(page) <= LAPTOP[0]


@pytest.mark.parametrize("role", [Role.MANAGER, Role.CUSTOMER, Role.FINANCE_CLERK])
def test_more_menu_fits_a_phone(new_context, artifacts, role):
    page = signed_in_page(new_context, _person(role), PHONE)
    page.goto("/")
    assert page_width(page) <= PHONE[0]

    page.get_by_text("More", exact=True).click()
    people = page.get_by_role("link", name="People")
    expect(people).to_be_visible()
    page.screenshot(path=artifacts / f"topbar-more-{role.value}-390.png")
    for link in page.locator(".more-links a").all():
        box = link.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= PHONE[0]
    assert page_width(page) <= PHONE[0]

    page.keyboard.press("Escape")
    expect(people).to_be_hidden()


def test_more_menu_reaches_library(new_context):
    page = signed_in_page(new_context, _person(Role.SALES_REP), LAPTOP)
    page.goto("/")
    expect(page.get_by_role("link", name="Library")).to_be_hidden()

    page.get_by_text("More", exact=True).click()
    page.get_by_role("link", name="Library").click()

    expect(page).to_have_url("/library/")


@pytest.mark.parametrize("size", [LAPTOP, PHONE])
def test_long_missed_query_wraps(new_context, artifacts, size):
    long_word = "x" * 200
    MissedSearch.objects.create(
        query=long_word, context_key="y" * 120, last_searched_at=timezone.now()
    )
    page = signed_in_page(new_context, _person(Role.FACILITATOR), size)

    page.goto("/search/missed/")

    expect(page.get_by_test_id("missed-search")).to_contain_text(long_word)
    page.screenshot(path=artifacts / f"missed-long-{size[0]}.png", full_page=True)
    assert page_width(page) <= size[0]
    cell = page.get_by_test_id("missed-search").locator("td").first.bounding_box()
    assert cell is not None
    assert cell["x"] + cell["width"] <= size[0]
