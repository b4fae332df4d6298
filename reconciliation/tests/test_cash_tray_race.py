"""Two clerks confirm trays on the same payment at the same moment.

fiona and fred (finance clerks) each put Hanari Carnes's 2,714.00 USD
payment on both invoices, in different amounts. The payment row lock makes
the second wait; it then finds the money gone and allocates nothing. Run on
PostgreSQL (``DATABASE_URL``) for real row locks; on SQLite the loser may
get "database is locked" instead, and the invariant is the same.
"""

import threading
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import OperationalError, connection
from django.db.models import Sum

from accounts.models import Role
from conftest import make_person
from reconciliation import cash_work, work
from reconciliation.models import Allocation
from reconciliation.tests.test_cash_tray import build_trial

pytestmark = pytest.mark.django_db(transaction=True)

WRITER_TIMEOUT = 120


@pytest.fixture(autouse=True)
def _pinned_settings(settings):
    settings.RECONCILIATION_PAYMENT_TOLERANCE = "0.01"
    settings.RECONCILIATION_WRITE_OFF_LIMIT = "50.00"


def race(*writers: Callable[[], object]) -> tuple[list[object], list[BaseException]]:
    """Run the writers at once, each on its own connection."""
    start = threading.Barrier(len(writers))
    results: list[object] = []
    errors: list[BaseException] = []

    def run(writer: Callable[[], object]) -> None:
        try:
            start.wait()
            results.append(writer())
        except (work.WorkError, OperationalError) as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(w,), daemon=True) for w in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WRITER_TIMEOUT)
        assert not thread.is_alive(), f"writer timed out after {WRITER_TIMEOUT} s"
    return results, errors


def test_one_of_two_trays_on_one_payment_wins():
    payment, first, second = build_trial()
    fiona = make_person("fiona", Role.FINANCE_CLERK)
    fred = make_person("fred", Role.FINANCE_CLERK)
    trays = {
        fiona: [(first.pk, Decimal("1332.00")), (second.pk, Decimal("1382.00"))],
        fred: [(second.pk, Decimal("1402.00")), (first.pk, Decimal("1312.00"))],
    }

    def confirm(clerk):
        return lambda: cash_work.apply_tray(
            actor=clerk,
            payment_id=payment.pk,
            lines=trays[clerk],
            write_off=cash_work.WriteOffRequest(second.pk, "bank_charge", "Fee")
            if clerk == fiona
            else None,
        )

    results, errors = race(confirm(fiona), confirm(fred))

    assert (len(results), len(errors)) == (1, 1)
    (winner,) = results
    assert isinstance(winner, cash_work.TrayOutcome)
    rows = Allocation.objects.filter(payment=payment)
    assert rows.aggregate(total=Sum("amount"))["total"] == Decimal("2714.00")
    won = sorted((a.invoice_id, a.amount) for a in rows)
    assert won in (sorted(trays[fiona]), sorted(trays[fred]))
    if connection.vendor == "postgresql":
        assert str(errors[0]).startswith("Payment PAY-11080 has nothing left")
