"""Walter's and Fiona's forms in a real browser at 1366 px: nothing typed is lost.

Wanda, a warehouse worker, types a whole pick and ship form with one number
written "1,5": the form comes back with every value, one message beside the
line and a summary on top. She fixes the number, leaves Picked empty and
ships. She reports the same shortage twice and reads that it is already
reported. Fiona, a finance clerk, applies a payment that is 10.00 short of
its invoice and reads what stays open and which case contains it. The
screenshots land in ``test-artifacts/``.
"""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from conftest import make_person
from e2e.pages import signed_in_page
from portal.models import PickedQuantity
from reconciliation.models import Discrepancy, Shipment
from reconciliation.tests.factories import (
    PaymentFactory,
    create_invoice,
    create_order,
    create_shipment,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_pick_and_ship_keeps_typed_values(new_context, artifacts, customer_party):
    make_person("wanda", Role.WAREHOUSE, group="warehouse")
    order = create_order(
        lines=[("10", "4.00"), ("20", "2.50"), ("5", "12.00", "kg")],
        company=customer_party.company,
        customer=customer_party,
    )
    page = signed_in_page(new_context, "wanda")
    page.goto(f"/reconciliation/work/orders/{order.number}/fulfilment/")

    typed = {
        "Picked on line 1": "4",
        "Shipped on line 1": "4",
        "Picked on line 2": "1,5",
        "Shipped on line 2": "1,5",
        "Shipped on line 3": "2.5",
    }
    for label, value in typed.items():
        page.get_by_label(label).fill(value)
    page.get_by_label("Carrier").fill("DHL Freight")
    page.get_by_label("Tracking number").fill("JD0146 0000 1234")
    page.get_by_role("button", name="Ship", exact=True).click()

    page.screenshot(path=artifacts / "forms-ship-rejected-1366.png", full_page=True)
    expect(page.locator(".message.error")).to_have_text(
        f"Nothing was saved: check line 2 of order {order.number}. Each message "
        "is beside its line, and what you typed is kept."
    )
    product = order.lines.get(line_no=2).product
    expect(page.get_by_test_id("line-error-2")).to_have_text(
        f"Line 2 shipped '1,5': write numbers with a point; {product.name} ships "
        "in whole units, so enter 1 or 2."
    )
    for label, value in typed.items():
        expect(page.get_by_label(label)).to_have_value(value)
    expect(page.get_by_label("Picked on line 3")).to_have_value("")
    expect(page.get_by_label("Carrier")).to_have_value("DHL Freight")
    expect(page.get_by_label("Tracking number")).to_have_value("JD0146 0000 1234")
    assert not Shipment.objects.filter(order=order).exists()

    # She writes 2 and leaves Picked empty: what ships counts as picked.
    page.get_by_label("Picked on line 2").fill("")
    page.get_by_label("Shipped on line 2").fill("2")
    page.get_by_role("button", name="Ship", exact=True).click()

    expect(page.locator(".message.success")).to_have_text(
        f"Recorded the shipment of order {order.number}."
    )
    page.screenshot(path=artifacts / "forms-ship-recorded-1366.png", full_page=True)
    picked = {
        pick.shipment_line.order_line.line_no: pick.qty_picked
        for pick in PickedQuantity.objects.select_related("shipment_line__order_line")
    }
    assert picked == {1: Decimal(4), 2: Decimal(2), 3: Decimal("2.5")}


def test_shortage_twice_written_once(new_context, artifacts, customer_party):
    make_person("wanda", Role.WAREHOUSE, group="warehouse")
    order = create_order(
        lines=[("10", "4.00")], company=customer_party.company, customer=customer_party
    )
    page = signed_in_page(new_context, "wanda")
    page.goto(f"/reconciliation/work/orders/{order.number}/fulfilment/")
    form = page.get_by_test_id("shortage-form")

    for _ in range(2):
        form.get_by_label("Short quantity").fill("3")
        form.get_by_label("Why").fill("Stock-out at the shelf")
        form.get_by_role("button", name="Report shortage").click()

    page.screenshot(path=artifacts / "forms-shortage-again-1366.png", full_page=True)
    case = Discrepancy.objects.get(order=order)
    expect(page.locator(".message.info")).to_contain_text(
        "Line 1: 3 units short was already reported by Wanda Tester on "
    )
    expect(page.locator(".message.info")).to_contain_text(
        f"(case {case.pk}), so nothing new was written."
    )
    assert case.difference == Decimal(-3)


def test_cash_allocation_names_open_rest(new_context, artifacts, customer_party):
    make_person("fiona", Role.FINANCE_CLERK, group="operations")
    order = create_order(
        lines=[("10", "36.36")], company=customer_party.company, customer=customer_party
    )
    create_shipment(order=order)
    invoice = create_invoice(order=order, number="INV-11052")
    payment = PaymentFactory.create(
        company=customer_party.company,
        party=customer_party,
        amount=Decimal("353.60"),
        amount_unallocated=Decimal("353.60"),
        reference="INV-11052 less bank charge",
    )
    page = signed_in_page(new_context, "fiona")

    page.goto(f"/reconciliation/work/cash/?payment={payment.pk}")

    page.screenshot(path=artifacts / "forms-cash-before-1366.png", full_page=True)
    number = page.get_by_test_id("invoice-number")
    rects: int = number.evaluate("element => element.getClientRects().length")
    assert rects == 1, "the invoice number wraps"
    table = page.get_by_test_id("invoices-panel").locator(".table-wrap")
    overflow: int = table.evaluate(
        "element => element.scrollWidth - element.clientWidth"
    )
    assert overflow <= 0, "the invoice table scrolls sideways"
    amount = page.get_by_label("Amount for INV-11052")
    expect(amount).to_have_value("353.60")

    page.get_by_role("button", name="Allocate").click()

    page.screenshot(path=artifacts / "forms-cash-after-1366.png", full_page=True)
    case = Discrepancy.objects.get(invoice=invoice, code="SHORT_PAYMENT")
    message = page.locator(".message.success")
    expect(message).to_contain_text(
        "Invoice INV-11052 still has 10.00 USD open: see case"
    )
    message.get_by_role("link", name=f"case {case.pk}").click()
    expect(page).to_have_url(f"/reconciliation/cases/{case.pk}/")
