"""Read an uploaded CSV or XLSX file into a header and rows of text cells.

CSV: a byte order mark decides the encoding. Without one, UTF-8 is tried and
then Windows-1252, which covers Latin-1's printable characters. The
delimiter is the one of ``;``, ``,``, tab and ``|`` that the header line
contains most. XLSX: openpyxl reads the first sheet in read-only mode with
cached values, after the archive is checked for macros and for an
uncompressed size out of proportion to the upload. Both enforce
``IMPORT_MAX_FILE_BYTES``, ``IMPORT_MAX_ROWS`` and
``IMPORT_MAX_BLANK_LINES``. CSV also enforces ``IMPORT_MAX_LINES``, and
reading stops at the first line past a limit.

Every cell is cleaned with ``core.text.clean_line``: control characters
(NUL included, which PostgreSQL cannot store in text) and invisible format
characters are removed, and runs of whitespace become one space.

Headers are matched as ``accounts.importing.normalize_header`` folds them, so
" Order Number" and "order_number" are the same column.
"""

import codecs
import csv
import io
import itertools
import logging
import math
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

from django.conf import settings

from accounts.importing import normalize_header
from core.text import clean_line

logger = logging.getLogger(__name__)

DELIMITERS = (";", ",", "\t", "|")
FALLBACK_ENCODING = "cp1252"
# An XLSX archive may unpack to at most this many times the largest upload.
XLSX_MAX_EXPANSION = 20
MACRO_EXTENSIONS = (".xlsm", ".xltm", ".xlam")
# The widest sheet read: a cell past column ALL (1,000) rejects the file.
XLSX_MAX_COLUMNS = 1_000


# C0 control bytes that a text file does not contain: all but tab, line
# feed, form feed and carriage return. Ctrl-Z (0x1a) ends some old DOS
# exports, so it is allowed as the last byte only.
CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f]")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")
# A text export may carry a few stray control bytes in its cells, which
# ``clean_line`` removes. A file is taken for binary when its header line
# has one, or when more than this many are in its first BINARY_SCAN_BYTES.
MAX_STRAY_CONTROL_BYTES = 16
BINARY_SCAN_BYTES = 64 * 1024
# Leading bytes of binary files that people upload by mistake, with what to
# do instead of uploading them as CSV or XML.
BINARY_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (
        b"PK\x03\x04",
        "It starts like a zip archive, which is what an Excel workbook (.xlsx) "
        "is: choose a source for XLSX files, or save it as CSV UTF-8 in the "
        "spreadsheet program and upload that.",
    ),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "It starts like an Excel 97-2003 workbook (.xls): save it as CSV UTF-8 "
        "or as an Excel Workbook (.xlsx) and upload that.",
    ),
    (
        b"%PDF-",
        "It is a PDF: export the data from the program that made the PDF as "
        "CSV instead.",
    ),
    (
        b"\x1f\x8b",
        "It is a gzip archive: unpack it and upload the file inside.",
    ),
)
BINARY_ADVICE = (
    "Export the data again as CSV (UTF-8 text), or check that you chose the right file."
)


class ImportFileError(Exception):
    """An error for a file that cannot be read as a whole; the message has the fix."""


@dataclass(frozen=True)
class Table:
    """The header and the data rows of a file; each row keeps its row number."""

    header: list[str]
    rows: list[tuple[int, list[str]]]
    file_format: str
    encoding: str = ""
    delimiter: str = ""
    # Problems the reader found in single cells, by row number and position:
    # a workbook formula without a saved value, or a number that is NaN.
    cell_problems: dict[tuple[int, int], str] = field(default_factory=dict)

    def column_index(self) -> dict[str, int]:
        """Return the position of each normalized header, the first one wins."""
        index: dict[str, int] = {}
        for position, raw in enumerate(self.header):
            index.setdefault(normalize_header(raw), position)
        return index


def check_size(data: bytes) -> None:
    limit = settings.IMPORT_MAX_FILE_BYTES
    if len(data) > limit:
        raise ImportFileError(
            f"The file is {len(data):,} bytes, more than the limit of {limit:,} "
            "bytes (IMPORT_MAX_FILE_BYTES). Split it into smaller files."
        )
    if not data:
        raise ImportFileError("The file is empty. Choose the exported file again.")


def check_row_count(count: int) -> None:
    limit = settings.IMPORT_MAX_ROWS
    if count > limit:
        raise ImportFileError(
            f"The file has more than {limit:,} data rows (IMPORT_MAX_ROWS). "
            "Split it into smaller files."
        )


def read_table(data: bytes, *, file_name: str, file_format: str) -> Table:
    """Return the header and rows of a CSV or XLSX upload."""
    check_size(data)
    if file_format == "xlsx":
        return read_xlsx(data, file_name=file_name)
    return read_csv(data)


def decode(data: bytes) -> tuple[str, str]:
    """Return the text and the encoding used: BOM, else UTF-8, else cp1252."""
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(encoding).removeprefix("\ufeff"), encoding
            except UnicodeDecodeError as error:
                raise ImportFileError(
                    f"The file starts with a {encoding} byte order mark but byte "
                    f"{error.start} cannot be decoded. Save it again as CSV UTF-8."
                ) from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode(FALLBACK_ENCODING), FALLBACK_ENCODING
    except UnicodeDecodeError:
        # Latin-1 maps every byte, including the five cp1252 leaves undefined.
        return data.decode("latin-1"), "latin-1"


def sniff_delimiter(text: str) -> str:
    header = _first_line_with_text(text)
    # A quoted header may contain a delimiter that does not split columns.
    unquoted = re.sub(r'"[^"]*"', "", header)
    counts = {delimiter: unquoted.count(delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=counts.__getitem__)
    return best if counts[best] else ","


def _first_line_with_text(text: str) -> str:
    """Return the first line that is not blank, or "" when none is near the top.

    Only the lines that ``IMPORT_MAX_BLANK_LINES`` allows are looked at, so
    a file of blank lines is not split whole here. ``read_csv`` then rejects
    it with the line number.
    """
    lines = re.finditer(r"[^\r\n]+", text)
    for match in itertools.islice(lines, settings.IMPORT_MAX_BLANK_LINES + 1):
        if match.group().strip():
            return match.group()
    return ""


@dataclass(frozen=True)
class BinaryData:
    """The first control byte of a file that should be text: its offset and value."""

    offset: int
    value: int


def find_binary_data(
    data: bytes, *, encoding: str = "", text: str = ""
) -> BinaryData | None:
    """Return the first control byte of ``data`` if the file is binary, else None.

    The file is binary when its first line has a control byte, or when more
    than ``MAX_STRAY_CONTROL_BYTES`` are in its first ``BINARY_SCAN_BYTES``.
    For UTF-16 (``encoding`` "utf-16", with ``text`` decoded) the decoded
    characters are checked, because every other byte of ASCII is NUL there.
    """
    if encoding == "utf-16":
        chars = text[: BINARY_SCAN_BYTES // 2]
        found = [match.start() for match in CONTROL_CHARACTERS.finditer(chars)]
        line_end = chars.find("\n")
        if not found or not _is_binary(found, line_end):
            return None
        first = found[0]
        # The byte order mark takes the first 2 bytes.
        offset = 2 + len(chars[:first].encode("utf-16-le"))
        return BinaryData(offset, ord(chars[first]))
    head = data[:BINARY_SCAN_BYTES]
    if len(data) <= BINARY_SCAN_BYTES:
        head = head.removesuffix(b"\x1a")
    found = [match.start() for match in CONTROL_BYTES.finditer(head)]
    if not found or not _is_binary(found, head.find(b"\n")):
        return None
    return BinaryData(found[0], data[found[0]])


def _is_binary(found: list[int], line_end: int) -> bool:
    in_first_line = line_end < 0 or found[0] < line_end
    return in_first_line or len(found) > MAX_STRAY_CONTROL_BYTES


def binary_file_message(
    data: bytes, binary: BinaryData, *, expected: str, advice: str = ""
) -> str:
    """Build the message for a binary upload, naming the offset and the fix.

    ``expected`` names the text format, such as "a text CSV file". Without
    ``advice``, the advice fits the file's signature, or is ``BINARY_ADVICE``.
    """
    advice = advice or next(
        (hint for signature, hint in BINARY_SIGNATURES if data.startswith(signature)),
        BINARY_ADVICE,
    )
    return (
        f"The file is not {expected}: it contains binary data (byte "
        f"0x{binary.value:02x}) at offset {binary.offset:,}. {advice}"
    )


def read_csv(data: bytes) -> Table:
    text, encoding = decode(data)
    binary = find_binary_data(data, encoding=encoding, text=text)
    if binary is not None:
        raise ImportFileError(
            binary_file_message(data, binary, expected="a text CSV file")
        )
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[tuple[int, list[str]]] = []
    blank = 0
    line = 1
    try:
        for cells in reader:
            # Blank lines and rows of empty cells (Excel's ";;;;") carry nothing.
            cleaned = [clean_line(cell) for cell in cells]
            if any(cleaned):
                rows.append((line, cleaned))
                check_row_count(len(rows) - 1)
            else:
                blank += 1
                check_blank_count(blank, where=f"line {line:,}", unit="lines")
            check_line_count(reader.line_num)
            line = reader.line_num + 1
    except csv.Error as error:
        raise ImportFileError(
            f"The file is not valid CSV at line {reader.line_num}: {error}. "
            "Check the quotes on that line."
        ) from None
    header, data_rows = _split_header(rows)
    return Table(
        header=header,
        rows=data_rows,
        file_format="csv",
        encoding=encoding,
        delimiter=delimiter,
    )


def check_blank_count(count: int, *, where: str, unit: str) -> None:
    """Reject a file whose ``count``-th blank line or empty row is past the limit."""
    limit = settings.IMPORT_MAX_BLANK_LINES
    if count > limit:
        raise ImportFileError(
            f"The file has more than {limit:,} blank {unit} "
            f"(IMPORT_MAX_BLANK_LINES): {where} is blank {unit[:-1]} {count:,}. "
            f"Delete the blank {unit}, or split the file."
        )


def check_line_count(lines_read: int) -> None:
    """Reject a CSV file once more lines than ``IMPORT_MAX_LINES`` were read."""
    limit = settings.IMPORT_MAX_LINES
    if lines_read > limit:
        raise ImportFileError(
            f"The file has more than {limit:,} lines (IMPORT_MAX_LINES), counting "
            f"blank lines and the lines inside quoted cells: reading stopped at "
            f"line {lines_read:,}. Delete the blank lines, or split the file."
        )


def _split_header(
    rows: list[tuple[int, list[str]]],
) -> tuple[list[str], list[tuple[int, list[str]]]]:
    if not rows:
        raise ImportFileError("The file has no header row. Export it with headers.")
    (header_row, header), *data_rows = rows
    if not data_rows:
        raise ImportFileError(
            f"The file has a header on row {header_row} but no data rows."
        )
    return header, data_rows


def check_xlsx_archive(data: bytes, *, file_name: str) -> None:
    """Reject macro workbooks, non-workbooks and archives that unpack too large."""
    if file_name.lower().endswith(MACRO_EXTENSIONS):
        raise ImportFileError(
            f'"{file_name}" is a macro-enabled workbook. Macros are not accepted: '
            "save it as an Excel Workbook (.xlsx) and upload that."
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ImportFileError(_not_a_workbook_message(data, file_name)) from None
    with archive:
        names = archive.namelist()
        content_types = (
            archive.read("[Content_Types].xml")
            if "[Content_Types].xml" in names
            else b""
        )
        unpacked = sum(info.file_size for info in archive.infolist())
    if any(name.lower().endswith("vbaproject.bin") for name in names) or (
        b"macroEnabled" in content_types
    ):
        raise ImportFileError(
            f'"{file_name}" contains macros, which are not accepted. Save it as an '
            "Excel Workbook (.xlsx) without macros and upload that."
        )
    limit = settings.IMPORT_MAX_FILE_BYTES * XLSX_MAX_EXPANSION
    if unpacked > limit:
        raise ImportFileError(
            f'"{file_name}" unpacks to {unpacked:,} bytes, more than {limit:,}. '
            "Remove unused sheets or split the workbook."
        )
    if "xl/workbook.xml" not in names:
        raise ImportFileError(
            f'"{file_name}" is a zip archive but not an Excel workbook: it has '
            "no xl/workbook.xml. Save the sheet as an Excel Workbook (.xlsx) and "
            "upload that, or unpack the archive and upload the workbook inside."
        )


def _not_a_workbook_message(data: bytes, file_name: str) -> str:
    """Build the message for an XLSX upload that is not a zip archive.

    The message distinguishes text (perhaps a CSV file) from binary data.
    """
    text, encoding = decode(data)
    binary = find_binary_data(data, encoding=encoding, text=text)
    if binary is None:
        found = "it is text, perhaps a CSV file"
        advice = "Choose a source for CSV files, or save it as .xlsx."
    else:
        found = (
            f"it contains binary data (byte 0x{binary.value:02x}) at offset "
            f"{binary.offset:,} and is not a zip archive, as every .xlsx file is"
        )
        advice = (
            "Open it in a spreadsheet program and save it as an Excel Workbook "
            "(.xlsx), or check that you chose the right file."
        )
    return f'"{file_name}" is not an Excel workbook (.xlsx): {found}. {advice}'


def read_xlsx(data: bytes, *, file_name: str) -> Table:
    check_xlsx_archive(data, file_name=file_name)
    rows: list[tuple[int, list[str]]] = []
    problems: dict[tuple[int, int], str] = {}
    empty: set[tuple[int, int]] = set()
    blank = 0
    for number, values in _sheet_rows(data, file_name, data_only=True):
        cells = [cell_text(value) for value in values]
        if not any(cells):
            blank += 1
            check_blank_count(blank, where=f"row {number:,}", unit="rows")
            continue
        rows.append((number, cells))
        check_row_count(len(rows) - 1)
        for position, value in enumerate(values):
            if value is None:
                empty.add((number, position))
            elif isinstance(value, float) and not math.isfinite(value):
                problems[(number, position)] = (
                    f'the cell contains "{cells[position]}", which is not a number. '
                    "Enter a number."
                )
    if empty:
        problems.update(_formulas_without_values(data, file_name, empty))
    header, data_rows = _split_header(rows)
    return Table(
        header=header, rows=data_rows, file_format="xlsx", cell_problems=problems
    )


def _sheet_rows(
    data: bytes, file_name: str, *, data_only: bool
) -> Iterator[tuple[int, tuple[object, ...]]]:
    """Yield the row number and the values of each row of the first sheet.

    With ``data_only`` a formula cell reads as the value the spreadsheet
    program saved with it, else as the formula text.
    """
    # Imported here so that reading CSV files does not load openpyxl.
    from openpyxl import load_workbook
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    # Empty rows count: a row number past the header row plus IMPORT_MAX_ROWS
    # rejects the file, and openpyxl stops parsing one row after that.
    last_row = settings.IMPORT_MAX_ROWS + 1
    number = 0
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=data_only)
        try:
            sheet = workbook.worksheets[0]
            # The sheet's <dimension> element is written by whatever made the
            # file. openpyxl pads every row to its width and adds empty rows up
            # to its height. A 1.5 KB file declaring A1:XFD1048576 would take
            # about an hour (an estimate from 7.4 s per 2,000 rows). Without
            # the dimension, a row is as wide as its last cell.
            if isinstance(sheet, ReadOnlyWorksheet):
                sheet.reset_dimensions()
            rows = sheet.iter_rows(max_row=last_row + 1, values_only=True)
            for number, values in enumerate(rows, start=1):
                check_sheet_size(file_name, number, len(values))
                yield number, values
        finally:
            workbook.close()
    except ImportFileError:
        raise
    except Exception as error:  # openpyxl raises many types for a broken file.
        logger.info("imports.xlsx_unreadable file=%s error=%r", file_name, error)
        where = f" after row {number}" if number else ""
        raise ImportFileError(
            f'"{file_name}" cannot be read as an Excel workbook{where} ({error}). '
            "A number cell may hold text such as NaN. Open it in a spreadsheet "
            "program and save it again as .xlsx."
        ) from None


def check_sheet_size(file_name: str, row: int, width: int) -> None:
    """Reject a sheet row past the row limit or a cell past ``XLSX_MAX_COLUMNS``."""
    from openpyxl.utils import get_column_letter

    limit = settings.IMPORT_MAX_ROWS
    if row > limit + 1:
        raise ImportFileError(
            f'"{file_name}" has more than {limit + 1:,} rows, counting empty '
            f"rows: a header and at most {limit:,} data rows (IMPORT_MAX_ROWS). "
            "Delete the empty rows below the data, or split the file."
        )
    if width > XLSX_MAX_COLUMNS:
        last = get_column_letter(XLSX_MAX_COLUMNS)
        raise ImportFileError(
            f'"{file_name}" has a cell in column {get_column_letter(width)} of row '
            f"{row}, but at most {XLSX_MAX_COLUMNS:,} columns (A to {last}) are "
            "read. Delete the columns to the right of the data, even empty ones."
        )


def _formulas_without_values(
    data: bytes, file_name: str, empty: set[tuple[int, int]]
) -> dict[tuple[int, int], str]:
    """Explain the empty cells that contain a formula but no saved value.

    openpyxl does not compute formulas. A file written by a program that
    does not save the results (openpyxl itself, many export scripts) has
    formulas whose value is missing.
    """
    last_row = max(number for number, _ in empty)
    problems: dict[tuple[int, int], str] = {}
    for number, values in _sheet_rows(data, file_name, data_only=False):
        if number > last_row:
            break
        for position, value in enumerate(values):
            if (number, position) not in empty:
                continue
            if isinstance(value, str) and value.startswith("="):
                problems[(number, position)] = (
                    f'the cell contains the formula "{value}" but no saved value. Open '
                    "the file in a spreadsheet program and save it, or paste the "
                    "values in place of the formulas."
                )
    return problems


def cell_text(value: object) -> str:
    """Return a workbook cell as the text a CSV export would hold."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        # repr gives the shortest text that reads back as the same float.
        return format(Decimal(repr(value)), "f")
    return clean_line(str(value))
