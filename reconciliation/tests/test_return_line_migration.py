"""Migration 0021 names the shipment line on return lines and return credits.

Carla (Alfreds Futterkiste) sent back 2 of 10 boxes of Chai and accepted
sally's credit note for them. Before the migration a return line named no
shipment line, so the credit's line named none and the order read "To
invoice" after it. Forwards, the migration names the only shipment line
the boxes left on, on the return line and on the credit line, and the
order reads "Invoiced" again. Backwards, it clears the credit line's
shipment line and derives the figures again. Boxes that left on two
shipments name no shipment line. Runs on SQLite and, with ``DATABASE_URL``
set, on PostgreSQL.
"""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from portal.services import accept_proposal
from reconciliation.credit_proposals import propose_credit_note
from reconciliation.matching import match_order
from reconciliation.models import (
    Discrepancy,
    Invoice,
    InvoiceLine,
    ReturnLine,
    SalesOrder,
    ShipmentLine,
)
from reconciliation.tests.factories import (
    create_invoice,
    create_order,
    create_shipment,
    receive_return,
)

BEFORE = ("reconciliation", "0020_invoice_duplicate_kept_reason")


def migrate_to(target: tuple[str, str] | None) -> None:
    """Migrate to ``target``, or every app to its latest migration for None."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = [target] if target else executor.loader.graph.leaf_nodes()
    executor.migrate(targets)


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.SALES_REP_CREDIT_LIMIT = "1000.00"


def credited_return(
    customer_party, customer, sales_rep, shipments: list[str]
) -> tuple[SalesOrder, Invoice]:
    """Ship 10 boxes over ``shipments``, take 2 back and credit them."""
    order = create_order(
        lines=[("10", "36.36")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
        number="SO-RM",
    )
    share = 10 // len(shipments)
    for index, number in enumerate(shipments):
        qty = 10 - share * index if index == len(shipments) - 1 else share
        create_shipment(order=order, number=number, quantities={1: str(qty)})
    create_invoice(order=order, number="INV-RM-1")
    receive_return(order, {1: "2"}, "RMA-RM-1")
    match_order(order)
    case = Discrepancy.objects.get(order=order, code="RETURN_NOT_CREDITED")
    proposal = propose_credit_note(
        actor=sales_rep, case_id=case.pk, amount=Decimal("72.72"), message="Thanks"
    )
    accept_proposal(customer=customer, proposal_id=proposal.pk)
    assert proposal.credit_note is not None
    return order, proposal.credit_note


def status(order: SalesOrder) -> str:
    return SalesOrder.objects.get(pk=order.pk).invoice_status


def credit_line(note: Invoice) -> tuple[int | None, int | None]:
    [line] = InvoiceLine.objects.filter(invoice=note).values_list(
        "order_line_id", "shipment_line_id"
    )
    return line


@pytest.mark.django_db(transaction=True)
def test_migration_names_the_only_shipment_line(customer_party, customer, sales_rep):
    order, note = credited_return(customer_party, customer, sales_rep, ["SH-RM-1"])
    chai = order.lines.get()
    shipped = ShipmentLine.objects.get(order_line=chai)
    assert credit_line(note) == (chai.pk, shipped.pk)
    assert status(order) == SalesOrder.InvoiceStatus.INVOICED

    try:
        migrate_to(BEFORE)
        # As older code left it: the credit line names no shipment line.
        assert credit_line(note) == (chai.pk, None)
        assert status(order) == SalesOrder.InvoiceStatus.TO_INVOICE
    finally:
        migrate_to(None)

    assert credit_line(note) == (chai.pk, shipped.pk)
    assert list(ReturnLine.objects.values_list("shipment_line_id", flat=True)) == [
        shipped.pk
    ]
    assert status(order) == SalesOrder.InvoiceStatus.INVOICED


@pytest.mark.django_db(transaction=True)
def test_migration_leaves_two_shipments_unnamed(customer_party, customer, sales_rep):
    order, note = credited_return(
        customer_party, customer, sales_rep, ["SH-RM-1", "SH-RM-2"]
    )
    chai = order.lines.get()
    assert credit_line(note) == (chai.pk, None)

    try:
        migrate_to(BEFORE)
    finally:
        migrate_to(None)

    assert credit_line(note) == (chai.pk, None)
    assert list(ReturnLine.objects.values_list("shipment_line_id", flat=True)) == [None]
    assert status(order) == SalesOrder.InvoiceStatus.TO_INVOICE
