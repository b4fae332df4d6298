"""A vendor bill held until the goods arrive, released by the goods receipt.

Exotic Liquids bills 10 Chai on purchase order PO-1001 before anything was
delivered, so the three-way match puts the bill on hold
(BILL_BEFORE_RECEIPT).
Wanda, in the warehouse, records the goods receipt; Fiona, the finance
clerk, then sees the bill released to pay and its case resolved.
"""

from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Role
from conftest import PASSWORD, make_person
from reconciliation.matching import run_matching
from reconciliation.models import (
    Company,
    Currency,
    Discrepancy,
    GoodsReceipt,
    Party,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    VendorBill,
    VendorBillLine,
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


def build_held_bill() -> Company:
    company = Company.objects.create(
        name="Purchase Story Company", base_currency=Currency.objects.get(code="USD")
    )
    vendor = Party.objects.create(
        company=company, code="EXOTL", name="Exotic Liquids", currency_id="USD"
    )
    chai = Product.objects.create(
        company=company, sku="CHAI", name="Chai", list_price=Decimal("18.00")
    )
    order = PurchaseOrder.objects.create(
        company=company,
        number="PO-1001",
        vendor=vendor,
        currency_id="USD",
        order_date=date(2024, 3, 1),
        promised_date=date(2099, 12, 31),
    )
    line = PurchaseOrderLine.objects.create(
        order=order,
        line_no=1,
        product=chai,
        qty_ordered=Decimal(10),
        unit_price=Decimal("18.00"),
    )
    bill = VendorBill.objects.create(
        company=company,
        number="BILL-1",
        vendor=vendor,
        purchase_order=order,
        supplier_ref="EL-77",
        currency_id="USD",
        bill_date=date(2024, 3, 12),
    )
    VendorBillLine.objects.create(
        bill=bill,
        order_line=line,
        product=chai,
        qty=Decimal(10),
        unit_price=Decimal("18.00"),
    )
    make_person("wanda", Role.WAREHOUSE)
    make_person("fiona", Role.FINANCE_CLERK)
    return company


def test_goods_receipt_releases_the_held_bill(new_context, artifacts):
    company = build_held_bill()
    run_matching(company=company, as_of=date(2024, 3, 20))
    case = Discrepancy.objects.get(code="BILL_BEFORE_RECEIPT")
    assert case.state == Discrepancy.State.OPEN

    # Fiona sees the bill on hold, with its case.
    clerk = sign_in(new_context, "fiona")
    clerk.goto("/reconciliation/work/purchasing/bills/BILL-1/")
    expect(clerk.get_by_test_id("release-status")).to_have_text(
        "On hold until the goods arrive"
    )
    expect(clerk.get_by_test_id("hold-banner")).to_be_visible()
    expect(clerk.get_by_test_id("bill-cases")).to_contain_text("Bill before receipt")
    clerk.screenshot(path=str(artifacts / "purchase-1-bill-on-hold.png"))

    # Wanda finds the purchase order from the top bar and records the receipt.
    warehouse = sign_in(new_context, "wanda")
    warehouse.get_by_role("link", name="Purchasing").click()
    warehouse.get_by_label("Receipt").select_option("waiting")
    warehouse.get_by_role("button", name="Filter").click()
    warehouse.get_by_test_id("purchase-order-list").get_by_role(
        "link", name="PO-1001"
    ).click()
    warehouse.get_by_role("link", name="Record a goods receipt").click()
    form = warehouse.get_by_test_id("receipt-form")
    form.get_by_label("Received on line 1").fill("10")
    warehouse.screenshot(path=str(artifacts / "purchase-2-receipt-form.png"))
    form.get_by_role("button", name="Record receipt").click()
    expect(warehouse.get_by_role("status").first).to_have_text(
        "Recorded the goods receipt of purchase order PO-1001."
    )
    expect(warehouse.get_by_test_id("receipts")).to_contain_text("PO-1001-GR1")
    expect(warehouse.get_by_test_id("bills")).to_contain_text("Release to pay")
    warehouse.screenshot(path=str(artifacts / "purchase-3-received.png"))

    # Fiona reloads the bill: released, and the case is gone from it.
    clerk.reload()
    expect(clerk.get_by_test_id("release-status")).to_have_text("Release to pay")
    expect(clerk.get_by_test_id("hold-banner")).to_have_count(0)
    expect(clerk.get_by_test_id("no-bill-cases")).to_be_visible()
    expect(clerk.get_by_test_id("three-way").get_by_role("row").nth(1)).to_contain_text(
        "Matches"
    )
    clerk.screenshot(path=str(artifacts / "purchase-4-bill-released.png"))

    receipt = GoodsReceipt.objects.get()
    assert receipt.lines.get().qty_received == Decimal(10)
    case.refresh_from_db()
    assert case.state == Discrepancy.State.RESOLVED
