"""Purchasing, bills, order lines and import batches on a 390 px phone.

Each row of these tables stacks into a card on the phone, as on Pick and
ship, so every value and input sits under the row's product name and the
page never scrolls sideways. Named people: wanda (warehouse) records a
goods receipt and reads the purchasing list and the order page, fiona
(finance clerk) reads a bill and an import batch, and carla (customer)
reads her order's lines. The screenshots land in ``test-artifacts/``.
"""

from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Role
from conftest import make_person
from e2e.pages import PHONE, page_width, signed_in_page
from imports.models import ImportBatch, ImportSource
from reconciliation.models import (
    Company,
    Currency,
    Party,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    VendorBill,
    VendorBillLine,
)
from reconciliation.tests.factories import create_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PRODUCTS = ("Chai", "Chang", "Aniseed Syrup")


@pytest.fixture
def purchase_order() -> PurchaseOrder:
    company = Company.objects.create(
        name="Phone Company", base_currency=Currency.objects.get(code="USD")
    )
    vendor = Party.objects.create(
        company=company, code="EXOTL", name="Exotic Liquids", currency_id="USD"
    )
    order = PurchaseOrder.objects.create(
        company=company,
        number="PUR-1032",
        vendor=vendor,
        currency_id="USD",
        order_date=date(2024, 3, 1),
        promised_date=date(2099, 12, 31),
    )
    bill = VendorBill.objects.create(
        company=company,
        number="BILL-1028",
        vendor=vendor,
        purchase_order=order,
        supplier_ref="EL-77",
        currency_id="USD",
        bill_date=date(2024, 3, 12),
    )
    for line_no, name in enumerate(PRODUCTS, start=1):
        product = Product.objects.create(
            company=company, sku=name.upper(), name=name, list_price=Decimal(18)
        )
        line = PurchaseOrderLine.objects.create(
            order=order,
            line_no=line_no,
            product=product,
            qty_ordered=Decimal(10),
            unit_price=Decimal("18.00"),
        )
        VendorBillLine.objects.create(
            bill=bill,
            order_line=line,
            product=product,
            qty=Decimal(10),
            unit_price=Decimal("18.00"),
        )
    return order


def right_edge(page: Page, selector: str) -> float:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return box["x"] + box["width"]


def test_goods_receipt_stacks_on_phone(new_context, artifacts, purchase_order):
    make_person("wanda", Role.WAREHOUSE, group="warehouse")
    page = signed_in_page(new_context, "wanda", PHONE)

    page.goto(
        f"/reconciliation/work/purchasing/orders/{purchase_order.number}/receipt/"
    )

    page.screenshot(path=artifacts / "receipt-phone.png", full_page=True)
    assert page_width(page) <= PHONE[0]
    rows = page.get_by_test_id("receipt-lines").locator("tbody tr")
    expect(rows).to_have_count(len(PRODUCTS))
    for line_no, name in enumerate(PRODUCTS, start=1):
        row = rows.nth(line_no - 1)
        expect(row).to_contain_text(name)
        for field in ("received", "rejected", "reason"):
            selector = f"input[name={field}_{line_no}]"
            assert right_edge(page, selector) <= PHONE[0], selector
            # The input sits in the card that names its product.
            expect(row.locator(selector)).to_have_count(1)
    labels = rows.first.locator("td[data-label]")
    expect(labels).to_have_count(5)
    assert right_edge(page, "button:has-text('Record receipt')") <= PHONE[0]


def test_purchasing_list_and_bill_fit_phone(new_context, artifacts, purchase_order):
    make_person("fiona", Role.FINANCE_CLERK, group="operations")
    page = signed_in_page(new_context, "fiona", PHONE)

    page.goto("/reconciliation/work/purchasing/")
    page.screenshot(path=artifacts / "purchasing-phone.png", full_page=True)
    assert page_width(page) <= PHONE[0]
    listing = page.get_by_test_id("purchase-order-list")
    expect(listing).to_contain_text("Three-way match")
    assert (
        right_edge(
            page,
            "[data-testid=purchase-order-list] tbody td[data-label='Three-way match']",
        )
        <= PHONE[0]
    )

    page.goto("/reconciliation/work/purchasing/bills/BILL-1028/")
    page.screenshot(path=artifacts / "bill-phone.png", full_page=True)
    assert page_width(page) <= PHONE[0]
    assert (
        right_edge(page, "[data-testid=three-way] td[data-label='Result']") <= PHONE[0]
    )


def test_order_lines_fit_phone(new_context, artifacts, customer_party):
    make_person("wanda", Role.WAREHOUSE, group="warehouse")
    make_person("carla", Role.CUSTOMER, customer=customer_party, group="customers")
    order = create_order(
        lines=[("10", "14.40", "unit", "15"), ("4", "7.20")],
        company=customer_party.company,
        customer=customer_party,
    )

    customer = signed_in_page(new_context, "carla", PHONE)
    customer.goto(f"/reconciliation/portal/orders/{order.number}/")
    customer.screenshot(path=artifacts / "portal-order-phone.png", full_page=True)
    assert page_width(customer) <= PHONE[0]
    lines = customer.get_by_test_id("portal-lines")
    for label in ("Unit price", "Discount", "Amount"):
        cell = lines.locator(f"tbody td[data-label='{label}']").first
        expect(cell).to_be_visible()
        box = cell.bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= PHONE[0], label
    expect(lines.locator("tbody td[data-label='Discount']").first).to_have_text(
        "\u221215%"
    )

    worker = signed_in_page(new_context, "wanda", PHONE)
    worker.goto(f"/reconciliation/orders/{order.number}/")
    worker.screenshot(path=artifacts / "order-phone.png", full_page=True)
    discount = worker.get_by_test_id("discount-1")
    expect(discount).to_have_text("discount \u221215%")
    price = worker.locator(
        "[data-testid=order-lines] tbody td[data-label='Unit price']"
    ).first
    price_box = price.bounding_box()
    discount_box = discount.bounding_box()
    assert price_box is not None and discount_box is not None
    # The discount sits in the labelled value column, not on a row of its own.
    assert discount_box["x"] > price_box["x"] + 100


def test_import_batch_fits_phone(new_context, artifacts, company):
    clerk = make_person("fiona", Role.FINANCE_CLERK, group="operations")
    source = ImportSource.objects.create(
        name="Orders CSV",
        company=company,
        kind="orders",
        file_format=ImportSource.FileFormat.CSV,
        created_by=clerk,
    )
    batch = ImportBatch.objects.create(
        source=source,
        created_by=clerk,
        file_name="orders-mixed.csv",
        sha256="a" * 64,
        file_format="csv",
        status=ImportBatch.Status.COMMITTED,
    )
    page = signed_in_page(new_context, "fiona", PHONE)

    page.goto(f"/imports/batches/{batch.pk}/")

    page.screenshot(path=artifacts / "import-batch-phone.png", full_page=True)
    expect(page.get_by_text("a" * 64)).to_be_visible()
    assert page_width(page) <= PHONE[0]
