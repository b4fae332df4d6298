"""The matching pass split across worker processes on PostgreSQL.

The tests commit their rows (``transaction=True``): a worker reads through
its own connection, which cannot see rows of an open test transaction.
On SQLite the same passes run in one process, and the tests check that.
"""

import logging
from datetime import date

import pytest
from django.db import connection, transaction
from django.test import override_settings

from commonplace.celery import app as celery_app
from commonplace.tests import background_tasks
from commonplace.tests.background_tasks import read_lines
from commonplace.tests.fixtures import PREFORK_QUEUE, TASK_TIMEOUT, wait_until
from reconciliation import matching
from reconciliation.matching import run_matching, worker_count
from reconciliation.models import Discrepancy, MatchGroup, SalesOrder
from reconciliation.tests.factories import (
    CompanyFactory,
    create_invoice,
    create_order,
    create_payment,
    create_shipment,
)

pytestmark = pytest.mark.django_db(transaction=True)

AS_OF = date(2024, 6, 30)
ON_POSTGRESQL = connection.vendor == "postgresql"
# Twelve orders in chunks of four make three chunks, enough for two workers.
WORKERS = override_settings(
    RECONCILIATION_PASS_WORKERS=2, RECONCILIATION_PASS_WORKER_MIN_ORDERS=5
)


@pytest.fixture
def small_chunks(monkeypatch):
    # Forked workers inherit the patched size.
    monkeypatch.setattr(matching, "CHUNK_SIZE", 4)


def build_company(orders=12):
    """Return a company whose orders are clean, short-paid or not shipped."""
    company = CompanyFactory.create()
    for index in range(orders):
        order = create_order(company=company, lines=[("2", "30.00")])
        if index % 3 == 2:
            continue
        create_shipment(order=order)
        invoice = create_invoice(order=order)
        paid = "60.00" if index % 3 == 0 else "45.00"
        create_payment(invoice=invoice, amount=paid)
    return company


def stored_results(company):
    """Return what a pass stored for ``company``, without ids or times."""
    first = SalesOrder.objects.filter(company=company).order_by("pk")[0].pk

    def position(order_id):
        # Orders by their place in the company, -1 for rows of no order.
        return -1 if order_id is None else order_id - first

    orders = [
        (position(order.pk), order.recon_status, order.match_findings)
        for order in SalesOrder.objects.filter(company=company).order_by("pk")
    ]
    cases = sorted(
        (position(row.order_id), row.code, row.state, str(row.difference))
        for row in Discrepancy.objects.filter(company=company)
    )
    groups = sorted(
        (position(row.order_id), row.kind, row.state)
        for row in MatchGroup.objects.filter(company=company)
    )
    return orders, cases, groups


@WORKERS
def test_workers_need_postgresql_outside_transaction():
    assert worker_count(20_000) == (2 if ON_POSTGRESQL else 1)
    with transaction.atomic():
        assert worker_count(20_000) == 1


@WORKERS
def test_small_company_uses_one_process():
    assert worker_count(4) == 1


@override_settings(RECONCILIATION_PASS_WORKERS=1)
def test_one_worker_setting_turns_workers_off():
    assert worker_count(20_000) == 1


@override_settings(
    RECONCILIATION_PASS_WORKERS=8, RECONCILIATION_PASS_WORKER_MIN_ORDERS=5
)
def test_no_more_workers_than_chunks():
    chunks = -(-5_000 // matching.CHUNK_SIZE)
    assert worker_count(5_000) == (chunks if ON_POSTGRESQL else 1)


def test_workers_store_what_one_process_stores(small_chunks, caplog):
    alone = build_company()
    shared = build_company()

    with override_settings(RECONCILIATION_PASS_WORKERS=1):
        expected = run_matching(company=alone, as_of=AS_OF)
    with WORKERS, caplog.at_level(logging.INFO, logger="reconciliation.matching"):
        summary = run_matching(company=shared, as_of=AS_OF)

    in_processes = "checks 12 orders in 2 processes"
    assert any(in_processes in message for message in caplog.messages) == ON_POSTGRESQL
    assert summary == expected
    assert summary.orders_checked == 12
    assert summary.open_by_code == {"NOT_SHIPPED": 4, "SHORT_PAYMENT": 4}
    assert stored_results(shared) == stored_results(alone)


def test_second_pass_in_workers_changes_nothing(small_chunks):
    company = build_company()
    with WORKERS:
        run_matching(company=company, as_of=AS_OF)
        first = stored_results(company)
        again = run_matching(company=company, as_of=AS_OF)

    assert (again.opened, again.updated, again.resolved) == (0, 0, 0)
    assert stored_results(company) == first


@pytest.mark.parametrize("failing", ["first", "last"])
def test_failed_worker_keeps_other_share(small_chunks, monkeypatch, failing):
    company = build_company()
    order_ids = list(
        SalesOrder.objects.filter(company=company)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    first_share, last_share = order_ids[:6], order_ids[6:]
    failing_share, other_share = (
        (first_share, last_share) if failing == "first" else (last_share, first_share)
    )
    match_chunk = matching._match_chunk

    def fail_in_one_share(company, first, last, *arguments):
        if first in failing_share:
            raise RuntimeError(f"chunk {first}..{last} failed")
        match_chunk(company, first, last, *arguments)

    monkeypatch.setattr(matching, "_match_chunk", fail_in_one_share)

    with WORKERS, pytest.raises(RuntimeError, match="failed"):
        run_matching(company=company, as_of=AS_OF)

    checked = set(
        SalesOrder.objects.filter(company=company)
        .exclude(match_fingerprint="")
        .values_list("pk", flat=True)
    )
    # In workers the other share is committed, even when the failing one
    # ends first; in one process the whole pass is rolled back.
    assert checked == (set(other_share) if ON_POSTGRESQL else set())


def test_prefork_task_pass_uses_workers(celery_prefork_worker, tmp_path):
    # A prefork worker runs each task in a daemonic process, and the
    # standard library does not let a daemonic process start processes.
    alone = build_company()
    shared = build_company()
    with override_settings(RECONCILIATION_PASS_WORKERS=1):
        run_matching(company=alone, as_of=AS_OF)
    record = tmp_path / "pass.txt"

    celery_app.send_task(
        background_tasks.match_in_small_chunks.name,
        args=[str(record), shared.pk, AS_OF.isoformat()],
        queue=PREFORK_QUEUE,
    )
    wait_until(
        lambda: bool(read_lines(record)),
        description="the matching task",
        timeout=TASK_TIMEOUT,
    )

    assert read_lines(record) == ["checked 12 daemonic True"]
    in_processes = f"company {shared.pk} checks 12 orders in 2 processes"
    assert (in_processes in celery_prefork_worker.log_text()) == ON_POSTGRESQL
    assert stored_results(shared) == stored_results(alone)
