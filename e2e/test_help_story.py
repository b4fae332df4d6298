"""The main story in a real browser, as three people in three browser contexts.

A sales representative opens an order whose customer paid short, asks from
the help panel, the payments super-user answers, the sales representative
accepts the answer, the learning facilitator promotes it to the FAQ, and
the sales representative finds the new entry in the order's panel.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from demo.accounts import featured_short_payment_order
from demo.knowledge import seed_knowledge
from demo.northwind import load_company_x
from demo.people import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUESTION = "Customer paid short without a remittance: write off or dispute?"
FAQ_QUESTION = "Short payment with no remittance: write off or dispute?"
ANSWER = (
    "Check the remittance first. A difference under 1 % with no reason given "
    "is usually a **bank fee**: write it off. Anything larger goes to the sales "
    "representative as a dispute."
)


def sign_in(new_context, username: str) -> Page:
    page: Page = new_context().new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # Signing in lands on the home feed; the story starts from the orders.
    expect(page.get_by_role("heading", name="Home")).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Orders"
    ).click()
    expect(page.get_by_role("heading", name="Order reconciliation")).to_be_visible()
    return page


def test_question_from_panel_becomes_faq_entry(new_context, artifacts):
    load_company_x()
    seed_knowledge()
    order = featured_short_payment_order()
    assert order is not None
    rep_username = order.sales_rep.username

    # The sales representative finds the short-paid order through the filters.
    rep = sign_in(new_context, rep_username)
    rep.get_by_label("Discrepancy").select_option("SHORT_PAYMENT")
    rep.get_by_role("button", name="Filter").click()
    rep.get_by_test_id("order-list").get_by_role(
        "link", name=order.number, exact=True
    ).click()
    expect(rep.get_by_role("heading", name=f"Order {order.number}")).to_be_visible()

    lines = rep.get_by_test_id("order-lines")
    for column in ["Ordered", "Shipped", "Invoiced", "Paid"]:
        expect(
            lines.get_by_role("columnheader", name=column, exact=True)
        ).to_be_visible()
    discrepancies = rep.get_by_test_id("discrepancies")
    short_row = discrepancies.get_by_role("row").filter(has_text="SHORT_PAYMENT")
    expect(short_row).to_contain_text("Operations/finance clerk")

    panel = rep.get_by_test_id("help-panel")
    expect(panel).to_have_attribute(
        "data-context", "reconciliation.order.short_payment"
    )
    expect(panel).to_contain_text("Short payment")
    expect(panel.get_by_test_id("super-users")).to_contain_text("Paula Reyes")
    expect(panel.get_by_test_id("document").first).to_be_visible()
    expect(panel.get_by_text(FAQ_QUESTION)).to_have_count(0)

    # While she types, similar FAQ entries are suggested.
    title = panel.get_by_label("Your question")
    title.press_sequentially("paid short")
    expect(panel.get_by_test_id("ask-suggestions")).to_contain_text(
        "Why does an invoice paid one cent short close by itself?"
    )
    panel.screenshot(path=str(artifacts / "help-panel-suggestions.png"))

    # She asks from the panel; htmx posts it and shows the confirmation.
    title.fill(QUESTION)
    panel.get_by_role("button", name="Ask").click()
    expect(panel.get_by_test_id("ask-done")).to_contain_text("Payments")
    # The suggestions for the question she sent went with the form's text.
    expect(panel.get_by_test_id("ask-suggestions")).to_be_empty()

    # The payments super-user sees the notification and answers.
    expert = sign_in(new_context, "paula")
    expect(expert.get_by_test_id("unread-count")).to_have_text("1")
    expert.get_by_role("link", name=re.compile("Notifications")).click()
    expert.get_by_role("button", name=re.compile(re.escape(QUESTION))).click()
    expect(expert.get_by_role("heading", name=QUESTION)).to_be_visible()
    expect(expert.get_by_test_id("question-context")).to_have_attribute(
        "data-context", "reconciliation.order.short_payment"
    )
    expert.get_by_label("Answer").fill(ANSWER)
    expert.get_by_role("button", name="Post answer").click()
    expect(expert.get_by_test_id("answer")).to_contain_text("bank fee")
    question_url = expert.url.split("#")[0]

    # The sales representative, who asked, accepts the answer.
    order_url = rep.url
    rep.goto(question_url)
    rep.get_by_role("button", name="Accept this answer").click()
    expect(rep.get_by_text("Accepted answer")).to_be_visible()

    # The learning facilitator promotes it to the FAQ.
    facilitator = sign_in(new_context, "lena")
    facilitator.goto(question_url)
    facilitator.get_by_label("FAQ question").fill(FAQ_QUESTION)
    facilitator.get_by_role("button", name="Add to FAQ").click()
    expect(facilitator.get_by_role("heading", name=FAQ_QUESTION)).to_be_visible()

    # The sales representative goes back to the order and finds the new entry.
    rep.goto(order_url)
    panel = rep.get_by_test_id("help-panel")
    entry = panel.get_by_test_id("faq-entry").filter(has_text=FAQ_QUESTION)
    expect(entry).to_have_count(1)
    entry.locator("summary").click()
    expect(entry).to_contain_text("bank fee")
    panel.screenshot(path=str(artifacts / "help-panel-new-faq.png"))
    rep.screenshot(path=str(artifacts / "order-page-new-faq.png"), full_page=True)
    # The search box in the top bar finds the new entry by a word of its answer.
    rep.get_by_role("searchbox", name="Search").fill("remittance")
    rep.get_by_role("searchbox", name="Search").press("Enter")
    expect(rep.get_by_role("link", name=FAQ_QUESTION)).to_be_visible()
    rep.screenshot(path=str(artifacts / "search-new-faq.png"), full_page=True)

    # On a phone-sized window the page wraps instead of scrolling sideways.
    rep.set_viewport_size({"width": 390, "height": 844})
    assert rep.evaluate("document.documentElement.scrollWidth") <= 390
    rep.screenshot(path=str(artifacts / "order-page-narrow.png"), full_page=True)
