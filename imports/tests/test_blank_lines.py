"""Blank lines and line counts of CSV files, and empty rows of XLSX sheets.

A file of millions of blank lines fits in the upload size limit. Reading
stops at the first blank line past ``IMPORT_MAX_BLANK_LINES`` and at the
first line past ``IMPORT_MAX_LINES``, with the limit and the line number in
the message, and no document is written.
"""

import pytest

from core.models import AuditEvent
from imports.models import ImportBatch
from imports.reading import read_table
from imports.tests.test_tables import (
    PAYMENTS_HEADER,
    commit,
    preview,
    xlsx_payments_source,
)
from imports.tests.test_xlsx_sizes import workbook_bytes
from reconciliation.models import Payment

pytestmark = pytest.mark.django_db

ROW = "P-{n},ALFKI,2024-03-01,USD,10.00,ref {n}\n"


def payments_csv(*lines: str) -> bytes:
    return (PAYMENTS_HEADER + "".join(lines)).encode()


def blank_message(limit: int, line: int) -> str:
    return (
        f"The file has more than {limit:,} blank lines (IMPORT_MAX_BLANK_LINES): "
        f"line {line:,} is blank line {limit + 1:,}. Delete the blank lines, or "
        "split the file."
    )


def test_blank_lines_at_limit_commit(payments_source, clerk, settings):
    settings.IMPORT_MAX_BLANK_LINES = 3
    data = payments_csv(ROW.format(n=1), "\n", ",,,,,\n", "\n", ROW.format(n=2))

    assert preview(payments_source, data).errors == []
    batch = commit(payments_source, data, clerk)

    assert batch.status == ImportBatch.Status.COMMITTED
    assert Payment.objects.count() == 2


def test_blank_lines_past_limit_write_nothing(payments_source, clerk, settings):
    settings.IMPORT_MAX_BLANK_LINES = 3
    # Rows of empty cells, as a spreadsheet exports them, are blank too.
    data = payments_csv(ROW.format(n=1), "\n", ",,,,,\n", " \n", "\n", ROW.format(n=2))
    message = blank_message(3, 6)

    assert preview(payments_source, data).errors == [message]
    batch = commit(payments_source, data, clerk)

    assert batch.status == ImportBatch.Status.FAILED
    assert batch.error == message
    assert Payment.objects.count() == 0
    assert not AuditEvent.objects.filter(action="payment.imported").exists()


def test_millions_of_blank_lines_stop_early(payments_source, clerk):
    # About 5 MB: within IMPORT_MAX_FILE_BYTES, and 5,000,000 lines long.
    data = payments_csv(ROW.format(n=1), "\n" * 5_000_000)

    assert preview(payments_source, data).errors == [blank_message(10_000, 10_003)]
    assert commit(payments_source, data, clerk).status == ImportBatch.Status.FAILED
    assert Payment.objects.count() == 0


def test_file_of_only_blank_lines(payments_source):
    data = b"\r\n" * 20_000

    assert preview(payments_source, data).errors == [blank_message(10_000, 10_001)]


def test_lines_past_limit_write_nothing(payments_source, clerk, settings):
    settings.IMPORT_MAX_LINES = 4
    at_limit = payments_csv(*(ROW.format(n=n) for n in range(1, 4)))
    past_limit = payments_csv(*(ROW.format(n=n) for n in range(1, 5)))
    message = (
        "The file has more than 4 lines (IMPORT_MAX_LINES), counting blank lines "
        "and the lines inside quoted cells: reading stopped at line 5. Delete the "
        "blank lines, or split the file."
    )

    assert preview(payments_source, at_limit).errors == []
    assert preview(payments_source, past_limit).errors == [message]
    batch = commit(payments_source, past_limit, clerk)
    assert batch.status == ImportBatch.Status.FAILED
    assert Payment.objects.count() == 0


def test_quoted_cell_lines_count(payments_source, settings):
    settings.IMPORT_MAX_LINES = 4
    data = payments_csv('P-1,ALFKI,2024-03-01,USD,10.00,"one\ntwo\nthree\nfour"\n')

    assert preview(payments_source, data).errors == [
        "The file has more than 4 lines (IMPORT_MAX_LINES), counting blank lines "
        "and the lines inside quoted cells: reading stopped at line 5. Delete the "
        "blank lines, or split the file."
    ]


def test_xlsx_empty_rows_past_limit(company, clerk, parties, settings):
    settings.IMPORT_MAX_BLANK_LINES = 2
    source = xlsx_payments_source(company, clerk)
    at_limit = workbook_bytes(("A5", "P-2"), ("B5", "ALFKI"))
    past_limit = workbook_bytes(("A6", "P-2"), ("B6", "ALFKI"))
    message = (
        "The file has more than 2 blank rows (IMPORT_MAX_BLANK_LINES): row 5 is "
        "blank row 3. Delete the blank rows, or split the file."
    )

    table = read_table(at_limit, file_name="p.xlsx", file_format="xlsx")
    assert [number for number, _ in table.rows] == [2, 5]
    assert preview(source, past_limit, name="p.xlsx").errors == [message]
    batch = commit(source, past_limit, clerk, name="p.xlsx")
    assert batch.status == ImportBatch.Status.FAILED
    assert Payment.objects.count() == 0
