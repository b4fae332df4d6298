"""Payments of the demo company that wait for the finance clerk.

The loader allocates every other demo payment to its invoice. These three
are left for cash application: a part payment whose reference names no
invoice, one payment for two invoices less a bank charge, and a bank
statement line from an account that names no customer. The module also
creates the bank's import sources, with the columns of its CSV export
mapped, and writes a file in that layout for the clerk to import.
``docs/demo-data.md`` lists the numbers.
"""

import csv
import hashlib
import io
import json
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from accounts.models import User
from demo.knowledge import create_staff_member
from demo.northwind_mix import WaitingPayments
from imports.kinds import DocumentKind
from imports.models import (
    BankStatementLine,
    ColumnMapping,
    ImportBatch,
    ImportedDocument,
    ImportSource,
)
from reconciliation.models import Company, Invoice, Payment
from reconciliation.money import quantize_money

# The invoices the sample bank export pays in full, by their reference. With
# seed 1996 both are among the missing payments that no payment waits for.
BANK_EXPORT_INVOICES = ("INV-11063", "INV-11066")

# The bank takes this much from a payment sent from abroad, so a payment of
# two invoices arrives short by it and no cash rule finds the pair.
BANK_CHARGE = Decimal("20.00")
CAMT_SOURCE = "Bank statements (CAMT.053)"
CSV_SOURCE = "Bank statement export (CSV)"
# Target field of a payment -> column header of the bank's CSV export and
# its date format (empty for ISO dates).
CSV_COLUMNS: dict[str, tuple[str, str]] = {
    "number": ("Transaction ID", ""),
    "value_date": ("Value date", "%m/%d/%Y"),
    "currency": ("Currency", ""),
    "amount": ("Amount", ""),
    "reference": ("Remittance information", ""),
}


def create_waiting_payments(
    *,
    company: Company,
    invoices: dict[int, Invoice],
    waiting: WaitingPayments,
    next_number: int,
    as_of: date,
    rng: random.Random,
) -> None:
    """Create the payments the clerk applies, numbered from ``next_number``.

    ``invoices`` maps each Northwind order id to its invoice. The payments
    are received before ``as_of`` and the bank statement is of that day.
    They are created unallocated, and the matching pass leaves them so.
    """
    part = invoices[waiting.part_paid]
    first, second = (invoices[order_id] for order_id in waiting.paid_together)
    paid = part.amount_total * waiting.part_paid_percent / 100
    payments = [
        Payment(
            company=company,
            number=f"PAY-{next_number}",
            party=part.customer,
            amount=quantize_money(paid, minor_units=2),
            currency_id=part.currency_id,
            value_date=as_of - timedelta(days=rng.randint(1, 14)),
            reference=f"Part payment, order {waiting.part_paid}",
        ),
        Payment(
            company=company,
            number=f"PAY-{next_number + 1}",
            party=first.customer,
            amount=first.amount_total + second.amount_total - BANK_CHARGE,
            currency_id=first.currency_id,
            value_date=as_of - timedelta(days=rng.randint(1, 14)),
            reference=f"{first.customer.name} payment, less bank charges",
        ),
    ]
    for payment in payments:
        payment.amount_unallocated = payment.amount
    Payment.objects.bulk_create(payments)

    clerk = create_staff_member("fiona")
    camt, _ = create_bank_sources(company=company, clerk=clerk)
    _import_statement(
        source=camt,
        clerk=clerk,
        invoice=invoices[waiting.unknown_payer],
        order_id=waiting.unknown_payer,
        booked_on=as_of,
    )


def create_bank_sources(
    *, company: Company, clerk: User
) -> tuple[ImportSource, ImportSource]:
    """Create the bank's CAMT.053 source and its CSV source with mapped columns."""
    camt = ImportSource.objects.create(
        name=CAMT_SOURCE,
        company=company,
        kind=DocumentKind.PAYMENTS,
        file_format=ImportSource.FileFormat.CAMT053,
        created_by=clerk,
    )
    csv = ImportSource.objects.create(
        name=CSV_SOURCE,
        company=company,
        kind=DocumentKind.PAYMENTS,
        file_format=ImportSource.FileFormat.CSV,
        created_by=clerk,
    )
    ColumnMapping.objects.bulk_create(
        ColumnMapping(
            source=csv, target_field=field, column=column, date_format=date_format
        )
        for field, (column, date_format) in CSV_COLUMNS.items()
    )
    return camt, csv


def _import_statement(
    *,
    source: ImportSource,
    clerk: User,
    invoice: Invoice,
    order_id: int,
    booked_on: date,
) -> None:
    """Store a one-entry statement as a committed CAMT.053 batch would.

    The entry pays ``invoice`` in full from the private account of the
    customer's contact, and its remittance text names no invoice, so the
    payment has no customer until the clerk assigns one.
    """
    contact = invoice.customer.contacts.order_by("pk").first()
    payer = contact.get_full_name() if contact is not None else ""
    amount = str(invoice.amount_total.quantize(Decimal("0.01")))
    statement_id = f"STMT-{booked_on:%Y%m%d}"
    raw = {
        "direction": BankStatementLine.Direction.CREDIT,
        "value_date": booked_on.isoformat(),
        "status": "BOOK",
        "entry_reference": f"{statement_id}-1",
        "end_to_end_id": "NOTPROVIDED",
        "remittance_info": f"{invoice.customer.name}, order {order_id}",
        "counterparty_name": payer,
        "counterparty_iban": "",
        "bank_tx_code": "RCDT",
        "statement_id": statement_id,
        "account_iban": "",
        "amount": amount,
        "currency": invoice.currency_id,
        "booking_date": booked_on.isoformat(),
    }
    # NOTE: no statement file exists, so the batch's SHA-256 is that of the
    # entry's fields as JSON, which no uploaded statement file matches.
    digest = hashlib.sha256(json.dumps(raw, sort_keys=True).encode()).hexdigest()
    batch = ImportBatch.objects.create(
        source=source,
        created_by=clerk,
        file_name=f"statement-{booked_on.isoformat()}.xml",
        sha256=digest,
        file_format="camt.053.001.02",
        status=ImportBatch.Status.COMMITTED,
        rows_total=1,
        rows_created=1,
        documents_created=1,
    )
    # The batch is dated on the statement day, like the rest of the demo
    # books, instead of when the loader ran.
    ImportBatch.objects.filter(pk=batch.pk).update(
        created_at=datetime.combine(booked_on, datetime.min.time(), tzinfo=UTC)
    )
    payment = Payment.objects.create(
        company=source.company,
        # An import numbers it BS<batch id>-<position>. The statement date
        # keeps the demo's number the same on every load.
        number=f"BS-{booked_on:%Y%m%d}-1",
        amount=Decimal(amount),
        currency_id=invoice.currency_id,
        value_date=booked_on,
        reference=raw["remittance_info"],
        amount_unallocated=Decimal(amount),
    )
    BankStatementLine.objects.create(
        batch=batch,
        company=source.company,
        statement_id=statement_id,
        entry_reference=raw["entry_reference"],
        booking_date=booked_on,
        value_date=booked_on,
        amount=payment.amount,
        currency_id=payment.currency_id,
        direction=BankStatementLine.Direction.CREDIT,
        remittance_info=raw["remittance_info"],
        counterparty_name=payer,
        bank_tx_code=raw["bank_tx_code"],
        raw=raw,
        payment=payment,
    )
    ImportedDocument.objects.create(
        batch=batch,
        object_type=payment._meta.label_lower,
        object_id=str(payment.pk),
        number=payment.number,
        row_numbers="1",
    )


def bank_export_name(as_of: date) -> str:
    """Return the file name of the sample bank export of the load day."""
    return f"bank-export-{as_of.isoformat()}.csv"


def bank_export_csv(*, company: Company, as_of: date) -> bytes:
    """Return the bank's CSV export of ``as_of`` that pays two invoices in full.

    The columns are those ``CSV_COLUMNS`` maps, the value date is ``as_of``
    and each line's remittance text is the number of the invoice it pays, so
    the cash rules apply both payments when the file is imported.
    """
    headers = [column for column, _ in CSV_COLUMNS.values()]
    date_format = CSV_COLUMNS["value_date"][1]
    invoices = Invoice.objects.filter(company=company, number__in=BANK_EXPORT_INVOICES)
    output = io.StringIO()
    writer = csv.writer(output, lineterminator="\n")
    writer.writerow(headers)
    for position, invoice in enumerate(invoices.order_by("number"), start=1):
        writer.writerow(
            [
                f"TX-{as_of:%Y%m%d}-{position:02d}",
                as_of.strftime(date_format),
                invoice.currency_id,
                str(invoice.amount_total.quantize(Decimal("0.01"))),
                invoice.number,
            ]
        )
    return output.getvalue().encode()
