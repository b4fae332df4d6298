"""Import people from an HR export in CSV: parse, validate, plan, apply.

The whole file is read and checked before anything is written. Rows are then
applied in one transaction, each in its own savepoint, so a row the database
rejects leaves no trace while the other rows are kept. A file that cannot be
read as a whole raises ``ImportFileError`` and writes nothing.
"""

import codecs
import csv
import io
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import TextIO

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, models, transaction

from accounts.models import CrmFunction, LearnerGroup, Role, User
from core.audit import record_event
from core.models import AuditEvent
from reconciliation.models import Company, Party

logger = logging.getLogger(__name__)

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
TEXT_COLUMNS = ("first_name", "last_name", "title", "employee_number")
# Slashes are read day first, as European Excel writes them. Files with US
# dates need an explicit date format such as "%m/%d/%Y".
DEFAULT_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y")

type FieldValue = str | LearnerGroup | Party | User | None


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


@dataclass(frozen=True)
class _Record:
    """One data row: its first physical line and its values by column."""

    line: int
    values: dict[str, str]
    # Non-empty cells to the right of the last header column.
    extra_values: list[str]


@dataclass(frozen=True)
class _Person:
    """An existing account, as read once at the start of the import."""

    pk: int
    email: str
    username: str
    role: str
    customer_id: int | None


@dataclass(frozen=True)
class _References:
    people_by_email: dict[str, list[_Person]]
    people_by_username: dict[str, _Person]
    groups: dict[str, LearnerGroup]
    functions: dict[str, CrmFunction]
    parties: dict[str, Party]
    company_name: str
    # Reason customer codes cannot be resolved, or "" when they can.
    company_problem: str


@dataclass
class _FileState:
    """E-mails and usernames that the rows read so far have claimed."""

    first_line_by_email: dict[str, int] = field(default_factory=dict)
    line_by_username: dict[str, int] = field(default_factory=dict)
    # Usernames a derived name must avoid: the database's and the file's.
    reserved_usernames: set[str] = field(default_factory=set)


@dataclass
class _PlannedRow:
    line: int
    email: str
    key: str
    person_id: int | None
    changes: dict[str, FieldValue]
    crm_functions: list[CrmFunction] | None
    # The manager's e-mail as the file writes it, and its case-folded key.
    manager_email: str
    manager_key: str


class _RowRejected(Exception):
    pass


def import_people(
    *,
    source: TextIO | bytes,
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
    text, used_encoding = _decode(source, encoding)
    used_delimiter = chosen_delimiter or _sniff_delimiter(text)
    header_line, header, rows = _read_table(text, used_delimiter)
    columns, warnings = _map_columns(header, header_line, used_delimiter)
    logger.info(
        "people_import.started rows=%d encoding=%s dry_run=%s",
        len(rows),
        used_encoding,
        dry_run,
    )

    records = [_to_record(line, cells, columns, len(header)) for line, cells in rows]
    with transaction.atomic():
        references = _load_references(records)
        planned, outcomes = _plan_rows(records, references, parse_date, warnings)
        outcomes += _apply_rows(planned, references, dry_run=dry_run)
        if dry_run:
            transaction.set_rollback(True)

    report = ImportReport(
        encoding=used_encoding,
        delimiter=used_delimiter,
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


def _decode(source: TextIO | bytes, encoding: str | None) -> tuple[str, str]:
    if not isinstance(source, bytes):
        if encoding is not None:
            raise ValueError("encoding applies only when source is bytes.")
        return source.read().removeprefix("\ufeff"), "text"

    used = _check_encoding(encoding) if encoding else "utf-8-sig"
    try:
        text = source.decode(used)
    except UnicodeDecodeError as error:
        raise ImportFileError(_decode_error_message(source, used, error)) from None
    return text.removeprefix("\ufeff"), used


def _decode_error_message(data: bytes, used: str, error: UnicodeDecodeError) -> str:
    # utf-8-sig counts positions after the byte order mark it strips.
    offset = error.start
    if used == "utf-8-sig" and data.startswith(codecs.BOM_UTF8):
        offset += len(codecs.BOM_UTF8)
    line = data.count(b"\n", 0, offset) + 1
    byte = data[offset : offset + 1].hex().upper()
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        hint = 'The file is UTF-16: save it as "CSV UTF-8" or pass --encoding utf-16.'
    elif used == "utf-8-sig":
        hint = (
            'Save it from Excel as "CSV UTF-8", or pass its encoding, '
            "for example --encoding latin-1."
        )
    else:
        hint = "Check the encoding the file was saved with."
    name = "UTF-8" if used == "utf-8-sig" else used
    return (
        f"The file is not valid {name}: byte 0x{byte} at offset {offset} "
        f"(line {line}) cannot be decoded. {hint}"
    )


def _sniff_delimiter(text: str) -> str:
    header = next((line for line in text.splitlines() if line.strip()), "")
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
    text: str, delimiter: str
) -> tuple[int, list[str], list[tuple[int, list[str]]]]:
    """Split the text into the header and data rows, each with its first line."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[tuple[int, list[str]]] = []
    next_line = 1
    try:
        for cells in reader:
            # Blank lines and rows of empty cells (Excel's ";;;;") carry nothing.
            if any(cell.strip() for cell in cells):
                rows.append((next_line, cells))
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


def _date_parser(date_format: str | None) -> Callable[[str], date]:
    """Return a function that parses a date cell or raises ValueError."""
    if date_format is not None:
        _check_date_format(date_format)
    formats = DEFAULT_DATE_FORMATS if date_format is None else (date_format,)

    if date_format is None:
        expected = "use YYYY-MM-DD, DD.MM.YYYY or DD/MM/YYYY, or pass --date-format"
    else:
        expected = f"expected the format {date_format}"

    def parse(text: str) -> date:
        for candidate in formats:
            try:
                return datetime.strptime(text, candidate).date()
            except ValueError:
                continue
        raise ValueError(expected)

    return parse


def _check_date_format(date_format: str) -> None:
    directives = (("%d",), ("%m", "%b", "%B"), ("%Y", "%y"))
    # strptime warns about formats without a year (Python 3.13), so the
    # directives are checked before the format is tried on a sample date.
    complete = all(
        any(directive in date_format for directive in group) for group in directives
    )
    sample = date(2025, 1, 31)
    if complete:
        try:
            parsed = datetime.strptime(sample.strftime(date_format), date_format)
            complete = parsed.date() == sample
        except ValueError:
            complete = False
    if not complete:
        raise ImportFileError(
            f'Invalid date format "{date_format}": it must contain the day, '
            "month and year, for example %d.%m.%Y."
        )


def _load_references(records: list[_Record]) -> _References:
    people_by_email: dict[str, list[_Person]] = {}
    people_by_username: dict[str, _Person] = {}
    # NOTE: every account is read into memory once, which suits HR files of
    # up to tens of thousands of people.
    for row in User.objects.values("pk", "email", "username", "role", "customer_id"):
        person = _Person(**row)
        if person.email.strip():
            people_by_email.setdefault(person.email.strip().casefold(), []).append(
                person
            )
        people_by_username[person.username.casefold()] = person

    codes = {record.values.get("customer_code", "") for record in records} - {""}
    companies = list(Company.objects.filter(is_sandbox=False)[:2])
    company_problem = ""
    parties: dict[str, Party] = {}
    if len(companies) == 1:
        queryset = Party.objects.filter(company=companies[0], code__in=codes)
        parties = {party.code: party for party in queryset}
    elif not companies:
        company_problem = "no company is set up yet"
    else:
        company_problem = "there is more than one company"

    return _References(
        people_by_email=people_by_email,
        people_by_username=people_by_username,
        groups=_index_by_slug_and_name(LearnerGroup.objects.all()),
        functions=_index_by_slug_and_name(CrmFunction.objects.all()),
        parties=parties,
        company_name=companies[0].name if len(companies) == 1 else "",
        company_problem=company_problem,
    )


def _index_by_slug_and_name[T: (LearnerGroup, CrmFunction)](
    objects: Iterable[T],
) -> dict[str, T]:
    index: dict[str, T] = {}
    for item in objects:
        index[_normalize_token(item.slug)] = item
        index[_normalize_token(item.name)] = item
    return index


def _plan_rows(
    records: list[_Record],
    references: _References,
    parse_date: Callable[[str], date],
    warnings: list[str],
) -> tuple[list[_PlannedRow], list[RowOutcome]]:
    """Check every row against the database and the rows before it."""
    given = {record.values.get("username", "").casefold() for record in records}
    reserved = set(references.people_by_username) | (given - {""})
    state = _FileState(reserved_usernames=reserved)

    planned: list[_PlannedRow] = []
    outcomes: list[RowOutcome] = []
    for record in records:
        try:
            row = _plan_row(record, references, state, parse_date)
        except _RowRejected as rejection:
            outcomes.append(_rejected(record.line, record.values["email"], rejection))
            continue
        earlier = state.first_line_by_email[row.key]
        if row.person_id is not None and earlier != row.line:
            warnings.append(
                f"Line {row.line} updates the same person as line {earlier} "
                f"({row.email}), so its values replace those of line {earlier}."
            )
        planned.append(row)

    ordered, rejected = _order_by_manager(planned, references, state)
    return ordered, outcomes + rejected


def _rejected(line: int, email: str, reason: object) -> RowOutcome:
    return RowOutcome(
        line=line, email=email, action=RowAction.REJECTED, detail=str(reason)
    )


def _plan_row(
    record: _Record,
    references: _References,
    state: _FileState,
    parse_date: Callable[[str], date],
) -> _PlannedRow:
    values = record.values
    email = values["email"]
    problem = _email_problem(email, "e-mail")
    if problem:
        raise _RowRejected(problem)
    key = email.casefold()
    existing = _match_person(key, email, record.line, references, state)

    errors = [_extra_values_problem(record.extra_values)] if record.extra_values else []
    changes = _plan_fields(values, existing, references, errors)
    functions = _plan_crm_functions(values.get("crm_functions", ""), references, errors)
    manager_key = _plan_manager(values.get("manager_email", ""), key, errors)
    _check_date(values.get("hire_date", ""), parse_date, errors)
    username = _plan_username(
        values.get("username", ""), existing, references, state, errors
    )
    if errors:
        raise _RowRejected(" ".join(errors))

    if existing is None and username is None:
        username = _derive_username(email, state.reserved_usernames)
    if username is not None:
        changes["username"] = username
        state.line_by_username[username.casefold()] = record.line
        state.reserved_usernames.add(username.casefold())
    if existing is not None:
        _track_role(key, existing, changes, references)
    return _PlannedRow(
        line=record.line,
        email=email if existing else User.objects.normalize_email(email),
        key=key,
        person_id=existing.pk if existing else None,
        changes=changes,
        crm_functions=functions,
        manager_email=values.get("manager_email", ""),
        manager_key=manager_key,
    )


def _track_role(
    key: str,
    existing: _Person,
    changes: dict[str, FieldValue],
    references: _References,
) -> None:
    """Let later rows for the same account check the role this row sets."""
    customer_id = existing.customer_id
    if "customer" in changes:
        customer = changes["customer"]
        customer_id = customer.pk if isinstance(customer, Party) else None
    role = str(changes.get("role") or existing.role)
    updated = replace(existing, role=role, customer_id=customer_id)
    references.people_by_email[key] = [updated]


def _email_problem(email: str, column: str) -> str:
    if not email:
        return f"The {column} is empty: every row needs the person's e-mail address."
    try:
        validate_email(email)
    except ValidationError:
        return (
            f'Invalid {column} "{email}": enter a full address such as '
            "name@example.com."
        )
    return ""


def _match_person(
    key: str, email: str, line: int, references: _References, state: _FileState
) -> _Person | None:
    """Return the account with this e-mail, or None when the row adds a person.

    Raises _RowRejected when the row would add a person that an earlier row
    of the file adds already, because that would create a second account.
    """
    earlier = state.first_line_by_email.setdefault(key, line)
    matches = references.people_by_email.get(key, [])
    if len(matches) > 1:
        usernames = ", ".join(person.username for person in matches)
        raise _RowRejected(
            f'The e-mail "{email}" matches {len(matches)} accounts ({usernames}): '
            "merge those accounts before importing this row."
        )
    if matches:
        return matches[0]
    if earlier != line:
        raise _RowRejected(
            f'Duplicate e-mail "{email}": line {earlier} has the same address. '
            "Keep one row per person, or correct the address."
        )
    return None


def _extra_values_problem(extra_values: list[str]) -> str:
    quoted = ", ".join(f'"{value}"' for value in extra_values)
    return (
        f"The row has values beyond the last column of the header ({quoted}): "
        "quote values that contain the delimiter."
    )


def _plan_fields(
    values: dict[str, str],
    existing: _Person | None,
    references: _References,
    errors: list[str],
) -> dict[str, FieldValue]:
    """Return the model fields that the row's non-empty values set."""
    changes: dict[str, FieldValue] = {}
    for column in TEXT_COLUMNS:
        if values.get(column):
            changes[column] = _clean_text(column, values[column], errors)
    if existing is None and not any(values.get(name) for name in NAME_COLUMNS):
        errors.append(
            "The first_name and last_name are both empty: a new person needs "
            "at least one of them."
        )

    role = _plan_role(values.get("role", ""), existing, errors)
    if role:
        changes["role"] = role
    group_text = values.get("learner_group", "")
    if group_text:
        changes["learner_group"] = _find_group(group_text, references, errors)
    final_role = role or (existing.role if existing else "")
    if final_role:
        code = values.get("customer_code", "")
        _plan_customer(code, final_role, existing, references, changes, errors)
    return changes


def _clean_text(column: str, text: str, errors: list[str]) -> str:
    model_field = User._meta.get_field(column)
    if not isinstance(model_field, models.CharField):
        raise TypeError(f"User.{column} is not a CharField.")
    try:
        return str(model_field.clean(text, None))
    except ValidationError as error:
        errors.append(f'Invalid {column} "{text}": {" ".join(error.messages)}')
        return ""


def _plan_role(text: str, existing: _Person | None, errors: list[str]) -> str:
    choices = ", ".join(Role.values)
    if not text:
        if existing is None:
            errors.append(f"The role is empty: a new person needs one of {choices}.")
        return ""

    role = _ROLES_BY_TOKEN.get(_normalize_token(text))
    if role is None:
        errors.append(f'Unknown role "{text}": use one of {choices}, or its label.')
        return ""
    return role.value


_ROLES_BY_TOKEN = {_normalize_token(role.value): role for role in Role} | {
    _normalize_token(role.label): role for role in Role
}


def _find_group(
    text: str, references: _References, errors: list[str]
) -> LearnerGroup | None:
    group = references.groups.get(_normalize_token(text))
    if group is None:
        choices = _slugs(references.groups.values())
        errors.append(
            f'Unknown learner_group "{text}": use the slug or name of one of {choices}.'
        )
    return group


def _slugs(items: Iterable[LearnerGroup | CrmFunction]) -> str:
    return ", ".join(sorted({item.slug for item in items}))


def _plan_crm_functions(
    text: str, references: _References, errors: list[str]
) -> list[CrmFunction] | None:
    names = [name.strip() for name in re.split(r"[;|]", text) if name.strip()]
    found: dict[int, CrmFunction] = {}
    unknown: list[str] = []
    for name in names:
        function = references.functions.get(_normalize_token(name))
        if function is None:
            unknown.append(f'"{name}"')
        else:
            found[function.pk] = function

    if unknown:
        errors.append(
            f"Unknown crm_functions {', '.join(unknown)}: use slugs or names "
            f'separated by ";" or "|", from {_slugs(references.functions.values())}.'
        )
        return None
    # An empty cell keeps the person's functions, as for every other column.
    return list(found.values()) or None


def _plan_customer(
    code: str,
    role: str,
    existing: _Person | None,
    references: _References,
    changes: dict[str, FieldValue],
    errors: list[str],
) -> None:
    """Set the customer a role needs: a customer account has one, others none."""
    if role != Role.CUSTOMER:
        if code:
            errors.append(
                f'The customer_code "{code}" is only for customer accounts, but '
                f"the role is {role}: remove the code or set the role to customer."
            )
        elif existing is not None and existing.customer_id is not None:
            changes["customer"] = None
        return

    if not code:
        if existing is None or existing.customer_id is None:
            errors.append(
                "The customer_code is empty: a customer account needs the code "
                "of its customer company."
            )
        return
    if references.company_problem:
        errors.append(
            f'The customer_code "{code}" cannot be looked up because '
            f"{references.company_problem}: codes are resolved in the one company."
        )
        return
    party = references.parties.get(code)
    if party is None:
        errors.append(
            f'Unknown customer_code "{code}": no customer of '
            f"{references.company_name} has that code (codes match exactly, "
            "including case). Check the code in the CRM."
        )
        return
    changes["customer"] = party


def _plan_manager(text: str, key: str, errors: list[str]) -> str:
    if not text:
        return ""
    problem = _email_problem(text, "manager_email")
    if problem:
        errors.append(problem)
        return ""
    if text.casefold() == key:
        errors.append(
            f'The manager_email "{text}" is the person\'s own e-mail: give the '
            "manager's address or leave it empty."
        )
        return ""
    return text.casefold()


def _check_date(
    text: str, parse_date: Callable[[str], date], errors: list[str]
) -> None:
    if not text:
        return
    try:
        parse_date(text)
    except ValueError as error:
        errors.append(f'Invalid hire_date "{text}": {error}.')


def _plan_username(
    text: str,
    existing: _Person | None,
    references: _References,
    state: _FileState,
    errors: list[str],
) -> str | None:
    """Return the username the row gives, or None when it gives none."""
    if not text:
        return None
    username = _clean_text("username", text, errors)
    if not username:
        return None

    key = username.casefold()
    owner = references.people_by_username.get(key)
    if owner is not None and (existing is None or owner.pk != existing.pk):
        errors.append(
            f'The username "{username}" already belongs to '
            f"{owner.email or owner.username}: choose another username, or leave "
            "it empty to derive one from the e-mail."
        )
        return None
    line = state.line_by_username.get(key)
    if line is not None:
        errors.append(
            f'The username "{username}" is already given to the person on line '
            f"{line}: choose another username, or leave it empty to derive one."
        )
        return None
    return username


def _derive_username(email: str, reserved: set[str]) -> str:
    """Return the e-mail's local part, with a number appended if it is taken."""
    local_part = email.rsplit("@", 1)[0]
    # Keep only the characters Django's username validator accepts.
    base = re.sub(r"[^\w.@+-]", "", local_part)[:140] or "person"
    candidate, suffix = base, 2
    while candidate.casefold() in reserved:
        candidate, suffix = f"{base}{suffix}", suffix + 1
    return candidate


def _order_by_manager(
    rows: list[_PlannedRow], references: _References, state: _FileState
) -> tuple[list[_PlannedRow], list[RowOutcome]]:
    """Order rows so a manager added by the file is created before their reports.

    Rejects rows whose manager is neither an account nor added by the file,
    and rows whose chain of new managers loops back on itself.
    """
    adders = {row.key: row for row in rows if row.person_id is None}
    ranked: list[tuple[int, int, _PlannedRow]] = []
    rejected: list[RowOutcome] = []
    for row in rows:
        problem = _manager_problem(row, adders, references, state)
        chain = [row.key]
        manager_key = row.manager_key
        while manager_key in adders and manager_key not in chain:
            chain.append(manager_key)
            manager_key = adders[manager_key].manager_key
        if not problem and manager_key in chain:
            loop = " → ".join([*chain, manager_key])
            problem = (
                f"The manager_email values form a loop ({loop}): fix the manager "
                "of one of these people."
            )
        if problem:
            rejected.append(_rejected(row.line, row.email, problem))
        else:
            ranked.append((len(chain), row.line, row))
    ranked.sort(key=lambda item: item[:2])
    return [row for _, _, row in ranked], rejected


def _manager_problem(
    row: _PlannedRow,
    adders: dict[str, _PlannedRow],
    references: _References,
    state: _FileState,
) -> str:
    key = row.manager_key
    if not key or key in adders or key in references.people_by_email:
        return ""
    line = state.first_line_by_email.get(key)
    if line is not None:
        return (
            f'The manager_email "{row.manager_email}" belongs to the row on '
            f"line {line}, which is rejected: fix that row and import again."
        )
    return (
        f'Unknown manager_email "{row.manager_email}": no account has that '
        "e-mail and no row of this file adds one. Import the manager first or "
        "correct the address."
    )


def _apply_rows(
    rows: list[_PlannedRow], references: _References, *, dry_run: bool
) -> list[RowOutcome]:
    adder_lines = {row.key: row.line for row in rows if row.person_id is None}
    # Managers read or created so far, by case-folded e-mail.
    people: dict[str, User] = {}
    outcomes: list[RowOutcome] = []
    for row in rows:
        manager = _find_manager(row.manager_key, references, people)
        if row.manager_key and manager is None:
            reason = _missing_manager_reason(row, adder_lines.get(row.manager_key))
            outcomes.append(_rejected(row.line, row.email, reason))
            continue
        outcome, person = _apply_in_savepoint(row, manager, dry_run=dry_run)
        if person is not None and outcome.action is RowAction.CREATED:
            people[row.key] = person
        outcomes.append(outcome)
    return outcomes


def _apply_in_savepoint(
    row: _PlannedRow, manager: User | None, *, dry_run: bool
) -> tuple[RowOutcome, User | None]:
    """Write one row in its own savepoint, so a failing row leaves no trace."""
    try:
        with transaction.atomic():
            return _apply_row(row, manager, dry_run=dry_run)
    except IntegrityError as error:
        reason = (
            f"The database rejected the row ({error}). Another change may have "
            "taken this e-mail or username meanwhile: import again."
        )
        failure: Exception = error
    except User.DoesNotExist as error:
        reason = "The account was deleted while the import ran: import again."
        failure = error

    logger.warning(
        "people_import.row_failed line=%d person_id=%s error=%s",
        row.line,
        row.person_id,
        failure,
    )
    return _rejected(row.line, row.email, reason), None


def _missing_manager_reason(row: _PlannedRow, manager_line: int | None) -> str:
    if manager_line is None:
        return (
            f'The manager "{row.manager_email}" no longer has an account: '
            "correct the manager_email and import again."
        )
    return (
        f'The manager "{row.manager_email}" on line {manager_line} was not '
        "imported, so this row is rejected too: fix that row and import again."
    )


def _find_manager(
    key: str, references: _References, people: dict[str, User]
) -> User | None:
    if not key:
        return None
    if key not in people:
        matches = references.people_by_email.get(key, [])
        manager = User.objects.filter(pk=matches[0].pk).first() if matches else None
        if manager is None:
            return None
        people[key] = manager
    return people[key]


def _apply_row(
    row: _PlannedRow, manager: User | None, *, dry_run: bool
) -> tuple[RowOutcome, User]:
    changes = dict(row.changes)
    if manager is not None:
        changes["manager"] = manager
    if row.person_id is None:
        return _create_person(row, changes, dry_run=dry_run)
    return _update_person(row, row.person_id, changes)


def _create_person(
    row: _PlannedRow, changes: dict[str, FieldValue], *, dry_run: bool
) -> tuple[RowOutcome, User]:
    person = User(email=row.email)
    for name, value in changes.items():
        setattr(person, name, value)
    # New people sign in through a password reset or single sign-on.
    person.set_unusable_password()
    person.save()

    after: dict[str, object] = {"email": row.email}
    after |= {name: _audit_value(value) for name, value in changes.items()}
    if row.crm_functions:
        person.crm_functions.set(row.crm_functions)
        after["crm_functions"] = sorted(item.slug for item in row.crm_functions)
    record_event(
        actor=None,
        action="person.created",
        target=person,
        source=AuditEvent.Source.IMPORT,
        after=after,
    )
    outcome = RowOutcome(
        line=row.line,
        email=row.email,
        action=RowAction.CREATED,
        detail=f"username {person.username}",
        person_id=None if dry_run else person.pk,
    )
    return outcome, person


def _update_person(
    row: _PlannedRow, person_id: int, changes: dict[str, FieldValue]
) -> tuple[RowOutcome, User]:
    person = User.objects.select_for_update().get(pk=person_id)
    before: dict[str, object] = {}
    after: dict[str, object] = {}
    for name, value in changes.items():
        old = getattr(person, name)
        if old != value:
            before[name], after[name] = _audit_value(old), _audit_value(value)
            setattr(person, name, value)
    if after:
        person.save(update_fields=list(after))

    if row.crm_functions is not None:
        old_slugs = sorted(person.crm_functions.values_list("slug", flat=True))
        new_slugs = sorted(item.slug for item in row.crm_functions)
        if old_slugs != new_slugs:
            person.crm_functions.set(row.crm_functions)
            before["crm_functions"], after["crm_functions"] = old_slugs, new_slugs

    action = RowAction.UPDATED if after else RowAction.UNCHANGED
    if after:
        record_event(
            actor=None,
            action="person.updated",
            target=person,
            source=AuditEvent.Source.IMPORT,
            before=before,
            after=after,
        )
    detail = f"changed {', '.join(after)}" if after else "no changes"
    outcome = RowOutcome(
        line=row.line,
        email=row.email,
        action=action,
        detail=detail,
        person_id=person.pk,
    )
    return outcome, person


def _audit_value(value: object) -> str | None:
    """Return a value as the audit log stores it: related rows by natural key."""
    if value is None:
        return None
    if isinstance(value, LearnerGroup):
        return value.slug
    if isinstance(value, Party):
        return value.code
    if isinstance(value, User):
        return value.email
    return str(value)
