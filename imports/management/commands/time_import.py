"""Time the commit request of a small payments import, as a clerk sends it.

Each run imports a new CSV file of payments that pay open invoices of the
company in full. It posts to the commit page with Django's test client. So
the time includes the view, the write and, with ``BACKGROUND_BACKEND=inline``,
the matching that runs after the commit. It writes real rows: run it on a
copy of the database, never on one that people use.
"""

import statistics
import time
import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.test import Client
from django.urls import reverse

from accounts.models import Role, User
from imports.kinds import DocumentKind
from imports.models import ColumnMapping, ImportSource
from imports.services import stage_upload
from reconciliation.models import Company, Invoice, SalesOrder
from reconciliation.money import format_money

SOURCE_NAME = "Timed payments (time_import)"
MAPPING = {
    "number": "Payment",
    "party": "Customer",
    "value_date": "Date",
    "currency": "Currency",
    "amount": "Amount",
    "reference": "Reference",
}


class Command(BaseCommand):
    help = (
        "Time the import commit request of a payments file that pays open "
        "invoices of a company. Writes rows: run it on a copy of the database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--company", default="", help="company name (default: the first one)"
        )
        parser.add_argument(
            "--payments", type=int, default=2, help="payments per file (default 2)"
        )
        parser.add_argument(
            "--runs", type=int, default=5, help="files to import (default 5)"
        )
        parser.add_argument(
            "--cold",
            action="store_true",
            help=(
                "clear the orders' match fingerprints before each run, as after "
                "a change of tolerance profiles, so a pass checks every order"
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        company = _company(options["company"])
        clerk = User.objects.filter(role=Role.FINANCE_CLERK, is_active=True).first()
        if clerk is None:
            raise CommandError("No active finance clerk: load the demo data first.")
        source = _source(company, clerk)
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(clerk)

        timings = []
        for run in range(options["runs"]):
            invoices = _open_invoices(company, options["payments"])
            sha256 = stage_upload(data=_payments_file(invoices), file_name="timed.csv")
            if options["cold"]:
                SalesOrder.objects.filter(company=company).update(match_fingerprint="")
            url = reverse("imports:commit", args=[source.pk, sha256])
            started = time.perf_counter()
            response = client.post(url)
            elapsed = time.perf_counter() - started
            if response.status_code != 302:
                raise CommandError(
                    f"Run {run + 1}: the commit returned {response.status_code}."
                )
            timings.append(elapsed)
            self.stdout.write(f"run {run + 1}: {elapsed * 1000:.0f} ms")
        self.stdout.write(
            f"median {statistics.median(timings) * 1000:.0f} ms over "
            f"{len(timings)} runs of {options['payments']} payments"
        )


def _company(name: str) -> Company:
    companies = Company.objects.order_by("pk")
    company = companies.filter(name=name).first() if name else companies.first()
    if company is None:
        raise CommandError(f"Company {name!r} not found: load the demo data first.")
    return company


def _source(company: Company, clerk: User) -> ImportSource:
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
    return source


def _open_invoices(company: Company, count: int) -> list[Invoice]:
    invoices = list(
        Invoice.objects.filter(
            company=company,
            kind=Invoice.Kind.INVOICE,
            state=Invoice.State.POSTED,
            amount_residual__gt=0,
            order__isnull=False,
        )
        .select_related("customer", "currency")
        .order_by("pk")[:count]
    )
    if len(invoices) < count:
        raise CommandError(f"Fewer than {count} open invoices are left to pay.")
    return invoices


def _payments_file(invoices: list[Invoice]) -> bytes:
    batch = uuid.uuid4().hex[:8]
    rows = ["Payment,Customer,Date,Currency,Amount,Reference"]
    for position, invoice in enumerate(invoices, start=1):
        amount = format_money(
            invoice.amount_residual, minor_units=invoice.currency.minor_units
        ).replace(",", "")
        rows.append(
            f"T{batch}-{position},{invoice.customer.code},"
            f"{invoice.invoice_date.isoformat()},{invoice.currency_id},{amount},"
            f"{invoice.number}"
        )
    return ("\n".join(rows) + "\n").encode()
