"""Case lifecycle services: every transition, exact messages, audit events."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured, PermissionDenied

from accounts.models import Role
from conftest import make_person
from core.models import AuditEvent
from reconciliation import cases
from reconciliation.cases import TRANSITIONS, CaseError, InvalidTransition
from reconciliation.models import CaseComment, Discrepancy
from reconciliation.tests.conftest import make_case
from reconciliation.tests.factories import create_invoice, create_payment

pytestmark = pytest.mark.django_db

State = Discrepancy.State


def in_state(case, state, assignee=None):
    Discrepancy.objects.filter(pk=case.pk).update(state=state, assignee=assignee)
    case.refresh_from_db()
    return case


def case_events(case):
    return AuditEvent.objects.filter(
        object_type="reconciliation.discrepancy", object_id=str(case.pk)
    )


def move(case, to, actor):
    """Call the service that moves ``case`` to ``to``, with valid inputs."""
    if to == State.ASSIGNED:
        return cases.assign_case(case_id=case.pk, actor=actor, assignee=actor)
    if to == State.IN_PROGRESS:
        return cases.start_case(case_id=case.pk, actor=actor)
    if to in (State.PROPOSED_RESOLUTION, State.RESOLVED):
        service = (
            cases.resolve_case if to == State.RESOLVED else cases.propose_resolution
        )
        return service(
            case_id=case.pk,
            actor=actor,
            resolution_code="credit_note",
            note="Credit note CN-7 covers the deduction.",
        )
    services = {
        State.WAITING_CUSTOMER: cases.wait_for_customer,
        State.WAITING_INTERNAL: cases.wait_internally,
        State.ESCALATED: cases.escalate_case,
        State.REJECTED: cases.reject_case,
        State.CLOSED: cases.close_case,
        State.REOPENED: cases.reopen_case,
    }
    return services[to](case_id=case.pk, actor=actor, reason="Checked the remittance.")


VALID = [(start, to) for start, targets in TRANSITIONS.items() for to in targets]
INVALID = [
    (start, to)
    for start in TRANSITIONS
    for to in State.values
    if to not in TRANSITIONS[start]
    and to != State.OPEN
    # Assigning a case that is already being worked changes only the assignee.
    and not (to == State.ASSIGNED and start in cases.REASSIGNABLE_STATES)
]


@pytest.mark.parametrize(("start", "to"), VALID)
def test_valid_transition(start, to, short_payment_case, clerk):
    case = in_state(short_payment_case, start, assignee=clerk)

    moved = move(case, to, clerk)

    assert moved.state == to
    event = case_events(case).latest("pk")
    assert event.action == "case.state_changed"
    assert event.before["state"] == start
    assert event.after["state"] == to
    assert event.actor == clerk
    assert event.actor_role == Role.FINANCE_CLERK


@pytest.mark.parametrize(("start", "to"), INVALID)
def test_invalid_transition(start, to, short_payment_case, clerk):
    case = in_state(short_payment_case, start, assignee=clerk)
    allowed = ", ".join(TRANSITIONS[start])

    with pytest.raises(InvalidTransition) as raised:
        move(case, to, clerk)

    assert str(raised.value) == (
        f"Cannot move case {case.pk} from {start} to {to}: "
        f"the allowed next states are {allowed}."
    )
    case.refresh_from_db()
    assert case.state == start


def test_invalid_transition_message_names_states(short_payment_case, clerk):
    with pytest.raises(InvalidTransition) as raised:
        cases.close_case(case_id=short_payment_case.pk, actor=clerk)

    assert str(raised.value) == (
        f"Cannot move case {short_payment_case.pk} from open to closed: the allowed "
        "next states are assigned, in_progress, rejected, escalated."
    )


def test_every_state_has_transitions():
    assert set(TRANSITIONS) == set(State.values)


def test_assign_needs_matching_role(short_payment_case, clerk, warehouse):
    with pytest.raises(CaseError) as raised:
        cases.assign_case(
            case_id=short_payment_case.pk, actor=clerk, assignee=warehouse
        )

    assert str(raised.value) == (
        f"wanda cannot be assigned case {short_payment_case.pk}: the assignee "
        "must have the finance_clerk role or be a manager."
    )


def test_manager_may_be_assigned(short_payment_case, clerk, manager):
    case = cases.assign_case(
        case_id=short_payment_case.pk, actor=clerk, assignee=manager
    )

    assert case.state == State.ASSIGNED
    assert case.assignee == manager


def test_reassign_keeps_state_and_records_event(short_payment_case, clerk, super_user):
    case = in_state(short_payment_case, State.IN_PROGRESS, assignee=clerk)

    case = cases.assign_case(
        case_id=case.pk, actor=clerk, assignee=super_user, reason="Petra is back."
    )

    assert case.state == State.IN_PROGRESS
    assert case.assignee == super_user
    event = case_events(case).get(action="case.assigned")
    assert event.before == {"assignee_id": clerk.pk}
    assert event.after == {"assignee_id": super_user.pk}
    assert event.reason == "Petra is back."


def test_assign_closed_case_is_rejected(short_payment_case, clerk):
    case = in_state(short_payment_case, State.CLOSED)

    with pytest.raises(InvalidTransition):
        cases.assign_case(case_id=case.pk, actor=clerk, assignee=clerk)


def test_start_takes_unassigned_case(short_payment_case, clerk):
    case = cases.start_case(case_id=short_payment_case.pk, actor=clerk)

    assert case.assignee == clerk
    event = case_events(case).get()
    assert event.before == {"state": "open", "assignee_id": None}
    assert event.after == {"state": "in_progress", "assignee_id": clerk.pk}


def test_manager_starting_takes_case(short_payment_case, manager):
    case = cases.start_case(case_id=short_payment_case.pk, actor=manager)

    assert case.assignee == manager


def test_other_role_may_not_work_case(short_payment_case, warehouse):
    with pytest.raises(PermissionDenied) as raised:
        cases.start_case(case_id=short_payment_case.pk, actor=warehouse)

    assert str(raised.value) == (
        f"wanda may not work case {short_payment_case.pk}: it belongs to the "
        "finance_clerk role."
    )


def test_customer_may_not_work_case(short_payment_case, customer):
    with pytest.raises(PermissionDenied):
        cases.add_comment(case_id=short_payment_case.pk, author=customer, body="Hi")


def test_sales_rep_works_case_on_own_order(short_payment_case, sales_rep):
    comment = cases.add_comment(
        case_id=short_payment_case.pk, author=sales_rep, body="Customer called."
    )

    assert comment.author_name == "Sally Tester"


def test_sales_rep_cannot_take_finance_case(short_payment_case, sales_rep):
    with pytest.raises(CaseError) as raised:
        cases.start_case(case_id=short_payment_case.pk, actor=sales_rep)

    assert str(raised.value) == (
        f"sally cannot take case {short_payment_case.pk}: assign it to a person "
        "with the finance_clerk role first."
    )


@pytest.mark.parametrize(
    "to",
    [
        State.WAITING_CUSTOMER,
        State.WAITING_INTERNAL,
        State.ESCALATED,
    ],
)
def test_move_needs_reason(to, short_payment_case, clerk):
    case = in_state(short_payment_case, State.IN_PROGRESS, assignee=clerk)
    services = {
        State.WAITING_CUSTOMER: cases.wait_for_customer,
        State.WAITING_INTERNAL: cases.wait_internally,
        State.ESCALATED: cases.escalate_case,
    }

    with pytest.raises(CaseError) as raised:
        services[to](case_id=case.pk, actor=clerk, reason="  ")

    assert str(raised.value) == f"Moving case {case.pk} to {to} needs a reason."


def test_reject_needs_reason(short_payment_case, clerk):
    with pytest.raises(CaseError) as raised:
        cases.reject_case(case_id=short_payment_case.pk, actor=clerk, reason="")

    assert str(raised.value) == (
        f"Moving case {short_payment_case.pk} to rejected needs a reason."
    )


def test_resolve_needs_note(short_payment_case, clerk):
    case = in_state(short_payment_case, State.IN_PROGRESS, assignee=clerk)

    with pytest.raises(CaseError) as raised:
        cases.resolve_case(
            case_id=case.pk, actor=clerk, resolution_code="refund", note=" "
        )

    assert str(raised.value) == f"Resolving case {case.pk} needs a resolution note."


def test_resolve_rejects_unknown_code(short_payment_case, clerk):
    case = in_state(short_payment_case, State.IN_PROGRESS, assignee=clerk)

    with pytest.raises(CaseError) as raised:
        cases.resolve_case(
            case_id=case.pk, actor=clerk, resolution_code="shrug", note="Done."
        )

    assert str(raised.value) == (
        "Resolution code 'shrug' is not valid: use one of reship, credit_note, "
        "debit_note, write_off, refund, backorder, cancel_remainder, price_fix, "
        "price_kept, accepted_as_is, duplicate_cancelled, carrier_claim."
    )


def test_resolve_records_resolver_and_time(short_payment_case, clerk):
    case = in_state(short_payment_case, State.IN_PROGRESS, assignee=clerk)

    case = cases.resolve_case(
        case_id=case.pk,
        actor=clerk,
        resolution_code="credit_note",
        note="Credit note CN-7 covers the deduction.",
    )

    assert case.resolved_by == clerk
    assert case.resolved_at is not None
    assert case.resolution_seconds is not None
    assert case.resolution_seconds >= 0
    event = case_events(case).get()
    assert event.after["resolution_code"] == "credit_note"
    assert event.reason == "Credit note CN-7 covers the deduction."


def test_reopen_counts_and_clears_resolution(short_payment_case, clerk):
    case = in_state(short_payment_case, State.IN_PROGRESS, assignee=clerk)
    move(case, State.RESOLVED, clerk)

    case = cases.reopen_case(
        case_id=case.pk, actor=clerk, reason="The credit note was not posted."
    )

    assert case.state == State.REOPENED
    assert case.reopen_count == 1
    assert case.resolution_code == ""
    assert case.resolved_by is None
    assert case.resolved_at is None


def test_write_off_within_limit_resolves_directly(shipped_order, clerk):
    invoice = create_invoice(order=shipped_order)
    create_payment(invoice=invoice, amount="313.60")
    case = make_case(shipped_order, invoice=invoice, difference="-50.00")
    case = in_state(case, State.IN_PROGRESS, assignee=clerk)

    case = cases.resolve_case(
        case_id=case.pk,
        actor=clerk,
        resolution_code="write_off",
        note="Bank fee deducted by the customer's bank.",
    )

    assert case.state == State.RESOLVED
    invoice.refresh_from_db()
    assert invoice.amount_written_off == Decimal("50.00")
    assert invoice.amount_residual == Decimal("0.00")
    assert invoice.payment_state == "paid"
    event = AuditEvent.objects.get(action="allocation.written_off")
    assert event.after == {
        "writeoff_forgiven": "50.0000",
        "writeoff_kept": "0.0000",
        "case": case.pk,
    }


def test_write_off_needs_a_payment_to_book_on(shipped_order, clerk):
    invoice = create_invoice(order=shipped_order)
    case = make_case(shipped_order, invoice=invoice, difference="-50.00")
    case = in_state(case, State.IN_PROGRESS, assignee=clerk)

    with pytest.raises(CaseError) as raised:
        cases.resolve_case(
            case_id=case.pk,
            actor=clerk,
            resolution_code="write_off",
            note="Never paid.",
        )

    assert str(raised.value) == (
        f"Invoice {invoice.number} has no payment to write the rest off against: "
        "propose a credit note instead, or resolve the case with another code."
    )
    case.refresh_from_db()
    assert case.state == State.IN_PROGRESS


def test_write_off_above_limit_needs_approval(short_payment_case, clerk):
    case = in_state(short_payment_case, State.IN_PROGRESS, assignee=clerk)

    with pytest.raises(CaseError) as raised:
        cases.resolve_case(
            case_id=case.pk,
            actor=clerk,
            resolution_code="write_off",
            note="Customer will not pay the rest.",
        )

    assert str(raised.value) == (
        f"A write-off of 83.63 USD on case {case.pk} is above the 50.00 limit: "
        "request an approval and wait for a manager to approve it."
    )


def test_write_off_needs_invoice_difference(shipped_order, clerk):
    case = make_case(shipped_order, difference=None)
    case = in_state(case, State.IN_PROGRESS, assignee=clerk)

    with pytest.raises(CaseError) as raised:
        cases.resolve_case(
            case_id=case.pk, actor=clerk, resolution_code="write_off", note="Gone."
        )

    assert str(raised.value) == (
        f"Case {case.pk} has no money difference on an invoice to write off."
    )


def test_write_off_limit_setting_is_checked(settings):
    settings.RECONCILIATION_WRITE_OFF_LIMIT = "fifty"

    with pytest.raises(ImproperlyConfigured) as raised:
        cases.write_off_limit()

    assert str(raised.value) == (
        "RECONCILIATION_WRITE_OFF_LIMIT='fifty' is not a number: "
        "set it to an amount such as 50.00."
    )


def test_comment_appends_thread_and_event(short_payment_case, clerk):
    comment = cases.add_comment(
        case_id=short_payment_case.pk, author=clerk, body="  Called the bank.  "
    )

    assert comment.body == "Called the bank."
    assert list(CaseComment.objects.values_list("body", flat=True)) == [
        "Called the bank."
    ]
    event = AuditEvent.objects.get(action="case.commented")
    assert event.after == {"comment_id": comment.pk, "body": "Called the bank."}


def test_comment_rejects_empty_and_long(short_payment_case, clerk):
    with pytest.raises(CaseError) as empty:
        cases.add_comment(case_id=short_payment_case.pk, author=clerk, body=" ")
    with pytest.raises(CaseError) as long:
        cases.add_comment(case_id=short_payment_case.pk, author=clerk, body="x" * 5001)

    assert str(empty.value) == "A comment needs some text."
    assert str(long.value) == (
        "A comment is at most 5000 characters; this one has 5001."
    )


def test_inactive_person_may_not_work(short_payment_case):
    person = make_person("ivan", Role.FINANCE_CLERK)
    person.is_active = False
    person.save()

    with pytest.raises(PermissionDenied):
        cases.start_case(case_id=short_payment_case.pk, actor=person)


# Due times


@pytest.mark.parametrize(
    ("severity", "expected"),
    [
        ("high", datetime(2024, 3, 7, 11, 0, tzinfo=UTC)),
        ("medium", datetime(2024, 3, 9, 11, 0, tzinfo=UTC)),
        ("low", datetime(2024, 3, 16, 11, 0, tzinfo=UTC)),
    ],
)
def test_due_at_by_severity_in_company_timezone(severity, expected):
    # 20:00 UTC on 5 March is 09:00 on 6 March in Auckland (UTC+13), so the
    # days count from 6 March and end at local midnight, 11:00 UTC.
    detected = datetime(2024, 3, 5, 20, 0, tzinfo=UTC)

    due = cases.compute_due_at(
        severity=severity, detected_at=detected, timezone_name="Pacific/Auckland"
    )

    assert due == expected


def test_due_at_follows_settings(settings):
    settings.RECONCILIATION_CASE_DUE_DAYS = {"high": 2, "medium": 3, "low": 10}
    detected = datetime(2024, 3, 5, 20, 0, tzinfo=UTC)

    due = cases.compute_due_at(
        severity="high", detected_at=detected, timezone_name="UTC"
    )

    assert due == datetime(2024, 3, 8, 0, 0, tzinfo=UTC)
