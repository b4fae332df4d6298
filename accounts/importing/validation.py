"""Check one row's cells and turn them into the account fields they set."""

import re
from collections.abc import Callable, Iterable
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models

from accounts.importing.reading import NAME_COLUMNS, _normalize_token
from accounts.importing.references import _Person, _References
from accounts.importing.report import ImportFileError
from accounts.models import CrmFunction, LearnerGroup, Role, User
from core.text import fold_case
from reconciliation.models import Party

TEXT_COLUMNS = ("first_name", "last_name", "title", "employee_number")
# Slashes are read day first, as European Excel writes them. Files with US
# dates need an explicit date format such as "%m/%d/%Y".
DEFAULT_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y")

type FieldValue = str | LearnerGroup | Party | User | None


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
    if fold_case(text) == key:
        errors.append(
            f'The manager_email "{text}" is the person\'s own e-mail: give the '
            "manager's address or leave it empty."
        )
        return ""
    return fold_case(text)


def _check_date(
    text: str, parse_date: Callable[[str], date], errors: list[str]
) -> None:
    if not text:
        return
    try:
        parse_date(text)
    except ValueError as error:
        errors.append(f'Invalid hire_date "{text}": {error}.')
