"""Load what the rows are checked against: accounts, groups, functions, customers."""

from collections.abc import Iterable
from dataclasses import dataclass

from accounts.importing.reading import _normalize_token, _Record
from accounts.models import CrmFunction, LearnerGroup, User
from core.confusables import skeleton
from core.text import fold_case
from reconciliation.models import Company, Party


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
    # By ``core.confusables.skeleton`` of the username, for look-alikes.
    people_by_skeleton: dict[str, _Person]
    groups: dict[str, LearnerGroup]
    functions: dict[str, CrmFunction]
    parties: dict[str, Party]
    company_name: str
    # Reason customer codes cannot be resolved, or "" when they can.
    company_problem: str


def _load_references(records: list[_Record]) -> _References:
    people_by_email: dict[str, list[_Person]] = {}
    people_by_username: dict[str, _Person] = {}
    people_by_skeleton: dict[str, _Person] = {}
    # NOTE: every account is read into memory once, which suits HR files of
    # up to tens of thousands of people.
    for row in User.objects.values("pk", "email", "username", "role", "customer_id"):
        person = _Person(**row)
        if person.email.strip():
            people_by_email.setdefault(fold_case(person.email.strip()), []).append(
                person
            )
        people_by_username[fold_case(person.username)] = person
        people_by_skeleton.setdefault(skeleton(person.username), person)

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
        people_by_skeleton=people_by_skeleton,
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
