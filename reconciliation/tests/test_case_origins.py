"""The matching pass resolves only cases that no person reported or acted on.

A case comes from the pass, from the warehouse (a reported shortage) or from
a customer (a problem report in the portal). Once a person has reported or
worked it, a finding that is gone only flags the case, and a person resolves it.
"""

from datetime import date
from decimal import Decimal

import pytest

from core.models import AuditEvent
from portal.services import ProblemInput, report_problem
from reconciliation import cases, warehouse_work
from reconciliation.matching import run_matching
from reconciliation.models import Discrepancy
from reconciliation.tests.factories import create_order, create_shipment

pytestmark = pytest.mark.django_db

# Before the promised date plus the late tolerance, so an unshipped line is
# not yet NOT_SHIPPED, and the shipped units are not yet due for invoicing.
AS_OF = date(2024, 3, 20)
State = Discrepancy.State
GONE_NOTE = "The matching pass no longer finds this difference."


def case_actions(case):
    return list(
        AuditEvent.objects.filter(
            object_type="reconciliation.discrepancy", object_id=str(case.pk)
        )
        .order_by("pk")
        .values_list("action", flat=True)
    )


def run_pass(order):
    run_matching(company=order.company, as_of=AS_OF)


@pytest.fixture
def customer_order(customer_party, sales_rep):
    order = create_order(
        lines=[("10", "5.00")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    create_shipment(order=order)
    return order


def report(customer, order, kind, quantity):
    shipment_line = order.shipments.get().lines.get()
    problem = ProblemInput(
        kind=kind,
        message="Two boxes are missing",
        shipment_line=shipment_line,
        quantity=Decimal(quantity),
    )
    return report_problem(customer=customer, order=order, problem=problem, evidence=[])


# Opened by the pass


def test_pass_case_nobody_touched_is_resolved():
    order = create_order(lines=[("10", "5.00")])
    create_shipment(order=order, quantities={1: "7"})
    run_pass(order)
    create_shipment(order=order, quantities={1: "3"})

    run_pass(order)

    case = Discrepancy.objects.get(order=order, code="SHORT_SHIP")
    assert case.state == State.RESOLVED
    assert case.resolved_by is None
    assert case.resolution_note == GONE_NOTE


def test_pass_case_with_comment_stays_open(warehouse):
    order = create_order(lines=[("10", "5.00")])
    create_shipment(order=order, quantities={1: "7"})
    run_pass(order)
    case = Discrepancy.objects.get(order=order, code="SHORT_SHIP")
    cases.add_comment(case_id=case.pk, author=warehouse, body="Three are on a pallet.")
    create_shipment(order=order, quantities={1: "3"})

    run_pass(order)

    case.refresh_from_db()
    assert case.state == State.OPEN
    assert case.assignee is None
    assert case.finding_holds is False
    assert case.resolution_note == ""
    assert case_actions(case)[-1] == "discrepancy.cleared"


def test_pass_case_a_person_reopened_stays_open(warehouse):
    order = create_order(lines=[("10", "5.00")])
    create_shipment(order=order, quantities={1: "7"})
    run_pass(order)
    case = Discrepancy.objects.get(order=order, code="SHORT_SHIP")
    cases.reject_case(case_id=case.pk, actor=warehouse, reason="Not short")
    cases.reopen_case(case_id=case.pk, actor=warehouse, reason="It is short")
    create_shipment(order=order, quantities={1: "3"})

    run_pass(order)

    case.refresh_from_db()
    assert case.state == State.REOPENED
    assert case.finding_holds is False


# Reported by the warehouse


def test_reported_shortage_survives_pass(warehouse):
    order = create_order(lines=[("10", "5.00")])
    case = warehouse_work.report_shortage(
        actor=warehouse,
        order=order,
        line_no=1,
        qty_missing=Decimal("2"),
        note="Bin A-12 had only 8 left",
    )

    run_pass(order)

    case.refresh_from_db()
    assert case.state == State.OPEN
    assert case.rule == "reported.short_ship@1"
    assert case.resolution_note == ""
    assert case.resolved_at is None
    # The pass never found this fault, so it does not claim the fault is gone.
    assert case.finding_holds is True
    # Reported, then handed to the sales rep; the pass adds nothing.
    assert case_actions(case) == ["case.reported", "case.assigned"]


def test_reported_shortage_flagged_when_shipped(warehouse):
    order = create_order(lines=[("10", "5.00")])
    case = warehouse_work.report_shortage(
        actor=warehouse,
        order=order,
        line_no=1,
        qty_missing=Decimal("2"),
        note="Bin A-12 had only 8 left",
    )
    create_shipment(order=order, quantities={1: "8"})
    run_pass(order)
    case.refresh_from_db()
    assert case.rule == "shipment.short@1"
    create_shipment(order=order, quantities={1: "2"})

    run_pass(order)

    case.refresh_from_db()
    assert case.state == State.OPEN
    assert case.finding_holds is False
    assert case.resolution_note == ""
    assert case_actions(case)[-1] == "discrepancy.cleared"


# Reported by a customer through the portal


def test_customer_report_survives_pass(customer, customer_order):
    case = report(customer, customer_order, "damaged", "2").case

    run_pass(customer_order)

    case.refresh_from_db()
    assert case.state == State.OPEN
    assert case.code == "DAMAGED"
    assert case.finding_holds is True


def test_customer_report_flagged_when_gone(customer, customer_order):
    case = report(customer, customer_order, "damaged", "2").case
    run_pass(customer_order)
    shipment_line = customer_order.shipments.get().lines.get()
    shipment_line.qty_damaged = Decimal(0)
    shipment_line.save(update_fields=["qty_damaged"])

    run_pass(customer_order)

    case.refresh_from_db()
    assert case.state == State.OPEN
    assert case.finding_holds is False
    assert case.resolution_note == ""


def test_customer_report_on_pass_case_stays(customer, customer_order):
    # The pass opens the case first, from a short receipt; the customer's
    # report then adds to that case and writes no event on the case itself.
    shipment_line = customer_order.shipments.get().lines.get()
    shipment_line.qty_received = Decimal("8")
    shipment_line.save(update_fields=["qty_received"])
    run_pass(customer_order)
    pass_case = Discrepancy.objects.get(order=customer_order, code="NOT_RECEIVED")
    reported = report(customer, customer_order, "missing", "2")
    assert reported.case == pass_case
    shipment_line.refresh_from_db()
    shipment_line.qty_received = Decimal("10")
    shipment_line.save(update_fields=["qty_received"])

    run_pass(customer_order)

    pass_case.refresh_from_db()
    assert pass_case.state == State.OPEN
    assert pass_case.finding_holds is False
    assert pass_case.resolution_note == ""
