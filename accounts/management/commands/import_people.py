"""Import people from an HR export in CSV, as docs/import-people.md describes."""

import logging
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from accounts.importing import ImportFileError, ImportReport, RowAction, import_people

logger = logging.getLogger(__name__)

# Exit status when the file as a whole cannot be imported and nothing is written.
EXIT_FILE_ERROR = 2


class Command(BaseCommand):
    help = (
        "Import people from a CSV export into accounts. Exit status: 0 when "
        "every row was imported, 1 when some rows were rejected (the others "
        "are saved), 2 when the file cannot be imported (nothing is saved)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", type=Path, help="The CSV file to import.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check and report every row, then roll back so nothing is saved.",
        )
        parser.add_argument(
            "--encoding",
            help="Python codec of the file, for example latin-1 or cp1252 "
            "(default: UTF-8, with or without a byte order mark).",
        )
        parser.add_argument(
            "--delimiter",
            help='Column separator: ",", ";", "|" or "tab" (default: detected '
            "from the header line).",
        )
        parser.add_argument(
            "--date-format",
            help="strptime format of date columns, for example %%m/%%d/%%Y "
            "(default: YYYY-MM-DD, DD.MM.YYYY or DD/MM/YYYY).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            # The import checks the file's size before it reads, and then
            # reads the open file in chunks.
            with path.open("rb") as stream:
                report = import_people(
                    source=stream,
                    delimiter=options["delimiter"],
                    encoding=options["encoding"],
                    date_format=options["date_format"],
                    dry_run=options["dry_run"],
                )
        except OSError as error:
            logger.warning("people_import.read_failed path=%s error=%s", path, error)
            self.stderr.write(f"Cannot read {path}: {error.strerror}.")
            raise SystemExit(EXIT_FILE_ERROR) from None
        except ImportFileError as error:
            logger.warning("people_import.file_rejected path=%s error=%s", path, error)
            self.stderr.write(f"{path}: {error} Nothing was imported.")
            raise SystemExit(EXIT_FILE_ERROR) from None

        self._write_report(path, report)
        if report.exit_code:
            raise SystemExit(report.exit_code)

    def _write_report(self, path: Path, report: ImportReport) -> None:
        delimiter = "tab" if report.delimiter == "\t" else f'"{report.delimiter}"'
        self.stdout.write(
            f"{path}: {len(report.rows)} rows, encoding {report.encoding}, "
            f"delimiter {delimiter}."
        )
        for row in report.rows:
            if row.action is RowAction.REJECTED:
                outcome = f"{row.email or '(no e-mail)'}: {row.detail}"
            else:
                outcome = f"{row.email} ({row.detail})"
            self.stdout.write(f"line {row.line}: {row.action} {outcome}")
        for warning in report.warnings:
            self.stdout.write(f"warning: {warning}")
        self.stdout.write(report.summary)
        if report.dry_run:
            self.stdout.write("Dry run: nothing was saved.")
