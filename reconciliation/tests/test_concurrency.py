"""Two people reconciling the same documents at the same moment.

Each test starts its writers together on a barrier, each on its own database
connection. On PostgreSQL the row locks make the second writer wait and then
see the first one's rows. SQLite has no row locks and lets one writer in at a
time: the loser may fail with "database is locked" instead. On both the
invariant is the same, and it is what these tests check: the money is
allocated once, never twice.
"""

import threading
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from django.db import OperationalError, connection

from accounts.models import Role
from conftest import make_person
from reconciliation.matches import MatchError, confirm_match, unreconcile
from reconciliation.matching import run_matching
from reconciliation.models import Allocation, Discrepancy, MatchGroup, Payment
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

pytestmark = pytest.mark.django_db(transaction=True)

AS_OF = date(2024, 6, 30)
# What a writer that lost the race may raise: the service's own message on
# PostgreSQL, or SQLite's "database is locked".
LOST_RACE = (ValueError, MatchError, OperationalError)
# Seconds to wait for a writer. Each finishes in about a second, so a writer
# still running by then is waiting for something that will not come.
WRITER_TIMEOUT = 120


@pytest.fixture(autouse=True)
def _pinned_settings(settings):
    settings.RECONCILIATION_LATE_DAYS = 0
    settings.RECONCILIATION_PAYMENT_TOLERANCE = "0.01"


def race(*writers: Callable[[], object]) -> list[BaseException]:
    """Run the writers at once, each on its own connection; return their errors."""
    start = threading.Barrier(len(writers))
    errors: list[BaseException] = []

    def run(writer: Callable[[], object]) -> None:
        try:
            start.wait()
            writer()
        except LOST_RACE as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(writer,), daemon=True) for writer in writers
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WRITER_TIMEOUT)
        assert not thread.is_alive(), f"writer timed out after {WRITER_TIMEOUT} s"
    return errors


def open_invoice(total="100.00"):
    order = create_order(lines=[("1", total)])
    create_shipment(order=order)
    return order, create_invoice(order=order)


def test_two_allocations_of_one_payment():
    order, invoice = open_invoice()
    payment = PaymentFactory.create(
        company=order.company, party=order.customer, amount=Decimal("100.00")
    )

    def allocate() -> object:
        return allocate_payment(
            payment=payment, invoice=invoice, amount=Decimal("100.00")
        )

    errors = race(allocate, allocate)

    payment.refresh_from_db()
    amounts = list(Allocation.objects.filter(payment=payment).values_list("amount"))
    assert amounts == [(Decimal("100.00"),)]
    assert payment.amount_unallocated == Decimal(0)
    assert len(errors) == 1
    if connection.vendor == "postgresql":
        assert str(errors[0]) == (
            f"Allocation of 100.00 USD exceeds the 0.00 USD left on payment "
            f"{payment.number}: allocate 0.00 USD or less."
        )


def test_two_confirmations_of_one_proposal():
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
    first = make_person("fiona", Role.FINANCE_CLERK)
    second = make_person("frank", Role.FINANCE_CLERK)

    errors = race(
        lambda: confirm_match(group_id=proposal.pk, actor=first),
        lambda: confirm_match(group_id=proposal.pk, actor=second),
    )

    payment.refresh_from_db()
    proposal.refresh_from_db()
    allocated = sorted(
        Allocation.objects.filter(payment=payment).values_list("amount", flat=True)
    )
    assert allocated == [Decimal("30.00"), Decimal("70.00")]
    assert payment.amount_unallocated == Decimal(0)
    assert proposal.state == MatchGroup.State.CONFIRMED
    assert len(errors) == 1


def test_two_unreconciles_of_one_match():
    order, invoice = open_invoice()
    payment = create_payment(invoice=invoice, amount="100.00")
    run_matching(company=order.company, as_of=AS_OF)
    cash = MatchGroup.objects.get(key=f"D:invoice:{invoice.pk}")
    clerk = make_person("fiona", Role.FINANCE_CLERK)

    errors = race(
        lambda: unreconcile(group_id=cash.pk, actor=clerk, reason="Wrong payer"),
        lambda: unreconcile(group_id=cash.pk, actor=clerk, reason="Wrong payer"),
    )

    payment.refresh_from_db()
    invoice.refresh_from_db()
    rows = sorted(
        Allocation.objects.filter(invoice=invoice).values_list("amount", flat=True)
    )
    assert rows == [Decimal("-100.00"), Decimal("100.00")]
    assert payment.amount_unallocated == Decimal("100.00")
    assert invoice.amount_residual == Decimal("100.00")
    assert len(errors) == 1


def test_two_matching_passes_at_once():
    company = CompanyFactory.create()
    customer = PartyFactory.create(company=company)
    for total in ("42.42", "10.00"):
        order = create_order(company=company, customer=customer, lines=[("1", total)])
        create_shipment(order=order)
        create_invoice(order=order, reference=f"PO-{total}")
        PaymentFactory.create(
            company=company,
            party=customer,
            amount=Decimal(total) - Decimal("0.01"),
            reference=f"PO-{total}",
        )

    errors = race(
        lambda: run_matching(company=company, as_of=AS_OF),
        lambda: run_matching(company=company, as_of=AS_OF),
    )

    assert len(errors) <= 1
    for payment in Payment.objects.filter(company=company):
        allocated = sum((a.amount for a in payment.allocations.all()), Decimal(0))
        assert allocated == payment.amount
    keys = list(MatchGroup.objects.filter(company=company).values_list("key"))
    assert len(keys) == len(set(keys)) == 6
    fingerprints = list(
        Discrepancy.objects.filter(company=company).values_list("fingerprint")
    )
    assert len(fingerprints) == len(set(fingerprints)) == 2
    if connection.vendor == "postgresql":
        assert errors == []
