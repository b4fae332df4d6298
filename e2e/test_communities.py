"""Creating a community in a real browser, and a colleague joining it.

A sales representative fills in the "New community" form, finds the new
community in the list, and a warehouse worker in a second browser context
joins it and appears in its member list.
"""

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Role
from conftest import PASSWORD, make_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAME = "Short payments clinic"
PURPOSE = "Bring a short-paid invoice and leave with a decision."
STARTER = "Which short payment took you longest to settle?"


def sign_in(new_context, username: str) -> Page:
    page: Page = new_context().new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(
        page.get_by_role("link", name="Sign out").or_(
            page.get_by_role("button", name="Sign out")
        )
    ).to_be_visible()
    return page


def test_create_community_and_colleague_joins(new_context, artifacts):
    make_person("sally", Role.SALES_REP, group="sales")
    make_person("otto", Role.WAREHOUSE, group="warehouse")

    # Sally creates the community through the form.
    creator = sign_in(new_context, "sally")
    creator.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Communities"
    ).click()
    creator.get_by_test_id("new-community").click()
    creator.get_by_label("Name").fill(NAME)
    creator.get_by_label("Purpose").fill(PURPOSE)
    creator.get_by_label("Open to employees").check()
    creator.get_by_label("Payments").check()
    creator.get_by_label("Conversation starters (optional)").fill(STARTER)
    creator.screenshot(path=str(artifacts / "community-form.png"), full_page=True)
    creator.get_by_role("button", name="Create community").click()

    expect(creator.get_by_role("heading", name=NAME)).to_be_visible()
    expect(creator.get_by_test_id("my-role")).to_have_text("You are an owner")
    expect(creator.get_by_test_id("conversation-starters")).to_contain_text(STARTER)

    # The new community is listed.
    creator.get_by_role("link", name="Communities").first.click()
    listed = creator.get_by_test_id("community").filter(has_text=NAME)
    expect(listed).to_contain_text("1 member")
    expect(listed).to_contain_text("Payments")

    # Otto finds it in his list and joins.
    joiner = sign_in(new_context, "otto")
    joiner.goto("/communities/")
    joiner.get_by_role("link", name=NAME).click()
    joiner.get_by_role("button", name="Join").click()
    expect(joiner.get_by_role("status")).to_have_text(f"You joined {NAME}.")
    expect(joiner.get_by_test_id("my-role")).to_have_text("You are a member")
    expect(joiner.get_by_test_id("members")).to_contain_text("Otto Tester")
    joiner.screenshot(path=str(artifacts / "community-joined.png"), full_page=True)

    # Sally sees him on the members page, with his role.
    creator.goto("/communities/short-payments-clinic/members/")
    row = creator.get_by_test_id("member").filter(has_text="Otto Tester")
    expect(row).to_contain_text("Member")
    creator.screenshot(path=str(artifacts / "community-members.png"), full_page=True)
