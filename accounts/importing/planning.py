"""Plan each row: match it to an account, catch duplicates, order by manager."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date

from accounts.importing.reading import _Record
from accounts.importing.references import _Person, _References
from accounts.importing.report import RowOutcome, _rejected
from accounts.importing.validation import (
    FieldValue,
    _check_date,
    _clean_text,
    _email_problem,
    _extra_values_problem,
    _plan_crm_functions,
    _plan_fields,
    _plan_manager,
)
from accounts.models import CrmFunction, User
from accounts.usernames import look_alike_username_message, taken_username_message
from core.confusables import mixed_script_message, skeleton
from core.text import fold_case
from reconciliation.models import Party


@dataclass
class _FileState:
    """E-mails and usernames that the rows read so far have claimed."""

    first_line_by_email: dict[str, int] = field(default_factory=dict)
    line_by_username: dict[str, int] = field(default_factory=dict)
    # By ``core.confusables.skeleton`` of the username, for look-alikes.
    line_by_skeleton: dict[str, int] = field(default_factory=dict)
    # Usernames a derived name must avoid: the database's and the file's,
    # case-folded and as ``core.confusables.skeleton``.
    reserved_usernames: set[str] = field(default_factory=set)
    reserved_skeletons: set[str] = field(default_factory=set)


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


def _plan_rows(
    records: list[_Record],
    references: _References,
    parse_date: Callable[[str], date],
    warnings: list[str],
) -> tuple[list[_PlannedRow], list[RowOutcome]]:
    """Check every row against the database and the rows before it."""
    given_usernames = {record.values.get("username", "") for record in records}
    given_usernames.discard("")
    state = _FileState(
        reserved_usernames=set(references.people_by_username)
        | {fold_case(username) for username in given_usernames},
        reserved_skeletons=set(references.people_by_skeleton)
        | {skeleton(username) for username in given_usernames},
    )

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
    key = fold_case(email)
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
        username = _derive_username(email, state)
    if username is not None:
        changes["username"] = username
        state.line_by_username[fold_case(username)] = record.line
        state.line_by_skeleton.setdefault(skeleton(username), record.line)
        state.reserved_usernames.add(fold_case(username))
        state.reserved_skeletons.add(skeleton(username))
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

    key = fold_case(username)
    owner = references.people_by_username.get(key)
    if owner is not None and (existing is None or owner.pk != existing.pk):
        errors.append(taken_username_message(username, owner.email or owner.username))
        return None
    line = state.line_by_username.get(key)
    if line is not None:
        errors.append(
            f'The username "{username}" is already given to the person on line '
            f"{line}: choose another username, or leave it empty to derive one."
        )
        return None
    return _check_look_alike_username(username, existing, references, state, errors)


def _check_look_alike_username(
    username: str,
    existing: _Person | None,
    references: _References,
    state: _FileState,
    errors: list[str],
) -> str | None:
    """Return ``username``, or None with an error when it looks like another.

    Look-alikes share a ``core.confusables.skeleton``: a Cyrillic small a
    (U+0430) in "margaret" reads as the Latin "a", and "rnia" reads as
    "mia". A username that mixes
    alphabets in a word is rejected too, even when nobody has its look-alike.
    """
    if existing is not None and fold_case(existing.username) == fold_case(username):
        # The person keeps the username they have, so nothing new can clash.
        return username
    look = skeleton(username)
    owner = references.people_by_skeleton.get(look)
    if owner is not None and (existing is None or owner.pk != existing.pk):
        errors.append(
            look_alike_username_message(
                username, owner.username, owner.email or owner.username
            )
        )
        return None
    line = state.line_by_skeleton.get(look)
    if line is not None:
        errors.append(
            f'The username "{username}" looks the same as the username on line '
            f"{line}: they differ only in letters that look alike, in accents or "
            "in invisible characters. Choose a username that reads differently, "
            "or leave it empty to derive one."
        )
        return None
    mixed = mixed_script_message(username, "username")
    if mixed:
        errors.append(mixed)
        return None
    return username


def _derive_username(email: str, state: _FileState) -> str:
    """Return the e-mail's local part, with a number appended if it is taken.

    A username is taken when another one equals it ignoring case or looks
    the same (shares its ``core.confusables.skeleton``).
    """
    local_part = email.rsplit("@", 1)[0]
    # Keep only the characters Django's username validator accepts.
    base = re.sub(r"[^\w.@+-]", "", local_part)[:140] or "person"
    candidate, suffix = base, 2
    while (
        fold_case(candidate) in state.reserved_usernames
        or skeleton(candidate) in state.reserved_skeletons
    ):
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
