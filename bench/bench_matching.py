"""Benchmark the matching pass against a set-based SQL floor, and one payment.

1. Generate the data set (``generate_reconciliation``) in a fresh database.
2. Time the set-based floor: one SQL statement that computes the same
   per-line differences (shipped less ordered, invoiced less shipped, the
   price gap) and per-invoice residuals that the pass compares.
3. Time the full pass (``run_matching``) and its peak memory (the process's
   maximum resident set size), then check the oracle: the open cases must be
   exactly the generated faults, no more and no fewer.
4. Time ``cash.match_payment`` on new payments, one at a time, each paying
   an unpaid invoice by reference, and report the p95.

Usage::

    .venv/bin/python bench/bench_matching.py --orders 100000
    DATABASE_URL=... .venv/bin/python bench/bench_matching.py --orders 100000
"""

import argparse
import gc
import resource
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine_description, percentile, setup_django
from bench.generate_reconciliation import AS_OF, expected_findings, generate

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


def time_new_payments(company_id: int, count: int) -> list[float]:
    """Match ``count`` new payments one by one; return each time in ms."""
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
        match_payment(payment=payment, context=context)
        samples.append((time.perf_counter() - started) * 1000)
        payment.refresh_from_db()
        if payment.amount_unallocated != Decimal(0):
            raise AssertionError(f"Payment {payment.number} was not matched.")
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000, help="orders")
    parser.add_argument("--payments", type=int, default=200, help="new payments")
    arguments = parser.parse_args()
    setup_django(sqlite_file="matching.sqlite3", fresh=True)

    from django.core.management import call_command
    from django.db import connection

    from reconciliation.matching import run_matching
    from reconciliation.models import Company

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    company_id = generate(orders=arguments.orders)
    print(
        f"generated {arguments.orders} orders in {time.perf_counter() - started:.1f} s"
    )

    floor_seconds, differing = run_floor(company_id)
    company = Company.objects.get(pk=company_id)
    gc.collect()
    started = time.perf_counter()
    summary = run_matching(company=company, as_of=AS_OF)
    full_seconds = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    expected = expected_findings(arguments.orders)
    found = open_cases(company_id)
    missing = expected.findings - found
    extra = found - expected.findings
    second = time.perf_counter()
    run_matching(company=company, as_of=AS_OF)
    second_seconds = time.perf_counter() - second

    samples = time_new_payments(company_id, arguments.payments)
    if connection.vendor == "sqlite":
        version = f"SQLite {connection.Database.sqlite_version}"
    else:
        version = f"PostgreSQL {connection.pg_version}"

    print(f"machine: {machine_description(version)}")
    print(f"floor: {floor_seconds:.2f} s, {differing} rows with a difference")
    print(
        f"full pass: {full_seconds:.2f} s ({full_seconds / floor_seconds:.1f}x the "
        f"floor), peak RSS {peak_mib:.0f} MiB, second pass {second_seconds:.2f} s"
    )
    print(f"open by code: {summary.open_by_code}")
    print(f"oracle: expected {expected.counts()}")
    print(f"oracle: {len(missing)} missing, {len(extra)} extra")
    print(
        f"one new payment: p50 {percentile(samples, 0.5):.2f} ms, "
        f"p95 {percentile(samples, 0.95):.2f} ms over {len(samples)}"
    )
    if missing or extra:
        print(f"missing: {sorted(missing)[:10]}\nextra: {sorted(extra)[:10]}")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
