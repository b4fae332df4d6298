"""Signing in and measuring pages in the browser stories."""

from playwright.sync_api import Page, expect

from conftest import PASSWORD

LAPTOP = (1366, 768)
PHONE = (390, 844)


def signed_in_page(new_context, username: str, size: tuple[int, int] = LAPTOP) -> Page:
    """Open a new browser context at ``size`` and sign ``username`` in through the form."""
    page: Page = new_context().new_page()
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    return page


def page_width(page: Page) -> int:
    """Return the page's scroll width, wider than the viewport when it overflows."""
    width: int = page.evaluate("document.documentElement.scrollWidth")
    return width
