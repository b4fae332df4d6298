"""A backorder decision while a matching pass has locked the same order.

The pass locks an order and then its cases. The decision's check at the
end locks the order too, so the decision must also take the order before
the case. The other way round, each side waits for the other, and
PostgreSQL ends one of them with a deadlock error. SQLite has no row
locks, so the test runs on PostgreSQL only.
"""

import threading
import time
from datetime import timedelta

import pytest
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from reconciliation.backorder_decisions import decide_backorder
from reconciliation.matching import run_matching
from reconciliation.models import Discrepancy, SalesOrder
from reconciliation.tests.factories import create_order, create_shipment

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite has no row locks"
    ),
]

# Seconds the pass's side keeps the order locked before it requests the case,
# long enough for the decision to reach its first lock.
HOLD = 1.0
TIMEOUT = 60


def test_decision_waits_for_locked_order(customer_party, sales_rep):
    order = create_order(
        lines=[("10", "36.36")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    create_shipment(order=order, quantities={1: "7"})
    run_matching(company=order.company, as_of=timezone.localdate())
    short = Discrepancy.objects.get(order=order, code="SHORT_SHIP")
    order_locked = threading.Event()
    errors: list[BaseException] = []

    def like_a_pass() -> None:
        # The pass's order of locks: the order, then the order's cases.
        try:
            with transaction.atomic():
                orders = SalesOrder.objects.select_for_update().filter(pk=order.pk)
                list(orders.order_by("pk").values_list("pk", flat=True))
                order_locked.set()
                time.sleep(HOLD)
                cases = Discrepancy.objects.select_for_update().filter(pk=short.pk)
                list(cases.order_by("pk").values_list("pk", flat=True))
        except OperationalError as error:
            errors.append(error)
        finally:
            connection.close()

    def decide() -> None:
        try:
            order_locked.wait(TIMEOUT)
            decide_backorder(
                actor=sales_rep,
                case_id=short.pk,
                decision="ship_later",
                reason="Stock arrives Monday",
                expected_on=timezone.localdate() + timedelta(days=7),
            )
        except OperationalError as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for run in (like_a_pass, decide)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
        assert not thread.is_alive(), f"a writer still runs after {TIMEOUT} s"

    assert errors == []
    short.refresh_from_db()
    assert short.state == Discrepancy.State.RESOLVED
    assert short.resolution_code == "backorder"
