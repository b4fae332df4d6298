"""Re-imported rows that differ from the books: reported, and the commit stops.

Each test commits a file, then a second file that repeats a key with other
values. The preview lists the conflict and offers no commit, and the commit
records a failed batch with the same message and changes nothing.
"""

from decimal import Decimal

import pytest

from imports.models import BankStatementLine, ImportBatch
from imports.tests.conftest import FILES, make_source
from imports.tests.test_invoice_lines import GOOD as INVOICE_LINES
from imports.tests.test_invoice_lines import MAPPING as INVOICE_LINES_MAPPING
from imports.tests.test_tables import PAYMENTS_HEADER, commit, preview
from reconciliation.models import (
    Invoice,
    InvoiceLine,
    Payment,
    SalesOrderLine,
    Shipment,
)

pytestmark = pytest.mark.django_db

FIX = (
    "Correct the file to match the books, or change the document in the CRM, "
    "then upload the file again."
)


def assert_blocked(source, clerk, data: bytes, messages: list[str]) -> None:
    """Check the preview and the commit of ``data`` against ``messages``."""
    batches = ImportBatch.objects.count()
    result = preview(source, data)

    assert result.errors == []
    assert [conflict.message for conflict in result.conflicts] == messages
    assert not result.can_commit

    batch = commit(source, data, clerk)

    assert batch.status == ImportBatch.Status.FAILED
    assert batch.error == "\n".join(messages)
    assert batch.documents_created == 0
    assert ImportBatch.objects.count() == batches + 1


def test_payment_amount_conflict(payments_source, clerk):
    commit(
        payments_source,
        (PAYMENTS_HEADER + "BANK-1,ALFKI,2024-03-01,USD,1402.00,x\n").encode(),
        clerk,
    )
    data = (
        PAYMENTS_HEADER
        + "BANK-1,ALFKI,2024-03-01,USD,999.00,x\nP-2,BONAP,2024-03-02,USD,2.00,y\n"
    ).encode()

    assert_blocked(
        payments_source,
        clerk,
        data,
        [
            'Row 2: payment "BANK-1" is already in the books with other values: '
            f"Amount is 1,402.00 in the books and 999.00 in the file. {FIX}"
        ],
    )
    assert list(Payment.objects.values_list("number", "amount")) == [
        ("BANK-1", Decimal("1402.00"))
    ]


def test_payment_several_fields_conflict(payments_source, clerk):
    commit(
        payments_source,
        (PAYMENTS_HEADER + "P-1,ALFKI,2024-03-01,USD,10.00,x\n").encode(),
        clerk,
    )
    data = (PAYMENTS_HEADER + "P-1,BONAP,2024-03-05,USD,10.00,other\n").encode()

    assert_blocked(
        payments_source,
        clerk,
        data,
        [
            'Row 2: payment "P-1" is already in the books with other values: '
            "Customer code is ALFKI in the books and BONAP in the file; Value date "
            "is 2024-03-01 in the books and 2024-03-05 in the file; Reference is "
            f'"x" in the books and "other" in the file. {FIX}'
        ],
    )


def test_equal_payment_is_still_skipped(payments_source, clerk):
    commit(
        payments_source,
        (PAYMENTS_HEADER + "P-1,ALFKI,2024-03-01,USD,10.00,x\n").encode(),
        clerk,
    )
    data = (
        PAYMENTS_HEADER
        + "P-1,ALFKI,2024-03-01,USD,10.0,x \nP-2,BONAP,2024-03-02,USD,2.00,y\n"
    ).encode()

    result = preview(payments_source, data)
    assert result.conflicts == []
    assert result.can_commit
    batch = commit(payments_source, data, clerk)

    assert batch.status == ImportBatch.Status.COMMITTED
    assert (batch.rows_created, batch.rows_existing) == (1, 1)


ORDERS_HEADER = "order number;Customer;Order Date;Promised;Line;SKU;Qty;Price\n"


def test_order_header_and_line_conflicts(orders_source, clerk):
    commit(orders_source, (FILES / "orders_bom_semicolon.csv").read_bytes(), clerk)
    line = SalesOrderLine.objects.get(order__number="SO-9001", line_no=1)
    order = line.order
    data = (
        ORDERS_HEADER
        + f"SO-9001;{order.customer.code};02.01.2024;"
        + f"{order.promised_date:%d.%m.%Y};1;CHAI;7;"
        + f"{line.unit_price}".replace(".", ",")
        + "\n"
    ).encode()

    messages = [
        'Row 2: order "SO-9001" is already in the books with other values: Order '
        f"date is {order.order_date.isoformat()} in the books and 2024-01-02 in "
        f"the file. {FIX}",
        'Row 2: line 1 of order "SO-9001" is already in the books with other '
        f"values: Quantity is {line.qty_ordered.normalize():f} in the books and 7 "
        f"in the file. {FIX}",
    ]
    assert_blocked(orders_source, clerk, data, messages)
    line.refresh_from_db()
    assert line.qty_ordered != Decimal(7)


def test_order_line_missing_from_books(orders_source, clerk):
    commit(orders_source, (FILES / "orders_bom_semicolon.csv").read_bytes(), clerk)
    order = SalesOrderLine.objects.get(order__number="SO-9001", line_no=1).order
    row = (
        f"SO-9001;{order.customer.code};{order.order_date:%d.%m.%Y};"
        f"{order.promised_date:%d.%m.%Y}"
    )
    data = (ORDERS_HEADER + row + ";9;CHAI;1;1,00\n").encode()

    assert_blocked(
        orders_source,
        clerk,
        data,
        [
            'Row 2: line 9 of order "SO-9001" is already in the books with other '
            f"values: Line number is missing in the books and present in the file. "
            f"{FIX}"
        ],
    )


@pytest.fixture
def shipments_source(company, clerk, orders_source):
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
            "carrier": "Carrier",
        },
    )
    commit(
        source,
        b"Shipment,Order,Shipped,Line,Qty,Carrier\nSH-1,SO-9001,2024-04-10,1,10,DHL\n",
        clerk,
    )
    return source


def test_shipment_conflicts(shipments_source, clerk):
    data = (
        b"Shipment,Order,Shipped,Line,Qty,Carrier\n"
        b"SH-1,SO-9001,2024-04-11,1,12,UPS\n"
        b"SH-1,SO-9001,2024-04-11,2,1,UPS\n"
    )

    assert_blocked(
        shipments_source,
        clerk,
        data,
        [
            'Row 2: shipment "SH-1" is already in the books with other values: '
            "Shipped on is 2024-04-10 in the books and 2024-04-11 in the file; "
            f'Carrier is "DHL" in the books and "UPS" in the file. {FIX}',
            'Row 2: order line 1 of shipment "SH-1" is already in the books with '
            f"other values: Quantity shipped is 10 in the books and 12 in the file. "
            f"{FIX}",
            'Row 3: order line 2 of shipment "SH-1" is already in the books with '
            "other values: Order line number is missing in the books and present "
            f"in the file. {FIX}",
        ],
    )
    assert Shipment.objects.get(number="SH-1").lines.count() == 1


INVOICES_HEADER = b"Invoice,Customer,Date,Due,Total\n"


def test_invoice_total_conflict(company, clerk, parties):
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
    commit(
        source, INVOICES_HEADER + b"INV-1,ALFKI,2024-03-01,2024-03-31,1552.22\n", clerk
    )
    data = INVOICES_HEADER + b"INV-1,ALFKI,2024-03-01,2024-04-30,1552.20\n"

    assert_blocked(
        source,
        clerk,
        data,
        [
            'Row 2: invoice "INV-1" is already in the books with other values: '
            "Due date is 2024-03-31 in the books and 2024-04-30 in the file; "
            f"Total amount is 1,552.22 in the books and 1,552.20 in the file. {FIX}"
        ],
    )
    assert Invoice.objects.get().amount_total == Decimal("1552.22")


def test_invoice_line_conflict(company, clerk, parties, order):
    source = make_source(company, clerk, "invoices", mapping=INVOICE_LINES_MAPPING)
    commit(source, INVOICE_LINES, clerk)
    # Tax 0 % in place of 10 % on the first line, with the total to match.
    data = INVOICE_LINES.replace(b"217.00", b"199.00").replace(b",10\n", b",0\n")

    assert_blocked(
        source,
        clerk,
        data,
        [
            'Row 2: invoice "INV-7" is already in the books with other values: '
            f"Total amount is 217.00 in the books and 199.00 in the file. {FIX}",
            'Row 2: line 1 of invoice "INV-7" is already in the books with other '
            f"values: Line tax % is 10 in the books and 0 in the file. {FIX}",
        ],
    )
    assert list(
        InvoiceLine.objects.order_by("pk").values_list("tax_rate", flat=True)
    ) == [
        Decimal(10),
        Decimal(0),
    ]


def test_statement_entry_conflict(bank_source, clerk):
    original = (FILES / "camt053_v02.xml").read_bytes()
    commit(bank_source, original, clerk)
    data = original.replace(b">363.60<", b">999.00<").replace(b"INV-1001", b"INV-1002")

    assert_blocked(
        bank_source,
        clerk,
        data,
        [
            'Entry 1: entry "BANK-REF-0001" of statement "STMT-2024-03" is already '
            "in the books with other values: Amount is 363.60 in the books and "
            '999.00 in the file; Remittance is "INV-1001" in the books and '
            f'"INV-1002" in the file. {FIX}'
        ],
    )
    assert list(
        BankStatementLine.objects.order_by("pk").values_list("amount", flat=True)
    ) == [Decimal("363.60"), Decimal("12.50")]
    assert Payment.objects.count() == 1


def test_conflict_shows_on_preview_page(client, payments_source, clerk):
    from django.urls import reverse

    from imports.services import stage_upload

    commit(
        payments_source,
        (PAYMENTS_HEADER + "BANK-1,ALFKI,2024-03-01,USD,1402.00,x\n").encode(),
        clerk,
    )
    sha256 = stage_upload(
        data=(PAYMENTS_HEADER + "BANK-1,ALFKI,2024-03-01,USD,999.00,x\n").encode(),
        file_name="again.csv",
    )
    client.force_login(clerk)

    html = client.get(
        reverse("imports:preview", args=[payments_source.pk, sha256])
    ).content.decode()

    assert "Conflicts with the books (1)" in html
    assert "Amount is 1,402.00 in the books and 999.00 in the file" in html
    assert ">Commit</button>" not in html
