"""Migration 0019 names the order line on credit notes proposed before it.

Carla (Alfreds Futterkiste) reported 2 boxes of Chai damaged and accepted
sally's credit note for them; she also accepted a price credit on Tofu.
Older code stored both credit notes with no order line on their lines. The
migration gives the goods credit's line the order line and shipment line
of the units it credits and leaves the price credit's line alone, and the
order line's invoiced quantity follows. Runs on SQLite and, with
``DATABASE_URL`` set, on PostgreSQL.
"""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from portal.models import ProblemReport
from portal.services import ProblemInput, accept_proposal, report_problem
from reconciliation.credit_proposals import propose_credit_note
from reconciliation.models import (
    Discrepancy,
    Invoice,
    InvoiceLine,
    SalesOrder,
    SalesOrderLine,
    ShipmentLine,
)
from reconciliation.services import refresh_order
from reconciliation.tests.conftest import make_case
from reconciliation.tests.factories import create_invoice, create_order, create_shipment

BEFORE = ("reconciliation", "0018_replacement_shipments")


def migrate_to(target: tuple[str, str] | None) -> None:
    """Migrate to ``target``, or every app to its latest migration for None."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = [target] if target else executor.loader.graph.leaf_nodes()
    executor.migrate(targets)


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.SALES_REP_CREDIT_LIMIT = "1000.00"


def accepted(sales_rep, customer, case: Discrepancy, amount: str) -> Invoice:
    proposal = propose_credit_note(
        actor=sales_rep, case_id=case.pk, amount=Decimal(amount), message="Sorry"
    )
    accept_proposal(customer=customer, proposal_id=proposal.pk)
    assert proposal.credit_note is not None
    return proposal.credit_note


def figures(order: SalesOrder) -> list[tuple[object, ...]]:
    rows = SalesOrderLine.objects.filter(order=order).order_by("line_no")
    lines = [(line.line_no, line.qty_invoiced, line.amount_invoiced) for line in rows]
    status = SalesOrder.objects.get(pk=order.pk).invoice_status
    return [*lines, ("status", status)]


@pytest.mark.django_db(transaction=True)
def test_migration_names_unit_lines(customer_party, customer, sales_rep):
    order = create_order(
        lines=[("10", "36.36"), ("6", "20.00")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
        number="SO-MIG",
    )
    create_shipment(order=order, number="SH-MIG-1")
    invoice = create_invoice(order=order, number="INV-MIG-1", unit_prices={2: "21"})
    chai = order.lines.get(line_no=1)
    tofu = order.lines.get(line_no=2)
    shipment_line = ShipmentLine.objects.get(order_line=chai)
    problem = report_problem(
        customer=customer,
        order=order,
        problem=ProblemInput(
            kind=ProblemReport.Kind.DAMAGED,
            message="2 boxes crushed",
            shipment_line=shipment_line,
            quantity=Decimal(2),
        ),
        evidence=[],
    )
    goods = accepted(
        sales_rep, customer, Discrepancy.objects.get(pk=problem.case_id), "72.72"
    )
    price_case = make_case(
        order, code="PRICE_MISMATCH", invoice=invoice, order_line=tofu, difference="1"
    )
    price = accepted(sales_rep, customer, price_case, "6.00")
    after_new_code = figures(order)
    # As older code left them: no credit line names an order line.
    InvoiceLine.objects.filter(invoice__kind=Invoice.Kind.CREDIT_NOTE).update(
        order_line=None, shipment_line=None
    )
    refresh_order(order=order)
    assert figures(order)[0][1] == Decimal(10)

    try:
        migrate_to(BEFORE)
    finally:
        migrate_to(None)

    [goods_line] = goods.lines.all()
    assert (goods_line.order_line_id, goods_line.shipment_line_id) == (
        chai.pk,
        shipment_line.pk,
    )
    [price_line] = price.lines.all()
    assert (price_line.qty, price_line.order_line_id) == (Decimal(6), None)
    migrated = figures(order)
    assert migrated[0] == (1, Decimal(8), Decimal("290.88"))
    assert migrated == after_new_code
    refresh_order(order=order)
    assert figures(order) == migrated


@pytest.mark.django_db(transaction=True)
def test_migration_backwards_clears_lines(customer_party, customer, sales_rep):
    order = create_order(
        lines=[("10", "36.36")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
        number="SO-MIG",
    )
    create_shipment(order=order, number="SH-MIG-1")
    create_invoice(order=order, number="INV-MIG-1")
    problem = report_problem(
        customer=customer,
        order=order,
        problem=ProblemInput(
            kind=ProblemReport.Kind.DAMAGED,
            message="2 boxes crushed",
            shipment_line=ShipmentLine.objects.get(order_line__order=order),
            quantity=Decimal(2),
        ),
        evidence=[],
    )
    goods = accepted(
        sales_rep, customer, Discrepancy.objects.get(pk=problem.case_id), "72.72"
    )

    try:
        migrate_to(BEFORE)
        [line] = goods.lines.all()
        assert (line.order_line_id, line.shipment_line_id) == (None, None)
        assert figures(order)[0] == (1, Decimal(10), Decimal("363.60"))
    finally:
        migrate_to(None)

    [line] = goods.lines.all()
    assert line.order_line_id == order.lines.get().pk
    assert figures(order)[0] == (1, Decimal(8), Decimal("290.88"))
