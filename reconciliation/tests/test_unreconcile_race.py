"""Two people unreconcile one cash match at the same moment.

The group row is locked, so the second writer waits for the first and then
finds the match reversed. On PostgreSQL that is a row lock. SQLite takes the
write lock at BEGIN (``transaction_mode`` IMMEDIATE), so its second writer
waits too. It may instead fail with "database is locked" once the 20 s
timeout passes. Either way the allocations are reversed once.
"""

import threading
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from django.db import OperationalError, connection

from accounts.models import Role
from conftest import make_person
from core.models import AuditEvent
from reconciliation.matches import MatchError, unreconcile
from reconciliation.matching import run_matching
from reconciliation.models import Allocation, MatchGroup
from reconciliation.tests.factories import (
    create_invoice,
    create_order,
    create_payment,
    create_shipment,
)

pytestmark = pytest.mark.django_db(transaction=True)

AS_OF = date(2024, 6, 30)
WRITER_TIMEOUT = 120


@pytest.fixture(autouse=True)
def _pinned_settings(settings):
    settings.RECONCILIATION_LATE_DAYS = 0
    settings.RECONCILIATION_PAYMENT_TOLERANCE = "0.01"


def race(*writers: Callable[[], object]) -> list[BaseException]:
    """Run the writers at once, each on its own connection, and return their errors."""
    start = threading.Barrier(len(writers))
    errors: list[BaseException] = []

    def run(writer: Callable[[], object]) -> None:
        try:
            start.wait()
            writer()
        except (MatchError, OperationalError) as error:
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


def test_second_unreconcile_gets_already_reversed():
    order = create_order(lines=[("1", "100.00")])
    create_shipment(order=order)
    invoice = create_invoice(order=order)
    payment = create_payment(invoice=invoice, amount="100.00")
    run_matching(company=order.company, as_of=AS_OF)
    cash = MatchGroup.objects.get(key=f"D:invoice:{invoice.pk}")
    clerk = make_person("fiona", Role.FINANCE_CLERK)
    manager = make_person("mona", Role.MANAGER)

    errors = race(
        lambda: unreconcile(group_id=cash.pk, actor=clerk, reason="Wrong payer"),
        lambda: unreconcile(group_id=cash.pk, actor=manager, reason="Duplicate"),
    )

    assert len(errors) == 1
    if connection.vendor == "postgresql" or isinstance(errors[0], MatchError):
        assert str(errors[0]) == f"Match M{cash.pk} is already reversed."
    payment.refresh_from_db()
    invoice.refresh_from_db()
    cash.refresh_from_db()
    rows = sorted(
        Allocation.objects.filter(invoice=invoice).values_list("amount", flat=True)
    )
    assert rows == [Decimal("-100.00"), Decimal("100.00")]
    assert payment.amount_unallocated == Decimal("100.00")
    assert invoice.amount_residual == Decimal("100.00")
    assert cash.state == MatchGroup.State.REVERSED
    assert AuditEvent.objects.filter(action="match.reversed").count() == 1
    assert AuditEvent.objects.filter(action="allocation.reversed").count() == 1
