"""The demo's purchase side: orders, goods receipts, vendor bills and their cases.

With seed 1996 the loader injects, on purchase orders the seed picks:
- PUR-1007 line 2: 25 of 50 units received, all 50 billed on BILL-1007;
- PUR-1009 line 1: BILL-1009 charges 20.66 per unit, the order 18.12;
- PUR-1032: BILL-1028 came before any goods (the order is not due yet);
- PUR-1020: its bill BILL-1020 entered again as BILL-1029.
"""

from datetime import date
from decimal import Decimal

import pytest

from demo.northwind import load_company_x
from demo.northwind_purchases import PURCHASE_PRICE_SHARE
from reconciliation.models import (
    Discrepancy,
    GoodsReceipt,
    MatchGroup,
    Party,
    PurchaseOrder,
    PurchaseOrderLine,
    VendorBill,
    VendorBillLine,
)
from reconciliation.money import quantize_money
from reconciliation.purchase_selectors import Release, compare_bill

pytestmark = pytest.mark.django_db

LOAD_DAY = date(2026, 12, 5)
# Every open case of the purchase side: code, purchase order, vendor bill.
EXPECTED_CASES = [
    ("BILL_BEFORE_RECEIPT", "PUR-1032", "BILL-1028"),
    ("BILL_PRICE_VARIANCE", "PUR-1009", "BILL-1009"),
    ("BILL_QTY_OVER_RECEIVED", "PUR-1007", "BILL-1007"),
    # The duplicate is the finding: its quantities do not count twice.
    ("DUPLICATE_INVOICE", "PUR-1020", "BILL-1029"),
    ("RECEIPT_SHORT", "PUR-1007", None),
]


@pytest.fixture(autouse=True)
def _pinned_settings(settings):
    settings.RECONCILIATION_LATE_DAYS = 0
    settings.RECONCILIATION_PAYMENT_TOLERANCE = "0.01"
    settings.COMMONPLACE_COMPANY_NAME = "Company X"


def purchase_cases(
    state: str = Discrepancy.State.OPEN,
) -> list[tuple[str, str | None, str | None]]:
    rows = Discrepancy.objects.filter(
        order__isnull=True, payment__isnull=True, state=state
    )
    return sorted(
        rows.values_list("code", "purchase_order__number", "vendor_bill__number"),
        key=lambda row: (row[0], row[1], row[2] or ""),
    )


def lines_with_cases() -> list[PurchaseOrderLine]:
    """Return the purchase order lines with a receipt, billed quantity or price case."""
    lines_with_cases = [("PUR-1007", 2), ("PUR-1009", 1), ("PUR-1032", 1)]
    return [
        PurchaseOrderLine.objects.get(order__number=number, line_no=line_no)
        for number, line_no in lines_with_cases
    ]


def test_purchase_documents_load():
    company = load_company_x(as_of=LOAD_DAY)

    orders = PurchaseOrder.objects.filter(company=company)
    vendors = Party.objects.filter(company=company, purchase_orders__isnull=False)
    assert orders.count() == 36
    assert vendors.distinct().count() == 28
    assert not vendors.filter(contacts__isnull=False).exists()
    assert PurchaseOrderLine.objects.filter(order__company=company).count() == 88
    assert GoodsReceipt.objects.filter(company=company).count() == 29
    # 27 received orders billed, one bill before receipt, one entered twice.
    assert VendorBill.objects.filter(company=company).count() == 29
    waiting = orders.filter(receipts__isnull=True)
    assert waiting.count() == 7
    assert not waiting.filter(promised_date__lte=LOAD_DAY).exists()
    assert list(
        orders.filter(receipts__isnull=False, bills__isnull=True)
        .order_by("number")
        .values_list("number", flat=True)
    ) == ["PUR-1028", "PUR-1029"]


def test_purchase_prices_follow_list_prices():
    company = load_company_x(as_of=LOAD_DAY)

    lines = PurchaseOrderLine.objects.filter(order__company=company)
    for line in lines.select_related("product"):
        expected = quantize_money(
            line.product.list_price * PURCHASE_PRICE_SHARE, minor_units=2
        )
        assert line.unit_price == expected, line
        assert line.qty_ordered >= 10, line
        assert line.qty_ordered % 10 == 0, line


def test_pass_opens_known_purchase_cases():
    company = load_company_x(as_of=LOAD_DAY)

    assert purchase_cases() == EXPECTED_CASES
    assert purchase_cases(Discrepancy.State.RESOLVED) == []
    short = Discrepancy.objects.get(code="RECEIPT_SHORT")
    assert short.explanation == (
        "Only 25 units of 50 units received for purchase order PUR-1007 line 2."
    )
    price = Discrepancy.objects.get(code="BILL_PRICE_VARIANCE")
    assert (price.expected_value, price.actual_value) == (
        Decimal("18.12"),
        Decimal("20.66"),
    )
    duplicate = Discrepancy.objects.get(
        code="DUPLICATE_INVOICE", vendor_bill__isnull=False
    )
    assert duplicate.vendor_bill.supplier_ref == "en-5198 "
    assert "which bill BILL-1020 of 2026-11-17 already has" in duplicate.explanation
    # One three-way match per purchase order line. The lines with a
    # quantity or price case are exceptions.
    matches = MatchGroup.objects.filter(company=company, kind=MatchGroup.Kind.PURCHASE)
    assert matches.count() == 88
    exceptions = matches.filter(outcome=MatchGroup.Outcome.EXCEPTION)
    keys = [f"P2P:line:{line.pk}" for line in lines_with_cases()]
    assert sorted(exceptions.values_list("key", flat=True)) == sorted(keys)


def test_price_variance_match_carries_prices():
    load_company_x(as_of=LOAD_DAY)
    line = PurchaseOrderLine.objects.get(order__number="PUR-1009", line_no=1)
    bill_line = VendorBillLine.objects.get(bill__number="BILL-1009", order_line=line)

    match = MatchGroup.objects.get(key=f"P2P:line:{line.pk}")

    assert match.outcome == MatchGroup.Outcome.EXCEPTION
    assert match.state == MatchGroup.State.PROPOSED
    over = quantize_money(
        (Decimal("20.66") - Decimal("18.12")) * bill_line.qty, minor_units=2
    )
    assert match.compared["price_variances"] == [
        {
            "bill": "BILL-1009",
            "ordered_price": "18.1200",
            "billed_price": "20.6600",
            "qty": str(bill_line.qty),
            "amount": str(over),
            "currency": "USD",
        }
    ]
    assert match.residual == over
    assert match.unit == "USD"


def test_bill_release_follows_the_mix():
    load_company_x(as_of=LOAD_DAY)

    releases = {
        bill.number: compare_bill(bill).release
        for bill in VendorBill.objects.prefetch_related("lines__order_line")
    }
    held_or_stopped = {
        number: release for number, release in releases.items() if release != "yes"
    }
    assert held_or_stopped == {
        "BILL-1007": Release.EXCEPTION,
        "BILL-1009": Release.EXCEPTION,
        "BILL-1028": Release.NO,
        "BILL-1029": Release.EXCEPTION,
    }
    copy_lines = VendorBillLine.objects.filter(bill__number="BILL-1029")
    original_lines = VendorBillLine.objects.filter(bill__number="BILL-1020")
    assert list(copy_lines.values_list("order_line", "qty", "unit_price")) == list(
        original_lines.values_list("order_line", "qty", "unit_price")
    )
