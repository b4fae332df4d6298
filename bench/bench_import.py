"""Benchmark an import's commit request against a bare view and a company pass.

Run: ``.venv/bin/python bench/bench_import.py [--runs 10] [--payments 2]
[--reuse] [--write]``. Without ``DATABASE_URL`` it builds
``var/bench/import-demo.sqlite3`` from scratch: the migrations and the demo
company. With it, it fills that PostgreSQL database, which must be empty.

Each round times, in turn:

- the commit of a new CSV file of payments that pay open invoices of the
  demo company in full, posted by a finance clerk through Django's full
  middleware stack in this process (``django.test.Client``). With the
  inline background backend the check after the import runs in the request;
- a bare signed-in JSON view, the floor of the middleware stack;
- the whole-company matching pass, which an import ran after its commit
  before it checked only what the batch touched (docs/imports.md).

Every commit writes real rows and pays invoices. The demo company has 26
open invoices, enough for one run of the defaults: build it again without
``--reuse`` before the next.
"""

import argparse
import io
import logging
import os
import sys
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    Case,
    machine_description,
    measure_interleaved,
    percentile,
    setup_django,
    write_section,
)

WARM_UP = 3
SOURCE_NAME = "Benchmark payments"
MAPPING = {
    "number": "Payment",
    "party": "Customer",
    "value_date": "Date",
    "currency": "Currency",
    "amount": "Amount",
    "reference": "Reference",
}


def load_demo() -> None:
    from django.core.management import call_command

    from reconciliation.models import Company

    call_command("migrate", verbosity=0)
    if not Company.objects.exists():
        # load_demo lists the demo accounts, which the results do not need.
        call_command("load_demo", allow_production=True, stdout=io.StringIO())


def payments_file(invoices: list[Any]) -> bytes:
    """Return a CSV file of payments that pay each of ``invoices`` in full."""
    from reconciliation.money import format_money

    batch = uuid.uuid4().hex[:8]
    rows = ["Payment,Customer,Date,Currency,Amount,Reference"]
    for position, invoice in enumerate(invoices, start=1):
        amount = format_money(
            invoice.amount_residual, minor_units=invoice.currency.minor_units
        ).replace(",", "")
        rows.append(
            f"B{batch}-{position},{invoice.customer.code},"
            f"{invoice.invoice_date.isoformat()},{invoice.currency_id},{amount},"
            f"{invoice.number}"
        )
    return ("\n".join(rows) + "\n").encode()


def build_cases(payments: int, *, rounds: int) -> list[Case]:
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from accounts.models import Role, User
    from imports.kinds import DocumentKind
    from imports.models import ColumnMapping, ImportSource
    from imports.services import stage_upload
    from reconciliation.matching import run_matching
    from reconciliation.models import Company, Invoice

    company = Company.objects.filter(is_sandbox=False).order_by("pk").first()
    clerk = User.objects.filter(role=Role.FINANCE_CLERK, is_active=True).first()
    if company is None or clerk is None:
        raise SystemExit(
            "The database holds no demo company or finance clerk: run the "
            "benchmark without --reuse to build it."
        )
    source, created = ImportSource.objects.get_or_create(
        company=company,
        name=SOURCE_NAME,
        defaults={
            "kind": DocumentKind.PAYMENTS,
            "file_format": ImportSource.FileFormat.CSV,
            "created_by": clerk,
        },
    )
    if created:
        for target, column in MAPPING.items():
            ColumnMapping.objects.create(
                source=source, target_field=target, column=column
            )
    client = Client()
    client.force_login(clerk)
    open_invoices = Invoice.objects.filter(
        company=company,
        kind=Invoice.Kind.INVOICE,
        state=Invoice.State.POSTED,
        amount_residual__gt=0,
        order__isnull=False,
    )
    needed = payments * rounds
    if open_invoices.count() < needed:
        raise SystemExit(
            f"{rounds} rounds of {payments} payments pay {needed} invoices, and "
            f"{open_invoices.count()} are open: ask for fewer rounds, or run the "
            "benchmark without --reuse to build the data again."
        )

    def commit_import() -> None:
        invoices = list(
            open_invoices.select_related("customer", "currency").order_by("pk")[
                :payments
            ]
        )
        sha256 = stage_upload(data=payments_file(invoices), file_name="bench.csv")
        response = client.post(reverse("imports:commit", args=[source.pk, sha256]))
        if response.status_code != 302:
            raise SystemExit(
                f"The import commit returned {response.status_code}, not a "
                "redirect to the batch: run the imports tests to find out why."
            )

    def company_pass() -> None:
        run_matching(company=company, as_of=timezone.localdate())

    def bare() -> None:
        client.post("/bench/bare")

    return [
        Case(f"import commit, CSV of {payments} payments", commit_import),
        Case("bare signed-in JSON view (floor)", bare),
        Case("whole-company matching pass (what an import ran before)", company_pass),
    ]


def report(cases: list[Case], runs: int) -> str:
    from django.conf import settings
    from django.db import connection

    from reconciliation.models import SalesOrder

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            (version,) = cursor.fetchone()
        engine = f"PostgreSQL {version.split()[0]}"
    else:
        import sqlite3

        engine = f"SQLite {sqlite3.sqlite_version}"
    floor = percentile(cases[1].samples, 0.95)
    load = " / ".join(f"{value:.2f}" for value in os.getloadavg())
    lines = [
        f"Demo company, {SalesOrder.objects.count():,} orders. {runs} timed "
        f"rounds after {WARM_UP} warm-up rounds, cases interleaved, background "
        f"backend {settings.BACKGROUND_BACKEND}. {machine_description(engine)}. "
        f"Load average at the end (1, 5, 15 minutes): {load}.",
        "",
        "| case | p50 ms | p95 ms | p95 / floor p95 | CPU p50 ms | CPU p95 ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for case in cases:
        p95 = percentile(case.samples, 0.95)
        lines.append(
            f"| {case.label} | {percentile(case.samples, 0.5):.2f} | {p95:.2f} | "
            f"{p95 / floor:.1f} | {percentile(case.cpu_samples, 0.5):.2f} | "
            f"{percentile(case.cpu_samples, 0.95):.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="timed rounds")
    parser.add_argument("--payments", type=int, default=2, help="payments per file")
    parser.add_argument(
        "--reuse", action="store_true", help="keep the SQLite data set of a last run"
    )
    parser.add_argument("--write", action="store_true", help="update the results")
    args = parser.parse_args()
    if args.runs < 1 or args.payments < 1:
        parser.error(
            f"--runs {args.runs} and --payments {args.payments} must both be 1 or more."
        )
    os.environ.setdefault("BACKGROUND_BACKEND", "inline")
    setup_django(sqlite_file="import-demo.sqlite3", fresh=not args.reuse)
    load_demo()
    # Each pass and payment logs a line at INFO; the table is what matters here.
    logging.getLogger("reconciliation").setLevel(logging.WARNING)

    from django.db import connection

    cases = build_cases(args.payments, rounds=args.runs + WARM_UP)
    measure_interleaved(cases, rounds=args.runs, warm_up=WARM_UP)
    text = report(cases, args.runs)
    print(text)
    if args.write:
        write_section(text, name="bench_import", vendor=connection.vendor)


if __name__ == "__main__":
    main()
