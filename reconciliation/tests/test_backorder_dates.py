"""The backorder decision service requires the day the rest is expected.

Named person: sally (sales rep on the order). The order is 10 units at
36.36, of which 7 shipped, long past the promised date. The calls go to
the service directly, as the API, the practice sandbox or a shell would.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from reconciliation import backorder_decisions, warehouse_work, work
from reconciliation.matching import run_matching
from reconciliation.models import Discrepancy, Shipment
from reconciliation.tests.factories import create_order, create_shipment

pytestmark = pytest.mark.django_db

State = Discrepancy.State


@pytest.fixture
def short_case(customer_party, sales_rep) -> Discrepancy:
    order = create_order(
        lines=[("10", "36.36")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    create_shipment(order=order, quantities={1: "7"})
    run_matching(company=order.company, as_of=timezone.localdate())
    return Discrepancy.objects.get(order=order, code="SHORT_SHIP")


def test_backorder_service_rejects_missing_date(short_case, sales_rep):
    with pytest.raises(work.WorkError) as raised:
        backorder_decisions.decide_backorder(
            actor=sales_rep,
            case_id=short_case.pk,
            decision=work.SHIP_LATER,
            reason="Stock arrives soon.",
        )

    assert str(raised.value) == (
        "Expected date is missing: shipping the rest later needs the day it is "
        "expected, today or later, or cancel the rest instead."
    )
    short_case.refresh_from_db()
    assert short_case.state == State.OPEN
    assert not Shipment.objects.filter(state=Shipment.State.DRAFT).exists()


def test_backorder_service_rejects_past_date(short_case, sales_rep):
    past = timezone.localdate() - timedelta(days=1)

    with pytest.raises(work.WorkError) as raised:
        backorder_decisions.decide_backorder(
            actor=sales_rep,
            case_id=short_case.pk,
            decision=work.SHIP_LATER,
            reason="Stock arrived already.",
            expected_on=past,
        )

    assert str(raised.value).startswith(
        f"Expected date {past.isoformat()} is in the past:"
    )
    short_case.refresh_from_db()
    assert short_case.state == State.OPEN
    assert not Shipment.objects.filter(state=Shipment.State.DRAFT).exists()


def test_cancel_rest_needs_no_date(short_case, sales_rep):
    backorder_decisions.decide_backorder(
        actor=sales_rep,
        case_id=short_case.pk,
        decision=work.CANCEL_REST,
        reason="The customer does not want the rest.",
    )

    short_case.refresh_from_db()
    assert short_case.state == State.RESOLVED


def test_nothing_shipped_checked_before_date(customer_party, sales_rep):
    order = create_order(
        lines=[("10", "36.36")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    run_matching(company=order.company, as_of=timezone.localdate())
    case = Discrepancy.objects.get(order=order, code="NOT_SHIPPED")

    with pytest.raises(work.WorkError) as raised:
        backorder_decisions.decide_backorder(
            actor=sales_rep,
            case_id=case.pk,
            decision=work.SHIP_LATER,
            reason="Stock arrives soon.",
        )

    assert str(raised.value) == (
        f"Nothing of order {order.number} has shipped yet, so there is no "
        "shipment to back-order from; the warehouse ships the line as usual."
    )
    case.refresh_from_db()
    assert case.state == State.OPEN
    assert not Shipment.objects.filter(order=order).exists()


# A hand-built backorder: 7 of 10 units left on the promised date
# 2024-03-15, and the sales rep agreed the other 3 for 2024-04-20.
AGREED = date(2024, 4, 20)


def _shipped_backorder(shipped_at: date) -> Shipment:
    order = create_order(lines=[("10", "36.36")])
    first = create_shipment(order=order, quantities={1: "7"})
    return create_shipment(
        order=order,
        quantities={1: "3"},
        backorder_of=first,
        expected_delivery=AGREED,
        shipped_at=shipped_at,
    )


def test_backorder_by_date_not_late():
    backorder = _shipped_backorder(date(2024, 4, 10))

    run_matching(company=backorder.company, as_of=date(2024, 5, 1))

    assert not Discrepancy.objects.filter(code="LATE_SHIP").exists()


def test_backorder_after_date_late():
    backorder = _shipped_backorder(date(2024, 4, 25))

    run_matching(company=backorder.company, as_of=date(2024, 5, 1))

    case = Discrepancy.objects.get(code="LATE_SHIP")
    assert case.shipment == backorder
    assert case.actual_value == Decimal(5)
    assert case.explanation == (
        f"Shipment {backorder.number} for order {backorder.order.number} left on "
        "2024-04-25, 5 days after the expected date of the backorder 2024-04-20."
    )


def test_early_backorder_opens_no_case(short_case, sales_rep, warehouse):
    # The rest goes on a backorder due in two weeks, and the warehouse ships
    # it today, long after the order's promised date.
    backorder_decisions.decide_backorder(
        actor=sales_rep,
        case_id=short_case.pk,
        decision=work.SHIP_LATER,
        reason="Stock arrives next week.",
        expected_on=timezone.localdate() + timedelta(days=14),
    )
    draft = Shipment.objects.get(order=short_case.order, state=Shipment.State.DRAFT)

    warehouse_work.record_shipment(
        actor=warehouse,
        order=short_case.order,
        quantities={1: warehouse_work.LineQuantities(Decimal(3), Decimal(3))},
        shipment_number=draft.number,
    )

    draft.refresh_from_db()
    assert draft.state == Shipment.State.SHIPPED
    assert not Discrepancy.objects.filter(code="LATE_SHIP", shipment=draft).exists()
