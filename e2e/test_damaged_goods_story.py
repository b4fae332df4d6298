"""Damaged goods from the customer's report to her acceptance of a credit note.

Carla (Alfreds Futterkiste) reports 2 of the 10 boxes of Chai she received
damaged. The case names invoice INV-DMG-1, which billed them at 36.36 USD
each with 20% tax. Sally, the sales rep on the order, proposes the credit
note the decision screen works out, 87.26 USD; Carla accepts it in the
portal, the credit note is posted against the invoice and her statement
shows the invoice less the credit.
"""

from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Role
from conftest import PASSWORD, make_person
from reconciliation.models import Company, Currency, Discrepancy, Invoice, Party
from reconciliation.services import refresh_order
from reconciliation.tests.factories import (
    create_invoice,
    create_order,
    create_shipment,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(new_context, username: str) -> Page:
    page: Page = new_context().new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return page


def build_delivered_order():
    company = Company.objects.create(
        name="Story Company", base_currency=Currency.objects.get(code="USD")
    )
    party = Party.objects.create(
        company=company, code="ALFKI", name="Alfreds Futterkiste", currency_id="USD"
    )
    rep = make_person("sally", Role.SALES_REP)
    make_person("carla", Role.CUSTOMER, customer=party)
    order = create_order(
        lines=[("10", "36.36")],
        company=company,
        customer=party,
        sales_rep=rep,
        number="SO-DMG",
    )
    create_shipment(order=order, number="SH-DMG-1", carrier="DHL", tracking_no="J1")
    invoice = create_invoice(order=order, number="INV-DMG-1")
    line = invoice.lines.get()
    line.tax_rate = Decimal(20)
    line.tax_amount = Decimal("72.72")
    line.save(update_fields=["tax_rate", "tax_amount"])
    refresh_order(order=order)
    return order, invoice


def test_damaged_report_credit_accepted(new_context, artifacts):
    order, invoice = build_delivered_order()

    # Carla reports 2 boxes damaged from the portal.
    customer = sign_in(new_context, "carla")
    customer.goto(f"/reconciliation/portal/orders/{order.number}/")
    customer.get_by_role("link", name="Report a problem").click()
    form = customer.get_by_test_id("problem-form")
    form.get_by_label("What went wrong").select_option(label="Goods damaged")
    form.get_by_label("Shipment line (missing or damaged goods)").select_option(index=1)
    form.get_by_label("How many").fill("2")
    form.get_by_label("Tell us more").fill("Two boxes arrived crushed.")
    form.get_by_role("button", name="Send report").click()
    customer.wait_for_load_state()
    case = Discrepancy.objects.get(order=order, code="DAMAGED")
    assert case.invoice_id == invoice.pk

    # Sally decides the case: the credit for 2 boxes with the invoice's tax.
    rep = sign_in(new_context, "sally")
    rep.goto(f"/reconciliation/orders/{order.number}/")
    row = (
        rep.get_by_test_id("discrepancies")
        .get_by_role("row")
        .filter(has_text="DAMAGED")
    )
    row.get_by_role("link", name="Decide").click()
    expect(rep.get_by_test_id("goods-credit")).to_contain_text(
        "2 units damaged, billed on invoice INV-DMG-1 at 36.36 USD each"
    )
    credit = rep.get_by_test_id("credit-note-form")
    expect(credit.get_by_label("Amount (USD)")).to_have_value("87.26")
    credit.get_by_label("Message to the customer").fill(
        "We credit the two crushed boxes, tax included."
    )
    rep.screenshot(path=str(artifacts / "damaged-goods-1-rep-proposes.png"))
    credit.get_by_role("button", name="Propose credit note").click()
    expect(rep.get_by_role("status").first).to_have_text("Proposed the credit note.")
    expect(rep.get_by_test_id("case-state")).to_have_text("Resolution proposed")

    # Carla sees the offer with nothing internal, and accepts it.
    customer.goto("/reconciliation/portal/")
    customer.get_by_test_id("portal-cases").get_by_role("link").first.click()
    proposal = customer.get_by_test_id("proposal")
    expect(proposal).to_contain_text("87.26 USD")
    expect(proposal).to_contain_text("two crushed boxes")
    expect(customer.get_by_text("Sally")).to_have_count(0)
    expect(customer.get_by_text(case.rule)).to_have_count(0)
    customer.screenshot(
        path=str(artifacts / "damaged-goods-2-customer-offer.png"), full_page=True
    )
    proposal.get_by_role("button", name="Accept").click()
    expect(customer.get_by_test_id("portal-case-status")).to_have_text("Resolved")
    expect(customer.get_by_test_id("proposal-state")).to_have_text("Accepted")
    customer.screenshot(
        path=str(artifacts / "damaged-goods-3-accepted.png"), full_page=True
    )

    # 363.60 net and 72.72 tax, less the credit of 87.26.
    customer.goto("/reconciliation/portal/statement/")
    expect(customer.get_by_test_id("balance")).to_have_text("349.06 USD")
    customer.screenshot(
        path=str(artifacts / "damaged-goods-4-statement.png"), full_page=True
    )

    case.refresh_from_db()
    credit_note = Invoice.objects.get(
        kind=Invoice.Kind.CREDIT_NOTE, origin_invoice=invoice
    )
    assert (case.state, case.resolution_code) == ("resolved", "credit_note")
    assert (credit_note.state, credit_note.amount_total) == (
        Invoice.State.POSTED,
        Decimal("87.2600"),
    )
