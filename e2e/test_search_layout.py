"""The search page in a real browser, on a desktop and on a phone-sized screen.

The screenshots land in ``test-artifacts/`` so that a person can look at
the filters, the result list and the snippets at both widths.
"""

import pytest
from django.utils.timezone import now
from playwright.sync_api import Page, expect

from accounts.models import PersonSkill, Role, Skill
from answers.models import FaqEntry
from communities.models import Community
from conftest import PASSWORD, make_person
from core.markdown import render_markdown
from search.indexing import reindex_all
from search.models import MissedSearch
from social.services import post_comment, publish_post

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


def _seed(payments: Community) -> None:
    author = make_person("sally", Role.SALES_REP, group="sales")
    post = publish_post(
        author=author,
        community=payments,
        body=(
            "When the remittance names a bank fee, the short payment goes to the "
            "fee account. Check the advice before you open a dispute."
        ),
    )
    post_comment(
        author=author, post=post, body="The short payment rule saved me an hour."
    )
    for number, answer in enumerate(
        [
            "Larger differences open a short payment case for the payments team.",
            "A short payment under the tolerance is written off automatically.",
        ]
    ):
        FaqEntry.objects.create(
            question=f"What happens to a short payment, case {number + 1}?",
            answer=answer,
            answer_html=render_markdown(answer).html,
        )
    clerk = make_person("fiona", Role.FINANCE_CLERK, group="operations")
    clerk.title = "Accounts receivable clerk"
    clerk.save()
    skill = Skill.objects.create(name="short payments", display_name="Short payments")
    PersonSkill.objects.create(person=clerk, skill=skill)
    reindex_all()


def _signed_in_page(
    new_context, width: int, height: int, username: str = "sally"
) -> Page:
    context = new_context()
    page: Page = context.new_page()
    page.set_viewport_size({"width": width, "height": height})
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    return page


@pytest.mark.parametrize("screen", sorted(WIDTHS))
def test_search_page_reads_at_each_width(
    new_context, artifacts, payments_community, screen
):
    _seed(payments_community)
    width, height = WIDTHS[screen]
    page = _signed_in_page(new_context, width, height)
    page.goto("/search/?q=short+payment")
    # The filters stay folded until one is used, so results start high up.
    expect(page.get_by_label("Tag")).to_be_hidden()

    hits = page.get_by_test_id("search-hit")
    expect(hits).to_have_count(5)
    # Content first; the person whose skill names the topic comes last.
    expect(hits.first).to_have_attribute("data-kind", "faq")
    expect(hits.last).to_have_attribute("data-kind", "person")
    # The untitled post shows its first sentence, never "Post 1".
    heading = (
        "When the remittance names a bank fee, the short payment goes to the fee "
        "account."
    )
    expect(page.get_by_role("link", name=heading, exact=True)).to_be_visible()
    expect(
        page.get_by_role("link", name=f"Comment on: {heading}", exact=True)
    ).to_be_visible()
    expect(page.get_by_test_id("search-total")).to_have_text("5 results")

    # Nothing is wider than the screen: no sideways scrolling.
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width
    page.screenshot(path=str(artifacts / f"search-{screen}.png"), full_page=True)

    # A facet narrows the results to its type.
    page.get_by_role("link", name="FAQ entry 2").click()
    expect(page.get_by_test_id("search-hit")).to_have_count(2)
    expect(page.get_by_test_id("search-total")).to_have_text("2 results")


def test_used_filter_keeps_filters_open(new_context, payments_community):
    _seed(payments_community)
    page = _signed_in_page(new_context, *WIDTHS["phone"])
    page.goto("/search/?q=short+payment&sort=date")
    expect(page.get_by_label("Sort by")).to_have_value("date")
    expect(page.get_by_label("Tag")).to_be_visible()
    page.get_by_text("Types, filters and sort").click()
    expect(page.get_by_label("Tag")).to_be_hidden()


def test_typing_counts_only_shown_miss(new_context, payments_community):
    _seed(payments_community)
    page = _signed_in_page(new_context, *WIDTHS["desktop"])
    page.goto("/search/")
    expect(page.get_by_test_id("search-hint")).to_be_visible()

    with page.expect_response(
        lambda response: "/search/missed/record/" in response.url, timeout=15_000
    ) as recorded:
        page.locator("#id_q").press_sequentially("zebracodeword", delay=80)
        expect(page.get_by_text("Nothing found in posts")).to_be_visible()
    assert recorded.value.status == 204

    rows = list(MissedSearch.objects.values_list("query", "audience", "count"))
    assert rows == [("zebracodeword", "employee", 1)]


def test_missed_list_fits_a_phone(new_context, artifacts, payments_community):
    make_person("lena", Role.FACILITATOR, group="customer_service")
    MissedSearch.objects.create(
        query="x" * 200, context_key="reconciliation.cases", last_searched_at=now()
    )
    MissedSearch.objects.create(
        query="credit hold",
        audience=MissedSearch.Audience.CUSTOMER,
        last_searched_at=now(),
    )
    width, height = WIDTHS["phone"]
    page = _signed_in_page(new_context, width, height, username="lena")
    page.goto("/search/missed/")

    expect(page.get_by_test_id("missed-search")).to_have_count(2)
    audience = page.locator('[data-audience="customer"] td[data-label="Audience"]')
    expect(audience).to_have_text("Customers")
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width
    page.screenshot(path=str(artifacts / "missed-searches-phone.png"), full_page=True)
