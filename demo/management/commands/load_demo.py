"""Load the demo company once, then print the demo accounts."""

from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from accounts.usernames import UsernameClashError
from demo.accounts import (
    DemoAccount,
    featured_price_variance_bill,
    featured_short_payment_order,
    list_demo_accounts,
    list_other_demo_accounts,
)
from demo.availability import start_working_day
from demo.knowledge import seed_knowledge
from demo.northwind import company_load_day, load_company_x
from demo.northwind_cash import bank_export_csv, bank_export_name
from demo.people import DEMO_PASSWORD
from demo.profiles import seed_profiles
from demo.social import seed_social
from reconciliation.models import Company
from search.indexing import reindex_all


class Command(BaseCommand):
    help = (
        "Create the demo company (Company X, from the Northwind orders) with its "
        "people, communities and help content, unless it exists; then list the "
        "demo accounts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--base-url",
            default="",
            help="Base URL the server listens on, e.g. http://127.0.0.1:8000, "
            "to print full links.",
        )
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Load the demo even when DEBUG is off (it creates known passwords).",
        )
        parser.add_argument(
            "--as-of",
            default="",
            help="Day the demo's last Northwind day moves to, YYYY-MM-DD "
            "(default: today). The same day gives the same data.",
        )
        parser.add_argument(
            "--files-dir",
            default=str(settings.VAR_DIR / "demo"),
            help="Folder for the sample bank export to import (default: var/demo).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["allow_production"]:
            raise CommandError(
                "DEBUG is off: the demo creates accounts with a known password. "
                "Set DEBUG=1, or pass --allow-production if this is a throwaway "
                "installation."
            )

        as_of = _as_of(options["as_of"])
        name = settings.COMMONPLACE_COMPANY_NAME
        if Company.objects.filter(name=name).exists():
            self.stdout.write(f"{name} is already loaded; existing data is kept.")
        else:
            self.stdout.write(
                f"Loading {name} from the Northwind orders, moved to {as_of}..."
            )
            try:
                with transaction.atomic():
                    load_company_x(as_of=as_of)
                    seed_knowledge(as_of=as_of)
                    seed_profiles()
                    seed_social()
                    # Demo data is partly written with bulk_create, which the
                    # search index receivers do not see.
                    reindex_all()
            except UsernameClashError as error:
                raise CommandError(
                    f"{error.reason} The demo needs that username, so nothing "
                    "was loaded: rename the existing account and load again."
                ) from error
            self.stdout.write(self.style.SUCCESS(f"{name} loaded."))

        available = start_working_day()
        if available:
            self.stdout.write(
                "Super-users available for the working day: " + ", ".join(available)
            )
        export = self._write_bank_export(Path(options["files_dir"]))
        self._print_accounts(base_url=options["base_url"].rstrip("/"))
        if export is not None:
            self.stdout.write(
                f"fiona can import {export} through the source "
                '"Bank statement export (CSV)".'
            )

    def _write_bank_export(self, folder: Path) -> Path | None:
        """Write the sample bank export of the load day unless it is there."""
        company = Company.objects.filter(name=settings.COMMONPLACE_COMPANY_NAME).first()
        load_day = company_load_day(company) if company is not None else None
        if company is None or load_day is None:
            return None
        path = folder / bank_export_name(load_day)
        if not path.exists():
            folder.mkdir(parents=True, exist_ok=True)
            path.write_bytes(bank_export_csv(company=company, as_of=load_day))
        return path

    def _print_account(self, account: DemoAccount) -> None:
        note = f"  ({account.note})" if account.note else ""
        self.stdout.write(
            f"  {account.role_label:<26} {account.username:<10} {account.name}{note}"
        )

    def _print_accounts(self, *, base_url: str) -> None:
        self.stdout.write("")
        self.stdout.write(f"Demo accounts (password for all: {DEMO_PASSWORD}):")
        featured = list_demo_accounts()
        for account in featured:
            self._print_account(account)
        others = list_other_demo_accounts(featured)
        staff = [account for account in others if not account.is_customer]
        customers = [account for account in others if account.is_customer]
        if staff:
            self.stdout.write("")
            self.stdout.write("The other staff accounts:")
            for account in staff:
                self._print_account(account)
        if customers:
            self.stdout.write("")
            self.stdout.write(
                "The other customer accounts, one contact per Northwind customer "
                "(the username is its customer id in lower case):"
            )
            for account in customers:
                self._print_account(account)
        order = featured_short_payment_order()
        if order is not None:
            rep = order.sales_rep.username if order.sales_rep else "a sales rep"
            self.stdout.write("")
            self.stdout.write(
                f"Try it: sign in at {base_url}/accounts/login/ as {rep} and open "
                f"order {order.number}, whose customer paid short: "
                f"{base_url}/reconciliation/orders/{order.number}/"
            )
            self.stdout.write(
                "Ask from its help panel; paula (payments super-user) answers, and "
                "lena (learning facilitator) adds the answer to the FAQ."
            )
        bill = featured_price_variance_bill()
        if bill is not None:
            self.stdout.write(
                f"Purchase side: sign in as amir and open vendor bill {bill.number}, "
                "priced above its purchase order: "
                f"{base_url}/reconciliation/work/purchasing/bills/{bill.number}/"
            )


def _as_of(text: str) -> date:
    if not text:
        return timezone.localdate()
    # strptime, because date.fromisoformat also reads 20240630 and 2024-W26-7.
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise CommandError(
            f"--as-of {text!r} is not a date: use YYYY-MM-DD, such as 2026-06-30, "
            "or leave it out to load the demo as of today."
        ) from None
