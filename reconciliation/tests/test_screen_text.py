"""The text a person reads on case screens: rounded money, labels, empty states."""

from decimal import Decimal
from html.parser import HTMLParser

import pytest

from core.testing import signed_in
from reconciliation import approvals, cases
from reconciliation.models import Discrepancy
from reconciliation.tests.conftest import make_case

pytestmark = pytest.mark.django_db

INBOX = "/reconciliation/cases/"
# HTML elements without an end tag, which must not change the nesting depth.
VOID_ELEMENTS = frozenset({"br", "hr", "img", "input", "link", "meta", "wbr"})


class _TextCollector(HTMLParser):
    """Collect the text inside each element whose ``data-testid`` is ``testid``."""

    def __init__(self, testid: str) -> None:
        super().__init__()
        self.testid = testid
        self.depth = 0
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID_ELEMENTS:
            return
        if self.depth:
            self.depth += 1
        elif ("data-testid", self.testid) in attrs:
            self.depth = 1
            self.texts.append("")

    def handle_endtag(self, tag: str) -> None:
        if self.depth and tag not in VOID_ELEMENTS:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.texts[-1] += data


def texts_of(html: str, testid: str) -> list[str]:
    """Return the whitespace-collapsed text of each element with ``testid``."""
    collector = _TextCollector(testid)
    collector.feed(html)
    return [" ".join(text.split()) for text in collector.texts]


def page(person, url: str) -> str:
    response = signed_in(person).get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def set_figures(case: Discrepancy, expected: str, actual: str, unit: str) -> None:
    Discrepancy.objects.filter(pk=case.pk).update(
        expected_value=Decimal(expected),
        actual_value=Decimal(actual),
        difference=Decimal(actual) - Decimal(expected),
        unit=unit,
    )


# Case figures


def test_case_page_rounds_money_to_cents(short_payment_case, clerk):
    html = page(clerk, f"{INBOX}{short_payment_case.pk}/")

    assert texts_of(html, "case-figures") == ["363.60 / 279.97 USD"]


def test_case_page_pads_whole_amounts(short_payment_case, clerk):
    set_figures(short_payment_case, "400", "204", "USD")

    html = page(clerk, f"{INBOX}{short_payment_case.pk}/")

    assert texts_of(html, "case-figures") == ["400.00 / 204.00 USD"]


def test_case_page_shows_quantity_without_zeros(short_payment_case, clerk):
    set_figures(short_payment_case, "8", "2.5", "kg")

    html = page(clerk, f"{INBOX}{short_payment_case.pk}/")

    assert texts_of(html, "case-figures") == ["8 / 2.5 kg"]


def test_sales_page_rounds_money_to_cents(short_payment_case, sales_rep):
    html = page(sales_rep, f"/reconciliation/work/cases/{short_payment_case.pk}/")

    assert texts_of(html, "case-figures") == [
        "Expected 363.60 · actual 279.97 · difference -83.63 USD"
    ]


# Write-off within the limit


def test_write_off_message_on_open_case(short_payment_case, clerk, settings):
    settings.RECONCILIATION_WRITE_OFF_LIMIT = "100.00"
    url = f"{INBOX}{short_payment_case.pk}/"

    response = signed_in(clerk).post(
        f"{url}write-off/", {"reason": "Bank charge."}, follow=True
    )

    assert [str(message) for message in response.context["messages"]] == [
        "A write-off of 83.63 USD is within the 100.00 limit, so it needs no "
        "approval: start work on the case, then resolve it with the Write-off "
        "resolution code."
    ]
    # The message sends the person to Start work because an open case has no
    # Resolve button.
    html = response.content.decode()
    assert 'data-testid="move-in_progress"' in html
    assert 'data-testid="move-resolved"' not in html


def test_write_off_message_on_case_in_progress(short_payment_case, clerk, settings):
    settings.RECONCILIATION_WRITE_OFF_LIMIT = "100.00"
    cases.start_case(case_id=short_payment_case.pk, actor=clerk)
    url = f"{INBOX}{short_payment_case.pk}/"

    response = signed_in(clerk).post(
        f"{url}write-off/", {"reason": "Bank charge."}, follow=True
    )

    assert [str(message) for message in response.context["messages"]] == [
        "A write-off of 83.63 USD is within the 100.00 limit, so it needs no "
        "approval: resolve the case with the Write-off resolution code."
    ]
    assert 'data-testid="move-resolved"' in response.content.decode()


# Approvals table


def test_approvals_page_shows_action_label(short_payment_case, clerk, manager):
    cases.start_case(case_id=short_payment_case.pk, actor=clerk)
    approvals.request_write_off(
        case_id=short_payment_case.pk, actor=clerk, reason="Freight deduction."
    )

    html = page(manager, "/reconciliation/work/approvals/")

    assert '<td data-label="Action">Write-off</td>' in html
    assert "write_off</td>" not in html
    assert '<td class="num" data-label="Amount">83.63 USD</td>' in html


# Comments


def test_empty_comments_are_not_numbered(short_payment_case, clerk):
    html = page(clerk, f"{INBOX}{short_payment_case.pk}/")

    assert texts_of(html, "no-comments") == ["No comments yet."]
    assert texts_of(html, "comments") == []
    assert '<ol class="thread"' not in html


def test_comments_are_listed(short_payment_case, clerk):
    cases.add_comment(case_id=short_payment_case.pk, author=clerk, body="Called.")

    html = page(clerk, f"{INBOX}{short_payment_case.pk}/")

    assert len(texts_of(html, "comments")) == 1
    assert texts_of(html, "comments")[0].endswith("Called.")
    assert texts_of(html, "no-comments") == []


def test_unit_quantities_show_without_zeros(shipped_order, warehouse):
    case = make_case(shipped_order, code="DAMAGED", owner_role="warehouse")
    set_figures(case, "0", "2", "unit")

    html = page(warehouse, f"{INBOX}{case.pk}/")

    assert texts_of(html, "case-figures") == ["0 / 2 units"]
