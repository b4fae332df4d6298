"""Invoices files with line columns: one row per invoice line.

``fiona`` (finance clerk) imports. Order SO-1 of Alfreds Futterkiste has
line 1 of 10 Chai at 18.00 and line 2 of 1 Chang at 19.00.
"""

import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import Workbook

from core.models import AuditEvent
from imports.tests.conftest import make_source
from imports.tests.test_tables import commit, preview
from reconciliation.models import Invoice

pytestmark = pytest.mark.django_db

HEADER = b"Invoice,Customer,Order,Date,Due,Total,SKU,Line,Qty,Price,Tax\n"
MAPPING = {
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
}


@pytest.fixture
def source(company, clerk, parties, order):
    return make_source(company, clerk, "invoices", mapping=MAPPING)


GOOD = (
    HEADER
    + b"INV-7,ALFKI,SO-1,2024-03-05,2024-04-04,217.00,CHAI,1,10,18.00,10\n"
    + b"INV-7,ALFKI,SO-1,2024-03-05,2024-04-04,217.00,CHANG,2,1,19.00,\n"
)


def test_invoice_lines_are_imported(source, clerk, order):
    assert preview(source, GOOD).errors == []
    batch = commit(source, GOOD, clerk)

    assert batch.documents_created == 1
    invoice = Invoice.objects.get(number="INV-7")
    assert list(
        invoice.lines.order_by("pk").values_list(
            "order_line__line_no",
            "product__sku",
            "qty",
            "unit_price",
            "subtotal",
            "tax_rate",
            "tax_amount",
        )
    ) == [
        (
            1,
            "CHAI",
            Decimal(10),
            Decimal("18.00"),
            Decimal("180.00"),
            Decimal(10),
            Decimal("18.00"),
        ),
        (
            2,
            "CHANG",
            Decimal(1),
            Decimal("19.00"),
            Decimal("19.00"),
            Decimal(0),
            Decimal("0.00"),
        ),
    ]
    assert invoice.amount_total == Decimal("217.00")
    assert invoice.amount_residual == Decimal("217.00")
    assert list(
        order.lines.order_by("line_no").values_list("qty_invoiced", flat=True)
    ) == [Decimal(10), Decimal(1)]


def test_invoice_lines_are_in_the_audit_event(source, clerk):
    commit(source, GOOD, clerk)
    event = AuditEvent.objects.get(action="invoice.imported")
    assert [line["product"] for line in event.after["lines"]] == ["CHAI", "CHANG"]
    assert event.after["lines"][0]["tax_amount"] == "18.00"


def test_invoice_line_without_order_line_number(source, clerk):
    data = HEADER + b"INV-8,ALFKI,,2024-03-05,2024-04-04,36.00,CHAI,,2,18.00,\n"
    commit(source, data, clerk)
    line = Invoice.objects.get(number="INV-8").lines.get()
    assert line.order_line is None
    assert line.subtotal == Decimal("36.00")


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            b"INV-9,ALFKI,SO-1,2024-03-05,2024-04-04,180.00,CHAI,1,,18.00,\n",
            'Row 2, column "Qty": Line quantity is empty. Each row of a file with '
            "invoice lines is one line: fill in its product, quantity and unit "
            "price.",
        ),
        (
            b"INV-9,ALFKI,SO-1,2024-03-05,2024-04-04,180.00,CHAI,3,10,18.00,\n",
            'Row 2, column "Line": order SO-1 has no line 3. Correct the line '
            "number or import the order line first.",
        ),
        (
            b"INV-9,ALFKI,SO-1,2024-03-05,2024-04-04,180.00,CHANG,1,10,18.00,\n",
            'Row 2, column "SKU": line 1 of order SO-1 is for CHAI, not CHANG. '
            "Correct the product or the line number.",
        ),
        (
            b"INV-9,ALFKI,,2024-03-05,2024-04-04,180.00,CHAI,1,10,18.00,\n",
            'Row 2, column "Line": an order line number needs the invoice\'s '
            "order. Fill in the order number, or leave the line number empty.",
        ),
        (
            b"INV-9,ALFKI,SO-1,2024-03-05,2024-04-04,190.00,CHAI,1,10,18.00,\n",
            'Row 2, column "Total": the total of "INV-9" differs from its lines, '
            "which add up to 180.00 with tax. Correct the total or the lines.",
        ),
    ],
)
def test_invoice_line_errors(source, clerk, rows, message):
    data = HEADER + rows
    assert preview(source, data).errors == [message]
    commit(source, data, clerk)
    assert not Invoice.objects.filter(number="INV-9").exists()


def test_invoice_rows_must_agree_on_the_total(source):
    data = (
        HEADER
        + b"INV-7,ALFKI,SO-1,2024-03-05,2024-04-04,217.00,CHAI,1,10,18.00,10\n"
        + b"INV-7,ALFKI,SO-1,2024-03-05,2024-04-04,200.00,CHANG,2,1,19.00,\n"
    )
    assert preview(source, data).errors == [
        'Row 3, column "Total": "200.00" differs from row 2 of "INV-7" ("217.00"). '
        "The rows of one document must agree on it."
    ]


def test_header_only_invoices_still_repeat_as_errors(company, clerk, parties):
    source = make_source(
        company,
        clerk,
        "invoices",
        mapping={
            key: MAPPING[key]
            for key in (
                "number",
                "customer",
                "invoice_date",
                "due_date",
                "amount_total",
            )
        },
    )
    data = (
        b"Invoice,Customer,Date,Due,Total\n"
        b"INV-1,ALFKI,2024-03-01,2024-03-31,10.00\n"
        b"INV-1,ALFKI,2024-03-01,2024-03-31,10.00\n"
    )
    assert preview(source, data).errors == [
        'Row 3, column "Invoice": document number "INV-1" is also on row 2. Each '
        "number may appear once in a file: remove the repeated row or correct its "
        "number."
    ]


def test_xlsx_invoice_lines_are_imported(company, clerk, parties, order):
    source = make_source(
        company, clerk, "invoices", file_format="xlsx", mapping=MAPPING
    )
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER.decode().strip().split(","))
    header = ["INV-X", "ALFKI", "SO-1", date(2024, 3, 5), date(2024, 4, 4), "217.00"]
    sheet.append([*header, "CHAI", 1, 10, "18.00", 10])
    sheet.append([*header, "CHANG", 2, 1, "19.00", None])
    buffer = io.BytesIO()
    workbook.save(buffer)

    commit(source, buffer.getvalue(), clerk, name="invoices.xlsx")

    invoice = Invoice.objects.get(number="INV-X")
    assert list(
        invoice.lines.order_by("pk").values_list(
            "product__sku", "subtotal", "tax_amount"
        )
    ) == [
        ("CHAI", Decimal("180.00"), Decimal("18.00")),
        ("CHANG", Decimal("19.00"), Decimal("0.00")),
    ]
    assert invoice.amount_total == Decimal("217.00")
