"""Run an import: read the file, then plan and apply its rows in a transaction."""

import logging
from typing import BinaryIO, TextIO

from django.db import transaction

from accounts.importing.applying import _apply_rows
from accounts.importing.planning import _plan_rows
from accounts.importing.reading import _check_delimiter, _read_source
from accounts.importing.references import _load_references
from accounts.importing.report import ImportReport, RowAction
from accounts.importing.validation import _date_parser

logger = logging.getLogger(__name__)


def import_people(
    *,
    source: TextIO | BinaryIO | bytes,
    delimiter: str | None = None,
    encoding: str | None = None,
    date_format: str | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Import the people in a CSV export and report what happened to each row.

    ``encoding`` applies to bytes only, which are read as UTF-8 with or
    without a byte order mark by default. A dry run applies every row and then
    rolls the transaction back, so its report shows what a real run would do.
    Raises ImportFileError, before writing anything, for a file-level problem.
    """
    chosen_delimiter = _check_delimiter(delimiter)
    parse_date = _date_parser(date_format)
    parsed = _read_source(source, chosen_delimiter, encoding)
    logger.info(
        "people_import.started rows=%d encoding=%s dry_run=%s",
        len(parsed.records),
        parsed.encoding,
        dry_run,
    )

    # _plan_rows adds a warning for each row that updates an earlier row's person.
    warnings = list(parsed.warnings)
    with transaction.atomic():
        references = _load_references(parsed.records)
        planned, outcomes = _plan_rows(parsed.records, references, parse_date, warnings)
        outcomes += _apply_rows(planned, references, dry_run=dry_run)
        if dry_run:
            transaction.set_rollback(True)

    report = ImportReport(
        encoding=parsed.encoding,
        delimiter=parsed.delimiter,
        dry_run=dry_run,
        rows=tuple(sorted(outcomes, key=lambda outcome: outcome.line)),
        warnings=tuple(warnings),
    )
    logger.info(
        "people_import.finished created=%d updated=%d unchanged=%d rejected=%d "
        "warnings=%d dry_run=%s",
        *(report.count(action) for action in RowAction),
        len(report.warnings),
        dry_run,
    )
    return report
