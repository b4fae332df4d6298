"""Write the planned rows, each in its own savepoint, with an audit event."""

import logging

from django.db import IntegrityError, transaction

from accounts.importing.planning import _PlannedRow
from accounts.importing.references import _References
from accounts.importing.report import RowAction, RowOutcome, _rejected
from accounts.importing.validation import FieldValue
from accounts.models import LearnerGroup, User
from accounts.usernames import UsernameClashError, username_clash_message
from core.audit import record_event
from core.models import AuditEvent
from reconciliation.models import Party

logger = logging.getLogger(__name__)


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
    except UsernameClashError as error:
        # Another import or person committed the username, or a look-alike
        # of it, after the rows were planned. The import's message also
        # offers an empty username.
        reason = (
            username_clash_message(error.username, person_id=row.person_id)
            or error.reason
        )
        failure: Exception = error
    except IntegrityError as error:
        reason = _rejected_write_reason(row, error)
        failure = error
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


def _rejected_write_reason(row: _PlannedRow, error: IntegrityError) -> str:
    """Return why the database rejected ``row``, naming whoever holds its username.

    Another import or person may have committed the username, or a
    look-alike of it, since the rows were planned: its unique indexes are
    what stop two look-alikes written at the same instant.
    """
    username = row.changes.get("username")
    if isinstance(username, str):
        clash = username_clash_message(username, person_id=row.person_id)
        if clash is not None:
            return clash
    return (
        f"The database rejected the row ({error}). Another change may have "
        "taken this e-mail or username meanwhile: import again."
    )


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
