"""The demo is loaded as of the day it is loaded.

Every Northwind date moves by one offset, so the demo's last day is the load
day. The cases the matching pass finds do not depend on that day, and what a
person does today follows on from the data.
"""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import User
from core.models import AuditEvent
from demo.knowledge import seed_knowledge
from demo.northwind import NORTHWIND_AS_OF, company_load_day, load_company_x
from demo.tests.test_northwind import EXPECTED_OPEN, delete_company_x, open_counts
from imports.models import BankStatementLine, ImportBatch
from reconciliation.models import (
    Discrepancy,
    GoodsReceipt,
    Invoice,
    Payment,
    PurchaseOrder,
    SalesOrder,
    Shipment,
    VendorBill,
)
from reconciliation.warehouse_work import LineQuantities, record_shipment

pytestmark = pytest.mark.django_db

# Two load days a non-whole number of years apart, one of them in a leap year.
FIRST_DAY = date(2026, 12, 5)
SECOND_DAY = date(2028, 2, 29)


@pytest.fixture(autouse=True)
def _pinned_settings(settings):
    settings.RECONCILIATION_LATE_DAYS = 0
    settings.RECONCILIATION_PAYMENT_TOLERANCE = "0.01"
    settings.COMMONPLACE_COMPANY_NAME = "Company X"


def cases(company, day):
    """Every case the pass found, with the load day taken out of numbers."""
    stamp = f"{day:%Y%m%d}"
    rows = Discrepancy.objects.filter(company=company).values_list(
        "code",
        "state",
        "order__number",
        "invoice__number",
        "payment__number",
        "purchase_order__number",
        "vendor_bill__number",
        "expected_value",
        "actual_value",
        "difference",
    )
    return sorted(
        (
            tuple(
                value.replace(stamp, "<day>") if isinstance(value, str) else value
                for value in row
            )
            for row in rows
        ),
        key=repr,
    )


def dates(company):
    """Every date the loader wrote, by document."""
    found: dict[str, date] = {}
    for number, ordered, promised in SalesOrder.objects.filter(
        company=company
    ).values_list("number", "order_date", "promised_date"):
        found[f"{number} ordered"] = ordered
        found[f"{number} promised"] = promised
    for number, shipped in Shipment.objects.filter(company=company).values_list(
        "number", "shipped_at"
    ):
        assert shipped is not None, number
        found[f"{number} shipped"] = shipped
    for number, invoiced, due in Invoice.objects.filter(company=company).values_list(
        "number", "invoice_date", "due_date"
    ):
        assert due is not None, number
        found[f"{number} invoiced"] = invoiced
        found[f"{number} due"] = due
    for number, value_date in Payment.objects.filter(company=company).values_list(
        "number", "value_date"
    ):
        # The bank line's number carries the load day, so key it by kind.
        found[f"{'BS' if number.startswith('BS-') else number} value"] = value_date
    for line in BankStatementLine.objects.filter(company=company):
        assert line.booking_date is not None
        assert line.value_date is not None
        found["statement booked"] = line.booking_date
        found["statement value"] = line.value_date
    for batch in ImportBatch.objects.filter(source__company=company):
        found["statement imported"] = timezone.localdate(batch.created_at)
    for number, ordered, promised in PurchaseOrder.objects.filter(
        company=company
    ).values_list("number", "order_date", "promised_date"):
        found[f"{number} ordered"] = ordered
        found[f"{number} promised"] = promised
    for number, received in GoodsReceipt.objects.filter(company=company).values_list(
        "number", "received_at"
    ):
        found[f"{number} received"] = received
    for number, billed in VendorBill.objects.filter(company=company).values_list(
        "number", "bill_date"
    ):
        found[f"{number} billed"] = billed
    return found


def test_load_day_moves_dates_keeps_cases():
    first = load_company_x(as_of=FIRST_DAY)
    first_cases = cases(first, FIRST_DAY)
    first_dates = dates(first)
    first_refs = dict(
        SalesOrder.objects.filter(company=first).values_list(
            "number", "customer_po_ref"
        )
    )
    explanations = list(
        Discrepancy.objects.filter(company=first).values_list("explanation", flat=True)
    )
    delete_company_x()

    second = load_company_x(as_of=SECOND_DAY)

    assert open_counts(second) == EXPECTED_OPEN
    assert cases(second, SECOND_DAY) == first_cases
    moved = SECOND_DAY - FIRST_DAY
    assert dates(second) == {key: day + moved for key, day in first_dates.items()}
    # Only purchase orders are promised after the load day: the last was
    # placed the day before, with a lead time of 14 days.
    purchase_promises = [
        day
        for key, day in first_dates.items()
        if key.startswith("PUR-") and key.endswith(" promised")
    ]
    other_dates = [
        day
        for key, day in first_dates.items()
        if not (key.startswith("PUR-") and key.endswith(" promised"))
    ]
    assert max(other_dates) == FIRST_DAY
    assert max(purchase_promises) == FIRST_DAY + timedelta(days=13)
    assert first_dates["statement booked"] == FIRST_DAY
    assert first_dates["statement imported"] == FIRST_DAY
    assert company_load_day(second) == SECOND_DAY
    # No case text still names a year of Northwind's own calendar.
    assert not [text for text in explanations if re.search(r"\b199\d-", text)]
    # The same customers quote purchase order numbers, of the moved years.
    second_refs = dict(
        SalesOrder.objects.filter(company=second).values_list(
            "number", "customer_po_ref"
        )
    )
    assert {n for n, ref in second_refs.items() if ref} == {
        n for n, ref in first_refs.items() if ref
    }
    for order in SalesOrder.objects.filter(company=second).exclude(customer_po_ref=""):
        assert order.customer_po_ref.startswith(f"PO-{order.order_date.year}-")


def test_load_records_day_and_offset():
    company = load_company_x(as_of=FIRST_DAY)

    event = AuditEvent.objects.get(action="demo.company_loaded")
    assert event.object_id == str(company.pk)
    assert event.after["as_of"] == "2026-12-05"
    assert event.after["days_moved"] == (FIRST_DAY - NORTHWIND_AS_OF).days


def test_shipping_today_is_days_late():
    """Walter ships SO-11075, which Northwind never shipped, on the load day."""
    today = timezone.localdate()
    load_company_x(as_of=today)
    seed_knowledge()
    order = SalesOrder.objects.get(number="SO-11075")

    record_shipment(
        actor=User.objects.get(username="walter"),
        order=order,
        quantities={
            line.line_no: LineQuantities(
                picked=line.qty_ordered, shipped=line.qty_ordered
            )
            for line in order.lines.all()
        },
        carrier="DHL",
    )

    late = Discrepancy.objects.get(
        order=order, code="LATE_SHIP", state=Discrepancy.State.OPEN
    )
    # Northwind promised SO-11075 for 1998-06-03, 27 days before its last day.
    days = (NORTHWIND_AS_OF - date(1998, 6, 3)).days
    assert days == 27
    assert order.promised_date == today - timedelta(days=days)
    assert late.actual_value == Decimal(days)
    assert f"left on {today.isoformat()}, {days} days after" in late.explanation
