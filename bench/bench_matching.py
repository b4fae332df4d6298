"""Benchmark the matching pass against a set-based SQL floor, and one payment.

1. Generate the data set (``generate_reconciliation``) in a fresh database.
2. Time the set-based floor: one SQL statement that computes the same
   per-line differences (shipped less ordered, invoiced less shipped, the
   price gap) and per-invoice residuals that the pass compares.
3. Time the full pass (``run_matching``) and its peak memory (the process's
   maximum resident set size, and its worker processes' on PostgreSQL),
   then check the oracle: the open cases must be
   exactly the generated faults, no more and no fewer.
4. Time ``cash.match_payment`` on new payments, one at a time, each paying
   an unpaid invoice by reference, and report the p95.

Usage (``--payments-only`` times step 4 alone, on data no pass has run on)::

    .venv/bin/python bench/bench_matching.py --orders 100000
    DATABASE_URL=... .venv/bin/python bench/bench_matching.py --orders 100000

Every run starts from an empty database: the SQLite file is deleted, and
the PostgreSQL database named in ``DATABASE_URL`` is dropped and created
again. ``--reuse`` keeps a copy of the generated data (a second SQLite file, or a
PostgreSQL template database) and starts later runs of the same size from a
fresh copy of it, so the passes always run on data no pass has touched.
"""

import argparse
import gc
import os
import resource
import shutil
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine_description, percentile, setup_django
from bench.generate_reconciliation import AS_OF, expected_findings, generate

SQLITE_FILE = "matching.sqlite3"

FLOOR_SQL = """
WITH shipped AS (
    SELECT sl.order_line_id, SUM(sl.qty_shipped) AS qty
    FROM reconciliation_shipmentline sl
    JOIN reconciliation_shipment s ON s.id = sl.shipment_id
    WHERE s.company_id = %(company)s AND s.state IN ('shipped', 'delivered')
    GROUP BY sl.order_line_id
), billed AS (
    SELECT il.order_line_id, SUM(il.qty) AS qty,
           MAX(ABS(il.unit_price - ol.unit_price)) AS price_gap
    FROM reconciliation_invoiceline il
    JOIN reconciliation_invoice i ON i.id = il.invoice_id
    JOIN reconciliation_salesorderline ol ON ol.id = il.order_line_id
    WHERE i.company_id = %(company)s AND i.state = 'posted'
    GROUP BY il.order_line_id
), paid AS (
    SELECT a.invoice_id, SUM(a.amount) AS amount
    FROM reconciliation_allocation a
    JOIN reconciliation_invoice i ON i.id = a.invoice_id
    WHERE i.company_id = %(company)s
    GROUP BY a.invoice_id
)
SELECT 'line', ol.id,
       COALESCE(sh.qty, 0) - ol.qty_ordered,
       COALESCE(b.qty, 0) - COALESCE(sh.qty, 0),
       COALESCE(b.price_gap, 0)
FROM reconciliation_salesorderline ol
JOIN reconciliation_salesorder o ON o.id = ol.order_id
LEFT JOIN shipped sh ON sh.order_line_id = ol.id
LEFT JOIN billed b ON b.order_line_id = ol.id
WHERE o.company_id = %(company)s
UNION ALL
SELECT 'invoice', i.id, i.amount_total - COALESCE(p.amount, 0), 0, 0
FROM reconciliation_invoice i
LEFT JOIN paid p ON p.invoice_id = i.id
WHERE i.company_id = %(company)s AND i.state = 'posted'
"""


def _seed_sqlite(orders: int) -> tuple[Path, Path]:
    from bench.common import BENCH_DIR

    return BENCH_DIR / f"matching-seed-{orders}.sqlite3", BENCH_DIR / SQLITE_FILE


def _postgres_names(orders: int) -> tuple[str, str, str]:
    """Return the maintenance URL, the working database and its seed's name."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(os.environ["DATABASE_URL"])
    working = parts.path.lstrip("/")
    maintenance = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    return maintenance, working, f"{working}_seed_{orders}"


def prepare_database(orders: int, *, reuse: bool) -> bool:
    """Start the working database afresh, from the seed of ``orders`` if asked.

    Runs before Django connects. Returns True when it copied a seed, and
    False when it left an empty database for the generator.
    """
    if "DATABASE_URL" not in os.environ:
        seed_file, working_file = _seed_sqlite(orders)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{working_file}{suffix}").unlink(missing_ok=True)
        if not reuse or not seed_file.exists():
            return False
        shutil.copyfile(seed_file, working_file)
        return True

    import psycopg
    from psycopg import sql

    maintenance, working, seed_name = _postgres_names(orders)
    with psycopg.connect(maintenance, autocommit=True) as connection:
        found = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [seed_name]
        ).fetchone()
        restored = reuse and found is not None
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(working)
            )
        )
        create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(working))
        if restored:
            create += sql.SQL(" TEMPLATE {}").format(sql.Identifier(seed_name))
        connection.execute(create)
    return restored


def save_seed(orders: int) -> None:
    """Copy the freshly generated working database to the seed of ``orders``."""
    from django.db import connection

    connection.close()
    if connection.vendor == "sqlite":
        seed_file, working_file = _seed_sqlite(orders)
        shutil.copyfile(working_file, seed_file)
        return

    import psycopg
    from psycopg import sql

    maintenance, working, seed_name = _postgres_names(orders)
    with psycopg.connect(maintenance, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(seed_name))
        )
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(seed_name), sql.Identifier(working)
            )
        )


def run_floor(company_id: int) -> tuple[float, int]:
    """Run the floor statement; return seconds and the rows with a difference."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(FLOOR_SQL, {"company": company_id})
        rows = cursor.fetchall()
    seconds = time.perf_counter() - started
    differing = sum(1 for _, _, a, b, c in rows if a or b or c)
    return seconds, differing


def open_cases(company_id: int) -> set[tuple[str, str, int]]:
    from reconciliation.models import Discrepancy

    rows = Discrepancy.objects.filter(
        company_id=company_id, state=Discrepancy.State.OPEN
    ).values_list("code", "order__number", "order_line__line_no")
    return {(code, number, line_no or 0) for code, number, line_no in rows}


def time_new_payments(company_id: int, count: int) -> tuple[list[float], list[float]]:
    """Match ``count`` new payments one by one.

    Return each payment's wall-clock time and this thread's CPU time, in ms.
    """
    from reconciliation.cash import match_payment
    from reconciliation.matching import build_context
    from reconciliation.models import Company, Invoice, Payment

    company = Company.objects.get(pk=company_id)
    context = build_context(company, AS_OF)
    unpaid = list(
        Invoice.objects.filter(company=company, amount_paid=0)
        .select_related("customer")
        .order_by("pk")[:count]
    )
    samples = []
    cpu_samples = []
    for index, invoice in enumerate(unpaid):
        payment = Payment.objects.create(
            company=company,
            number=f"PAY-NEW-{index:05d}",
            party=invoice.customer,
            amount=invoice.amount_total,
            amount_unallocated=invoice.amount_total,
            currency_id="USD",
            value_date=AS_OF - timedelta(days=1),
            reference=invoice.number,
        )
        gc.collect()
        started = time.perf_counter()
        cpu_started = time.thread_time()
        match_payment(payment=payment, context=context)
        samples.append((time.perf_counter() - started) * 1000)
        cpu_samples.append((time.thread_time() - cpu_started) * 1000)
        payment.refresh_from_db()
        if payment.amount_unallocated != Decimal(0):
            raise AssertionError(f"Payment {payment.number} was not matched.")
    return samples, cpu_samples


def _workers_cpu() -> float:
    """Return the CPU seconds of this process's finished child processes.

    On PostgreSQL a pass over a large company runs in worker processes
    (``reconciliation.matching.worker_count``), whose CPU this thread's
    time leaves out.
    """
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def database_version() -> str:
    from django.db import connection

    if connection.vendor == "sqlite":
        return f"SQLite {connection.Database.sqlite_version}"
    return f"PostgreSQL {connection.pg_version}"


def report_payments(samples: list[float], cpu_samples: list[float]) -> None:
    print(
        f"one new payment: p50 {percentile(samples, 0.5):.2f} ms, "
        f"p95 {percentile(samples, 0.95):.2f} ms over {len(samples)}; "
        f"CPU of this thread p50 {percentile(cpu_samples, 0.5):.2f} ms, "
        f"p95 {percentile(cpu_samples, 0.95):.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000, help="orders")
    parser.add_argument("--payments", type=int, default=200, help="new payments")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="start from a kept copy of data generated for this --orders, "
        "and keep one after generating",
    )
    parser.add_argument(
        "--payments-only",
        action="store_true",
        help="time only the new payments, on data no pass has run on",
    )
    parser.add_argument(
        "--generate-only",
        action="store_true",
        help="with --reuse: generate and keep the data, then stop before the passes",
    )
    arguments = parser.parse_args()
    restored = prepare_database(arguments.orders, reuse=arguments.reuse)
    setup_django(sqlite_file=SQLITE_FILE, fresh=False)

    from django.core.management import call_command

    from bench.generate_reconciliation import COMPANY
    from reconciliation.matching import run_matching
    from reconciliation.models import Company

    call_command("migrate", verbosity=0)
    if restored:
        company_id = Company.objects.get(name=COMPANY).pk
        print(f"reused the generated data of {arguments.orders} orders")
    else:
        started = time.perf_counter()
        company_id = generate(orders=arguments.orders)
        print(
            f"generated {arguments.orders} orders in "
            f"{time.perf_counter() - started:.1f} s"
        )
        if arguments.reuse:
            save_seed(arguments.orders)
    if arguments.generate_only:
        return
    if arguments.payments_only:
        print(f"load average before the payments: {os.getloadavg()}")
        report_payments(*time_new_payments(company_id, arguments.payments))
        print(f"load average after the run: {os.getloadavg()}")
        return

    print(f"load average before the passes: {os.getloadavg()}")
    floor_seconds, differing = run_floor(company_id)
    company = Company.objects.get(pk=company_id)
    gc.collect()
    started = time.perf_counter()
    cpu_started = time.thread_time()
    workers_cpu_started = _workers_cpu()
    summary = run_matching(company=company, as_of=AS_OF)
    full_seconds = time.perf_counter() - started
    full_cpu = time.thread_time() - cpu_started
    workers_cpu = _workers_cpu() - workers_cpu_started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker_peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

    expected = expected_findings(arguments.orders)
    found = open_cases(company_id)
    missing = expected.findings - found
    extra = found - expected.findings
    second = time.perf_counter()
    cpu_started = time.thread_time()
    run_matching(company=company, as_of=AS_OF)
    second_seconds = time.perf_counter() - second
    second_cpu = time.thread_time() - cpu_started

    samples, cpu_samples = time_new_payments(company_id, arguments.payments)
    print(f"machine: {machine_description(database_version())}")
    print(f"floor: {floor_seconds:.2f} s, {differing} rows with a difference")
    print(
        f"full pass: {full_seconds:.2f} s ({full_seconds / floor_seconds:.1f}x the "
        f"floor), CPU of this thread {full_cpu:.2f} s, peak RSS {peak_mib:.0f} MiB"
    )
    if workers_cpu:
        print(
            f"worker processes of the full pass: CPU {workers_cpu:.2f} s, "
            f"peak RSS of the largest {worker_peak_mib:.0f} MiB"
        )
    print(f"second pass: {second_seconds:.2f} s, CPU of this thread {second_cpu:.2f} s")
    print(f"open by code: {summary.open_by_code}")
    print(f"oracle: expected {expected.counts()}")
    print(f"oracle: {len(missing)} missing, {len(extra)} extra")
    report_payments(samples, cpu_samples)
    print(f"load average after the run: {os.getloadavg()}")
    if missing or extra:
        print(f"missing: {sorted(missing)[:10]}\nextra: {sorted(extra)[:10]}")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
