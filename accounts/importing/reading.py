"""Read a CSV file into records: decoding, delimiter sniffing, header mapping.

The file may have at most ``IMPORT_MAX_FILE_BYTES`` bytes, ``IMPORT_MAX_LINES``
lines, ``IMPORT_MAX_BLANK_LINES`` blank lines and ``IMPORT_MAX_ROWS`` data
rows, the caps of the order-to-cash imports. The file is read in chunks
(``streaming``), so only its records are kept in memory. Reading stops at
the first byte or line past a cap and nothing is imported.
"""

import codecs
import csv
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, TextIO, cast

from django.conf import settings

from accounts.importing.report import ImportFileError
from accounts.importing.streaming import (
    byte_chunks,
    decoded_chunks,
    is_text_stream,
    split_lines,
    text_chunks,
)

DELIMITERS = (",", ";", "\t", "|")
NAME_COLUMNS = ("first_name", "last_name")
KNOWN_COLUMNS = frozenset(
    (
        "email",
        *NAME_COLUMNS,
        "username",
        "role",
        "title",
        "learner_group",
        "crm_functions",
        "manager_email",
        "employee_number",
        "customer_code",
        "hire_date",
    )
)
# German Excel templates spell the e-mail header "E-Mail".
COLUMN_ALIASES = {"e_mail": "email"}


@dataclass(frozen=True)
class _Record:
    """One data row: its first physical line and its values by column."""

    line: int
    values: dict[str, str]
    # Non-empty cells to the right of the last header column.
    extra_values: list[str]


def normalize_header(header: str) -> str:
    """Return the column name for a header: ``" First Name"`` → ``first_name``."""
    name = _normalize_token(header)
    return COLUMN_ALIASES.get(name, name)


def _normalize_token(text: str) -> str:
    return re.sub(r"[\s\-_]+", "_", text.strip().casefold())


def _describe_delimiter(delimiter: str) -> str:
    return "tab" if delimiter == "\t" else f'"{delimiter}"'


def _check_delimiter(delimiter: str | None) -> str | None:
    if delimiter is None:
        return None
    delimiter = {"tab": "\t", "\\t": "\t"}.get(delimiter.casefold(), delimiter)
    if len(delimiter) != 1 or delimiter in '"\r\n':
        raise ImportFileError(
            f"Invalid delimiter {delimiter!r}: use one character such as "
            '",", ";", "|" or "tab".'
        )
    return delimiter


def _check_encoding(encoding: str) -> str:
    try:
        # Decoding raises LookupError for unknown names and for codecs that do
        # not turn bytes into text, such as base64. Empty bytes would skip the
        # lookup, so one byte is decoded.
        b"a".decode(encoding)
    except LookupError:
        raise ImportFileError(
            f'Unknown encoding "{encoding}": use a Python codec name such as '
            "utf-8, cp1252 or latin-1."
        ) from None
    except UnicodeDecodeError:
        # A text codec whose characters take several bytes, such as utf-16.
        pass
    name = codecs.lookup(encoding).name
    return "utf-8-sig" if name == "utf-8" else name


def _sniff_delimiter(header: str) -> str:
    # Quoted headers may contain a delimiter that does not split columns.
    unquoted = re.sub(r'"[^"]*"', "", header)
    counts = {delimiter: unquoted.count(delimiter) for delimiter in DELIMITERS}
    best, runner_up = sorted(DELIMITERS, key=counts.__getitem__, reverse=True)[:2]

    if counts[best] == 0:
        return ","
    if counts[best] == counts[runner_up]:
        raise ImportFileError(
            f"Cannot detect the delimiter: the header line contains "
            f"{_describe_delimiter(best)} and {_describe_delimiter(runner_up)} "
            "equally often. Pass --delimiter."
        )
    return best


def _read_table(
    lines: Iterable[str], delimiter: str
) -> tuple[int, list[str], list[tuple[int, list[str]]]]:
    """Split the lines into the header and data rows, each with its first line."""
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    rows: list[tuple[int, list[str]]] = []
    blank = 0
    next_line = 1
    try:
        for cells in reader:
            _check_line_count(reader.line_num)
            # Blank lines and rows of empty cells (Excel's ";;;;") carry nothing.
            if any(cell.strip() for cell in cells):
                rows.append((next_line, cells))
                # The header is the first row, so the data rows are one fewer.
                _check_row_count(len(rows) - 1, next_line)
            else:
                blank += 1
                _check_blank_count(blank, next_line)
            next_line = reader.line_num + 1
    except csv.Error as error:
        raise ImportFileError(
            f"The file is not valid CSV at line {reader.line_num}: {error}. "
            "Check the quotes on that line."
        ) from None

    if not rows:
        raise ImportFileError("The file is empty: it has no header line.")
    (header_line, header), *data = rows
    if not data:
        raise ImportFileError(
            f"The file has a header on line {header_line} but no rows."
        )
    return header_line, header, data


def _check_line_count(lines_read: int) -> None:
    limit = settings.IMPORT_MAX_LINES
    if lines_read > limit:
        raise ImportFileError(
            f"The file has more than {limit:,} lines (IMPORT_MAX_LINES), counting "
            f"blank lines and the lines inside quoted values: reading stopped at "
            f"line {lines_read:,}. Delete the blank lines, or split the file."
        )


def _check_blank_count(count: int, line: int) -> None:
    limit = settings.IMPORT_MAX_BLANK_LINES
    if count > limit:
        raise ImportFileError(
            f"The file has more than {limit:,} blank lines (IMPORT_MAX_BLANK_LINES): "
            f"line {line:,} is blank line {count:,}. Delete the blank lines, or "
            "split the file."
        )


def _check_row_count(count: int, line: int) -> None:
    limit = settings.IMPORT_MAX_ROWS
    if count > limit:
        raise ImportFileError(
            f"The file has more than {limit:,} people rows (IMPORT_MAX_ROWS): "
            f"reading stopped at line {line:,}. Split the file into smaller files."
        )


def _map_columns(
    header: list[str], header_line: int, delimiter: str
) -> tuple[dict[str, int], list[str]]:
    columns: dict[str, int] = {}
    warnings: list[str] = []
    for index, raw in enumerate(header):
        name = normalize_header(raw)
        if not name:
            continue
        if name not in KNOWN_COLUMNS:
            warnings.append(f'Unknown column "{raw.strip()}" is ignored.')
            continue
        if name in columns:
            raise ImportFileError(
                f'Columns {columns[name] + 1} and {index + 1} both map to "{name}". '
                "Remove or rename one of them."
            )
        columns[name] = index

    found = ", ".join(f'"{raw}"' for raw in header)
    where = (
        f"The header on line {header_line} has {found} "
        f"(split at {_describe_delimiter(delimiter)})."
    )
    if "email" not in columns:
        raise ImportFileError(
            f'Missing required column "email". {where} Rename the e-mail column '
            "to email, or pass --delimiter if the columns were split wrongly."
        )
    if not any(name in columns for name in NAME_COLUMNS):
        raise ImportFileError(
            f'Missing required column "first_name" or "last_name". {where}'
        )
    if "hire_date" in columns:
        warnings.append(
            'Column "hire_date" is checked but not stored: accounts have no '
            "hire date field."
        )
    return columns, warnings


def _to_record(
    line: int, cells: list[str], columns: dict[str, int], width: int
) -> _Record:
    values = {
        name: cells[index].strip() if index < len(cells) else ""
        for name, index in columns.items()
    }
    extra_values = [cell.strip() for cell in cells[width:] if cell.strip()]
    return _Record(line=line, values=values, extra_values=extra_values)


@dataclass(frozen=True)
class _ParsedFile:
    """The data rows of a file, with the encoding, delimiter and warnings."""

    encoding: str
    delimiter: str
    records: list[_Record]
    warnings: list[str]


def _read_source(
    source: TextIO | BinaryIO | bytes, delimiter: str | None, encoding: str | None
) -> _ParsedFile:
    """Decode the source in chunks and split it into records by the header's columns.

    ``delimiter`` has passed ``_check_delimiter`` already, or is None to sniff
    the delimiter from the header line.
    """
    lines, used_encoding = _open_lines(source, encoding)
    # The lines up to the header are kept to sniff the delimiter. A file of
    # blank lines stops at the blank-line cap, which _read_table reports.
    peeked: list[str] = []
    for line in lines:
        peeked.append(line)
        if line.strip() or len(peeked) > settings.IMPORT_MAX_BLANK_LINES:
            break
    header = peeked[-1] if peeked and peeked[-1].strip() else ""
    used_delimiter = delimiter or _sniff_delimiter(header)
    header_line, cells, rows = _read_table(
        itertools.chain(peeked, lines), used_delimiter
    )
    columns, warnings = _map_columns(cells, header_line, used_delimiter)

    records = [_to_record(line, row, columns, len(cells)) for line, row in rows]
    return _ParsedFile(
        encoding=used_encoding,
        delimiter=used_delimiter,
        records=records,
        warnings=warnings,
    )


def _open_lines(
    source: TextIO | BinaryIO | bytes, encoding: str | None
) -> tuple[Iterator[str], str]:
    """Return the source's lines, read lazily, and the encoding used."""
    if not isinstance(source, bytes) and is_text_stream(source):
        if encoding is not None:
            raise ValueError("encoding applies only when source is bytes or binary.")
        text_source = cast(TextIO, source)
        return split_lines(_without_bom(text_chunks(text_source))), "text"

    used = _check_encoding(encoding) if encoding else "utf-8-sig"
    binary = cast(BinaryIO | bytes, source)
    chunks = decoded_chunks(byte_chunks(binary), used)
    return split_lines(_without_bom(chunks)), used


def _without_bom(chunks: Iterable[str]) -> Iterator[str]:
    """Drop a byte order mark that decoding left at the start of the text."""
    first = True
    for chunk in chunks:
        if first:
            chunk = chunk.removeprefix("\ufeff")
            first = False
        if chunk:
            yield chunk
