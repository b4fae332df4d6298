"""Run the whole-company matching pass, for a daily schedule or by hand."""

from datetime import date, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from reconciliation.matching import run_matching
from reconciliation.models import Company


class Command(BaseCommand):
    help = (
        "Check every order and payment of each company except practice "
        "sandboxes (or of --company) and "
        "store the matches and cases. Imports check only what they touched, so "
        "run this once a day: it opens the cases that depend on the date, such "
        "as late shipments and overdue invoices."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--company", default="", help="company name (default: all)")
        parser.add_argument(
            "--as-of",
            default="",
            help=(
                "day to compare due and promised dates with, YYYY-MM-DD "
                "(default: today)"
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        as_of = _as_of(options["as_of"])
        # A practice sandbox runs its own passes when the learner acts.
        companies = Company.objects.filter(is_sandbox=False)
        companies = companies.select_related("base_currency").order_by("pk")
        if options["company"]:
            companies = companies.filter(name=options["company"])
            if not companies.exists():
                raise CommandError(
                    f"Company {options['company']!r} not found: give the name "
                    "as the company list shows it."
                )
        for company in companies:
            summary = run_matching(company=company, as_of=as_of)
            self.stdout.write(
                f"{company.name}: {summary.orders_checked} orders checked, "
                f"{summary.orders_skipped} unchanged, {summary.opened} cases "
                f"opened, {summary.resolved} resolved"
            )


def _as_of(text: str) -> date:
    if not text:
        return timezone.localdate()
    # strptime, because date.fromisoformat also reads 20240630 and 2024-W26-7.
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise CommandError(
            f"--as-of {text!r} is not a date: use YYYY-MM-DD, such as 2024-06-30."
        ) from None
