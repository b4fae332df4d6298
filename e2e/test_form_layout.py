"""Check boxes in the shared form layout, and the API token page, at 1366 and 390 px.

The screenshots land in ``test-artifacts/`` so that a person can look at
each form at both widths.
"""

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Role
from assist.tokens import issue_token
from communities.models import Community
from conftest import make_person
from e2e.pages import LAPTOP, PHONE, page_width, signed_in_page
from social.services import publish_post

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Pixels between a check box and the start of its label's text, at most.
BOX_GAP = 16


def _box_gaps(page: Page) -> list[float]:
    """Return, for each check box, the pixels from its right edge to its label's text.

    Only text on the box's line counts, so a label below or above the box
    gives a gap of 9999.
    """
    gaps: list[float] = page.evaluate(
        """() => Array.from(document.querySelectorAll('input[type=checkbox]'))
            .filter((box) => box.getBoundingClientRect().width > 0)
            .map((box) => {
                const boxRect = box.getBoundingClientRect();
                const middle = boxRect.top + boxRect.height / 2;
                const label = box.closest('label') || document.querySelector(
                    `label[for="${box.id}"]`);
                const walker = document.createTreeWalker(label, NodeFilter.SHOW_TEXT);
                const range = document.createRange();
                let gap = 9999;
                while (walker.nextNode()) {
                    if (!walker.currentNode.textContent.trim()) continue;
                    range.selectNodeContents(walker.currentNode);
                    for (const rect of range.getClientRects()) {
                        const sameLine = rect.top <= middle && rect.bottom >= middle;
                        if (sameLine && rect.left >= boxRect.right - 1) {
                            gap = Math.min(gap, rect.left - boxRect.right);
                        }
                    }
                }
                return gap;
            })"""
    )
    return gaps


def _box_widths(page: Page) -> list[float]:
    widths: list[float] = page.evaluate(
        """() => Array.from(document.querySelectorAll('input[type=checkbox]'))
            .map((box) => box.getBoundingClientRect().width)
            .filter((width) => width > 0)"""
    )
    return widths


@pytest.fixture
def lena(db):
    return make_person("lena", Role.FACILITATOR, group="customer_service")


@pytest.fixture
def source_post(lena):
    community = Community.objects.create(slug="tips", name="Tips")
    return publish_post(
        author=lena, community=community, body="Chase remittance first."
    )


@pytest.mark.parametrize("size", [LAPTOP, PHONE], ids=["laptop", "phone"])
@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("faq-form", "/questions/faq/new/?post={post}"),
        ("library-form", "/library/new/"),
        ("token-form", "/assist/tokens/"),
        ("notification-email-form", "/notifications/e-mail/"),
        ("case-filter-form", "/reconciliation/cases/"),
    ],
)
def test_check_boxes_sit_by_labels(
    new_context, artifacts, lena, source_post, size, name, path
):
    page = signed_in_page(new_context, "lena", size)

    page.goto(path.format(post=source_post.pk))

    page.screenshot(path=artifacts / f"{name}-{size[0]}.png", full_page=True)
    assert page_width(page) <= size[0]
    widths = _box_widths(page)
    assert widths, "no check box on the page"
    assert max(widths) < 30
    gaps = _box_gaps(page)
    assert max(gaps) <= BOX_GAP, gaps


@pytest.mark.parametrize("size", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_token_table_fits(new_context, artifacts, lena, size):
    for name in ("CRM order screen", "CRM cash application screen"):
        issue_token(owner=lena, name=name, scopes=["help:read"])
    page = signed_in_page(new_context, "lena", size)

    page.goto("/")
    page.get_by_test_id("more-menu").locator("summary").click()
    page.get_by_test_id("token-link").click()

    expect(page.get_by_role("heading", name="API tokens")).to_be_visible()
    page.screenshot(path=artifacts / f"token-table-{size[0]}.png", full_page=True)
    assert page_width(page) <= size[0]
    for button in page.get_by_role("button", name="Revoke").all():
        box = button.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= size[0]
