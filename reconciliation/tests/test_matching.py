from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from core.models import AuditEvent
from reconciliation.matching import normalize_reference, run_matching
from reconciliation.models import (
    Allocation,
    Discrepancy,
    Invoice,
    ReconStatus,
    SalesOrder,
    Shipment,
)
from reconciliation.services import allocate_payment, refresh_order
from reconciliation.tests.factories import (
    PROMISED_DATE,
    CompanyFactory,
    PartyFactory,
    PaymentFactory,
    create_invoice,
    create_order,
    create_payment,
    create_shipment,
)

AS_OF = date(2024, 6, 30)
# A week after the promised date: shipments are late or short by then, and the
# shipped units are not yet due for invoicing (seven days by default).
SHIP_AS_OF = date(2024, 3, 22)
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _pinned_settings(settings):
    settings.RECONCILIATION_LATE_DAYS = 0
    settings.RECONCILIATION_PAYMENT_TOLERANCE = "0.01"


def open_rows(order, code=None):
    rows = Discrepancy.objects.filter(order=order, state=Discrepancy.State.OPEN)
    if code:
        rows = rows.filter(code=code)
    return list(rows.order_by("pk"))


def only_row(order, code):
    rows = open_rows(order)
    assert [row.code for row in rows] == [code]
    return rows[0]


def paid_order(lines=(("1", "100.00"),), amount=None, reference="", **fields):
    """Return an order shipped, invoiced and paid in full (or ``amount``)."""
    order = create_order(lines=lines, **fields)
    create_shipment(order=order)
    invoice = create_invoice(order=order, reference=reference)
    create_payment(invoice=invoice, amount=amount or str(invoice.amount_total))
    invoice.refresh_from_db()
    return order, invoice


# Order to shipment


def test_not_shipped_after_promised_date():
    order = create_order(lines=[("12", "14.40")])
    line = order.lines.get()

    run_matching(company=order.company, as_of=AS_OF)

    row = only_row(order, "NOT_SHIPPED")
    assert row.order_line == line
    assert row.expected_value == Decimal(12)
    assert row.actual_value == Decimal(0)
    assert row.difference == Decimal(-12)
    assert row.unit == "unit"
    assert row.severity == "medium"
    assert row.owner_role == "warehouse"
    assert row.rule == "shipment.not_shipped@1"
    assert row.fingerprint == f"NOT_SHIPPED:line:{line.pk}"
    assert row.explanation == (
        f"Nothing has been shipped for order {order.number} line 1 "
        f"({line.description}): 12 units ordered, promised for 2024-03-15."
    )


def test_not_shipped_waits_for_late_days(settings):
    settings.RECONCILIATION_LATE_DAYS = 5
    order = create_order()

    run_matching(company=order.company, as_of=PROMISED_DATE + timedelta(days=5))
    assert open_rows(order) == []

    run_matching(company=order.company, as_of=PROMISED_DATE + timedelta(days=6))
    assert only_row(order, "NOT_SHIPPED").state == "open"


def test_short_ship_without_backorder():
    order = create_order(lines=[("10", "5.00")])
    create_shipment(order=order, quantities={1: "7"})
    line = order.lines.get()

    run_matching(company=order.company, as_of=SHIP_AS_OF)

    row = only_row(order, "SHORT_SHIP")
    assert row.expected_value == Decimal(10)
    assert row.actual_value == Decimal(7)
    assert row.difference == Decimal(-3)
    assert row.severity == "medium"
    assert row.owner_role == "warehouse"
    assert row.rule == "shipment.short@1"
    assert row.explanation == (
        f"Only 7 units of 10 units shipped for order {order.number} line 1 "
        f"({line.description}), with no backorder open: 3 units short."
    )


def backordered_order():
    order = create_order(lines=[("10", "5.00")])
    first = create_shipment(order=order, quantities={1: "7"})
    create_shipment(
        order=order, quantities={1: "3"}, state=Shipment.State.DRAFT, backorder_of=first
    )
    return order


def test_partial_ship_with_backorder_is_information():
    order = backordered_order()
    line = order.lines.get()

    run_matching(company=order.company, as_of=PROMISED_DATE)

    order.refresh_from_db()
    row = only_row(order, "PARTIAL_SHIP")
    assert row.severity == "low"
    assert row.owner_role == "warehouse"
    assert row.rule == "shipment.partial@1"
    assert row.difference == Decimal(-3)
    assert row.explanation == (
        f"7 units of 10 units shipped for order {order.number} line 1 "
        f"({line.description}); 3 units follow on a backorder."
    )
    assert order.recon_status == ReconStatus.CLEAN


def test_backorder_open_after_promised_date():
    order = backordered_order()
    line = order.lines.get()

    run_matching(company=order.company, as_of=SHIP_AS_OF)

    order.refresh_from_db()
    row = only_row(order, "BACKORDER_OPEN")
    assert row.severity == "medium"
    assert row.owner_role == "sales_rep"
    assert row.rule == "shipment.backorder@1"
    assert row.expected_value == Decimal(10)
    assert row.actual_value == Decimal(7)
    assert row.explanation == (
        f"3 units of 10 units for order {order.number} line 1 "
        f"({line.description}) are still on backorder after the promised date "
        "2024-03-15."
    )
    assert order.recon_status == ReconStatus.EXCEPTION


def test_over_ship():
    order = create_order(lines=[("10", "5.00", "kg")])
    create_shipment(order=order, quantities={1: "12.5"})
    line = order.lines.get()

    run_matching(company=order.company, as_of=SHIP_AS_OF)

    row = only_row(order, "OVER_SHIP")
    assert row.expected_value == Decimal(10)
    assert row.actual_value == Decimal("12.5")
    assert row.difference == Decimal("2.5")
    assert row.unit == "kg"
    assert row.owner_role == "warehouse"
    assert row.rule == "shipment.over@1"
    assert row.explanation == (
        f"12.5 kg shipped for order {order.number} line 1 ({line.description}) "
        "against 10 kg ordered: 2.5 kg too many."
    )


def test_late_ship():
    order = create_order()
    shipment = create_shipment(order=order, shipped_at=date(2024, 3, 20))

    run_matching(company=order.company, as_of=SHIP_AS_OF)

    row = only_row(order, "LATE_SHIP")
    assert row.shipment == shipment
    assert row.expected_value == Decimal(0)
    assert row.actual_value == Decimal(5)
    assert row.difference == Decimal(5)
    assert row.unit == "days"
    assert row.severity == "low"
    assert row.owner_role == "warehouse"
    assert row.rule == "shipment.late@1"
    assert row.explanation == (
        f"Shipment {shipment.number} for order {order.number} left on 2024-03-20, "
        "5 days after the promised date 2024-03-15."
    )


def test_late_ship_within_late_days(settings):
    settings.RECONCILIATION_LATE_DAYS = 5
    order = create_order()
    create_shipment(order=order, shipped_at=date(2024, 3, 20))

    run_matching(company=order.company, as_of=SHIP_AS_OF)

    assert open_rows(order) == []


# Order and shipment to invoice


def test_price_mismatch_names_order_price_and_discount():
    order = create_order(lines=[("3", "14.40", "unit", "15")])
    create_shipment(order=order)
    invoice = create_invoice(order=order, unit_prices={1: "14.40"})
    create_payment(invoice=invoice, amount="43.20")
    line = order.lines.get()

    run_matching(company=order.company, as_of=AS_OF)

    row = only_row(order, "PRICE_MISMATCH")
    assert row.invoice == invoice
    assert row.order_line == line
    assert row.expected_value == Decimal("12.24")
    assert row.actual_value == Decimal("14.40")
    assert row.difference == Decimal("2.16")
    assert row.unit == "USD"
    assert row.severity == "medium"
    assert row.owner_role == "sales_rep"
    assert row.rule == "invoice.price@1"
    assert row.explanation == (
        f"Invoice {invoice.number} bills {line.description} (order {order.number} "
        "line 1) at 14.40 USD per unit, but the order price is 12.24 USD "
        "(14.40 less 15%): 2.16 more per unit."
    )


def test_price_within_absolute_tolerance():
    order = create_order(lines=[("3", "12.24")])
    create_shipment(order=order)
    invoice = create_invoice(order=order, unit_prices={1: "12.25"})
    create_payment(invoice=invoice, amount=str(invoice.amount_total))

    run_matching(company=order.company, as_of=AS_OF)

    assert open_rows(order) == []


def test_invoice_qty_mismatch_against_shipped():
    order = create_order(lines=[("10", "2.00")])
    create_shipment(order=order)
    invoice = create_invoice(order=order, quantities={1: "12"})
    create_payment(invoice=invoice, amount="24.00")
    line = order.lines.get()

    run_matching(company=order.company, as_of=AS_OF)

    row = only_row(order, "INVOICE_QTY_MISMATCH")
    assert row.expected_value == Decimal(10)
    assert row.actual_value == Decimal(12)
    assert row.difference == Decimal(2)
    assert row.owner_role == "finance_clerk"
    assert row.severity == "medium"
    assert row.rule == "invoice.quantity@1"
    assert row.explanation == (
        f"Order {order.number} line 1 ({line.description}): 12 units invoiced "
        "but 10 units shipped."
    )


def test_duplicate_invoice_names_original():
    order, original = paid_order(
        lines=[("2", "50.00")], customer=PartyFactory.create(name="Acme GmbH")
    )
    Invoice.objects.filter(pk=original.pk).update(reference="INV-2024-001")
    duplicate = create_invoice(
        order=order, reference=" inv-2024-001 ", invoice_date=date(2024, 3, 20)
    )

    run_matching(company=order.company, as_of=AS_OF)

    row = only_row(order, "DUPLICATE_INVOICE")
    assert row.invoice == duplicate
    assert row.expected_value is None
    assert row.actual_value == Decimal("100.00")
    assert row.difference == Decimal("100.00")
    assert row.severity == "high"
    assert row.owner_role == "finance_clerk"
    assert row.rule == "invoice.duplicate@1"
    assert row.explanation == (
        f"Invoice {duplicate.number} (100.00 USD) duplicates invoice "
        f"{original.number} of 2024-03-15: same customer (Acme GmbH) and same "
        "reference (' inv-2024-001 ' matches 'INV-2024-001')."
    )


def test_missing_payment_after_due_date():
    order = create_order(lines=[("1", "1552.60")])
    create_shipment(order=order)
    invoice = create_invoice(order=order)

    run_matching(company=order.company, as_of=AS_OF)

    row = only_row(order, "MISSING_PAYMENT")
    assert row.invoice == invoice
    assert row.expected_value == Decimal("1552.60")
    assert row.actual_value == Decimal(0)
    assert row.difference == Decimal("-1552.60")
    assert row.severity == "high"
    assert row.owner_role == "finance_clerk"
    assert row.rule == "payment.missing@1"
    assert row.explanation == (
        f"Invoice {invoice.number} for 1,552.60 USD was due on 2024-04-14 "
        "and nothing has been paid."
    )


def test_missing_payment_not_before_due_date():
    order = create_order()
    create_shipment(order=order)
    invoice = create_invoice(order=order)

    run_matching(company=order.company, as_of=invoice.due_date)

    assert open_rows(order) == []


def test_short_payment():
    order, invoice = paid_order(lines=[("1", "1552.60")], amount="1480.00")

    run_matching(company=order.company, as_of=AS_OF)

    row = only_row(order, "SHORT_PAYMENT")
    assert row.expected_value == Decimal("1552.60")
    assert row.actual_value == Decimal("1480.00")
    assert row.difference == Decimal("-72.60")
    assert row.severity == "medium"
    assert row.owner_role == "finance_clerk"
    assert row.rule == "payment.short@1"
    assert row.explanation == (
        f"Invoice {invoice.number} was paid 1,480.00 of 1,552.60 USD; "
        "72.60 is still open."
    )


def test_over_payment():
    order, invoice = paid_order(lines=[("1", "1552.60")], amount="1600.00")

    run_matching(company=order.company, as_of=AS_OF)

    row = only_row(order, "OVER_PAYMENT")
    assert row.expected_value == Decimal("1552.60")
    assert row.actual_value == Decimal("1600.00")
    assert row.difference == Decimal("47.40")
    assert row.owner_role == "finance_clerk"
    assert row.rule == "payment.over@1"
    assert row.explanation == (
        f"Invoice {invoice.number} was paid 1,600.00 of 1,552.60 USD; "
        "47.40 was paid too much."
    )


# One-cent residues and Decimal totals


@pytest.mark.parametrize(
    ("total", "paid", "written_off"),
    [("42.42", "42.41", "0.01"), ("42.41", "42.42", "-0.01")],
)
def test_cent_residue_closes_with_writeoff(total, paid, written_off):
    order, invoice = paid_order(lines=[("1", total)], amount=paid)
    assert invoice.payment_state != Invoice.PaymentState.PAID

    summary = run_matching(company=order.company, as_of=AS_OF)

    allocation = Allocation.objects.get(invoice=invoice)
    invoice.refresh_from_db()
    order.refresh_from_db()
    assert summary.written_off == 1
    assert allocation.writeoff_net == Decimal(written_off)
    assert allocation.writeoff_reason == (
        f"Residual of {written_off} USD is within the rounding allowance of "
        "0.01 USD (payment.rounding@1)."
    )
    assert invoice.amount_paid == Decimal(paid)
    assert invoice.amount_written_off == Decimal(written_off)
    assert invoice.amount_residual == Decimal(0)
    assert invoice.payment_state == Invoice.PaymentState.PAID
    assert order.payment_status == SalesOrder.PaymentStatus.PAID
    assert order.recon_status == ReconStatus.IN_TOLERANCE
    assert open_rows(order) == []
    rounding = Discrepancy.objects.get(order=order, code="ROUNDING")
    assert rounding.state == Discrepancy.State.RESOLVED
    assert rounding.resolution_code == "write_off"
    assert rounding.resolved_by is None
    assert rounding.difference == -Decimal(written_off)
    assert AuditEvent.objects.filter(
        action="allocation.written_off", object_id=str(allocation.pk), source="rule"
    ).exists()


def test_cent_residue_stays_paid_on_later_runs():
    order, invoice = paid_order(lines=[("1", "42.42")], amount="42.41")
    run_matching(company=order.company, as_of=AS_OF)

    refresh_order(order=order)
    summary = run_matching(company=order.company, as_of=AS_OF + timedelta(days=90))

    invoice.refresh_from_db()
    allocation = Allocation.objects.get(invoice=invoice)
    assert summary.written_off == 0
    assert allocation.writeoff_net == Decimal("0.01")
    assert invoice.amount_residual == Decimal(0)
    assert invoice.payment_state == Invoice.PaymentState.PAID
    assert open_rows(order) == []


def test_two_cent_residue_is_a_short_payment():
    order, _ = paid_order(lines=[("1", "42.42")], amount="42.40")

    summary = run_matching(company=order.company, as_of=AS_OF)

    assert summary.written_off == 0
    assert only_row(order, "SHORT_PAYMENT").difference == Decimal("-0.02")


def test_line_totals_in_decimal_pay_exactly():
    order, invoice = paid_order(lines=[("1", "0.10"), ("1", "0.20")], amount="0.30")

    run_matching(company=order.company, as_of=AS_OF)

    order.refresh_from_db()
    assert invoice.amount_total == Decimal("0.30")
    assert invoice.amount_residual == Decimal(0)
    assert invoice.payment_state == Invoice.PaymentState.PAID
    assert order.recon_status == ReconStatus.CLEAN
    assert open_rows(order) == []


# Partial shipment decided per line


def test_partial_shipment_keeps_unshipped_line_open():
    order = create_order(lines=[("250000", "0.0100", "mm"), ("2", "15.00", "pcs")])
    create_shipment(order=order, quantities={1: "250000"})
    invoice = create_invoice(order=order)
    create_payment(invoice=invoice, amount="2500.00")
    order.refresh_from_db()
    line_a, line_b = order.lines.order_by("line_no")

    run_matching(company=order.company, as_of=AS_OF)

    assert order.delivery_status == SalesOrder.DeliveryStatus.PARTIAL
    assert order.invoice_status == SalesOrder.InvoiceStatus.PARTIAL
    assert line_a.qty_shipped == Decimal(250000)
    assert line_a.qty_invoiced == Decimal(250000)
    assert line_b.qty_shipped == Decimal(0)
    row = only_row(order, "NOT_SHIPPED")
    assert row.order_line == line_b
    assert row.expected_value == Decimal(2)
    assert row.explanation == (
        f"Nothing has been shipped for order {order.number} line 2 "
        f"({line_b.description}): 2 pcs ordered, promised for 2024-03-15."
    )

    create_shipment(order=order, quantities={2: "2"})
    run_matching(company=order.company, as_of=AS_OF)

    order.refresh_from_db()
    row.refresh_from_db()
    assert order.delivery_status == SalesOrder.DeliveryStatus.FULL
    assert row.state == Discrepancy.State.RESOLVED


# Duplicate invoices: reference folding and commercial partner


def test_normalize_reference_trims_and_folds():
    assert normalize_reference(" inv-2024-001 ") == "inv-2024-001"
    assert normalize_reference("INV-2024-001") == "inv-2024-001"
    assert normalize_reference("ＩＮＶ-2024-001") == "inv-2024-001"


def test_duplicate_through_child_contact():
    company = CompanyFactory.create()
    acme = PartyFactory.create(company=company, name="Acme GmbH")
    contact = PartyFactory.create(
        company=company, name="Acme GmbH, purchasing", parent=acme
    )
    order, original = paid_order(customer=acme)
    Invoice.objects.filter(pk=original.pk).update(reference="INV-2024-001")
    other_order = create_order(customer=contact)
    create_shipment(order=other_order)
    duplicate = create_invoice(
        order=other_order, reference="inv-2024-001 ", invoice_date=date(2024, 4, 2)
    )

    run_matching(company=company, as_of=AS_OF)

    row = only_row(other_order, "DUPLICATE_INVOICE")
    assert row.invoice == duplicate
    assert f"duplicates invoice {original.number} of 2024-03-15" in row.explanation
    assert "same customer (Acme GmbH)" in row.explanation
    assert open_rows(order) == []


def test_same_reference_other_customer_is_not_duplicate():
    company = CompanyFactory.create()
    first, _ = paid_order(
        customer=PartyFactory.create(company=company), reference="001"
    )
    second, _ = paid_order(
        customer=PartyFactory.create(company=company), reference="001"
    )

    run_matching(company=company, as_of=AS_OF)

    assert open_rows(first) == []
    assert open_rows(second) == []


def test_reference_reused_next_year_is_flagged():
    company = CompanyFactory.create()
    customer = PartyFactory.create(company=company)
    first = create_order(customer=customer, order_date=date(2023, 3, 1))
    create_shipment(order=first)
    original = create_invoice(
        order=first, reference="001", invoice_date=date(2023, 3, 2)
    )
    create_payment(invoice=original, amount=str(original.amount_total))
    later = create_order(customer=customer)
    create_shipment(order=later)
    reused = create_invoice(order=later, reference="001")
    create_payment(invoice=reused, amount=str(reused.amount_total))

    run_matching(company=company, as_of=AS_OF)

    row = only_row(later, "DUPLICATE_INVOICE")
    assert row.invoice == reused
    assert f"duplicates invoice {original.number} of 2023-03-02" in row.explanation
    assert open_rows(first) == []


def test_duplicate_skips_quantity_and_payment_checks():
    order, _ = paid_order(reference="PO-7")
    create_invoice(order=order, reference="po-7")

    run_matching(company=order.company, as_of=AS_OF)

    assert [row.code for row in open_rows(order)] == ["DUPLICATE_INVOICE"]


def test_cancelled_duplicate_resolves_finding():
    order, _ = paid_order(reference="PO-7")
    duplicate = create_invoice(order=order, reference="po-7")
    run_matching(company=order.company, as_of=AS_OF)
    row = only_row(order, "DUPLICATE_INVOICE")

    Invoice.objects.filter(pk=duplicate.pk).update(state=Invoice.State.CANCELLED)
    summary = run_matching(company=order.company, as_of=AS_OF)

    row.refresh_from_db()
    order.refresh_from_db()
    assert summary.resolved == 1
    assert row.state == Discrepancy.State.RESOLVED
    assert row.resolved_at is not None
    assert order.recon_status == ReconStatus.CLEAN


# Idempotency, resolution and the audit trail


def mixed_company():
    """Return a company whose orders have one finding of several kinds."""
    company = CompanyFactory.create()
    create_order(company=company)
    short = create_order(company=company, lines=[("10", "5.00")])
    create_shipment(order=short, quantities={1: "7"})
    paid_order(company=company, amount="50.00")
    paid_order(company=company, lines=[("1", "42.42")], amount="42.41")
    paid_order(company=company)
    return company


def snapshot(company):
    return list(
        Discrepancy.objects.filter(company=company)
        .order_by("pk")
        .values_list("pk", "fingerprint", "state", "explanation", "difference")
    )


def test_second_run_changes_nothing():
    company = mixed_company()
    first = run_matching(company=company, as_of=AS_OF)
    rows = snapshot(company)
    events = AuditEvent.objects.count()

    second = run_matching(company=company, as_of=AS_OF)

    # NOT_SHIPPED, SHORT_SHIP, UNINVOICED_DELIVERY (the short shipment was
    # never invoiced) and SHORT_PAYMENT; the one-cent residue is settled.
    assert first.opened == 4
    assert first.settled == 1
    assert first.written_off == 1
    assert second.opened == 0
    assert second.updated == 0
    assert second.resolved == 0
    assert second.written_off == 0
    assert second.unchanged == 4
    assert second.open_by_code == first.open_by_code
    assert snapshot(company) == rows
    assert AuditEvent.objects.count() == events


def test_summary_counts_open_findings_by_code():
    company = mixed_company()

    summary = run_matching(company=company, as_of=AS_OF)

    assert summary.orders_checked == 5
    assert summary.open_by_code == {
        "NOT_SHIPPED": 1,
        "SHORT_PAYMENT": 1,
        "SHORT_SHIP": 1,
        "UNINVOICED_DELIVERY": 1,
    }


def test_recon_status_per_order():
    company = CompanyFactory.create()
    exception = create_order(company=company)
    in_tolerance, _ = paid_order(
        company=company, lines=[("1", "42.42")], amount="42.41"
    )
    clean, _ = paid_order(company=company)

    run_matching(company=company, as_of=AS_OF)

    statuses = dict(
        SalesOrder.objects.filter(company=company).values_list("pk", "recon_status")
    )
    assert statuses[exception.pk] == ReconStatus.EXCEPTION
    assert statuses[in_tolerance.pk] == ReconStatus.IN_TOLERANCE
    assert statuses[clean.pk] == ReconStatus.CLEAN


def test_fixed_finding_is_resolved_then_reopened():
    order = create_order(lines=[("10", "5.00")])
    create_shipment(order=order, quantities={1: "7"})
    run_matching(company=order.company, as_of=SHIP_AS_OF)
    row = only_row(order, "SHORT_SHIP")

    rest = create_shipment(order=order, quantities={1: "3"})
    resolved = run_matching(company=order.company, as_of=SHIP_AS_OF)
    row.refresh_from_db()
    assert resolved.resolved == 1
    assert row.state == Discrepancy.State.RESOLVED
    assert Discrepancy.objects.filter(order=order).count() == 1

    Shipment.objects.filter(pk=rest.pk).update(state=Shipment.State.CANCELLED)
    reopened = run_matching(company=order.company, as_of=SHIP_AS_OF)
    row.refresh_from_db()
    assert reopened.reopened == 1
    assert row.state == Discrepancy.State.OPEN
    assert row.resolved_at is None
    actions = list(
        AuditEvent.objects.filter(
            object_id=str(row.pk), object_type="reconciliation.discrepancy"
        )
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [
        "discrepancy.opened",
        "discrepancy.resolved",
        "discrepancy.reopened",
    ]


def test_changed_finding_updates_row_in_place():
    order, invoice = paid_order(lines=[("1", "100.00")], amount="50.00")
    run_matching(company=order.company, as_of=AS_OF)
    row = only_row(order, "SHORT_PAYMENT")

    create_payment(invoice=invoice, amount="30.00")
    summary = run_matching(company=order.company, as_of=AS_OF)

    updated = only_row(order, "SHORT_PAYMENT")
    assert summary.updated == 1
    assert updated.pk == row.pk
    assert updated.difference == Decimal("-20.00")
    assert updated.explanation == (
        f"Invoice {invoice.number} was paid 80.00 of 100.00 USD; 20.00 is still open."
    )


def test_opened_event_carries_rule_and_values():
    order = create_order(lines=[("12", "14.40")])

    run_matching(company=order.company, as_of=AS_OF)

    row = only_row(order, "NOT_SHIPPED")
    event = AuditEvent.objects.get(action="discrepancy.opened", object_id=str(row.pk))
    assert event.source == AuditEvent.Source.RULE
    assert event.reason == "shipment.not_shipped@1"
    assert event.actor is None
    assert event.after["fingerprint"] == row.fingerprint
    assert event.after["difference"] == "-12"


# Query count


def build_orders(company, count):
    for index in range(count):
        if index % 3 == 0:
            paid_order(company=company, amount="60.00")
        elif index % 3 == 1:
            paid_order(company=company, lines=[("1", "42.42")], amount="42.41")
        else:
            create_order(company=company)


@pytest.mark.parametrize("count", [5, 50])
def test_query_count_does_not_grow_with_orders(count, django_assert_max_num_queries):
    company = CompanyFactory.create()
    build_orders(company, count)

    # A fixed number per pass: the cash, chunk, payment and purchase steps
    # each read and write in bulk. On PostgreSQL, 100 new match groups or
    # more are loaded with COPY after one query draws their ids. A chunk
    # reads its allocations' payments by id, in a query of their own.
    with django_assert_max_num_queries(36):
        first = run_matching(company=company, as_of=AS_OF)
    with django_assert_max_num_queries(36):
        run_matching(company=company, as_of=AS_OF)

    assert first.orders_checked == count
    assert first.opened > 0
    assert first.written_off > 0


# Allocation invariants

amounts = st.integers(min_value=1, max_value=50_000).map(
    lambda cents: Decimal(cents) / 100
)


@override_settings(RECONCILIATION_PAYMENT_TOLERANCE="0.01", RECONCILIATION_LATE_DAYS=0)
class AllocationInvariantTests(TestCase):
    # No example database: the suite writes nothing into the working tree.
    @hypothesis_settings(max_examples=40, deadline=None, database=None)
    @given(
        total=amounts,
        payments=st.lists(
            st.tuples(amounts, st.lists(amounts, min_size=1, max_size=3)),
            min_size=1,
            max_size=3,
        ),
    )
    def test_allocations_stay_within_payments(self, total, payments):
        order = create_order(lines=[("1", str(total))])
        create_shipment(order=order)
        invoice = create_invoice(order=order)
        for amount, requests in payments:
            payment = PaymentFactory.create(
                company=order.company, party=order.customer, amount=amount
            )
            for request in requests:
                try:
                    allocate_payment(payment=payment, invoice=invoice, amount=request)
                except ValueError as error:
                    assert "exceeds the" in str(error)

        run_matching(company=order.company, as_of=AS_OF)

        invoice.refresh_from_db()
        allocations = list(Allocation.objects.filter(invoice=invoice))
        paid = sum((a.amount for a in allocations), Decimal(0))
        written_off = sum((a.writeoff_net for a in allocations), Decimal(0))
        for payment in order.company.payment_set.all():
            allocated = sum((a.amount for a in payment.allocations.all()), Decimal(0))
            assert allocated <= payment.amount
            assert payment.amount_unallocated == payment.amount - allocated
        assert invoice.amount_total == total
        assert invoice.amount_paid == paid
        assert invoice.amount_written_off == written_off
        assert abs(written_off) <= Decimal("0.01")
        assert invoice.amount_residual == total - paid - written_off


def test_allocate_payment_rejects_more_than_left():
    order = create_order(lines=[("1", "100.00")])
    create_shipment(order=order)
    invoice = create_invoice(order=order)
    payment = PaymentFactory.create(
        company=order.company, party=order.customer, amount=Decimal("60.00")
    )
    allocate_payment(payment=payment, invoice=invoice, amount=Decimal("50.00"))

    with pytest.raises(ValueError) as error:
        allocate_payment(payment=payment, invoice=invoice, amount=Decimal("10.01"))

    assert str(error.value) == (
        f"Allocation of 10.01 USD exceeds the 10.00 USD left on payment "
        f"{payment.number}: allocate 10.00 USD or less."
    )


def test_allocate_payment_message_groups_thousands():
    order = create_order(lines=[("1", "3000.00")])
    create_shipment(order=order)
    invoice = create_invoice(order=order)
    payment = PaymentFactory.create(
        company=order.company, party=order.customer, amount=Decimal("2000.0000")
    )
    allocate_payment(payment=payment, invoice=invoice, amount=Decimal("618.00"))

    with pytest.raises(ValueError) as error:
        allocate_payment(payment=payment, invoice=invoice, amount=Decimal("1400"))

    assert str(error.value) == (
        f"Allocation of 1,400.00 USD exceeds the 1,382.00 USD left on payment "
        f"{payment.number}: allocate 1,382.00 USD or less."
    )


def test_allocate_payment_rejects_draft_invoice():
    order = create_order()
    create_shipment(order=order)
    invoice = create_invoice(order=order, state=Invoice.State.DRAFT)
    payment = PaymentFactory.create(company=order.company, party=order.customer)

    with pytest.raises(ValueError) as error:
        allocate_payment(payment=payment, invoice=invoice)

    assert str(error.value) == (
        f"Invoice {invoice.number} is draft, not posted: post it first."
    )
