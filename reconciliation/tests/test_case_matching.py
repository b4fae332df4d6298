"""How the matching pass treats cases that people are working."""

from datetime import date

import pytest

from core.models import AuditEvent
from reconciliation import cases
from reconciliation.matching import run_matching
from reconciliation.models import Discrepancy, Shipment
from reconciliation.tests.factories import create_order, create_shipment

pytestmark = pytest.mark.django_db

# Five days after the promised date: the short shipment is reported, and the
# shipped units are not yet due for invoicing (seven days by default).
AS_OF = date(2024, 3, 20)
State = Discrepancy.State


@pytest.fixture
def short_shipped(db):
    order = create_order(lines=[("10", "5.00")])
    create_shipment(order=order, quantities={1: "7"})
    run_matching(company=order.company, as_of=AS_OF)
    return order


def the_case(order):
    return Discrepancy.objects.get(order=order, code="SHORT_SHIP")


def case_actions(case):
    return list(
        AuditEvent.objects.filter(
            object_type="reconciliation.discrepancy", object_id=str(case.pk)
        )
        .order_by("pk")
        .values_list("action", flat=True)
    )


def test_new_case_gets_due_time(short_shipped):
    case = the_case(short_shipped)

    assert case.due_at is not None
    assert case.state == State.OPEN


def test_holding_finding_keeps_worked_case(short_shipped, warehouse):
    case = cases.start_case(case_id=the_case(short_shipped).pk, actor=warehouse)

    summary = run_matching(company=short_shipped.company, as_of=AS_OF)

    case.refresh_from_db()
    assert case.state == State.IN_PROGRESS
    assert case.assignee == warehouse
    assert summary.unchanged == 1
    assert summary.reopened == 0


def test_second_run_changes_nothing_on_worked_case(short_shipped, warehouse):
    case = cases.start_case(case_id=the_case(short_shipped).pk, actor=warehouse)
    run_matching(company=short_shipped.company, as_of=AS_OF)
    events = AuditEvent.objects.count()

    summary = run_matching(company=short_shipped.company, as_of=AS_OF)

    assert AuditEvent.objects.count() == events
    assert summary.unchanged == 1
    case.refresh_from_db()
    assert case.state == State.IN_PROGRESS


def test_cleared_finding_flags_worked_case(short_shipped, warehouse):
    case = cases.start_case(case_id=the_case(short_shipped).pk, actor=warehouse)
    create_shipment(order=short_shipped, quantities={1: "3"})

    first = run_matching(company=short_shipped.company, as_of=AS_OF)
    second = run_matching(company=short_shipped.company, as_of=AS_OF)

    case.refresh_from_db()
    assert case.state == State.IN_PROGRESS
    assert case.finding_holds is False
    assert first.resolved == 0
    assert second.resolved == 0
    assert case_actions(case) == [
        "discrepancy.opened",
        "case.state_changed",
        "discrepancy.cleared",
    ]


def test_cleared_finding_resolves_unworked_case(short_shipped):
    create_shipment(order=short_shipped, quantities={1: "3"})

    run_matching(company=short_shipped.company, as_of=AS_OF)

    case = the_case(short_shipped)
    assert case.state == State.RESOLVED
    assert case.resolved_by is None
    assert case.resolution_note == (
        "The matching pass no longer finds this difference."
    )
    assert case.resolution_seconds is not None


def test_finding_back_on_flagged_case_clears_flag(short_shipped, warehouse):
    case = cases.start_case(case_id=the_case(short_shipped).pk, actor=warehouse)
    rest = create_shipment(order=short_shipped, quantities={1: "3"})
    run_matching(company=short_shipped.company, as_of=AS_OF)

    Shipment.objects.filter(pk=rest.pk).update(state=Shipment.State.CANCELLED)
    summary = run_matching(company=short_shipped.company, as_of=AS_OF)

    case.refresh_from_db()
    assert case.finding_holds is True
    assert case.state == State.IN_PROGRESS
    assert summary.updated == 1


def test_person_resolution_stands_while_figures_same(short_shipped, warehouse):
    case = cases.start_case(case_id=the_case(short_shipped).pk, actor=warehouse)
    cases.resolve_case(
        case_id=case.pk,
        actor=warehouse,
        resolution_code="accepted_as_is",
        note="The customer keeps the seven units and is billed for them.",
    )

    summary = run_matching(company=short_shipped.company, as_of=AS_OF)

    case.refresh_from_db()
    assert case.state == State.RESOLVED
    assert case.resolution_code == "accepted_as_is"
    assert summary.reopened == 0


def test_person_resolution_reopens_when_figures_change(short_shipped, warehouse):
    case = cases.start_case(case_id=the_case(short_shipped).pk, actor=warehouse)
    cases.resolve_case(
        case_id=case.pk,
        actor=warehouse,
        resolution_code="backorder",
        note="Three units follow on a backorder.",
    )
    create_shipment(order=short_shipped, quantities={1: "1"})

    summary = run_matching(company=short_shipped.company, as_of=AS_OF)

    case.refresh_from_db()
    assert summary.reopened == 1
    assert case.state == State.REOPENED
    assert case.reopen_count == 1
    assert case.resolved_by is None
    assert case.assignee == warehouse


def test_rule_resolved_case_reopens_as_open(short_shipped):
    rest = create_shipment(order=short_shipped, quantities={1: "3"})
    run_matching(company=short_shipped.company, as_of=AS_OF)

    Shipment.objects.filter(pk=rest.pk).update(state=Shipment.State.CANCELLED)
    run_matching(company=short_shipped.company, as_of=AS_OF)

    case = the_case(short_shipped)
    assert case.state == State.OPEN
    assert case.reopen_count == 1
    assert case.resolution_note == ""
    event = AuditEvent.objects.filter(action="discrepancy.reopened").get()
    assert event.before == {"state": "resolved"}
    assert event.after["state"] == "open"


def test_rejected_case_stays_rejected(short_shipped, warehouse):
    case = cases.reject_case(
        case_id=the_case(short_shipped).pk,
        actor=warehouse,
        reason="The customer asked for seven; the order was keyed wrong.",
    )

    run_matching(company=short_shipped.company, as_of=AS_OF)

    case.refresh_from_db()
    assert case.state == State.REJECTED
