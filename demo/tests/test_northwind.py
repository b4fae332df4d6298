import csv
import hashlib
from datetime import date
from decimal import Decimal

import pytest

from accounts.models import Role, User
from core.models import AuditEvent
from demo.northwind import DATA_DIR, load_company_x, split_name
from imports.models import (
    BankStatementLine,
    ColumnMapping,
    ImportBatch,
    ImportedDocument,
    ImportSource,
)
from reconciliation.matching import run_matching
from reconciliation.models import (
    Allocation,
    Company,
    Discrepancy,
    GoodsReceipt,
    GoodsReceiptLine,
    Invoice,
    InvoiceLine,
    Party,
    Payment,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    SalesOrder,
    SalesOrderLine,
    Shipment,
    ShipmentLine,
    VendorBill,
    VendorBillLine,
)

pytestmark = pytest.mark.django_db

# Any day works; a fixed one keeps the document numbers that carry a date
# (BS-20261205-1) the same in every run of the tests.
LOAD_DAY = date(2026, 12, 5)
STAFF = [
    "nancy",
    "andrew",
    "janet",
    "margaret",
    "steven",
    "michael",
    "robert",
    "laura",
    "anne",
]
EXPECTED_OPEN = {
    "NOT_SHIPPED": 73,
    "LATE_SHIP": 37,
    "SHORT_SHIP": 1,
    "PRICE_MISMATCH": 1,
    # One sales invoice and one vendor bill entered twice.
    "DUPLICATE_INVOICE": 2,
    "MISSING_PAYMENT": 15,
    "SHORT_PAYMENT": 10,
    "UNAPPLIED_PAYMENT": 3,
    "RECEIPT_SHORT": 1,
    # The duplicate bill counts once, so only the short receipt is billed over.
    "BILL_QTY_OVER_RECEIVED": 1,
    "BILL_PRICE_VARIANCE": 1,
    "BILL_BEFORE_RECEIPT": 1,
}


@pytest.fixture(autouse=True)
def _pinned_settings(settings):
    settings.RECONCILIATION_LATE_DAYS = 0
    settings.RECONCILIATION_PAYMENT_TOLERANCE = "0.01"
    settings.COMMONPLACE_COMPANY_NAME = "Company X"


def northwind(name):
    with (DATA_DIR / f"{name}.csv").open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def open_counts(company):
    counts: dict[str, int] = {}
    rows = Discrepancy.objects.filter(company=company, state=Discrepancy.State.OPEN)
    for code in rows.values_list("code", flat=True):
        counts[code] = counts.get(code, 0) + 1
    return counts


def test_split_name_keeps_family_particles():
    assert split_name("Maria Anders") == ("Maria", "Anders")
    assert split_name("Isabel de Castro") == ("Isabel", "de Castro")
    assert split_name("José Pedro Freyre") == ("José Pedro", "Freyre")
    assert split_name("Miguel Angel Paolino") == ("Miguel Angel", "Paolino")


def test_load_creates_northwind_documents():
    company = load_company_x(as_of=LOAD_DAY)

    orders = SalesOrder.objects.filter(company=company)
    assert company.name == "Company X"
    assert company.base_currency_id == "USD"
    parties = Party.objects.filter(company=company)
    assert parties.count() == 91 + 28
    assert parties.filter(code__startswith="SUP-").count() == 28
    assert Product.objects.filter(company=company).count() == 77
    assert orders.count() == 830
    assert SalesOrderLine.objects.filter(order__company=company).count() == 2155
    assert orders.filter(shipments__isnull=True).count() == 21
    assert orders.filter(delivery_status="pending").count() == 21
    assert Shipment.objects.filter(company=company).count() == 809
    assert Invoice.objects.filter(company=company).count() == 810
    assert Invoice.objects.filter(order__shipments__isnull=True).count() == 0
    # One per paid invoice, and three that wait for cash application.
    assert Payment.objects.filter(company=company).count() == 797
    assert Payment.objects.filter(company=company, party__isnull=True).count() == 1


def test_load_creates_staff_and_contacts():
    load_company_x(as_of=LOAD_DAY)

    staff = {user.username: user for user in User.objects.filter(username__in=STAFF)}
    assert sorted(staff) == sorted(STAFF)
    managers = sorted(name for name, user in staff.items() if user.role == Role.MANAGER)
    assert managers == ["andrew", "steven"]
    assert staff["laura"].role == Role.SALES_REP
    assert staff["laura"].learner_group.slug == "sales"
    assert staff["andrew"].learner_group is None
    assert staff["nancy"].manager == staff["andrew"]
    assert staff["michael"].manager == staff["steven"]
    assert staff["andrew"].manager is None
    assert staff["nancy"].title == "Sales Representative"
    assert staff["nancy"].check_password("commonplace-demo")

    alfki = User.objects.get(username="alfki")
    assert alfki.role == Role.CUSTOMER
    assert alfki.customer.code == "ALFKI"
    assert alfki.learner_group.slug == "customers"
    assert (alfki.first_name, alfki.last_name) == ("Maria", "Anders")
    assert User.objects.filter(role=Role.CUSTOMER).count() == 91


def test_party_sales_rep_took_most_orders():
    company = load_company_x(as_of=LOAD_DAY)

    alfki = Party.objects.get(company=company, code="ALFKI")
    fissa = Party.objects.get(company=company, code="FISSA")
    assert alfki.sales_rep.username == "nancy"
    assert fissa.sales_rep is None


def test_load_injects_documented_mix():
    company = load_company_x(as_of=LOAD_DAY)

    late = [
        row
        for row in northwind("orders")
        if row["shipped_date"] and row["shipped_date"] > row["required_date"]
    ]
    counts = open_counts(company)
    assert len(late) == 37
    assert counts == EXPECTED_OPEN
    assert counts["LATE_SHIP"] == len(late)

    writeoffs = Allocation.objects.filter(invoice__company=company).exclude(
        writeoff_forgiven=0, writeoff_kept=0
    )
    assert sorted(writeoffs.values_list("writeoff_forgiven", "writeoff_kept")) == [
        (Decimal("0.00"), Decimal("0.01")),
        (Decimal("0.01"), Decimal("0.00")),
    ]
    assert not Invoice.objects.filter(pk__in=writeoffs.values("invoice_id")).exclude(
        payment_state="paid"
    )


def test_duplicate_invoice_retypes_reference():
    company = load_company_x(as_of=LOAD_DAY)

    row = Discrepancy.objects.get(
        company=company, code="DUPLICATE_INVOICE", order__isnull=False
    )
    duplicate = row.invoice
    original = Invoice.objects.get(
        order=row.order, number=f"INV-{row.order.number[3:]}"
    )
    assert duplicate.number == "INV-11078"
    assert duplicate.reference == f"{original.reference.lower()} "
    assert duplicate.reference != original.reference
    assert f"duplicates invoice {original.number}" in row.explanation
    assert InvoiceLine.objects.filter(invoice=duplicate).count() == (
        InvoiceLine.objects.filter(invoice=original).count()
    )


def test_load_is_idempotent():
    first = load_company_x(as_of=LOAD_DAY)
    events = AuditEvent.objects.count()
    discrepancies = Discrepancy.objects.count()

    second = load_company_x(as_of=LOAD_DAY)

    assert second.pk == first.pk
    assert Company.objects.filter(name="Company X").count() == 1
    assert AuditEvent.objects.count() == events
    assert Discrepancy.objects.count() == discrepancies


def test_matching_again_changes_nothing():
    company = load_company_x(as_of=LOAD_DAY)
    events = AuditEvent.objects.count()

    summary = run_matching(company=company, as_of=LOAD_DAY)

    assert summary.opened == 0
    assert summary.resolved == 0
    assert summary.written_off == 0
    assert summary.open_by_code == EXPECTED_OPEN
    assert AuditEvent.objects.count() == events


def digest(company):
    """Hash every loaded row without database ids, which differ between loads."""

    def number(value):
        return None if value is None else str(Decimal(value).normalize())

    rows = [
        *Party.objects.filter(company=company).values_list(
            "code", "sales_rep__username"
        ),
        *User.objects.filter(customer__company=company).values_list(
            "username", "first_name", "last_name", "role"
        ),
        *SalesOrder.objects.filter(company=company).values_list(
            "number",
            "customer_po_ref",
            "sales_rep__username",
            "delivery_status",
            "invoice_status",
            "payment_status",
            "recon_status",
        ),
        *Shipment.objects.filter(company=company).values_list(
            "number", "tracking_no", "shipped_at"
        ),
        *Invoice.objects.filter(company=company).values_list(
            "number", "reference", "invoice_date", "due_date", "payment_state"
        ),
        *Payment.objects.filter(company=company).values_list(
            "number", "party__code", "value_date", "reference"
        ),
        *BankStatementLine.objects.filter(company=company).values_list(
            "statement_id", "payment__number", "counterparty_name", "raw"
        ),
        *ColumnMapping.objects.filter(source__company=company).values_list(
            "source__name", "target_field", "column", "date_format"
        ),
        *Discrepancy.objects.filter(company=company).values_list(
            "code",
            "order__number",
            "purchase_order__number",
            "vendor_bill__number",
            "explanation",
            "state",
            "rule",
        ),
        *PurchaseOrder.objects.filter(company=company).values_list(
            "number", "vendor__code", "order_date", "promised_date"
        ),
        *GoodsReceipt.objects.filter(company=company).values_list(
            "number", "purchase_order__number", "received_at"
        ),
        *VendorBill.objects.filter(company=company).values_list(
            "number", "purchase_order__number", "supplier_ref", "bill_date"
        ),
    ]
    amounts = [
        *SalesOrderLine.objects.filter(order__company=company).values_list(
            "order__number", "line_no", "qty_shipped", "qty_invoiced", "amount_paid"
        ),
        *ShipmentLine.objects.filter(shipment__company=company).values_list(
            "shipment__number", "order_line__line_no", "qty_shipped"
        ),
        *Allocation.objects.filter(invoice__company=company).values_list(
            "payment__number",
            "invoice__number",
            "amount",
            "writeoff_forgiven",
            "writeoff_kept",
        ),
        *Payment.objects.filter(company=company).values_list(
            "number", "amount", "amount_unallocated"
        ),
        *Discrepancy.objects.filter(company=company).values_list(
            "order__number",
            "purchase_order__number",
            "vendor_bill__number",
            "expected_value",
            "actual_value",
            "difference",
        ),
        *PurchaseOrderLine.objects.filter(order__company=company).values_list(
            "order__number", "line_no", "product__sku", "qty_ordered", "unit_price"
        ),
        *GoodsReceiptLine.objects.filter(receipt__company=company).values_list(
            "receipt__number", "order_line__line_no", "qty_received", "qty_rejected"
        ),
        *VendorBillLine.objects.filter(bill__company=company).values_list(
            "bill__number", "order_line__line_no", "qty", "unit_price"
        ),
    ]
    text = sorted(repr(row) for row in rows)
    text += sorted(
        repr(tuple(number(v) if isinstance(v, Decimal) else v for v in row))
        for row in amounts
    )
    return hashlib.sha256("\n".join(text).encode()).hexdigest()


def delete_company_x():
    company = Company.objects.get(name="Company X")
    Discrepancy.objects.filter(company=company).delete()
    Allocation.objects.filter(invoice__company=company).delete()
    ImportedDocument.objects.filter(batch__source__company=company).delete()
    BankStatementLine.objects.filter(company=company).delete()
    ImportBatch.objects.filter(source__company=company).delete()
    ImportSource.objects.filter(company=company).delete()
    Payment.objects.filter(company=company).delete()
    VendorBillLine.objects.filter(bill__company=company).delete()
    VendorBill.objects.filter(company=company).delete()
    GoodsReceiptLine.objects.filter(receipt__company=company).delete()
    GoodsReceipt.objects.filter(company=company).delete()
    PurchaseOrderLine.objects.filter(order__company=company).delete()
    PurchaseOrder.objects.filter(company=company).delete()
    InvoiceLine.objects.filter(invoice__company=company).delete()
    Invoice.objects.filter(company=company).delete()
    ShipmentLine.objects.filter(shipment__company=company).delete()
    Shipment.objects.filter(company=company).delete()
    SalesOrderLine.objects.filter(order__company=company).delete()
    SalesOrder.objects.filter(company=company).delete()
    User.objects.filter(customer__company=company).delete()
    Party.objects.filter(company=company).delete()
    Product.objects.filter(company=company).delete()
    company.delete()


def test_load_is_deterministic_per_seed():
    first = digest(load_company_x(as_of=LOAD_DAY))
    delete_company_x()
    again = digest(load_company_x(as_of=LOAD_DAY))
    delete_company_x()
    other = load_company_x(seed=7, as_of=LOAD_DAY)

    assert again == first
    assert digest(other) != first
    assert open_counts(other) == EXPECTED_OPEN
