"""A post travels from a new community to a colleague's home feed, in a browser.

Sally (a sales representative) creates an open community through the form
and posts there with a hashtag and a mention of Otto. Otto (a warehouse
worker, not a member) opens the tag from the post, reacts, follows the tag,
and finds the post in his home feed, where the follow alone brought it.
"""

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Role
from conftest import PASSWORD, make_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAME = "Returns desk"
PURPOSE = "Sort out returned goods before the credit note goes out."
BODY = "Check the pallet label before booking a return #returns, thanks @otto"


def sign_in(new_context, username: str) -> Page:
    page: Page = new_context().new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    return page


def test_tagged_post_reaches_follower_feed(new_context, artifacts):
    make_person("sally", Role.SALES_REP, group="sales")
    make_person("otto", Role.WAREHOUSE, group="warehouse")

    # Sally creates the community through the form and posts in it.
    author = sign_in(new_context, "sally")
    author.goto("/communities/new/")
    author.get_by_label("Name").fill(NAME)
    author.get_by_label("Purpose").fill(PURPOSE)
    author.get_by_label("Open to employees").check()
    author.get_by_role("button", name="Create community").click()
    expect(author.get_by_role("heading", name=NAME)).to_be_visible()
    author.get_by_label("Share something").fill(BODY)
    author.get_by_role("button", name="Post", exact=True).click()
    expect(author.get_by_role("status")).to_have_text("Posted.")
    post = author.get_by_test_id("post").first
    expect(post.get_by_role("link", name="#returns")).to_be_visible()

    # Otto's feed is empty: he is in no community and follows nothing.
    reader = sign_in(new_context, "otto")
    expect(reader.get_by_test_id("feed-empty")).to_be_visible()

    # The mention notified him. He opens the tag from the post and reacts.
    reader.goto("/notifications/")
    expect(reader.get_by_text("Sally Tester mentioned you")).to_be_visible()
    reader.goto("/communities/returns-desk/")
    reader.get_by_role("link", name="#returns").click()
    expect(reader.get_by_role("heading", name="#returns")).to_be_visible()
    like = reader.get_by_test_id("reaction-like")
    like.click()
    expect(like).to_have_attribute("aria-pressed", "true")
    expect(like).to_contain_text("1")

    # He follows the tag; the button turns without a page load.
    reader.get_by_role("button", name="Follow #returns").click()
    expect(reader.get_by_role("button", name="Unfollow #returns")).to_have_text(
        "Following"
    )

    # Home now carries the post, with his reaction on it.
    reader.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Home"
    ).click()
    feed = reader.get_by_test_id("feed")
    shown = feed.get_by_test_id("post")
    expect(shown).to_have_count(1)
    expect(shown).to_contain_text("Check the pallet label")
    expect(shown).to_contain_text(f"Sally Tester in {NAME}")
    expect(shown.get_by_test_id("reaction-like")).to_have_attribute(
        "aria-pressed", "true"
    )
    reader.screenshot(path=str(artifacts / "social-feed.png"), full_page=True)
