"""A shortage the warehouse reports before shipping covers only the missing units.

Named people: walter (warehouse) ships line 1 of order SO-11076 and reports
5 of the 20 units of line 2 (tofu) short, with 15 on the shelf. sally (sales
rep on the order) decides the shortage. The order's promised date is long
past, so the 15 units on the shelf are late.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Role
from conftest import make_person
from core.models import AuditEvent
from core.testing import signed_in
from reconciliation import backorder_decisions, warehouse_work, work
from reconciliation.matching import run_matching
from reconciliation.models import (
    Discrepancy,
    LineCancellation,
    SalesOrder,
    Shipment,
    ShipmentLine,
)
from reconciliation.tests.factories import create_order, create_shipment

pytestmark = pytest.mark.django_db

State = Discrepancy.State


@pytest.fixture
def walter(db):
    return make_person("walter", Role.WAREHOUSE, group="warehouse")


@pytest.fixture
def order(customer_party, sales_rep) -> SalesOrder:
    order = create_order(
        number="SO-11076",
        lines=[("10", "5.00"), ("20", "23.25")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    create_shipment(order=order, quantities={1: "10"})
    run_matching(company=order.company, as_of=timezone.localdate())
    return order


@pytest.fixture
def shortage(order, walter) -> Discrepancy:
    return warehouse_work.report_shortage(
        actor=walter,
        order=order,
        line_no=2,
        qty_missing=Decimal(5),
        note="Only 15 on shelf",
    )


def tofu_line(order: SalesOrder):
    return order.lines.get(line_no=2)


def not_shipped_case(order: SalesOrder) -> Discrepancy:
    return Discrepancy.objects.get(order_line=tofu_line(order), code="NOT_SHIPPED")


def ship_later(rep, case: Discrepancy) -> Discrepancy:
    return backorder_decisions.decide_backorder(
        actor=rep,
        case_id=case.pk,
        decision=work.SHIP_LATER,
        reason="Supplier delivers tofu next week",
        expected_on=timezone.localdate() + timedelta(days=8),
    )


def test_ship_later_backorders_shortage_only(order, shortage, sales_rep):
    ship_later(sales_rep, shortage)

    backorder = Shipment.objects.get(order=order, backorder_of__isnull=False)
    rows = list(backorder.lines.values_list("order_line__line_no", "qty_shipped"))
    assert rows == [(2, Decimal(5))]
    shortage.refresh_from_db()
    assert shortage.state == State.RESOLVED
    assert shortage.resolution_note.startswith(
        f"Backorder {backorder.number} ships 5 units later"
    )
    event = AuditEvent.objects.get(action="shipment.backorder_created")
    assert Decimal(event.after["qty"]) == 5


def test_units_on_the_shelf_stay_late(order, shortage, sales_rep):
    ship_later(sales_rep, shortage)

    late = not_shipped_case(order)
    assert late.state == State.OPEN
    assert (late.expected_value, late.actual_value) == (Decimal(15), Decimal(0))
    assert late.explanation.endswith(
        "5 units follow on a backorder, so 15 units are late."
    )


def test_shipping_shelf_units_closes_late_case(order, shortage, sales_rep, walter):
    ship_later(sales_rep, shortage)

    warehouse_work.record_shipment(
        actor=walter,
        order=order,
        quantities={
            2: warehouse_work.LineQuantities(picked=Decimal(15), shipped=Decimal(15)),
        },
    )

    assert not_shipped_case(order).state == State.RESOLVED
    line = tofu_line(order)
    assert line.qty_shipped == Decimal(15)
    backorder = Shipment.objects.get(order=order, backorder_of__isnull=False)
    assert backorder.state == Shipment.State.DRAFT
    assert backorder.lines.get().qty_shipped == Decimal(5)


def test_cancel_rest_cancels_shortage_only(order, shortage, sales_rep):
    backorder_decisions.decide_backorder(
        actor=sales_rep,
        case_id=shortage.pk,
        decision=work.CANCEL_REST,
        reason="The customer takes 15.",
    )

    cancellation = LineCancellation.objects.get()
    assert cancellation.qty == Decimal(5)
    line = tofu_line(order)
    assert (line.qty_due, line.qty_to_ship) == (Decimal(15), Decimal(15))
    shortage.refresh_from_db()
    assert shortage.resolution_note == (
        "5 units of line 2 are cancelled: The customer takes 15."
    )
    late = not_shipped_case(order)
    assert late.state == State.OPEN
    assert late.expected_value == Decimal(15)


def test_cancel_late_units_keeps_backorder(order, shortage, sales_rep):
    ship_later(sales_rep, shortage)
    late = not_shipped_case(order)

    backorder_decisions.decide_backorder(
        actor=sales_rep,
        case_id=late.pk,
        decision=work.CANCEL_REST,
        reason="The customer waits for the backorder only.",
    )

    assert LineCancellation.objects.get().qty == Decimal(15)
    backorder = Shipment.objects.get(order=order, backorder_of__isnull=False)
    assert backorder.state == Shipment.State.DRAFT
    assert ShipmentLine.objects.get(shipment=backorder).qty_shipped == Decimal(5)
    event = AuditEvent.objects.get(action="order_line.cancelled")
    assert event.after["backorders_cancelled"] == []
    assert event.after["backorder_rows_emptied"] == []
    late.refresh_from_db()
    assert late.state == State.RESOLVED


def test_cancel_trims_oversized_backorder(order, sales_rep):
    # A backorder of 12 and a case that covers 10 units, while only 20 are
    # left: after cancelling 10, the backorder may carry 10 at most.
    shipped = Shipment.objects.get(order=order)
    backorder = Shipment.objects.create(
        company=order.company,
        order=order,
        number=f"{order.number}-S2",
        state=Shipment.State.DRAFT,
        backorder_of=shipped,
    )
    backorder.lines.create(order_line=tofu_line(order), qty_shipped=Decimal(12))
    case = Discrepancy.objects.get(order=order, code="NOT_SHIPPED")
    Discrepancy.objects.filter(pk=case.pk).update(
        expected_value=Decimal(10), actual_value=Decimal(0)
    )

    backorder_decisions.decide_backorder(
        actor=sales_rep,
        case_id=case.pk,
        decision=work.CANCEL_REST,
        reason="The customer takes 10.",
    )

    assert ShipmentLine.objects.get(shipment=backorder).qty_shipped == Decimal(10)
    reduced = AuditEvent.objects.get(action="shipment.backorder_line_reduced")
    assert Decimal(reduced.before["qty"]) == 12
    assert Decimal(reduced.after["qty"]) == 10


def test_decision_page_names_case_units(shortage, sales_rep):
    response = signed_in(sales_rep).get(f"/reconciliation/work/cases/{shortage.pk}/")

    assert response.status_code == 200
    page = response.content.decode()
    assert (
        "This case covers 5 units of line 2. The line's other 15 units still to "
        "ship are not part of it: the warehouse ships them as usual."
    ) in page
    assert "Ship the rest later (5 units)" in page
    assert "Cancel the rest (5 units)" in page
    # 15 is what walter has on the shelf, not what shipped.
    assert "Ordered 20 · can ship 15 · 5 units short" in page


def test_case_page_says_can_ship(shortage, sales_rep):
    page = (
        signed_in(sales_rep)
        .get(f"/reconciliation/cases/{shortage.pk}/")
        .content.decode()
    )

    assert "<dt>Ordered / can ship</dt>" in page


def test_pass_case_covers_whole_rest(customer_party, sales_rep):
    order = create_order(
        lines=[("10", "36.36")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    create_shipment(order=order, quantities={1: "7"})
    run_matching(company=order.company, as_of=timezone.localdate())
    case = Discrepancy.objects.get(order=order, code="SHORT_SHIP")

    ship_later(sales_rep, case)

    backorder = Shipment.objects.get(order=order, backorder_of__isnull=False)
    assert backorder.lines.get().qty_shipped == Decimal(3)
