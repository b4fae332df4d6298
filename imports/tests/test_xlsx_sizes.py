"""XLSX sheets whose declared or real size exceeds the import limits."""

import io
import re
import zipfile
from datetime import date
from decimal import Decimal
from typing import cast

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from imports.models import ImportBatch
from imports.reading import read_table
from imports.tests.test_tables import commit, preview, xlsx_payments_source
from reconciliation.models import Payment


def workbook_bytes(*cells: tuple[str, str | None]) -> bytes:
    """Return a payments workbook with one data row and the extra ``cells``."""
    workbook = Workbook()
    sheet = cast(Worksheet, workbook.active)
    sheet.append(["Payment", "Customer", "Date", "Amount"])
    sheet.append(["P-1", "ALFKI", date(2024, 3, 5), 12.5])
    for reference, value in cells:
        sheet[reference] = value
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def with_dimension(workbook: bytes, reference: str) -> bytes:
    """Return ``workbook`` with its first sheet's <dimension> set to ``reference``."""
    source = zipfile.ZipFile(io.BytesIO(workbook))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                content, count = re.subn(
                    rb'<dimension ref="[^"]*"',
                    f'<dimension ref="{reference}"'.encode(),
                    content,
                )
                assert count == 1
            target.writestr(info.filename, content)
    return buffer.getvalue()


def test_declared_dimension_is_ignored(company, clerk, parties):
    source = xlsx_payments_source(company, clerk)
    small = with_dimension(workbook_bytes(), "A1:XFD30")
    # Every row and column of the largest sheet Excel allows.
    huge = with_dimension(workbook_bytes(), "A1:XFD1048576")

    table = read_table(small, file_name="p.xlsx", file_format="xlsx")
    assert table.header == ["Payment", "Customer", "Date", "Amount"]
    assert table.rows == [(2, ["P-1", "ALFKI", "2024-03-05", "12.5"])]
    assert preview(source, huge, name="p.xlsx").errors == []
    batch = commit(source, huge, clerk, name="p.xlsx")
    assert batch.status == ImportBatch.Status.COMMITTED
    assert Payment.objects.get().amount == Decimal("12.50")


def test_empty_rows_count_toward_row_limit(company, clerk, parties, settings):
    settings.IMPORT_MAX_ROWS = 100
    source = xlsx_payments_source(company, clerk)
    last_allowed = workbook_bytes(("A101", "end"))
    one_too_far = workbook_bytes(("A102", "end"))
    far_below = with_dimension(workbook_bytes(("A1048576", "x")), "A1:XFD1048576")
    message = (
        '"p.xlsx" has more than 101 rows, counting empty rows: a header and at '
        "most 100 data rows (IMPORT_MAX_ROWS). Delete the empty rows below the "
        "data, or split the file."
    )

    assert preview(source, one_too_far, name="p.xlsx").errors == [message]
    table = read_table(last_allowed, file_name="p.xlsx", file_format="xlsx")
    assert table.rows[-1] == (101, ["end"])
    assert preview(source, far_below, name="p.xlsx").errors == [message]
    batch = commit(source, far_below, clerk, name="p.xlsx")
    assert batch.status == ImportBatch.Status.FAILED
    assert Payment.objects.count() == 0


def test_cell_past_column_limit_rejects_file(company, clerk, parties):
    source = xlsx_payments_source(company, clerk)
    widest = workbook_bytes(("ALL2", "note"))
    too_wide = workbook_bytes(("XFD2", None), ("XFD3", "x"))

    table = read_table(widest, file_name="p.xlsx", file_format="xlsx")
    assert table.rows[0][1][-1] == "note"
    assert len(table.rows[0][1]) == 1000
    assert preview(source, too_wide, name="wide.xlsx").errors == [
        '"wide.xlsx" has a cell in column XFD of row 3, but at most 1,000 columns '
        "(A to ALL) are read. Delete the columns to the right of the data, even "
        "empty ones."
    ]
