"""Similar-question suggestions for a title that was not typed key by key.

A pasted or autofilled title fires ``input`` but no ``keyup``, and a page
that comes back with the title filled in (after a rejected form) fires
neither, so the suggestions must also follow ``input`` and the page load.
"""

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Role
from answers.models import FaqEntry
from conftest import PASSWORD, make_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FAQ_QUESTION = "Why does an invoice paid one cent short close by itself?"


def sign_in(new_context, username: str) -> Page:
    page: Page = new_context().new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return page


@pytest.fixture
def clerk_page(new_context) -> Page:
    make_person("fiona", Role.FINANCE_CLERK, group="operations")
    FaqEntry.objects.create(
        question=FAQ_QUESTION,
        answer="The rounding rule closes it.",
        answer_html="<p>The rounding rule closes it.</p>",
    )
    return sign_in(new_context, "fiona")


def test_pasted_title_shows_suggestions(clerk_page, artifacts):
    page = clerk_page
    page.goto("/questions/ask/")
    title = page.locator("#id_title")

    # A paste sets the value and fires one input event, with no key pressed.
    title.evaluate(
        """element => {
            element.value = "invoice paid short";
            element.dispatchEvent(new InputEvent("input", {
                bubbles: true, inputType: "insertFromPaste"
            }));
        }"""
    )

    expect(page.locator("#ask-page-suggestions")).to_contain_text(FAQ_QUESTION)
    page.screenshot(path=str(artifacts / "suggestions-after-paste.png"))


def test_filled_title_shows_suggestions(clerk_page):
    page = clerk_page
    page.goto("/questions/ask/")

    # fill() sets the whole value at once, as autofill does.
    page.locator("#id_title").fill("invoice paid short")

    expect(page.locator("#ask-page-suggestions")).to_contain_text(FAQ_QUESTION)


def test_page_loaded_with_title_shows_suggestions(clerk_page, artifacts):
    page = clerk_page
    page.goto("/questions/ask/")
    # A community that does not exist makes the server reject the form and
    # send the page back with the title filled in.
    page.locator("#id_community").evaluate(
        """select => {
            select.add(new Option("Gone", "999999"));
            select.value = "999999";
        }"""
    )
    page.locator("#id_title").evaluate(
        'element => { element.value = "invoice paid short"; }'
    )
    with page.expect_navigation():
        page.locator("form[data-testid=ask-page-form]").evaluate(
            "form => form.submit()"
        )

    expect(page.locator("#id_title")).to_have_value("invoice paid short")
    expect(page.locator("#ask-page-suggestions")).to_contain_text(FAQ_QUESTION)
    page.screenshot(path=str(artifacts / "suggestions-on-load.png"))
