"""Preview and commit of CSV and XLSX files: parsing, row errors, batches."""

import io
import zipfile
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import Workbook

from core.models import AuditEvent
from imports.models import ImportBatch, ImportedDocument
from imports.services import AlreadyImported, commit_file, preview_file, stage_upload
from imports.tests.conftest import FILES, make_source
from reconciliation.models import Payment, SalesOrder, SalesOrderLine, Shipment

PAYMENTS_HEADER = "Payment,Customer,Date,Currency,Amount,Reference\n"


def preview(source, data: bytes, name: str = "upload.csv"):
    return preview_file(source=source, sha256=stage_upload(data=data, file_name=name))


def commit(source, data: bytes, actor, name: str = "upload.csv"):
    sha256 = stage_upload(data=data, file_name=name)
    return commit_file(source=source, sha256=sha256, actor=actor)


def test_bom_semicolon_csv_with_decimal_comma_commits_orders(orders_source, clerk):
    data = (FILES / "orders_bom_semicolon.csv").read_bytes()

    result = preview(orders_source, data)
    assert result.errors == []
    assert (result.encoding, result.delimiter) == ("utf-8-sig", ";")
    batch = commit(orders_source, data, clerk, name="orders.csv")

    assert batch.status == ImportBatch.Status.COMMITTED
    assert (batch.rows_total, batch.rows_created, batch.documents_created) == (3, 3, 2)
    order = SalesOrder.objects.get(number="SO-9001")
    assert (order.order_date, order.promised_date) == (
        date(2024, 3, 31),
        date(2024, 4, 15),
    )
    lines = list(order.lines.values_list("line_no", "qty_ordered", "unit_price"))
    assert lines == [
        (1, Decimal(10), Decimal("18.00")),
        (2, Decimal(2), Decimal("1234.50")),
    ]
    # The refresh after commit set the order total from its lines.
    assert order.amount_total == Decimal("2649.00")
    assert list(
        ImportedDocument.objects.filter(batch=batch).values_list(
            "number", "row_numbers"
        )
    ) == [("SO-9001", "2, 3"), ("SO-9002", "4")]


def test_every_imported_document_gets_an_import_audit_event(orders_source, clerk):
    batch = commit(
        orders_source, (FILES / "orders_bom_semicolon.csv").read_bytes(), clerk
    )

    event = AuditEvent.objects.get(
        action="salesorder.imported",
        object_id=str(SalesOrder.objects.get(number="SO-9002").pk),
    )
    assert event.source == AuditEvent.Source.IMPORT
    assert event.reason == f"import batch {batch.pk}"
    assert event.actor == clerk
    assert event.after == {
        "number": "SO-9002",
        "customer": "BONAP",
        "currency": "USD",
        "order_date": "2024-04-01",
        "promised_date": "2024-04-20",
        "customer_po_ref": "",
        "lines": [
            {
                "line_no": "1",
                "product": "CHAI",
                "qty_ordered": "5",
                "unit_price": "18.00",
                "discount_pct": "0",
                "subtotal": "90.00",
            }
        ],
    }
    assert AuditEvent.objects.filter(action="salesorder.imported").count() == 2


def test_latin1_comma_csv_is_decoded_as_cp1252(company, clerk, parties):
    source = make_source(
        company,
        clerk,
        "payments",
        mapping={
            "number": "Zahlung",
            "value_date": "Datum",
            "amount": "Betrag",
            "reference": "Verwendungszweck",
        },
    )
    data = "Zahlung,Datum,Betrag,Verwendungszweck\nP-1,2024-03-01,10.00,Müller Überweisung\n"

    result = preview(source, data.encode("latin-1"))
    assert (result.errors, result.encoding, result.delimiter) == ([], "cp1252", ",")
    commit(source, data.encode("latin-1"), clerk)

    assert Payment.objects.get(number="P-1").reference == "Müller Überweisung"


def test_headers_match_regardless_of_case_and_spacing(payments_source, clerk):
    data = b"  PAYMENT ,customer,DATE,currency,  Amount,reference\nP-7,ALFKI,2024-03-01,USD,5.00,x\n"

    assert preview(payments_source, data).errors == []


def test_xlsx_file_commits_payments(company, clerk, parties):
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
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Payment", "Customer", "Date", "Amount"])
    sheet.append(["P-100", "ALFKI", date(2024, 3, 5), 120.5])
    sheet.append(["P-101", "BONAP", datetime(2024, 3, 6, 14, 30), 99])
    buffer = io.BytesIO()
    workbook.save(buffer)

    batch = commit(source, buffer.getvalue(), clerk, name="payments.xlsx")

    assert batch.status == ImportBatch.Status.COMMITTED
    assert batch.file_format == "xlsx"
    assert list(
        Payment.objects.order_by("number").values_list(
            "number", "party__code", "value_date", "amount", "amount_unallocated"
        )
    ) == [
        ("P-100", "ALFKI", date(2024, 3, 5), Decimal("120.50"), Decimal("120.50")),
        ("P-101", "BONAP", date(2024, 3, 6), Decimal("99.00"), Decimal("99.00")),
    ]


def test_macro_workbook_is_rejected(company, clerk):
    source = make_source(company, clerk, "payments", file_format="xlsx", mapping={})
    workbook = Workbook()
    buffer = io.BytesIO()
    workbook.save(buffer)

    result = preview(source, buffer.getvalue(), name="payments.xlsm")

    assert result.errors == [
        '"payments.xlsm" is a macro-enabled workbook. Macros are not accepted: '
        "save it as an Excel Workbook (.xlsx) and upload that."
    ]


def test_vba_project_rejected(company, clerk):
    source = make_source(company, clerk, "payments", file_format="xlsx", mapping={})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/vbaProject.bin", b"macro")

    assert preview(source, buffer.getvalue(), name="renamed.xlsx").errors == [
        '"renamed.xlsx" contains macros, which are not accepted. Save it as an '
        "Excel Workbook (.xlsx) without macros and upload that."
    ]
    assert preview(source, b"Payment,Amount\n", name="plain.xlsx").errors == [
        '"plain.xlsx" is not an Excel workbook (.xlsx): it is text, perhaps a '
        "CSV file. Choose a source for CSV files, or save it as .xlsx."
    ]


def test_oversize_file_and_too_many_rows_are_rejected(payments_source, settings):
    settings.IMPORT_MAX_FILE_BYTES = 60
    data = (PAYMENTS_HEADER + "P-1,ALFKI,2024-03-01,USD,1.00,x\n").encode()

    assert preview(payments_source, data).errors == [
        f"The file is {len(data):,} bytes, more than the limit of 60 bytes "
        "(IMPORT_MAX_FILE_BYTES). Split it into smaller files."
    ]
    settings.IMPORT_MAX_FILE_BYTES = 10_000
    settings.IMPORT_MAX_ROWS = 2
    rows = "".join(f"P-{n},ALFKI,2024-03-01,USD,1.00,x\n" for n in range(3))
    assert preview(payments_source, (PAYMENTS_HEADER + rows).encode()).errors == [
        "The file has more than 2 data rows (IMPORT_MAX_ROWS). "
        "Split it into smaller files."
    ]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            "P-1,ZZZZZ,2024-03-01,USD,10.00,x",
            'Row 2, column "Customer": unknown customer code "ZZZZZ". Create the '
            "customer in Test Company first, or correct the code.",
        ),
        (
            "P-1,ALFKI,31/03/2024,USD,10.00,x",
            'Row 2, column "Date": date "31/03/2024" does not match the format '
            "%Y-%m-%d (for example 2024-03-31). Correct the date or the date "
            "format of the mapping.",
        ),
        (
            "P-1,ALFKI,2024-02-30,USD,10.00,x",
            'Row 2, column "Date": date "2024-02-30" does not exist: the day is '
            "past the end of its month (such as 31 February, or 29 February "
            "outside a leap year). Correct the date in the file.",
        ),
        (
            "P-1,ALFKI,2025-02-29,USD,10.00,x",
            'Row 2, column "Date": date "2025-02-29" does not exist: the day is '
            "past the end of its month (such as 31 February, or 29 February "
            "outside a leap year). Correct the date in the file.",
        ),
        (
            "P-1,ALFKI,2024-03-01,USD,10.005,x",
            'Row 2, column "Amount": amount "10.005" has 3 decimals, but USD allows '
            "2. Round it to 2 decimals.",
        ),
        (
            "P-1,ALFKI,2024-03-01,JPY,10.5,x",
            'Row 2, column "Amount": amount "10.5" has 1 decimals, but JPY allows '
            "0. Round it to 0 decimals.",
        ),
        (
            "P-1,ALFKI,2024-03-01,XXX,10.00,x",
            'Row 2, column "Currency": unknown currency "XXX". Use an ISO 4217 '
            "code: BHD, CHF, EUR, GBP, JPY, SEK, USD.",
        ),
        (
            "P-1,ALFKI,2024-03-01,USD,-4.00,x",
            'Row 2, column "Amount": amount "-4.00" is not above 0. Enter money '
            "received as a positive amount. A negative amount is a payment out of "
            "the account, which is not imported here: remove the row from the "
            "file.",
        ),
        (
            "P-1,ALFKI,2024-03-01,USD,ten,x",
            'Row 2, column "Amount": "ten" is not a number with a decimal point. '
            "Enter a number such as 1234.50, or change the decimal separator of "
            "the mapping.",
        ),
        (
            ",ALFKI,2024-03-01,USD,10.00,x",
            'Row 2, column "Payment": Payment number is empty. Fill it in.',
        ),
    ],
)
def test_payment_row_errors_name_row_column_and_value(payments_source, row, message):
    result = preview(payments_source, f"{PAYMENTS_HEADER}{row}\n".encode())

    assert result.errors == [message]
    assert not result.can_commit


def test_duplicate_payment_number_within_the_file(payments_source):
    rows = "P-1,ALFKI,2024-03-01,USD,1.00,x\np-1,ALFKI,2024-03-02,USD,2.00,y\n"

    assert preview(payments_source, (PAYMENTS_HEADER + rows).encode()).errors == [
        'Row 3, column "Payment": document number "p-1" is also on row 2. Each '
        "number may appear once in a file: remove the repeated row or correct "
        "its number."
    ]


def test_order_row_errors(orders_source):
    data = (
        b"Order Number;Customer;Order Date;Promised;Line;SKU;Qty;Price\n"
        b"SO-1;ALFKI;31.03.2024;15.04.2024;1;NOPE;1;1,00\n"
        b"SO-1;ALFKI;31.03.2024;15.04.2024;2;CHAI;-3;1,00\n"
        b"SO-1;ALFKI;31.03.2024;15.04.2024;2;CHAI;3;1,00\n"
        b"SO-1;BONAP;31.03.2024;15.04.2024;3;CHAI;3;1,00\n"
    )

    assert preview(orders_source, data).errors == [
        'Row 2, column "SKU": unknown product "NOPE". Create the product with this '
        "SKU first, or correct the SKU.",
        'Row 3, column "Qty": quantity "-3" is negative. Enter the quantity as a '
        "positive number; returns are not imported here.",
        'Row 4, column "Line": line 2 of "SO-1" is also on row 3. Keep one row '
        "per line.",
        'Row 5, column "Customer": "BONAP" differs from row 2 of "SO-1" ("ALFKI"). '
        "The rows of one document must agree on it.",
    ]


def test_order_date_that_does_not_exist(orders_source):
    data = (
        b"Order Number;Customer;Order Date;Promised;Line;SKU;Qty;Price\n"
        b"SO-1;ALFKI;31.02.2026;15.04.2026;1;CHAI;1;1,00\n"
        b"SO-2;ALFKI;2026.02.01;15.04.2026;1;CHAI;1;1,00\n"
    )

    assert preview(orders_source, data).errors == [
        'Row 2, column "Order Date": date "31.02.2026" does not exist: the day is '
        "past the end of its month (such as 31 February, or 29 February outside "
        "a leap year). Correct the date in the file.",
        'Row 3, column "Order Date": date "2026.02.01" does not match the format '
        "%d.%m.%Y (for example 31.03.2024). Correct the date or the date format "
        "of the mapping.",
    ]


def test_negative_invoice_total_explains_credit_notes(company, clerk, parties):
    source = make_source(
        company,
        clerk,
        "invoices",
        mapping={
            "number": "Invoice",
            "customer": "Customer",
            "invoice_date": "Date",
            "due_date": "Due",
            "amount_total": "Total",
        },
    )
    data = b"Invoice,Customer,Date,Due,Total\nCN-1,ALFKI,2024-03-02,2024-03-31,-20\n"

    assert preview(source, data).errors == [
        'Row 2, column "Total": amount "-20" is not above 0. Enter the total as a '
        'positive amount. For a credit note, write "credit note" in the Kind '
        "column and keep the amount positive."
    ]


def test_missing_column_names_the_columns_found(payments_source):
    result = preview(payments_source, b"Payment;Date\nP-1;2024-03-01\n")

    assert result.errors == [
        'The file has no column "Amount" for "Amount". Its columns are "Payment", '
        '"Date". Correct the column mapping or the file.'
    ]


def test_partly_bad_file_writes_nothing(payments_source, clerk):
    rows = "P-1,ALFKI,2024-03-01,USD,1.00,x\nP-2,NOBODY,2024-03-01,USD,2.00,y\n"

    batch = commit(payments_source, (PAYMENTS_HEADER + rows).encode(), clerk)

    assert batch.status == ImportBatch.Status.FAILED
    assert batch.error == (
        'Row 3, column "Customer": unknown customer code "NOBODY". Create the '
        "customer in Test Company first, or correct the code."
    )
    assert (batch.rows_total, batch.rows_rejected, batch.documents_created) == (2, 1, 0)
    assert Payment.objects.count() == 0
    assert ImportedDocument.objects.count() == 0
    assert list(AuditEvent.objects.values_list("action", flat=True)) == [
        "import_batch.failed"
    ]


def test_same_file_twice_changes_nothing(payments_source, clerk):
    data = (PAYMENTS_HEADER + "P-1,ALFKI,2024-03-01,USD,1.00,x\n").encode()
    first = commit(payments_source, data, clerk)
    events = AuditEvent.objects.count()

    result = preview(payments_source, data)
    assert result.already_imported == first
    assert result.errors == []
    assert not result.can_commit
    with pytest.raises(AlreadyImported) as raised:
        commit(payments_source, data, clerk)

    assert str(raised.value) == (
        f"This file was already imported on {first.created_at:%Y-%m-%d %H:%M} UTC "
        f"as batch {first.pk}. Nothing was changed."
    )
    assert ImportBatch.objects.count() == 1
    assert Payment.objects.count() == 1
    assert AuditEvent.objects.count() == events


def test_rows_that_already_exist_are_reported_not_duplicated(payments_source, clerk):
    commit(
        payments_source,
        (PAYMENTS_HEADER + "P-1,ALFKI,2024-03-01,USD,1.00,x\n").encode(),
        clerk,
    )
    data = (
        PAYMENTS_HEADER
        + "P-1,ALFKI,2024-03-01,USD,1.00,x\nP-2,BONAP,2024-03-02,USD,2.00,y\n"
    ).encode()

    result = preview(payments_source, data)
    assert [d.number for d in result.plan.existing_documents] == ["P-1"]
    batch = commit(payments_source, data, clerk)

    assert (batch.rows_created, batch.rows_existing, batch.documents_created) == (
        1,
        1,
        1,
    )
    assert list(
        Payment.objects.order_by("number").values_list("number", flat=True)
    ) == [
        "P-1",
        "P-2",
    ]


def test_shipments_file_refreshes_running_quantities(company, clerk, orders_source):
    commit(orders_source, (FILES / "orders_bom_semicolon.csv").read_bytes(), clerk)
    source = make_source(
        company,
        clerk,
        "shipments",
        mapping={
            "number": "Shipment",
            "order": "Order",
            "shipped_at": "Shipped",
            "line_no": "Line",
            "qty_shipped": "Qty",
        },
    )
    data = (
        b"Shipment,Order,Shipped,Line,Qty\n"
        b"SH-1,SO-9001,2024-04-10,1,10\n"
        b"SH-1,SO-9001,2024-04-10,2,1\n"
        b"SH-2,SO-9002,2024-04-11,4,5\n"
    )

    assert preview(source, data).errors == [
        'Row 4, column "Line": order SO-9002 has no line 4. Correct the line '
        "number or import the order line first."
    ]
    batch = commit(source, data.replace(b"SH-2,SO-9002,2024-04-11,4,5\n", b""), clerk)

    assert batch.documents_created == 1
    assert Shipment.objects.get(number="SH-1").lines.count() == 2
    assert list(
        SalesOrderLine.objects.filter(order__number="SO-9001")
        .order_by("line_no")
        .values_list("qty_shipped", flat=True)
    ) == [Decimal(10), Decimal(1)]
    assert SalesOrder.objects.get(number="SO-9001").delivery_status == "partial"


def test_invoices_file_sets_residual(company, clerk, parties):
    source = make_source(
        company,
        clerk,
        "invoices",
        mapping={
            "number": "Invoice",
            "customer": "Customer",
            "invoice_date": "Date",
            "due_date": "Due",
            "amount_total": "Total",
            "kind": "Kind",
        },
    )
    data = (
        b"Invoice,Customer,Date,Due,Total,Kind\n"
        b"INV-1,ALFKI,2024-03-01,2024-03-31,363.60,invoice\n"
        b"CN-1,ALFKI,2024-03-02,2024-03-31,20.00,credit note\n"
        b"INV-2,ALFKI,2024-03-02,2024-03-31,1.00,proforma\n"
    )

    assert preview(source, data).errors == [
        'Row 4, column "Kind": unknown invoice kind "proforma". Use invoice, '
        "credit_note or debit_note."
    ]
    commit(source, data.rsplit(b"INV-2", 1)[0], clerk)

    from reconciliation.models import Invoice

    assert list(
        Invoice.objects.order_by("number").values_list(
            "number", "kind", "amount_total", "amount_residual", "payment_state"
        )
    ) == [
        ("CN-1", "credit_note", Decimal("20.00"), Decimal("20.00"), "not_paid"),
        ("INV-1", "invoice", Decimal("363.60"), Decimal("363.60"), "not_paid"),
    ]


def test_commit_runs_matching_after_the_transaction(
    payments_source, clerk, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_RUN_MATCHING = True
    data = (PAYMENTS_HEADER + "P-1,ALFKI,2024-03-01,USD,15.00,nothing\n").encode()

    with django_capture_on_commit_callbacks(execute=True):
        commit(payments_source, data, clerk)

    from reconciliation.models import Discrepancy

    assert list(Discrepancy.objects.values_list("code", "payment__number")) == [
        ("UNAPPLIED_PAYMENT", "P-1")
    ]


def xlsx_payments_source(company, clerk):
    return make_source(
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


def payments_workbook(amount: object) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Payment", "Customer", "Date", "Amount"])
    sheet.append(["P-1", "ALFKI", date(2024, 3, 5), amount])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def with_cell_value(workbook: bytes, old: bytes, new: bytes) -> bytes:
    """Return ``workbook`` with a value element of its first sheet replaced."""
    source = zipfile.ZipFile(io.BytesIO(workbook))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                assert old in content
                content = content.replace(old, new)
            target.writestr(info, content)
    return buffer.getvalue()


def test_xlsx_formula_without_saved_value(company, clerk, parties):
    # openpyxl saves a formula without computing it, as many export scripts do.
    source = xlsx_payments_source(company, clerk)
    data = payments_workbook("=10+5")

    assert preview(source, data, name="p.xlsx").errors == [
        'Row 2, column "Amount": the cell contains the formula "=10+5" but no saved '
        "value. Open the file in a spreadsheet program and save it, or paste the "
        "values in place of the formulas."
    ]


def test_xlsx_formula_with_saved_value_imports_it(company, clerk, parties):
    source = xlsx_payments_source(company, clerk)
    data = with_cell_value(
        payments_workbook("=10+5"), b"<f>10+5</f><v />", b"<f>10+5</f><v>15</v>"
    )

    batch = commit(source, data, clerk, name="p.xlsx")

    assert batch.status == ImportBatch.Status.COMMITTED
    assert Payment.objects.get().amount == Decimal("15.00")


def test_xlsx_infinite_number_is_not_a_number(company, clerk, parties):
    source = xlsx_payments_source(company, clerk)
    data = with_cell_value(payments_workbook(12.5), b"<v>12.5</v>", b"<v>1e400</v>")

    assert preview(source, data, name="p.xlsx").errors == [
        'Row 2, column "Amount": the cell contains "Infinity", which is not a number. '
        "Enter a number."
    ]


def test_xlsx_nan_cell_rejects_the_file(company, clerk, parties):
    source = xlsx_payments_source(company, clerk)
    data = with_cell_value(payments_workbook(12.5), b"<v>12.5</v>", b"<v>NaN</v>")

    assert preview(source, data, name="p.xlsx").errors == [
        '"p.xlsx" cannot be read as an Excel workbook after row 1 (invalid literal '
        "for int() with base 10: 'NaN'). A number cell may hold text such as NaN. "
        "Open it in a spreadsheet program and save it again as .xlsx."
    ]
    batch = commit(source, data, clerk, name="p.xlsx")
    assert batch.status == ImportBatch.Status.FAILED
    assert Payment.objects.count() == 0
