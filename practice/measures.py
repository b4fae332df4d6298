"""Productivity measures of case work, read from the audit events.

The case services already append an event for every resolution and reopen
(``case.state_changed`` with the new state in ``after``), and the matching
pass appends ``discrepancy.reopened`` when the figures of a case a person
resolved change. These events are the record; this module only reads them:

- a resolution is a ``case.state_changed`` event to ``resolved``; its
  ``after.resolution_seconds`` is the time from detection;
- it is credited to the employee whose decision resolved the case, the
  ``after.resolved_by_id`` the case services write (the sales rep who
  proposed what the customer accepted, the requester of an approved
  write-off), not to the event's actor (the customer, or the approver);
  a resolution credited to no one, a customer or a scripted account is
  left out;
- a resolution is an error when the case is reopened afterwards (by a
  person, or by the matching pass because the documents changed) before it
  is resolved again.

Cases of practice sandboxes are left out.
"""

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q

from accounts.models import Role, User
from core.models import AuditEvent
from reconciliation.models import Company, Discrepancy

# Roles that may read the report; customers get 404, other roles 403.
REPORT_ROLES = frozenset({Role.MANAGER, Role.HR, Role.FACILITATOR})
NO_GROUP = "No group"
CASE_TYPE = "reconciliation.discrepancy"
RESOLVED = Discrepancy.State.RESOLVED
REOPENED = Discrepancy.State.REOPENED
MAX_RANGE_DAYS = 366


@dataclass(frozen=True)
class Measures:
    """Figures for one person or one learner group."""

    label: str
    people: int
    resolutions: int
    median_hours: float | None
    errors: int

    @property
    def error_rate(self) -> float:
        return round(self.errors / self.resolutions, 4) if self.resolutions else 0.0


# Group rows for fewer people than this are left out of a reader's report.
MIN_GROUP_PEOPLE = 3


@dataclass(frozen=True)
class Report:
    company: Company
    start: date
    end: date
    people: list[Measures]
    groups: list[Measures]
    # Rows the reader may not see, counted so the page can say they exist.
    hidden_people: int = 0
    hidden_groups: int = 0
    min_group_people: int = MIN_GROUP_PEOPLE


@dataclass(frozen=True)
class _Resolution:
    event_id: int
    case_id: str
    actor_id: int
    seconds: int


def _credited(actor_id: int | None, after: dict[str, object]) -> int | None:
    """Return the id of the person a resolution event credits, the case's resolver.

    Events written before ``resolved_by_id`` was in the snapshot credit
    their actor.
    """
    if "resolved_by_id" in after:
        resolver = after["resolved_by_id"]
        return resolver if isinstance(resolver, int) else None
    return actor_id


def local_bounds(company: Company, start: date, end: date) -> tuple[datetime, datetime]:
    """Return the instants that open ``start`` and close ``end``, local time."""
    zone = ZoneInfo(company.timezone)
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    )


def check_range(start: date, end: date) -> None:
    if end < start:
        raise ValueError(
            f"The range ends on {end.isoformat()}, before it starts on "
            f"{start.isoformat()}: put the earlier day first."
        )
    if (end - start).days >= MAX_RANGE_DAYS:
        raise ValueError(
            f"The range from {start.isoformat()} to {end.isoformat()} is longer "
            f"than {MAX_RANGE_DAYS} days: choose a year or less."
        )


def productivity_report(
    *, company: Company, start: date, end: date, reader: User | None = None
) -> Report:
    """Return per-person and per-group figures for resolutions in the range.

    With a ``reader``, the report is what that person may read: per-person
    rows only for themselves and the people who report to them (their
    ``manager`` is the reader), and group rows only for groups of at least
    ``MIN_GROUP_PEOPLE`` people, so no group row singles anyone out.
    Without one (code that aggregates further), every row is returned.

    A resolution counts in the range when it happened between the start of
    ``start`` and the end of ``end``, local time of the company. Its error
    (a later reopen) counts whenever the reopen happened.
    """
    check_range(start, end)
    if company.is_sandbox:
        raise ValueError(
            f"{company.name} is a practice sandbox: productivity is measured "
            "on real companies only."
        )
    opens, closes = local_bounds(company, start, end)
    resolved_events = AuditEvent.objects.filter(
        action="case.state_changed",
        object_type=CASE_TYPE,
        after__state=RESOLVED,
        occurred_at__gte=opens,
        occurred_at__lt=closes,
    ).values_list("pk", "object_id", "actor_id", "after")
    candidates = list(resolved_events)
    real_ids = {
        str(pk)
        for pk in Discrepancy.objects.filter(
            company=company,
            company__practice_session__isnull=True,
            pk__in=[int(row[1]) for row in candidates],
        ).values_list("pk", flat=True)
    }
    credited = [
        (event_id, object_id, _credited(actor_id, after), after)
        for event_id, object_id, actor_id, after in candidates
        if object_id in real_ids
    ]
    # Only employees are measured, so customers and scripted accounts are dropped.
    people = {
        person.pk: person
        for person in User.objects.filter(
            pk__in={person_id for _, _, person_id, _ in credited if person_id}
        )
        .exclude(role=Role.CUSTOMER)
        .filter(is_scripted=False)
        .select_related("learner_group")
    }
    resolutions = [
        _Resolution(event_id, object_id, person_id, int(after["resolution_seconds"]))
        for event_id, object_id, person_id, after in credited
        if person_id in people
    ]
    errors = _errors(resolutions)
    person_rows = _per_person(resolutions, errors, people)
    group_rows = _per_group(resolutions, errors, people)
    all_people, all_groups = len(person_rows), len(group_rows)
    if reader is not None:
        readable = {reader.pk} | set(
            User.objects.filter(manager=reader).values_list("pk", flat=True)
        )
        shown = {people[pk].display_name for pk in people if pk in readable}
        person_rows = [row for row in person_rows if row.label in shown]
        group_rows = [row for row in group_rows if row.people >= MIN_GROUP_PEOPLE]
    return Report(
        company=company,
        start=start,
        end=end,
        people=person_rows,
        groups=group_rows,
        hidden_people=all_people - len(person_rows),
        hidden_groups=all_groups - len(group_rows),
    )


def _errors(resolutions: list[_Resolution]) -> set[int]:
    """Return the events of the resolutions that a later reopen undid.

    Events are ordered by id, which is the order they were appended in.
    """
    case_ids = {item.case_id for item in resolutions}
    events = AuditEvent.objects.filter(
        Q(action="case.state_changed", after__state__in=[RESOLVED, REOPENED])
        | Q(action="discrepancy.reopened"),
        object_type=CASE_TYPE,
        object_id__in=case_ids,
    ).order_by("pk")
    timeline: dict[str, list[tuple[int, bool]]] = defaultdict(list)
    for event_id, object_id, action, after in events.values_list(
        "pk", "object_id", "action", "after"
    ):
        is_reopen = action == "discrepancy.reopened" or after.get("state") == REOPENED
        timeline[object_id].append((event_id, is_reopen))
    undone: set[int] = set()
    for item in resolutions:
        later = [entry for entry in timeline[item.case_id] if entry[0] > item.event_id]
        # The next event after a resolution decides: a reopen undoes it,
        # another resolution means it was never reopened in between.
        if later and later[0][1]:
            undone.add(item.event_id)
    return undone


def _median_hours(seconds: list[int]) -> float | None:
    return round(statistics.median(seconds) / 3600, 2) if seconds else None


def _measures(
    label: str,
    items: list[_Resolution],
    errors: set[int],
) -> Measures:
    return Measures(
        label=label,
        people=len({item.actor_id for item in items}),
        resolutions=len(items),
        median_hours=_median_hours([item.seconds for item in items]),
        errors=sum(1 for item in items if item.event_id in errors),
    )


def _per_person(
    resolutions: list[_Resolution],
    errors: set[int],
    people: dict[int, User],
) -> list[Measures]:
    by_person: dict[int, list[_Resolution]] = defaultdict(list)
    for item in resolutions:
        by_person[item.actor_id].append(item)
    rows = [
        _measures(people[pk].display_name, items, errors)
        for pk, items in by_person.items()
    ]
    return sorted(rows, key=lambda row: row.label)


def _per_group(
    resolutions: list[_Resolution],
    errors: set[int],
    people: dict[int, User],
) -> list[Measures]:
    by_group: dict[str, list[_Resolution]] = defaultdict(list)
    for item in resolutions:
        group = people[item.actor_id].learner_group
        by_group[group.name if group else NO_GROUP].append(item)
    return [_measures(name, items, errors) for name, items in sorted(by_group.items())]


def may_read_report(person: User) -> bool:
    return person.is_active and not person.is_external and person.role in REPORT_ROLES


def report_companies() -> list[Company]:
    """Return the real companies, the report's choices."""
    return list(Company.objects.filter(practice_session__isnull=True).order_by("name"))
