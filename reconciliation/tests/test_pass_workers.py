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


@WORKERS
def test_no_workers_in_a_daemonic_process(monkeypatch):
    # A Celery prefork worker's processes are daemonic and may not fork.
    monkeypatch.setattr(matching.multiprocessing.current_process(), "daemon", True)
    assert worker_count(20_000) == 1


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


def test_failed_worker_keeps_other_share(small_chunks, monkeypatch):
    company = build_company()
    order_ids = list(
        SalesOrder.objects.filter(company=company)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    last_share = set(order_ids[6:])
    match_chunk = matching._match_chunk

    def fail_in_last_share(company, first, last, *arguments):
        if first in last_share:
            raise RuntimeError(f"chunk {first}..{last} failed")
        match_chunk(company, first, last, *arguments)

    monkeypatch.setattr(matching, "_match_chunk", fail_in_last_share)

    with WORKERS, pytest.raises(RuntimeError, match="failed"):
        run_matching(company=company, as_of=AS_OF)

    checked = set(
        SalesOrder.objects.filter(company=company)
        .exclude(match_fingerprint="")
        .values_list("pk", flat=True)
    )
    # In workers the first share (orders 1 to 6) is committed; in one
    # process the whole pass is rolled back.
    assert checked == (set(order_ids[:6]) if ON_POSTGRESQL else set())
