"""Binary files uploaded as CSV, XLSX or CAMT.053 are rejected as binary.

A binary file read as CSV used to come out as one header row of garbage
and no data rows. Each reader now names the offset of the first binary
byte and what to upload instead, and nothing is written.
"""

import codecs
import io
import zipfile

import pytest

from imports.models import ImportBatch
from imports.tests.conftest import FILES, make_source
from imports.tests.test_tables import PAYMENTS_HEADER, commit, preview
from reconciliation.models import Payment

pytestmark = pytest.mark.django_db

GARBAGE = b"\x00\x00\x00\x00garbage binary"
OTHER_FILE = (
    "Export the data again as CSV (UTF-8 text), or check that you chose the right file."
)


def test_nul_bytes_csv_rejected(payments_source, clerk):
    assert preview(payments_source, GARBAGE).errors == [
        "The file is not a text CSV file: it contains binary data (byte 0x00) at "
        f"offset 0. {OTHER_FILE}"
    ]
    batch = commit(payments_source, GARBAGE, clerk)
    assert batch.status == ImportBatch.Status.FAILED
    assert Payment.objects.count() == 0


def test_binary_after_header_line_rejected(payments_source):
    data = PAYMENTS_HEADER.encode() + bytes(range(1, 40))
    offset = len(PAYMENTS_HEADER)

    assert preview(payments_source, data).errors == [
        "The file is not a text CSV file: it contains binary data (byte 0x01) at "
        f"offset {offset}. {OTHER_FILE}"
    ]


def test_workbook_uploaded_as_csv_names_xlsx(payments_source):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")

    [message] = preview(payments_source, buffer.getvalue()).errors

    assert message.startswith(
        "The file is not a text CSV file: it contains binary data (byte 0x03) at "
        "offset 2. It starts like a zip archive, which is what an Excel workbook "
        "(.xlsx) is: choose a source for XLSX files"
    )


def test_old_excel_workbook_named(payments_source):
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64)

    [message] = preview(payments_source, data).errors

    assert "binary data (byte 0x11) at offset 2" in message
    assert "Excel 97-2003 workbook (.xls)" in message


def test_stray_nul_in_a_cell_still_commits(payments_source, clerk):
    row = "P-1,ALFKI,2024-03-01,USD,10.00,INV\x00-1\n"
    batch = commit(payments_source, (PAYMENTS_HEADER + row).encode(), clerk)

    assert batch.status == ImportBatch.Status.COMMITTED
    assert Payment.objects.get().reference == "INV-1"


def test_many_control_bytes_in_rows_rejected(payments_source):
    rows = "".join(f"P-{n},ALFKI,2024-03-01,USD,1.00,\x07\n" for n in range(17))
    data = (PAYMENTS_HEADER + rows).encode()
    offset = data.index(b"\x07")

    assert preview(payments_source, data).errors == [
        "The file is not a text CSV file: it contains binary data (byte 0x07) at "
        f"offset {offset}. {OTHER_FILE}"
    ]


def test_utf16_csv_is_text(payments_source):
    text = PAYMENTS_HEADER + "P-1,ALFKI,2024-03-01,USD,10.00,INV-1\n"
    data = codecs.BOM_UTF16_LE + text.encode("utf-16-le")

    result = preview(payments_source, data)

    assert result.errors == []
    assert result.encoding == "utf-16"


def test_trailing_ctrl_z_is_text(payments_source):
    data = (PAYMENTS_HEADER + "P-1,ALFKI,2024-03-01,USD,10.00,INV-1\n").encode()

    assert preview(payments_source, data + b"\x1a").errors == []


def test_binary_xlsx_upload_names_offset(company, clerk):
    source = make_source(company, clerk, "payments", file_format="xlsx", mapping={})

    assert preview(source, GARBAGE, name="p.xlsx").errors == [
        '"p.xlsx" is not an Excel workbook (.xlsx): it contains binary data '
        "(byte 0x00) at offset 0 and is not a zip archive, as every .xlsx file "
        "is. Open it in a spreadsheet program and save it as an Excel Workbook "
        "(.xlsx), or check that you chose the right file."
    ]


def test_zip_without_workbook_rejected(company, clerk):
    source = make_source(company, clerk, "payments", file_format="xlsx", mapping={})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("photos/box.txt", "not a sheet")

    assert preview(source, buffer.getvalue(), name="p.xlsx").errors == [
        '"p.xlsx" is a zip archive but not an Excel workbook: it has no '
        "xl/workbook.xml. Save the sheet as an Excel Workbook (.xlsx) and "
        "upload that, or unpack the archive and upload the workbook inside."
    ]


def test_binary_camt_names_offset(bank_source, clerk):
    assert preview(bank_source, GARBAGE, name="march.xml").errors == [
        "The file is not an XML text file: it contains binary data (byte 0x00) "
        "at offset 0. Export the statement from the bank again as ISO 20022 "
        "camt.053 XML, or check that you chose the right file."
    ]
    batch = commit(bank_source, GARBAGE, clerk, name="march.xml")
    assert batch.status == ImportBatch.Status.FAILED
    assert Payment.objects.count() == 0


def test_zipped_camt_says_unpack(bank_source):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("march.xml", (FILES / "camt053_v02.xml").read_bytes())

    [message] = preview(bank_source, buffer.getvalue(), name="march.xml").errors

    assert message.endswith(
        "It starts like a zip archive: banks often send statements zipped, so "
        "unpack it and upload the XML file inside."
    )
