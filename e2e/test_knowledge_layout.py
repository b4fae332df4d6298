"""Layout of the knowledge pages that a trial found wrong, in Chromium.

Named people: lena (learning facilitator) fills the version, withdraw and
token forms and filters the library; the demo's sales representative asks
from the help panel on a short-payment case; carla (customer) reads her
order's invoices on a 390 px phone. The screenshots land in
``test-artifacts/``.
"""

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Role
from conftest import make_person
from demo.accounts import featured_short_payment_order
from demo.knowledge import seed_knowledge
from demo.northwind import load_company_x
from demo.people import DEMO_PASSWORD
from e2e.pages import LAPTOP, PHONE, page_width, signed_in_page
from library.models import Document, Kind
from reconciliation.models import Discrepancy, DiscrepancyCode
from reconciliation.tests.factories import (
    create_invoice,
    create_order,
    create_shipment,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The page offset of the help panel's top edge, in CSS pixels.
PANEL_TOP = """() => {
    const box = document.getElementById('help-panel').getBoundingClientRect();
    return box.top + window.scrollY;
}"""
# The text of every visible form label on the page.
LABEL_TEXTS = """() => Array.from(document.querySelectorAll('main label, main legend'))
    .filter((label) => label.getBoundingClientRect().width > 0)
    .map((label) => label.firstChild ? label.firstChild.textContent.trim() : '')"""


@pytest.fixture
def lena(db):
    return make_person("lena", Role.FACILITATOR, group="customer_service")


@pytest.fixture
def lena_document(lena):
    return Document.objects.create(
        title="Short payment guide", kind=Kind.DOCUMENT, owner=lena
    )


def _label_texts(page: Page) -> list[str]:
    texts: list[str] = page.evaluate(LABEL_TEXTS)
    return texts


@pytest.mark.parametrize("size", [LAPTOP, PHONE], ids=["laptop", "phone"])
@pytest.mark.parametrize(
    ("name", "path", "expected"),
    [
        ("version", "/library/{pk}/versions/new/", ["File", "Note"]),
        ("withdraw", "/library/{pk}/withdraw/", ["Reason"]),
        ("tokens", "/assist/tokens/", ["Name", "Expires on (optional)"]),
    ],
)
def test_form_labels_without_colon(
    new_context, artifacts, lena_document, size, name, path, expected
):
    page = signed_in_page(new_context, "lena", size)
    page.goto(path.format(pk=lena_document.pk))
    width = "laptop" if size == LAPTOP else "phone"
    page.screenshot(path=artifacts / f"labels-{name}-{width}.png", full_page=True)

    texts = _label_texts(page)
    for label in expected:
        assert label in texts, texts
    assert [text for text in texts if text.endswith(":")] == []


@pytest.mark.parametrize("size", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_library_filter_labels_above_boxes(new_context, artifacts, lena, size):
    page = signed_in_page(new_context, "lena", size)
    page.goto("/library/")
    filters = page.get_by_role("form", name="Filter the library")
    width = "laptop" if size == LAPTOP else "phone"
    filters.screenshot(path=artifacts / f"library-filters-{width}.png")

    for label_text, select_id in [
        ("Kind", "id_kind"),
        ("Tag", "id_tag"),
        ("CRM function", "id_function"),
    ]:
        label = filters.locator(f"label[for={select_id}]")
        text_box = label.evaluate(
            """(label) => {
                const range = document.createRange();
                range.selectNodeContents(label.firstChild);
                const box = range.getBoundingClientRect();
                return {top: box.top, bottom: box.bottom, left: box.left};
            }"""
        )
        select_box = filters.locator(f"#{select_id}").bounding_box()
        assert select_box is not None
        expect(label).to_contain_text(label_text)
        # The label's text sits on its own line above the box, left-aligned.
        assert text_box["bottom"] <= select_box["y"] + 1, label_text
        assert abs(text_box["left"] - select_box["x"]) <= 1, label_text


def test_help_panel_stays_put_after_asking(new_context, artifacts):
    load_company_x()
    seed_knowledge()
    order = featured_short_payment_order()
    assert order is not None
    case = Discrepancy.objects.get(order=order, code=DiscrepancyCode.SHORT_PAYMENT)
    page: Page = new_context().new_page()
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(order.sales_rep.username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.goto(f"/reconciliation/cases/{case.pk}/")
    panel = page.get_by_test_id("help-panel")
    heading = page.get_by_role("heading", level=1)
    heading_box = heading.bounding_box()
    assert heading_box is not None
    top_before: float = page.evaluate(PANEL_TOP)
    # The panel starts level with the case heading, above the case summary.
    assert abs(top_before - heading_box["y"]) <= 40

    panel.get_by_label("Your question").press_sequentially("short payment bank fee")
    expect(panel.get_by_test_id("ask-suggestions")).not_to_be_empty()
    page.screenshot(path=artifacts / "help-panel-typing.png", full_page=True)
    panel.get_by_role("button", name="Ask").click()
    expect(panel.get_by_test_id("ask-done")).to_be_visible()
    page.screenshot(path=artifacts / "help-panel-asked.png", full_page=True)

    top_after: float = page.evaluate(PANEL_TOP)
    assert page.evaluate("window.scrollY") > 0
    assert abs(top_after - top_before) <= 1


def test_portal_invoices_fit_phone(new_context, artifacts, customer_party):
    make_person("carla", Role.CUSTOMER, customer=customer_party, group="customers")
    order = create_order(
        lines=[("15", "14.40", "unit", "15"), ("25", "7.20")],
        company=customer_party.company,
        customer=customer_party,
    )
    create_shipment(order=order)
    invoice = create_invoice(order=order)

    page = signed_in_page(new_context, "carla", PHONE)
    page.goto(f"/reconciliation/portal/orders/{order.number}/")
    page.screenshot(path=artifacts / "portal-invoices-phone.png", full_page=True)

    assert page_width(page) <= PHONE[0]
    invoices = page.get_by_test_id("portal-invoices")
    expect(invoices).to_contain_text(invoice.number)
    for cell in invoices.locator("tbody td").all():
        box = cell.bounding_box()
        assert box is not None
        assert box["x"] >= 0, cell.inner_text()
        assert box["x"] + box["width"] <= PHONE[0], cell.inner_text()
    expect(invoices.locator("td[data-label=Due]").first).to_be_visible()
