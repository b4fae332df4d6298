"""A short payment from detection to the customer's acceptance of a credit note.

The matching pass finds that Alfreds Futterkiste paid 279.97 of an invoice of
363.60 USD. Sally, the sales rep on the order, proposes a credit note for the
83.63 still open; Carla, the customer, accepts it in the portal, and the case
is resolved with the credit note posted and the statement at zero.
"""

from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Role
from conftest import PASSWORD, make_person
from reconciliation.matching import run_matching
from reconciliation.models import Company, Currency, Discrepancy, Invoice, Party
from reconciliation.tests.factories import (
    create_invoice,
    create_order,
    create_payment,
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


def build_short_payment():
    company = Company.objects.create(
        name="Story Company", base_currency=Currency.objects.get(code="USD")
    )
    party = Party.objects.create(
        company=company, code="ALFKI", name="Alfreds Futterkiste", currency_id="USD"
    )
    rep = make_person("sally", Role.SALES_REP)
    make_person("carla", Role.CUSTOMER, customer=party)
    order = create_order(
        lines=[("10", "36.36")], company=company, customer=party, sales_rep=rep
    )
    create_shipment(order=order, carrier="DHL", tracking_no="JD0146")
    invoice = create_invoice(order=order)
    create_payment(invoice=invoice, amount="279.97")
    return company, order, invoice


def test_short_payment_ends_with_the_customer_accepting_a_credit_note(
    new_context, artifacts
):
    company, order, invoice = build_short_payment()

    # Detection: the matching pass opens the short-payment case.
    run_matching(company=company, as_of=date(2024, 4, 20))
    case = Discrepancy.objects.get(order=order, code="SHORT_PAYMENT")
    assert (case.state, case.difference) == ("open", Decimal("-83.6300"))

    # Sally finds the case on the order and proposes the credit note.
    rep = sign_in(new_context, "sally")
    rep.goto(f"/reconciliation/orders/{order.number}/")
    row = (
        rep.get_by_test_id("discrepancies")
        .get_by_role("row")
        .filter(has_text="SHORT_PAYMENT")
    )
    row.get_by_role("link", name="Decide").click()
    form = rep.get_by_test_id("credit-note-form")
    expect(form.get_by_label("Amount (USD)")).to_have_value("83.63")
    form.get_by_label("Message to the customer").fill(
        "We credit the 83.63 USD you deducted for the damaged box."
    )
    rep.screenshot(path=str(artifacts / "short-payment-1-rep-proposes.png"))
    form.get_by_role("button", name="Propose credit note").click()
    expect(rep.get_by_role("status").first).to_have_text("Proposed the credit note.")
    expect(rep.get_by_test_id("case-state")).to_have_text("Resolution proposed")
    expect(rep.get_by_test_id("proposals")).to_contain_text("Waiting for the customer")
    rep.screenshot(path=str(artifacts / "short-payment-2-proposed.png"))

    # Carla sees the offer in the portal, with nothing internal, and accepts.
    customer = sign_in(new_context, "carla")
    customer.goto("/reconciliation/portal/")
    customer.get_by_test_id("portal-cases").get_by_role("link").first.click()
    proposal = customer.get_by_test_id("proposal")
    expect(proposal).to_contain_text("83.63 USD")
    expect(proposal).to_contain_text("for the damaged box")
    expect(customer.get_by_text(case.explanation)).to_have_count(0)
    expect(customer.get_by_text("Sally")).to_have_count(0)
    customer.screenshot(path=str(artifacts / "short-payment-3-customer-offer.png"))
    proposal.get_by_role("button", name="Accept").click()
    expect(customer.get_by_test_id("portal-case-status")).to_have_text("Resolved")
    expect(customer.get_by_test_id("proposal-state")).to_have_text("Accepted")
    customer.screenshot(path=str(artifacts / "short-payment-4-accepted.png"))

    customer.goto("/reconciliation/portal/statement/")
    expect(customer.get_by_test_id("balance")).to_have_text("0.00 USD")
    customer.screenshot(path=str(artifacts / "short-payment-5-statement.png"))

    # The case is resolved by the credit note, which is now posted.
    case.refresh_from_db()
    credit_note = Invoice.objects.get(
        kind=Invoice.Kind.CREDIT_NOTE, origin_invoice=invoice
    )
    assert (case.state, case.resolution_code, case.resolved_by.username) == (
        "resolved",
        "credit_note",
        "sally",
    )
    assert (credit_note.state, credit_note.amount_total) == (
        Invoice.State.POSTED,
        Decimal("83.6300"),
    )
