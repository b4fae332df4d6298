"""The demo payments that wait for cash application, on fiona's screen.

fiona is the demo's finance clerk. The loader leaves three payments:
- a part payment of INV-11050 (Folk och fä HB);
- one payment of INV-11022 and INV-11052 less a bank charge (Hanari Carnes);
- a bank line for INV-11064 from an account that names no customer
  (Save-a-lot Markets).
"""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from accounts.models import User
from demo.northwind import load_company_x
from demo.northwind_cash import (
    CSV_COLUMNS,
    CSV_SOURCE,
    bank_export_csv,
    bank_export_name,
)
from imports.models import BankStatementLine, ImportBatch, ImportSource
from imports.services import commit_file, preview_file, stage_upload
from reconciliation.models import Allocation, Discrepancy, Invoice, Party, Payment

pytestmark = pytest.mark.django_db

CASH_URL = "/reconciliation/work/cash/"
LOAD_DAY = date(2026, 12, 5)


@pytest.fixture(autouse=True)
def _pinned_settings(settings, tmp_path):
    settings.RECONCILIATION_LATE_DAYS = 0
    settings.RECONCILIATION_PAYMENT_TOLERANCE = "0.01"
    settings.COMMONPLACE_COMPANY_NAME = "Company X"
    settings.IMPORT_STAGING_DIR = tmp_path / "staging"
    settings.IMPORT_RUN_MATCHING = False


def signed_in_fiona() -> Client:
    client = Client()
    client.force_login(User.objects.get(username="fiona"))
    return client


def open_codes(**documents: object) -> list[str]:
    rows = Discrepancy.objects.filter(state=Discrepancy.State.OPEN, **documents)
    return sorted(rows.values_list("code", flat=True))


def test_matching_leaves_payments_unapplied():
    company = load_company_x(as_of=LOAD_DAY)

    waiting = Payment.objects.filter(company=company, amount_unallocated__gt=0)
    numbers = sorted(waiting.values_list("number", flat=True))
    assert numbers == ["BS-20261205-1", "PAY-11079", "PAY-11080"]
    assert not Allocation.objects.filter(payment__in=waiting).exists()
    for payment in waiting:
        assert payment.amount_unallocated == payment.amount
        assert open_codes(payment=payment) == ["UNAPPLIED_PAYMENT"]
    for number in ("INV-11022", "INV-11050", "INV-11052", "INV-11064"):
        assert open_codes(invoice__number=number) == ["MISSING_PAYMENT"]


def test_payments_match_documented_amounts():
    load_company_x(as_of=LOAD_DAY)

    part = Payment.objects.get(number="PAY-11079")
    together = Payment.objects.get(number="PAY-11080")
    bank = Payment.objects.get(number="BS-20261205-1")
    totals = dict(
        Invoice.objects.filter(
            number__in=["INV-11022", "INV-11050", "INV-11052", "INV-11064"]
        ).values_list("number", "amount_total")
    )
    assert (part.party.code, part.amount) == ("FOLKO", Decimal("469.80"))
    assert part.amount < totals["INV-11050"]
    assert part.reference == "Part payment, order 11050"
    assert together.party.code == "HANAR"
    assert together.amount == totals["INV-11022"] + totals["INV-11052"] - 20
    assert bank.party is None
    assert bank.amount == totals["INV-11064"]
    line = BankStatementLine.objects.get(payment=bank)
    assert line.counterparty_name == "Jose Pavarotti"
    assert line.remittance_info == "Save-a-lot Markets, order 11064"
    assert line.batch.status == ImportBatch.Status.COMMITTED
    assert line.batch.created_by.username == "fiona"


def test_cash_screen_lists_waiting_payments():
    load_company_x(as_of=LOAD_DAY)
    client = signed_in_fiona()

    page = client.get(CASH_URL)

    listed = [payment.number for payment in page.context["payments"]]
    assert listed == ["PAY-11079", "PAY-11080"]
    unassigned = [payment.number for payment, _ in page.context["unassigned"]]
    assert unassigned == ["BS-20261205-1"]
    offered = {party.code for party in page.context["unassigned"][0][1]}
    customers = set(
        Party.objects.exclude(purchase_orders__isnull=False).values_list(
            "code", flat=True
        )
    )
    # The 28 vendors are parties too, but nobody assigns them a payment.
    assert offered == customers
    assert len(offered) == 91
    html = page.content.decode()
    assert "No payment of a known customer is waiting." not in html
    assert "Save-a-lot Markets, order 11064" in html


def test_cash_screen_shows_open_invoices():
    load_company_x(as_of=LOAD_DAY)
    together = Payment.objects.get(number="PAY-11080")

    page = signed_in_fiona().get(CASH_URL, {"payment": together.pk})

    invoices = [invoice.number for invoice, _ in page.context["invoices"]]
    assert invoices == ["INV-11052", "INV-11022"]
    assert page.context["available"] == Decimal("2714.00")
    # Each amount box starts at the invoice's open amount, which the payment
    # covers for both.
    suggested = [amount for _, amount in page.context["invoices"]]
    assert suggested == [Decimal("1332.00"), Decimal("1402.00")]


def test_allocation_from_screen_applies_part_payment():
    load_company_x(as_of=LOAD_DAY)
    payment = Payment.objects.get(number="PAY-11079")
    invoice = Invoice.objects.get(number="INV-11050")

    response = signed_in_fiona().post(
        f"{CASH_URL}apply/",
        {"payment": payment.pk, "invoice": invoice.pk, "amount": "469.80"},
        follow=True,
    )

    messages = [str(message) for message in get_messages(response.wsgi_request)]
    case = Discrepancy.objects.get(invoice=invoice, code="SHORT_PAYMENT")
    assert messages == [
        "Applied 469.80 USD of payment PAY-11079 to invoice INV-11050. Invoice "
        f'INV-11050 still has 340.20 USD open: see <a href="/reconciliation/cases/'
        f'{case.pk}/">case {case.pk} (Short payment)</a>.'
    ]
    allocation = Allocation.objects.get(payment=payment)
    assert (allocation.invoice, allocation.amount) == (invoice, Decimal("469.80"))
    invoice.refresh_from_db()
    assert invoice.amount_residual == Decimal("340.20")
    assert open_codes(payment=payment) == []
    assert open_codes(invoice=invoice) == ["SHORT_PAYMENT"]
    listed = [p.number for p in response.context["payments"]]
    assert listed == ["PAY-11080"]


def test_unknown_payer_assigned_then_allocated():
    company = load_company_x(as_of=LOAD_DAY)
    payment = Payment.objects.get(number="BS-20261205-1")
    savea = Party.objects.get(company=company, code="SAVEA")
    invoice = Invoice.objects.get(number="INV-11064")
    client = signed_in_fiona()

    client.post(CASH_URL, {"payment": payment.pk, "party": savea.pk})
    client.post(
        f"{CASH_URL}apply/",
        {"payment": payment.pk, "invoice": invoice.pk, "amount": "4330.40"},
    )

    invoice.refresh_from_db()
    assert invoice.amount_residual == 0
    assert open_codes(invoice=invoice) == []
    assert open_codes(payment=payment) == []
    page = client.get(CASH_URL)
    assert page.context["unassigned"] == []


def test_unknown_payer_not_assigned_to_a_vendor():
    company = load_company_x(as_of=LOAD_DAY)
    payment = Payment.objects.get(number="BS-20261205-1")
    vendor = Party.objects.filter(
        company=company, purchase_orders__isnull=False
    ).first()
    assert vendor is not None

    response = signed_in_fiona().post(
        CASH_URL, {"payment": payment.pk, "party": vendor.pk}, follow=True
    )

    assert [str(message) for message in get_messages(response.wsgi_request)] == [
        f"Customer {vendor.pk} was not found among the customers of the company "
        f"of payment {payment.number}: choose one from the list."
    ]
    payment.refresh_from_db()
    assert payment.party is None


def test_csv_source_maps_bank_export():
    company = load_company_x(as_of=LOAD_DAY)

    source = ImportSource.objects.get(company=company, name=CSV_SOURCE)

    mapped = {
        mapping.target_field: (mapping.column, mapping.date_format)
        for mapping in source.mappings.all()
    }
    assert mapped == CSV_COLUMNS
    assert source.created_by.username == "fiona"


def test_sample_export_imports_and_applies(
    settings, django_capture_on_commit_callbacks
):
    company = load_company_x(as_of=LOAD_DAY)
    source = ImportSource.objects.get(company=company, name=CSV_SOURCE)
    fiona = User.objects.get(username="fiona")
    settings.IMPORT_RUN_MATCHING = True
    export = bank_export_csv(company=company, as_of=LOAD_DAY)
    staged = stage_upload(data=export, file_name=bank_export_name(LOAD_DAY))

    preview = preview_file(source=source, sha256=staged)
    with django_capture_on_commit_callbacks(execute=True):
        batch = commit_file(source=source, sha256=staged, actor=fiona)

    assert preview.errors == []
    assert batch.status == ImportBatch.Status.COMMITTED
    assert batch.documents_created == 2
    for number, invoice in (
        ("TX-20261205-01", "INV-11063"),
        ("TX-20261205-02", "INV-11066"),
    ):
        payment = Payment.objects.get(company=company, number=number)
        assert payment.value_date == LOAD_DAY
        assert payment.party is None
        assert payment.amount_unallocated == 0
        allocation = Allocation.objects.get(payment=payment)
        assert allocation.invoice.number == invoice
        assert allocation.invoice.amount_residual == 0
        assert open_codes(invoice=allocation.invoice) == []


def test_sample_export_is_dated_on_the_load_day():
    company = load_company_x(as_of=LOAD_DAY)

    export = bank_export_csv(company=company, as_of=LOAD_DAY)

    assert bank_export_name(LOAD_DAY) == "bank-export-2026-12-05.csv"
    assert export.decode().splitlines() == [
        "Transaction ID,Value date,Currency,Amount,Remittance information",
        "TX-20261205-01,12/05/2026,USD,1342.95,INV-11063",
        "TX-20261205-02,12/05/2026,USD,928.75,INV-11066",
    ]
