"""Money forgiven and overpayments kept are stored apart on an allocation.

One allocation may carry both: a clerk forgives the rest of a short payment
on the invoice's latest allocation, and a later overpayment is kept on the
same row. Their net settles the invoice, but only the forgiven part takes
room from the invoice total that credit notes share, and the customer's
statement, the cash match, the audit trail and a reversal show each part.

The invoice of ``short_payment_case`` is 363.60 USD, of which 279.97 is
paid, so 83.63 is open.
"""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.utils import timezone

from core.models import AuditEvent
from reconciliation import cases
from reconciliation.credit_notes import forgiven_on_invoice
from reconciliation.credit_proposals import propose_credit_note
from reconciliation.matches import unreconcile
from reconciliation.matching import run_matching
from reconciliation.models import Allocation, Invoice, MatchGroup
from reconciliation.services import refresh_order
from reconciliation.tests.conftest import make_case
from reconciliation.tests.factories import (
    create_invoice,
    create_order,
    create_payment,
    create_shipment,
)
from reconciliation.work import WorkError

pytestmark = pytest.mark.django_db

BEFORE_SPLIT = ("reconciliation", "0009_salesorder_match_fingerprint")


def book(allocation: Allocation, amount: str) -> None:
    """Book a signed write-off on ``allocation`` and refresh its order."""
    allocation.book_write_off(Decimal(amount))
    allocation.save(update_fields=["writeoff_forgiven", "writeoff_kept"])
    order = allocation.invoice.order
    assert order is not None
    refresh_order(order=order)


@pytest.fixture
def forgiven_then_kept(short_payment_case, clerk, settings):
    """Forgive the 83.63 open on a case, then keep 10.00 on the same allocation."""
    settings.RECONCILIATION_WRITE_OFF_LIMIT = "100.00"
    cases.start_case(case_id=short_payment_case.pk, actor=clerk)
    cases.resolve_case(
        case_id=short_payment_case.pk,
        actor=clerk,
        resolution_code="write_off",
        note="Bank fee.",
    )
    allocation = Allocation.objects.get(invoice=short_payment_case.invoice)
    book(allocation, "-10.00")
    allocation.refresh_from_db()
    return allocation


@pytest.fixture
def settled_both_ways(customer_party):
    """Return an invoice of 100.00, paid in full, with 1.00 forgiven and 1.00 kept."""
    order = create_order(
        lines=[("1", "100.00")],
        company=customer_party.company,
        customer=customer_party,
    )
    create_shipment(order=order)
    invoice = create_invoice(order=order)
    create_payment(invoice=invoice, amount="100.00")
    allocation = Allocation.objects.get(invoice=invoice)
    book(allocation, "1.00")
    book(allocation, "-1.00")
    invoice.refresh_from_db()
    return invoice


def test_one_allocation_keeps_both_parts(forgiven_then_kept):
    invoice = forgiven_then_kept.invoice
    invoice.refresh_from_db()

    assert forgiven_then_kept.writeoff_forgiven == Decimal("83.63")
    assert forgiven_then_kept.writeoff_kept == Decimal("10.00")
    assert forgiven_then_kept.writeoff_net == Decimal("73.63")
    assert invoice.amount_written_off == Decimal("73.63")
    assert invoice.amount_residual == Decimal("10.00")
    assert forgiven_on_invoice(invoice) == Decimal("83.63")


def test_kept_part_frees_no_credit_room(forgiven_then_kept, sales_rep, settings):
    settings.SALES_REP_CREDIT_LIMIT = "1000.00"
    invoice = forgiven_then_kept.invoice
    price_case = make_case(
        invoice.order, code="PRICE_MISMATCH", invoice=invoice, difference=None
    )

    # 363.60 less the 83.63 forgiven leaves 279.97. The net of 73.63 would
    # leave 289.97.
    with pytest.raises(WorkError) as error:
        propose_credit_note(
            actor=sales_rep,
            case_id=price_case.pk,
            amount=Decimal("279.98"),
            message="Sorry",
        )

    assert "83.63 USD is written off" in str(error.value)
    assert "credit at most 279.97 USD." in str(error.value)


def test_write_off_event_records_both_parts(forgiven_then_kept):
    event = AuditEvent.objects.get(action="allocation.written_off")

    assert event.before == {
        "writeoff_forgiven": "0.0000",
        "writeoff_kept": "0.0000",
    }
    assert event.after["writeoff_forgiven"] == "83.6300"
    assert event.after["writeoff_kept"] == "0.0000"


def test_cash_match_outcome_sees_equal_parts(settled_both_ways):
    invoice = settled_both_ways

    run_matching(company=invoice.company, as_of=timezone.localdate())

    cash = MatchGroup.objects.get(key=f"D:invoice:{invoice.pk}")
    assert invoice.amount_written_off == Decimal("0.00")
    assert cash.outcome == MatchGroup.Outcome.IN_TOLERANCE
    assert cash.compared["written_off"] == "0.00"
    assert cash.compared["forgiven"] == "1.00"
    assert cash.compared["kept"] == "1.00"


def test_statement_shows_both_parts(settled_both_ways, customer):
    client = Client()
    client.force_login(customer)

    page = client.get("/reconciliation/portal/statement/")

    (statement,) = page.context["statements"]
    rows = [(line.label, line.debit, line.credit) for line in statement.lines]
    assert ("Written off", Decimal(0), Decimal("1.00")) in rows
    assert ("Overpayment kept", Decimal("1.00"), Decimal(0)) in rows
    assert statement.balance == Decimal(0)


def test_reversal_negates_both_parts(settled_both_ways, clerk):
    invoice = settled_both_ways
    run_matching(company=invoice.company, as_of=timezone.localdate())
    cash = MatchGroup.objects.get(key=f"D:invoice:{invoice.pk}")
    original = Allocation.objects.get(invoice=invoice)

    unreconcile(group_id=cash.pk, actor=clerk, reason="Wrong customer")

    reversal = Allocation.objects.get(reverses=original)
    assert reversal.writeoff_forgiven == Decimal("-1.00")
    assert reversal.writeoff_kept == Decimal("-1.00")
    assert forgiven_on_invoice(invoice) == Decimal(0)
    event = AuditEvent.objects.get(action="allocation.reversed")
    assert event.before["writeoff_forgiven"] == "1.0000"
    assert event.before["writeoff_kept"] == "1.0000"
    invoice.refresh_from_db()
    assert invoice.amount_residual == Decimal("100.00")


def migrate_to(target: tuple[str, str] | None) -> None:
    """Migrate to ``target``, or every app to its latest migration for None."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = [target] if target else executor.loader.graph.leaf_nodes()
    executor.migrate(targets)


@pytest.mark.django_db(transaction=True)
def test_migration_splits_by_sign(customer_party):
    order = create_order(
        lines=[("1", "100.00")],
        company=customer_party.company,
        customer=customer_party,
    )
    create_shipment(order=order)
    invoice = create_invoice(order=order)
    create_payment(invoice=invoice, amount="95.00")
    create_payment(invoice=invoice, amount="5.00")
    forgiven, kept = Allocation.objects.filter(invoice=invoice).order_by("pk")
    Allocation.objects.filter(pk=forgiven.pk).update(writeoff_forgiven=Decimal("2"))
    Allocation.objects.filter(pk=kept.pk).update(writeoff_kept=Decimal("3"))
    reversal = Allocation.objects.create(
        payment=forgiven.payment,
        invoice=invoice,
        amount=-forgiven.amount,
        writeoff_forgiven=Decimal("-2"),
        reverses=forgiven,
    )

    try:
        # Back to one signed column, then split again.
        migrate_to(BEFORE_SPLIT)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, writeoff_amount FROM reconciliation_allocation "
                "WHERE invoice_id = %s ORDER BY id",
                [invoice.pk],
            )
            signed = [(pk, Decimal(str(amount))) for pk, amount in cursor.fetchall()]
    finally:
        migrate_to(None)

    assert signed == [
        (forgiven.pk, Decimal("2")),
        (kept.pk, Decimal("-3")),
        (reversal.pk, Decimal("-2")),
    ]
    rows = Allocation.objects.filter(invoice=invoice).order_by("pk")
    assert list(rows.values_list("writeoff_forgiven", "writeoff_kept")) == [
        (Decimal("2"), Decimal("0")),
        (Decimal("0"), Decimal("3")),
        (Decimal("-2"), Decimal("0")),
    ]
    invoice = Invoice.objects.get(pk=invoice.pk)
    assert forgiven_on_invoice(invoice) == Decimal(0)
