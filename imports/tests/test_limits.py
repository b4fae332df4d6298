"""Values larger than their model field: the preview rejects them, commit agrees.

Money fields store 14 digits before the decimal point and 4 after, quantity
fields 12 and 4, a discount or tax rate 3 and 4, a line number at most
2,147,483,647, and a document number at most 30 characters.
"""

import io
from datetime import date

import pytest
from django.db import connection
from django.urls import reverse
from openpyxl import Workbook

from core.models import AuditEvent
from imports import validation
from imports.kinds import FIELDS, FieldType
from imports.limits import FieldLimit, target_limit
from imports.models import ImportBatch
from imports.tests.conftest import FILES, make_source
from imports.tests.test_invoice_lines import HEADER as INVOICE_HEADER
from imports.tests.test_tables import PAYMENTS_HEADER, commit, preview
from imports.tests.test_views import SimpleUploadedFile
from reconciliation.models import Invoice, Payment, SalesOrder

pytestmark = pytest.mark.django_db

ORDERS_HEADER = "Order Number;Customer;Order Date;Promised;Line;SKU;Qty;Price\n"


def payment_row(amount: str = "10.00", number: str = "P-1", reference: str = "x"):
    return f'{PAYMENTS_HEADER}{number},ALFKI,2024-03-01,USD,"{amount}",{reference}\n'


def order_row(line: str = "1", qty: str = "1", price: str = "1,00") -> str:
    return (
        f"{ORDERS_HEADER}SO-1;ALFKI;31.03.2024;15.04.2024;{line};CHAI;{qty};{price}\n"
    )


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (
            "12345678901234567.00",
            'Row 2, column "Amount": amount "12345678901234567.00" has 17 digits '
            "before the decimal point, but at most 14 are stored. Correct the "
            "amount.",
        ),
        (
            "99999999999999999999999",
            'Row 2, column "Amount": amount "99999999999999999999999" has 23 '
            "digits before the decimal point, but at most 14 are stored. Correct "
            "the amount.",
        ),
        (
            "1" + "0" * 400,
            f'Row 2, column "Amount": amount "1{"0" * 400}" has 401 digits before '
            "the decimal point, but at most 14 are stored. Correct the amount.",
        ),
    ],
    ids=["17-digits", "23-digits", "401-digits"],
)
def test_payment_amount_too_large(payments_source, clerk, amount, message):
    data = payment_row(amount).encode()

    assert preview(payments_source, data).errors == [message]
    batch = commit(payments_source, data, clerk)

    assert batch.status == ImportBatch.Status.FAILED
    assert batch.error == message
    assert Payment.objects.count() == 0
    assert AuditEvent.objects.filter(action="import_batch.failed").count() == 1


def test_payment_amount_at_limit_commits(payments_source, clerk):
    batch = commit(payments_source, payment_row("99999999999999.9").encode(), clerk)

    assert batch.status == ImportBatch.Status.COMMITTED
    assert str(Payment.objects.get().amount) == "99999999999999.9000"


def test_document_number_too_long(payments_source, clerk):
    number = "P-" + "9" * 29
    data = payment_row(number=number).encode()

    assert preview(payments_source, data).errors == [
        f'Row 2, column "Payment": payment number "{number}" has 31 characters, '
        "but at most 30 are stored. Shorten it."
    ]
    assert commit(payments_source, data, clerk).status == ImportBatch.Status.FAILED
    assert Payment.objects.count() == 0


def test_nul_in_payment_reference_commits_without_it(payments_source, clerk):
    data = payment_row(reference="INV\x00-1").encode()

    batch = commit(payments_source, data, clerk)

    assert batch.status == ImportBatch.Status.COMMITTED
    assert Payment.objects.get().reference == "INV-1"


def workbook_bytes(amount: object) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Payment", "Customer", "Date", "Amount"])
    sheet.append(["P-1", "ALFKI", date(2024, 3, 5), amount])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (
            1e20,
            'Row 2, column "Amount": amount "100000000000000000000" has 21 digits '
            "before the decimal point, but at most 14 are stored. Correct the "
            "amount.",
        ),
        (
            12345678901234567,
            'Row 2, column "Amount": amount "12345678901234570" has 17 digits '
            "before the decimal point, but at most 14 are stored. Correct the "
            "amount.",
        ),
    ],
    ids=["1e20", "17-digit-integer"],
)
def test_xlsx_amount_too_large(company, clerk, parties, amount, message):
    source = make_source(
        company,
        clerk,
        "payments",
        file_format="xlsx",
        mapping={
            "number": "Payment",
            "party": "Customer",
            "value_date": "Date",
            "amount": "Amount",
        },
    )
    data = workbook_bytes(amount)

    assert preview(source, data, name="p.xlsx").errors == [message]
    batch = commit(source, data, clerk, name="p.xlsx")

    assert batch.status == ImportBatch.Status.FAILED
    assert Payment.objects.count() == 0


@pytest.mark.parametrize(
    ("line", "qty", "price", "message"),
    [
        (
            "1",
            "99999999999999999999999",
            "1,00",
            'Row 2, column "Qty": quantity "99999999999999999999999" has 23 digits '
            "before the decimal point, but at most 12 are stored. Correct the "
            "quantity.",
        ),
        (
            "99999999999999999999",
            "1",
            "1,00",
            'Row 2, column "Line": line number "99999999999999999999" is more than '
            "2,147,483,647, the largest line number stored. Correct the line "
            "number.",
        ),
        (
            "2147483648",
            "1",
            "1,00",
            'Row 2, column "Line": line number "2147483648" is more than '
            "2,147,483,647, the largest line number stored. Correct the line "
            "number.",
        ),
        (
            "²",
            "1",
            "1,00",
            'Row 2, column "Line": line number "²" is not a whole number above 0 '
            "in the digits 0 to 9. Enter the line number, such as 1.",
        ),
        (
            "\u0661",
            "1",
            "1,00",
            'Row 2, column "Line": line number "\u0661" is not a whole number above '
            "0 in the digits 0 to 9. Enter the line number, such as 1.",
        ),
        (
            "\uff12",
            "1",
            "1,00",
            'Row 2, column "Line": line number "\uff12" is not a whole number above '
            "0 in the digits 0 to 9. Enter the line number, such as 1.",
        ),
        (
            "9" * 5000,
            "1",
            "1,00",
            f'Row 2, column "Line": line number "{"9" * 5000}" is more than '
            "2,147,483,647, the largest line number stored. Correct the line "
            "number.",
        ),
        (
            "1",
            "\u0661\u0662",
            "1,00",
            'Row 2, column "Qty": "\u0661\u0662" has digits other than 0 to 9. Type '
            "the number with the digits 0 to 9, such as 1234,50.",
        ),
        (
            "1",
            "1",
            "\uff11,\uff10\uff10",
            'Row 2, column "Price": "\uff11,\uff10\uff10" has digits other than 0 '
            "to 9. Type the number with the digits 0 to 9, such as 1234,50.",
        ),
        (
            "1",
            "999999999999",
            "99999999999999",
            'Row 2, column "Price": the line subtotal is 99999999999899000000000001.00,'
            " which has 26 digits before the decimal point, but at most 14 are "
            "stored. Correct the quantity or the unit price.",
        ),
    ],
    ids=[
        "quantity",
        "line-20-digits",
        "line-int-max-plus-1",
        "superscript",
        "arabic-indic-line",
        "full-width-line",
        "line-5000-digits",
        "arabic-indic-qty",
        "full-width-price",
        "subtotal",
    ],
)
def test_order_values_too_large(orders_source, clerk, line, qty, price, message):
    data = order_row(line, qty, price).encode()

    assert preview(orders_source, data).errors == [message]
    batch = commit(orders_source, data, clerk)

    assert batch.status == ImportBatch.Status.FAILED
    assert SalesOrder.objects.count() == 0


def test_order_total_too_large(orders_source, clerk):
    line = "SO-1;ALFKI;31.03.2024;15.04.2024;{};CHAI;100000;999999999,00\n"
    data = (ORDERS_HEADER + line.format(1) + line.format(2)).encode()

    assert preview(orders_source, data).errors == [
        'Row 2, column "Price": the total of order "SO-1" is 199999999800000.00, '
        "which has 15 digits before the decimal point, but at most 14 are "
        "stored. Correct the quantities or unit prices, or split the order."
    ]
    assert commit(orders_source, data, clerk).status == ImportBatch.Status.FAILED
    assert SalesOrder.objects.count() == 0


def test_invoice_line_subtotal_too_large(company, clerk, parties, products):
    source = make_source(
        company,
        clerk,
        "invoices",
        mapping={
            "number": "Invoice",
            "customer": "Customer",
            "order": "Order",
            "invoice_date": "Date",
            "due_date": "Due",
            "amount_total": "Total",
            "product": "SKU",
            "line_no": "Line",
            "qty": "Qty",
            "unit_price": "Price",
            "tax_rate": "Tax",
        },
    )
    data = INVOICE_HEADER + (
        b"INV-1,ALFKI,,2024-03-01,2024-03-31,10.00,CHAI,,"
        b"999999999999,99999999999999,0\n"
    )

    assert preview(source, data).errors == [
        'Row 2, column "Price": the line subtotal is 99999999999899000000000001.00, '
        "which has 26 digits before the decimal point, but at most 14 are "
        "stored. Correct the quantity, unit price or rates."
    ]
    assert commit(source, data, clerk).status == ImportBatch.Status.FAILED
    assert Invoice.objects.count() == 0


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite stores any length of text"
)
def test_commit_records_a_value_the_database_rejects(
    payments_source, clerk, monkeypatch
):
    # Without its length check the preview passes a 31-character number,
    # which PostgreSQL's varchar(30) rejects with DataError on commit.
    monkeypatch.setattr(validation, "target_limit", lambda kind, name: FieldLimit())
    data = payment_row(number="P-" + "9" * 29).encode()
    assert preview(payments_source, data).errors == []

    batch = commit(payments_source, data, clerk)

    assert batch.status == ImportBatch.Status.FAILED
    assert batch.error.startswith("The database rejected a value of the file (")
    assert batch.error.endswith(
        "Nothing was written. Correct the value and upload the file again."
    )
    assert Payment.objects.count() == 0
    assert AuditEvent.objects.filter(action="import_batch.failed").count() == 1


def test_commit_page_reports_too_large_amount(client, clerk, payments_source):
    client.force_login(clerk)
    response = client.post(
        reverse("imports:upload", args=[payments_source.pk]),
        {
            "file": SimpleUploadedFile(
                "p.csv", payment_row("12345678901234567.00").encode()
            )
        },
    )
    preview_url = response["Location"]
    page = client.get(preview_url)
    assert page.context["preview"].errors == [
        'Row 2, column "Amount": amount "12345678901234567.00" has 17 digits '
        "before the decimal point, but at most 14 are stored. Correct the amount."
    ]

    response = client.post(preview_url + "commit/", follow=True)

    batch = ImportBatch.objects.get()
    assert response.status_code == 200
    assert batch.status == ImportBatch.Status.FAILED
    assert [str(m) for m in response.context["messages"]] == [
        f"Batch {batch.pk} failed: nothing was written."
    ]
    assert Payment.objects.count() == 0


def test_sixteen_significant_digits(payments_source, clerk):
    data = payment_row("12345678901234.56").encode()

    result = preview(payments_source, data)

    if connection.vendor == "sqlite":
        # SQLite reads a fraction back as a float rounded to 15 digits.
        assert result.errors == [
            'Row 2, column "Amount": amount "12345678901234.56" has 16 significant '
            "digits, but this database (SQLite) stores 15. Round it to 15 digits."
        ]
    else:
        assert result.errors == []
        commit(payments_source, data, clerk)
        assert str(Payment.objects.get().amount) == "12345678901234.5600"


CAMT = (FILES / "camt053_v02.xml").read_text()


def test_statement_amount_too_large(bank_source, clerk):
    data = CAMT.replace("363.60", "123456789012345.00", 1).encode()
    message = (
        "Entry 1 of statement STMT-2024-03 cannot be stored: the amount is "
        "123456789012345.00, which has 15 digits before the decimal point, but at "
        "most 14 are stored. The file is rejected: ask the bank for a corrected "
        "statement."
    )

    assert preview(bank_source, data, name="s.xml").errors == [message]
    batch = commit(bank_source, data, clerk, name="s.xml")

    assert (batch.status, batch.error) == (ImportBatch.Status.FAILED, message)
    assert Payment.objects.count() == 0


def test_statement_id_too_long(bank_source):
    statement_id = "S" * 36
    data = CAMT.replace("STMT-2024-03", statement_id).encode()

    assert preview(bank_source, data, name="s.xml").errors == [
        f'The statement Id "{statement_id}" has 36 characters, but at most 35 are '
        "stored. The file is rejected: ask the bank for a corrected statement."
    ]


def test_every_text_target_has_a_length_limit():
    for kind, fields in FIELDS.items():
        for target in fields:
            if target.type == FieldType.TEXT:
                limit = target_limit(kind, target.name).max_length
                assert limit is not None, (kind, target.name)


def test_payment_reference_too_long(payments_source, clerk):
    reference = "INV-1001 " * 555 + "INV-9999"
    data = payment_row(reference=reference).encode()
    message = (
        f'Row 2, column "Reference": reference "{reference[:50]}…" has 5,003 '
        "characters, but at most 140 are stored. Shorten it."
    )

    assert len(reference) == 5003
    assert preview(payments_source, data).errors == [message]
    batch = commit(payments_source, data, clerk)
    assert batch.status == ImportBatch.Status.FAILED
    assert batch.error == message
    assert Payment.objects.count() == 0


def test_payment_reference_at_limit_commits(payments_source, clerk):
    reference = "R" * 139 + "9"

    batch = commit(payments_source, payment_row(reference=reference).encode(), clerk)

    assert batch.status == ImportBatch.Status.COMMITTED
    assert Payment.objects.get().reference == reference


@pytest.mark.parametrize(
    ("old", "new", "label"),
    [
        (
            "<Ustrd>INV-1001</Ustrd>",
            f"<Ustrd>{'I' * 141}</Ustrd>",
            "remittance information (Ustrd)",
        ),
        (
            "<EndToEndId>E2E-ALFKI-1</EndToEndId>",
            f"<EndToEndId>{'E' * 36}</EndToEndId>",
            "EndToEndId",
        ),
        (
            "<Nm>Alfreds Futterkiste</Nm>",
            f"<Nm>{'N' * 141}</Nm>",
            "counterparty name (Nm)",
        ),
    ],
    ids=["remittance", "end-to-end", "name"],
)
def test_statement_text_too_long(bank_source, clerk, old, new, label):
    data = CAMT.replace(old, new, 1).encode()
    value = new.split(">")[1].split("<")[0]
    message = (
        f'The {label} of entry 1 of statement STMT-2024-03 "{value}" has '
        f"{len(value)} characters, but at most {len(value) - 1} are stored. The "
        "file is rejected: ask the bank for a corrected statement."
    )

    assert preview(bank_source, data, name="s.xml").errors == [message]
    batch = commit(bank_source, data, clerk, name="s.xml")
    assert (batch.status, batch.error) == (ImportBatch.Status.FAILED, message)
    assert Payment.objects.count() == 0
