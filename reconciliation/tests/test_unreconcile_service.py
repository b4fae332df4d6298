"""Unreconcile as a service: who may, what it restores, what it records.

A real company's cash match may be unreconciled by an active finance clerk
or manager; a practice sandbox's only by its learner. Every refusal leaves
the allocations, the match and the audit trail as they were.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from accounts.models import Role
from conftest import make_person
from core.models import AuditEvent
from practice.models import SandboxSession
from reconciliation.matches import MatchError, restored_balances, unreconcile
from reconciliation.matching import run_matching
from reconciliation.models import Allocation, Invoice, MatchGroup, Payment
from reconciliation.services import allocate_payment
from reconciliation.tests.factories import (
    CompanyFactory,
    PartyFactory,
    PaymentFactory,
    create_invoice,
    create_order,
    create_payment,
    create_shipment,
)

pytestmark = pytest.mark.django_db

AS_OF = date(2024, 6, 30)


@pytest.fixture(autouse=True)
def _pinned_settings(settings):
    settings.RECONCILIATION_LATE_DAYS = 0
    settings.RECONCILIATION_PAYMENT_TOLERANCE = "0.01"


def cash_match(company=None, total="100.00", paid=None):
    """Return an order's cash match after the pass, with its invoice and payment."""
    order = create_order(lines=[("1", total)], company=company)
    create_shipment(order=order)
    invoice = create_invoice(order=order)
    payment = create_payment(invoice=invoice, amount=paid or total)
    run_matching(company=order.company, as_of=AS_OF)
    group = MatchGroup.objects.get(key=f"D:invoice:{invoice.pk}")
    return group, invoice, payment


def snapshot(group, invoice, payment):
    group.refresh_from_db()
    invoice.refresh_from_db()
    payment.refresh_from_db()
    return (
        group.state,
        Allocation.objects.filter(invoice=invoice).count(),
        invoice.amount_residual,
        payment.amount_unallocated,
        AuditEvent.objects.filter(
            action__in=["match.reversed", "allocation.reversed"]
        ).count(),
    )


# Roles


@pytest.mark.parametrize("role", [Role.FINANCE_CLERK, Role.MANAGER])
def test_clerk_and_manager_may_unreconcile(role):
    group, _invoice, _payment = cash_match()
    person = make_person("pat", role)

    unreconcile(group_id=group.pk, actor=person, reason="Wrong customer")

    group.refresh_from_db()
    assert group.state == MatchGroup.State.REVERSED
    assert group.reversed_by == person


@pytest.mark.parametrize(
    "role",
    [Role.WAREHOUSE, Role.SALES_REP, Role.FACILITATOR, Role.HR, Role.EXECUTIVE],
)
def test_other_roles_may_not_unreconcile(role):
    group, invoice, payment = cash_match()
    person = make_person("pat", role)
    before = snapshot(group, invoice, payment)

    with pytest.raises(PermissionDenied) as error:
        unreconcile(group_id=group.pk, actor=person, reason="Wrong customer")

    assert str(error.value) == (
        f"pat may not unreconcile match M{group.pk}: it is work for a finance "
        "clerk or a manager."
    )
    assert snapshot(group, invoice, payment) == before
    assert before[0] == MatchGroup.State.CONFIRMED


def test_customer_may_not_unreconcile(customer):
    group, invoice, payment = cash_match()
    before = snapshot(group, invoice, payment)

    with pytest.raises(PermissionDenied) as error:
        unreconcile(group_id=group.pk, actor=customer, reason="Not mine")

    assert str(error.value) == f"carla may not unreconcile match M{group.pk}."
    assert snapshot(group, invoice, payment) == before


def test_inactive_clerk_may_not_unreconcile():
    group, invoice, payment = cash_match()
    clerk = make_person("fiona", Role.FINANCE_CLERK)
    clerk.is_active = False
    clerk.save(update_fields=["is_active"])
    before = snapshot(group, invoice, payment)

    with pytest.raises(PermissionDenied):
        unreconcile(group_id=group.pk, actor=clerk, reason="Wrong customer")

    assert snapshot(group, invoice, payment) == before


def sandbox_match(learner):
    company = CompanyFactory.create(is_sandbox=True)
    session = SandboxSession.objects.create(
        learner=learner,
        scenario_key="short-payment-write-off",
        scenario_version=1,
        company=company,
        started_at=timezone.now(),
    )
    return session, *cash_match(company=company)


def test_learner_may_unreconcile_own_sandbox():
    # The learner plays every role in the sandbox, a warehouse worker too.
    learner = make_person("lena", Role.WAREHOUSE)
    _, group, invoice, _payment = sandbox_match(learner)

    unreconcile(group_id=group.pk, actor=learner, reason="Practice")

    invoice.refresh_from_db()
    assert invoice.amount_residual == Decimal("100.00")


@pytest.mark.parametrize("role", [Role.FINANCE_CLERK, Role.MANAGER])
def test_others_may_not_unreconcile_a_sandbox(role):
    learner = make_person("lena", Role.WAREHOUSE)
    _, group, invoice, payment = sandbox_match(learner)
    other = make_person("pat", role)
    before = snapshot(group, invoice, payment)

    with pytest.raises(PermissionDenied) as error:
        unreconcile(group_id=group.pk, actor=other, reason="Cleanup")

    assert str(error.value) == (
        f"pat may not unreconcile match M{group.pk}: it belongs to another "
        "learner's practice session."
    )
    assert snapshot(group, invoice, payment) == before


def test_finished_sandbox_is_read_only():
    learner = make_person("lena", Role.WAREHOUSE)
    session, group, invoice, payment = sandbox_match(learner)
    session.status = SandboxSession.Status.FINISHED
    session.save(update_fields=["status"])
    before = snapshot(group, invoice, payment)

    with pytest.raises(MatchError) as error:
        unreconcile(group_id=group.pk, actor=learner, reason="Practice")

    assert str(error.value) == (
        f"Practice session {session.pk} is finished, so match M{group.pk} cannot "
        "be unreconciled: start a new session to practise again."
    )
    assert snapshot(group, invoice, payment) == before


# Errors


def test_second_unreconcile_is_already_reversed(clerk):
    group, invoice, payment = cash_match()
    unreconcile(group_id=group.pk, actor=clerk, reason="Wrong customer")
    before = snapshot(group, invoice, payment)

    with pytest.raises(MatchError) as error:
        unreconcile(group_id=group.pk, actor=clerk, reason="Again")

    assert str(error.value) == f"Match M{group.pk} is already reversed."
    assert snapshot(group, invoice, payment) == before
    assert before[1] == 2


@pytest.mark.parametrize("reason", ["  \n", "\u200b\ufeff", "\x00"])
def test_missing_reason_changes_nothing(clerk, reason):
    group, invoice, payment = cash_match()
    before = snapshot(group, invoice, payment)

    with pytest.raises(MatchError) as error:
        unreconcile(group_id=group.pk, actor=clerk, reason=reason)

    assert str(error.value) == "Unreconciling needs a reason."
    assert snapshot(group, invoice, payment) == before


def test_reason_stored_without_invisible_characters(clerk):
    group, _, _ = cash_match()

    unreconcile(group_id=group.pk, actor=clerk, reason=" Wrong\x00 payer\u200b \r\n")

    group.refresh_from_db()
    assert group.reversal_reason == "Wrong payer"
    event = AuditEvent.objects.get(action="match.reversed")
    assert event.reason == "Wrong payer"


def test_unknown_match_is_not_found(clerk):
    with pytest.raises(MatchError) as error:
        unreconcile(group_id=999999, actor=clerk, reason="Wrong customer")

    assert str(error.value) == (
        "Match M999999 was not found: reload the page and pick a match from the list."
    )


def test_proposal_has_nothing_to_reverse(clerk):
    company = CompanyFactory.create()
    customer = PartyFactory.create(company=company)
    for total in ("30.00", "70.00"):
        order = create_order(company=company, customer=customer, lines=[("1", total)])
        create_shipment(order=order)
        create_invoice(order=order)
    payment = PaymentFactory.create(
        company=company, party=customer, amount=Decimal("100.00")
    )
    run_matching(company=company, as_of=AS_OF)
    proposal = MatchGroup.objects.get(key=f"D:payment:{payment.pk}")
    assert proposal.state == MatchGroup.State.PROPOSED

    with pytest.raises(MatchError) as error:
        unreconcile(group_id=proposal.pk, actor=clerk, reason="Wrong customer")

    assert str(error.value) == (
        f"Match M{proposal.pk} has no allocation left to reverse."
    )
    proposal.refresh_from_db()
    assert proposal.state == MatchGroup.State.PROPOSED
    assert not AuditEvent.objects.filter(action="match.reversed").exists()


# What it restores and records


def test_residuals_restored_exactly(clerk):
    order = create_order(lines=[("1", "180.00")])
    create_shipment(order=order)
    invoice = create_invoice(order=order)
    other_order = create_order(
        lines=[("1", "50.00")], company=order.company, customer=order.customer
    )
    create_shipment(order=other_order)
    other_invoice = create_invoice(order=other_order)
    first = PaymentFactory.create(
        company=order.company, party=order.customer, amount=Decimal("150.00")
    )
    second = PaymentFactory.create(
        company=order.company, party=order.customer, amount=Decimal("79.99")
    )
    allocate_payment(payment=first, invoice=invoice, amount=Decimal("100.00"))
    allocate_payment(payment=first, invoice=other_invoice, amount=Decimal("50.00"))
    allocate_payment(payment=second, invoice=invoice, amount=Decimal("79.99"))
    run_matching(company=order.company, as_of=AS_OF)
    invoice.refresh_from_db()
    # The pass wrote the one-cent residual off as rounding.
    assert invoice.amount_residual == Decimal("0.00")
    assert invoice.amount_written_off == Decimal("0.01")
    group = MatchGroup.objects.get(key=f"D:invoice:{invoice.pk}")

    unreconcile(group_id=group.pk, actor=clerk, reason="Paid by the parent")

    invoice.refresh_from_db()
    other_invoice.refresh_from_db()
    first.refresh_from_db()
    second.refresh_from_db()
    assert invoice.amount_residual == Decimal("180.00")
    assert invoice.amount_paid == Decimal("0.00")
    assert invoice.amount_written_off == Decimal("0.00")
    assert invoice.payment_state == Invoice.PaymentState.NOT_PAID
    assert first.amount_unallocated == Decimal("100.00")
    assert second.amount_unallocated == Decimal("79.99")
    assert first.state == Payment.State.PARTIALLY_ALLOCATED
    assert second.state == Payment.State.RECEIVED
    # The payment's other invoice keeps its allocation.
    assert other_invoice.amount_residual == Decimal("0.00")
    amounts = sorted(
        Allocation.objects.filter(invoice=invoice).values_list(
            "amount", "writeoff_forgiven", "writeoff_kept"
        )
    )
    assert amounts == [
        (Decimal("-100.00"), Decimal("0.00"), Decimal("0.00")),
        (Decimal("-79.99"), Decimal("-0.01"), Decimal("0.00")),
        (Decimal("79.99"), Decimal("0.01"), Decimal("0.00")),
        (Decimal("100.00"), Decimal("0.00"), Decimal("0.00")),
    ]
    assert [str(item) for item in restored_balances(group)] == [
        f"invoice {invoice.number} is open 180.00 USD",
        f"payment {first.number} has 100.00 USD unallocated",
        f"payment {second.number} has 79.99 USD unallocated",
    ]


def test_audit_events_written(clerk):
    group, invoice, _payment = cash_match(total="42.42", paid="42.41")
    original = Allocation.objects.get(invoice=invoice)

    unreconcile(group_id=group.pk, actor=clerk, reason="Paid by the wrong customer")

    reversal = Allocation.objects.get(reverses=original)
    allocation_event = AuditEvent.objects.get(action="allocation.reversed")
    assert allocation_event.actor == clerk
    assert allocation_event.object_id == str(original.pk)
    assert allocation_event.reason == "Paid by the wrong customer"
    assert allocation_event.source == AuditEvent.Source.SCREEN
    assert allocation_event.before == {
        "amount": "42.4100",
        "writeoff_forgiven": "0.0100",
        "writeoff_kept": "0.0000",
        "fx_difference": "0.0000",
    }
    assert allocation_event.after == {"reversal_id": reversal.pk, "net_amount": "0"}
    match_event = AuditEvent.objects.get(action="match.reversed")
    assert match_event.actor == clerk
    assert match_event.object_id == str(group.pk)
    assert match_event.reason == "Paid by the wrong customer"
    assert match_event.before == {"state": "confirmed"}
    assert match_event.after == {
        "state": "reversed",
        "key": f"D:invoice:{invoice.pk}",
        "reversal_allocations": [reversal.pk],
    }
