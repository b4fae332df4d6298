"""CAMT.053 bank statements: good files create payments, bad files write nothing."""

from datetime import date
from decimal import Decimal

import pytest

from core.models import AuditEvent
from imports.models import BankStatementLine, ImportBatch
from imports.tests.conftest import FILES
from imports.tests.test_tables import commit, preview
from reconciliation.models import Payment


def read(name: str) -> bytes:
    return (FILES / name).read_bytes()


def test_v02_credit_creates_payment(bank_source, clerk):
    batch = commit(bank_source, read("camt053_v02.xml"), clerk, name="march.xml")

    assert batch.status == ImportBatch.Status.COMMITTED
    assert batch.file_format == "camt.053.001.02"
    assert (batch.rows_total, batch.rows_created, batch.documents_created) == (2, 2, 1)
    assert list(
        Payment.objects.values_list(
            "number", "amount", "currency", "value_date", "reference"
        )
    ) == [
        (
            f"BS{batch.pk}-1",
            Decimal("363.60"),
            "USD",
            date(2024, 3, 29),
            "INV-1001",
        )
    ]
    # The statement names no customer code, so cash application finds the party.
    assert Payment.objects.get().party is None
    credit, debit = BankStatementLine.objects.order_by("booking_date")
    assert (
        credit.statement_id,
        credit.account_iban,
        credit.entry_reference,
        credit.booking_date,
        credit.direction,
        credit.end_to_end_id,
        credit.remittance_info,
        credit.counterparty_name,
        credit.counterparty_iban,
        credit.bank_tx_code,
        credit.payment.number,
    ) == (
        "STMT-2024-03",
        "DE89370400440532013000",
        "BANK-REF-0001",
        date(2024, 3, 28),
        "CRDT",
        "E2E-ALFKI-1",
        "INV-1001",
        "Alfreds Futterkiste",
        "DE02120300000000202051",
        "NTRF",
        f"BS{batch.pk}-1",
    )
    assert credit.raw["amount"] == "363.60"
    assert (debit.direction, debit.amount, debit.counterparty_name, debit.payment) == (
        "DBIT",
        Decimal("12.50"),
        "Bank fees",
        None,
    )
    event = AuditEvent.objects.get(action="payment.imported")
    assert (event.source, event.reason, event.after["end_to_end_id"]) == (
        "import",
        f"import batch {batch.pk}",
        "E2E-ALFKI-1",
    )


def test_v08_nested_party_and_datetime(bank_source, clerk):
    batch = commit(bank_source, read("camt053_v08.xml"), clerk, name="april.xml")

    assert batch.file_format == "camt.053.001.08"
    assert list(
        BankStatementLine.objects.order_by("pk").values_list(
            "booking_date",
            "amount",
            "currency",
            "end_to_end_id",
            "counterparty_name",
            "counterparty_iban",
            "bank_tx_code",
        )
    ) == [
        (
            date(2024, 4, 2),
            Decimal("1250.00"),
            "EUR",
            "E2E-BONAP-7",
            "Bon app'",
            "FR7630006000011234567890189",
            "ESCT",
        ),
        (date(2024, 4, 3), Decimal("5000"), "JPY", "", "", "", ""),
    ]
    assert list(
        Payment.objects.order_by("number").values_list("number", "amount", "currency")
    ) == [
        (f"BS{batch.pk}-1", Decimal("1250.00"), "EUR"),
        (f"BS{batch.pk}-2", Decimal("5000"), "JPY"),
    ]


def test_statement_entries_already_stored_are_skipped(bank_source, clerk):
    commit(bank_source, read("camt053_v02.xml"), clerk)
    # The same statement exported again, with other whitespace: a new hash.
    again = read("camt053_v02.xml").replace(b"<Stmt>", b"<Stmt>\n")

    result = preview(bank_source, again)
    assert [entry.entry_reference for entry in result.existing_entries] == [
        "BANK-REF-0001",
        "BANK-REF-0002",
    ]
    batch = commit(bank_source, again, clerk)

    assert (batch.rows_created, batch.rows_existing, batch.documents_created) == (
        0,
        2,
        0,
    )
    assert Payment.objects.count() == 1


DTD_MESSAGE = (
    "The file contains a DTD (DOCTYPE), an entity declaration or an external "
    "reference, which statements never need. It is rejected: export the "
    "statement from the bank again."
)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "billion_laughs.xml",
            DTD_MESSAGE,
        ),
        (
            "external_entity.xml",
            DTD_MESSAGE,
        ),
        (
            "wrong_namespace.xml",
            "The file is not a CAMT.053 statement. The Document element has the "
            'namespace "urn:iso:std:iso:20022:tech:xsd:camt.052.001.02", but a '
            'CAMT.053 statement has the namespace "urn:iso:std:iso:20022:tech:xsd:'
            'camt.053.001.08" (or versions 02 to 07 in place of 08). Export the '
            "statement from the bank as ISO 20022 camt.053.",
        ),
        (
            "missing_booking_date.xml",
            "Entry 2 of statement STMT-BAD has no booking date (BookgDt), which "
            "CAMT.053 requires. Export the statement again.",
        ),
        (
            "too_many_decimals.xml",
            'Entry 1 of statement STMT-2024-03 has amount "363.605" USD with 3 '
            "decimals, but USD allows 2. The file is rejected: ask the bank for a "
            "corrected statement.",
        ),
    ],
)
def test_bad_statement_is_rejected_and_writes_nothing(
    bank_source, clerk, name, message
):
    assert preview(bank_source, read(name)).errors == [message]

    batch = commit(bank_source, read(name), clerk, name=name)

    assert (batch.status, batch.error) == (ImportBatch.Status.FAILED, message)
    assert Payment.objects.count() == 0
    assert BankStatementLine.objects.count() == 0


def test_entity_declaration_without_doctype_payload_is_rejected(bank_source):
    # An internal subset that declares an entity but no DTD-level element rules.
    data = (
        b'<?xml version="1.0"?><!DOCTYPE Document [<!ENTITY e "x">]>'
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"/>'
    )

    assert preview(bank_source, data).errors == [DTD_MESSAGE]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b"<Document/>",
            "The file is not a CAMT.053 statement. The Document element has no "
            "namespace (no xmlns attribute), but a CAMT.053 statement has the "
            'namespace "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08" (or '
            "versions 02 to 07 in place of 08). Export the statement from the "
            "bank as ISO 20022 camt.053.",
        ),
        (
            b'<Stmt xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"/>',
            "The file is not a CAMT.053 statement: its root element is Stmt, "
            "not Document. Export the statement as ISO 20022 camt.053 "
            "(camt.053.001.02, camt.053.001.03, camt.053.001.04, "
            "camt.053.001.05, camt.053.001.06, camt.053.001.07, camt.053.001.08).",
        ),
    ],
)
def test_statement_root_names_found_and_expected(bank_source, data, message):
    assert preview(bank_source, data).errors == [message]


def test_malformed_xml_and_oversize_statement_are_rejected(bank_source, settings):
    assert preview(bank_source, b"<Document><unclosed></Document>").errors == [
        "The file is not well-formed XML (mismatched tag: line 1, column 22). "
        "Export the statement from the bank again."
    ]
    settings.IMPORT_MAX_FILE_BYTES = 100
    size = len(read("camt053_v02.xml"))
    assert preview(bank_source, read("camt053_v02.xml")).errors == [
        f"The file is {size:,} bytes, more than the limit of 100 bytes "
        "(IMPORT_MAX_FILE_BYTES). Split it into smaller files."
    ]


def test_pending_credit_is_stored_without_payment(bank_source, clerk):
    data = read("camt053_v02.xml").replace(b"<Sts>BOOK</Sts>", b"<Sts>PDNG</Sts>", 1)

    batch = commit(bank_source, data, clerk)

    assert batch.documents_created == 0
    assert BankStatementLine.objects.count() == 2
    assert BankStatementLine.objects.get(direction="CRDT").payment is None
    assert Payment.objects.count() == 0
