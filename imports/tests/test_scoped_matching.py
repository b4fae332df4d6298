"""The check after an import covers the batch's documents, not the company.

Three orders of 10 units each, promised on 2024-03-15 and not shipped, so
the matching pass would report each one as not shipped. An import touches
the first and the last; the middle one is left for the next pass. An
invoices import also offers the new invoices to older payments with money
left: the customer's own, and those with no payer that name an invoice.
Named people: fiona (finance clerk).
"""

from decimal import Decimal

import pytest
from django.utils import timezone

from imports.services import commit_file, stage_upload
from imports.tasks import batch_documents
from imports.tests.conftest import FILES, PAYMENT_MAPPING, make_source
from reconciliation.matching import match_documents, run_matching
from reconciliation.models import (
    Allocation,
    Discrepancy,
    Invoice,
    Payment,
    SalesOrder,
)
from reconciliation.tests.factories import (
    create_invoice,
    create_order,
    create_shipment,
)

pytestmark = pytest.mark.django_db

SHIPMENT_MAPPING = {
    "number": "Shipment",
    "order": "Order",
    "shipped_at": "Shipped",
    "line_no": "Line",
    "qty_shipped": "Qty",
}


@pytest.fixture
def orders(company, customer_party) -> list[SalesOrder]:
    return [
        create_order(lines=[("10", "36.36")], company=company, customer=customer_party)
        for _ in range(3)
    ]


def commit(source, data: str, actor):
    sha256 = stage_upload(data=data.encode(), file_name="upload.csv")
    return commit_file(source=source, sha256=sha256, actor=actor)


def open_codes(order: SalesOrder) -> list[str]:
    cases = Discrepancy.objects.filter(order=order, resolved_at__isnull=True)
    return sorted(cases.values_list("code", flat=True))


def test_shipments_import_checks_its_orders(
    company, clerk, orders, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_RUN_MATCHING = True
    first, middle, last = orders
    source = make_source(company, clerk, "shipments", mapping=SHIPMENT_MAPPING)

    with django_capture_on_commit_callbacks(execute=True):
        batch = commit(
            source,
            "Shipment,Order,Shipped,Line,Qty\n"
            f"SH-1,{first.number},2024-03-14,1,6\n"
            f"SH-2,{last.number},2024-03-14,1,10\n",
            clerk,
        )

    assert batch.status == batch.Status.COMMITTED
    # Shipped and not invoiced for longer than the tolerance allows.
    assert open_codes(first) == ["SHORT_SHIP", "UNINVOICED_DELIVERY"]
    assert open_codes(last) == ["UNINVOICED_DELIVERY"]
    # The middle order was not checked: no case and no fingerprint yet.
    assert open_codes(middle) == []
    middle.refresh_from_db()
    assert middle.match_fingerprint == ""
    for order in (first, last):
        order.refresh_from_db()
        assert order.match_fingerprint != ""

    run_matching(company=company, as_of=timezone.localdate())

    assert open_codes(middle) == ["NOT_SHIPPED"]


def test_check_counts_only_batch_orders(company, clerk, orders):
    first, _, last = orders
    source = make_source(company, clerk, "shipments", mapping=SHIPMENT_MAPPING)
    batch = commit(
        source,
        "Shipment,Order,Shipped,Line,Qty\n"
        f"SH-1,{first.number},2024-03-14,1,6\n"
        f"SH-2,{last.number},2024-03-14,1,10\n",
        clerk,
    )
    documents = batch_documents(batch)

    summary = match_documents(
        company=company,
        order_ids=documents.order_ids,
        payment_ids=documents.payment_ids,
        invoice_ids=documents.invoice_ids,
    )

    assert documents.order_ids == {first.pk, last.pk}
    assert documents.payment_ids == set()
    assert documents.invoice_ids == set()
    assert summary.orders_checked == 2
    assert summary.open_by_code == {"SHORT_SHIP": 1, "UNINVOICED_DELIVERY": 2}


def test_payments_import_places_and_checks(
    company, clerk, orders, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_RUN_MATCHING = True
    first, middle, last = orders
    for order in orders:
        create_shipment(order=order)
    invoices = [create_invoice(order=order) for order in orders]
    source = make_source(company, clerk, "payments", mapping=PAYMENT_MAPPING)

    with django_capture_on_commit_callbacks(execute=True):
        batch = commit(
            source,
            "Payment,Customer,Date,Currency,Amount,Reference\n"
            f"P-1,ALFKI,2024-04-01,USD,363.60,{invoices[0].number}\n"
            "P-2,ALFKI,2024-04-01,USD,15.00,nothing\n",
            clerk,
        )

    assert batch.status == batch.Status.COMMITTED
    placed = Allocation.objects.get()
    assert (placed.payment.number, placed.invoice_id) == ("P-1", invoices[0].pk)
    assert placed.amount == Decimal("363.60")
    payment_cases = Discrepancy.objects.filter(order__isnull=True)
    assert list(payment_cases.values_list("code", "payment__number")) == [
        ("UNAPPLIED_PAYMENT", "P-2")
    ]
    # The paid invoice's order was checked; the others wait for the pass.
    fingerprints = dict(
        SalesOrder.objects.order_by("pk").values_list("pk", "match_fingerprint")
    )
    assert fingerprints[first.pk] != ""
    assert fingerprints[middle.pk] == ""
    assert fingerprints[last.pk] == ""


def test_statement_import_places_and_checks(
    company, clerk, orders, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_RUN_MATCHING = True
    first, middle, last = orders
    for order in orders:
        create_shipment(order=order)
    paid = create_invoice(order=first, number="INV-1001")
    for order in (middle, last):
        create_invoice(order=order)
    source = make_source(company, clerk, "payments", file_format="camt053")
    # One booked credit of 363.60 USD with the reference INV-1001, no payer.
    data = (FILES / "camt053_v02.xml").read_text()

    with django_capture_on_commit_callbacks(execute=True):
        batch = commit(source, data, clerk)

    assert batch.status == batch.Status.COMMITTED
    placed = Allocation.objects.get()
    assert (placed.invoice_id, placed.amount) == (paid.pk, Decimal("363.60"))
    fingerprints = dict(
        SalesOrder.objects.order_by("pk").values_list("pk", "match_fingerprint")
    )
    assert fingerprints[first.pk] != ""
    assert fingerprints[middle.pk] == ""
    assert fingerprints[last.pk] == ""


INVOICE_MAPPING = {
    "number": "Invoice",
    "customer": "Customer",
    "invoice_date": "Date",
    "due_date": "Due",
    "amount_total": "Total",
}
INVOICES_HEADER = "Invoice,Customer,Date,Due,Total\n"


@pytest.fixture
def payments(company, clerk, parties):
    return make_source(company, clerk, "payments", mapping=PAYMENT_MAPPING)


def unapplied_payment(source, clerk, number: str, customer: str, amount: str):
    """Import one payment that no invoice takes yet, checked as imports are."""
    commit(
        source,
        "Payment,Customer,Date,Currency,Amount,Reference\n"
        f"{number},{customer},2024-04-01,USD,{amount},nothing\n",
        clerk,
    )
    payment = Payment.objects.get(number=number)
    assert payment.amount_unallocated == Decimal(amount)
    return payment


def payment_cases(payment: Payment) -> list[tuple[str, bool]]:
    cases = Discrepancy.objects.filter(payment=payment).order_by("pk")
    return [(case.code, case.resolved_at is not None) for case in cases]


def test_invoices_import_places_older_payment(
    company, clerk, payments, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_RUN_MATCHING = True
    with django_capture_on_commit_callbacks(execute=True):
        waiting = unapplied_payment(payments, clerk, "P-OLD", "ALFKI", "363.60")
        other = unapplied_payment(payments, clerk, "P-BON", "BONAP", "363.60")
    assert payment_cases(waiting) == [("UNAPPLIED_PAYMENT", False)]
    source = make_source(company, clerk, "invoices", mapping=INVOICE_MAPPING)

    with django_capture_on_commit_callbacks(execute=True):
        batch = commit(
            source,
            INVOICES_HEADER + "INV-9,ALFKI,2024-04-02,2024-05-02,363.60\n",
            clerk,
        )

    assert batch.status == batch.Status.COMMITTED
    invoice = Invoice.objects.get(number="INV-9")
    placed = Allocation.objects.get()
    assert (placed.payment_id, placed.invoice_id) == (waiting.pk, invoice.pk)
    assert placed.amount == Decimal("363.60")
    invoice.refresh_from_db()
    assert invoice.amount_residual == Decimal("0.00")
    assert payment_cases(waiting) == [("UNAPPLIED_PAYMENT", True)]
    # Another customer's payment of the same amount is not offered the invoice.
    other.refresh_from_db()
    assert other.amount_unallocated == Decimal("363.60")
    assert payment_cases(other) == [("UNAPPLIED_PAYMENT", False)]


def test_invoices_import_checks_placed_order(
    company, clerk, payments, orders, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_RUN_MATCHING = True
    first, middle, _ = orders
    with django_capture_on_commit_callbacks(execute=True):
        waiting = unapplied_payment(payments, clerk, "P-OLD", "ALFKI", "363.60")
    source = make_source(
        company, clerk, "invoices", mapping={**INVOICE_MAPPING, "order": "Order"}
    )

    with django_capture_on_commit_callbacks(execute=True):
        commit(
            source,
            "Invoice,Customer,Order,Date,Due,Total\n"
            f"INV-9,ALFKI,{first.number},2024-04-02,2024-05-02,363.60\n",
            clerk,
        )

    placed = Allocation.objects.get()
    assert placed.payment_id == waiting.pk
    assert placed.invoice.order_id == first.pk
    first.refresh_from_db()
    assert first.payment_status == SalesOrder.PaymentStatus.PAID
    assert first.match_fingerprint != ""
    middle.refresh_from_db()
    assert middle.match_fingerprint == ""


def test_invoices_import_leaves_other_customers(
    company, clerk, payments, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_RUN_MATCHING = True
    with django_capture_on_commit_callbacks(execute=True):
        waiting = unapplied_payment(payments, clerk, "P-OLD", "ALFKI", "15.00")
    source = make_source(company, clerk, "invoices", mapping=INVOICE_MAPPING)
    documents = batch_documents(
        commit(
            source,
            INVOICES_HEADER + "INV-9,BONAP,2024-04-02,2024-05-02,15.00\n",
            clerk,
        )
    )

    summary = match_documents(
        company=company,
        order_ids=documents.order_ids,
        payment_ids=documents.payment_ids,
        invoice_ids=documents.invoice_ids,
    )

    assert documents.invoice_ids == {Invoice.objects.get(number="INV-9").pk}
    assert not Allocation.objects.exists()
    assert summary.opened == 0
    waiting.refresh_from_db()
    assert waiting.amount_unallocated == Decimal("15.00")


def test_invoices_import_places_payment_without_payer(
    company, clerk, parties, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_RUN_MATCHING = True
    bank = make_source(company, clerk, "payments", file_format="camt053")
    # One booked credit of 363.60 USD with the reference INV-1001, no payer.
    with django_capture_on_commit_callbacks(execute=True):
        commit(bank, (FILES / "camt053_v02.xml").read_text(), clerk)
    waiting = Payment.objects.get()
    assert waiting.party is None
    assert payment_cases(waiting) == [("UNAPPLIED_PAYMENT", False)]
    source = make_source(company, clerk, "invoices", mapping=INVOICE_MAPPING)

    with django_capture_on_commit_callbacks(execute=True):
        commit(
            source,
            INVOICES_HEADER + "INV-1001,ALFKI,2024-04-02,2024-05-02,363.60\n",
            clerk,
        )

    placed = Allocation.objects.get()
    assert placed.payment_id == waiting.pk
    assert placed.invoice.number == "INV-1001"
    assert placed.amount == Decimal("363.60")
    assert payment_cases(waiting) == [("UNAPPLIED_PAYMENT", True)]
