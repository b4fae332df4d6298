"""Import people from an HR export in CSV: parse, validate, plan, apply.

The whole file is read and checked before anything is written. Rows are then
applied in one transaction, each in its own savepoint, so a row the database
rejects leaves no trace while the other rows are kept. A file that cannot be
read as a whole raises ``ImportFileError`` and writes nothing.

``services.import_people`` runs the steps, which have one module each:
``reading`` (decoding, delimiter and header), ``references`` (what the
database contains already), ``validation`` (one row's cells), ``planning``
(matching accounts, duplicates, manager order), ``applying`` (the writes) and
``report`` (the result types).
"""

from accounts.importing.reading import normalize_header
from accounts.importing.report import (
    ImportFileError,
    ImportReport,
    RowAction,
    RowOutcome,
)
from accounts.importing.services import import_people

__all__ = [
    "ImportFileError",
    "ImportReport",
    "RowAction",
    "RowOutcome",
    "import_people",
    "normalize_header",
]
