"""Results of an import: the report of each row, or the error for the whole file."""

from dataclasses import dataclass
from enum import StrEnum


class ImportFileError(Exception):
    """The file as a whole cannot be imported, so nothing was written."""


class RowAction(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REJECTED = "rejected"


@dataclass(frozen=True)
class RowOutcome:
    """Outcome of one data row of the file, with its reason or changes."""

    line: int
    email: str
    action: RowAction
    detail: str
    # None for rejected rows and for people created in a dry run.
    person_id: int | None = None


@dataclass(frozen=True)
class ImportReport:
    """Outcome of every data row, in file order, and the file's warnings."""

    encoding: str
    delimiter: str
    dry_run: bool
    rows: tuple[RowOutcome, ...]
    warnings: tuple[str, ...]

    def count(self, action: RowAction) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def exit_code(self) -> int:
        """Return 0 when no row was rejected and 1 otherwise."""
        return 1 if self.count(RowAction.REJECTED) else 0

    @property
    def summary(self) -> str:
        counts = ", ".join(f"{action} {self.count(action)}" for action in RowAction)
        return f"{counts.capitalize()}, warnings {len(self.warnings)}."


def _rejected(line: int, email: str, reason: object) -> RowOutcome:
    return RowOutcome(
        line=line, email=email, action=RowAction.REJECTED, detail=str(reason)
    )
