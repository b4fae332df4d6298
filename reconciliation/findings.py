"""Store the matching pass's findings as discrepancy cases, without undoing work.

One ``Discrepancy`` row per finding, keyed by its fingerprint. A finding that
still holds updates its case in place; one that no longer holds resolves the
case only while nobody works it and no person has acted on it. A finding the
rule settled itself (a
rounding write-off, a booked exchange difference) is stored resolved, with no
resolver, and stays resolved while it holds. A case with a proposal that
waits for the customer or a manager keeps its state whatever the pass finds
(``cases.MOVES_HELD_BY_PROPOSAL``): its figures are updated and a finding
that is gone is flagged, and the customer's answer or a person ends it.
``docs/cases.md`` has the rules.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from core.bulk_writes import insert_rows, save_fields
from core.models import AuditEvent
from reconciliation.cases import cases_held_by_proposals, compute_due_at
from reconciliation.checks import Finding
from reconciliation.models import Company, Discrepancy, LineCancellation
from reconciliation.services import unsaved_audit_event

# Discrepancy fields a later run may change on an existing row.
FINDING_FIELDS = (
    "code",
    "control_point",
    "severity",
    "owner_role",
    "expected_value",
    "actual_value",
    "difference",
    "unit",
    "explanation",
    "rule",
    "order_id",
    "order_line_id",
    "invoice_id",
    "shipment_id",
    "payment_id",
    "purchase_order_id",
    "vendor_bill_id",
)
# Finding fields that are no figure: a change to them alone reopens no case
# that a person resolved, closed or rejected.
NOT_FIGURES = frozenset({"explanation", "rule", "invoice_id"})
# Case fields the pass changes when it resolves, reopens or flags a case.
CASE_FIELDS = (
    "state",
    "resolved_at",
    "resolved_by_id",
    "resolution_code",
    "resolution_note",
    "resolution_seconds",
    "reopen_count",
    "finding_holds",
)
State = Discrepancy.State
# States in which nobody has picked up the case yet.
RULE_RESOLVABLE_STATES = frozenset({State.OPEN, State.REOPENED})
RULE_RESOLUTION_NOTE = "The matching pass no longer finds this difference."
SETTLED_NOTE = "Settled by rule {rule}: {explanation}"
# Rule names of cases a person reported (``work.open_case``). A pass that
# finds the same fault replaces the rule with its own.
REPORTED_RULE_PREFIX = "reported."


@dataclass
class Tally:
    opened: int = 0
    reopened: int = 0
    updated: int = 0
    resolved: int = 0
    settled: int = 0
    unchanged: int = 0
    written_off: int = 0
    orders: int = 0
    skipped: int = 0
    codes: Counter[str] = field(default_factory=Counter)

    def add(self, other: "Tally") -> None:
        """Add the counts of ``other``, a tally of another share of the orders."""
        for counter in fields(self):
            if counter.name != "codes":
                total = getattr(self, counter.name) + getattr(other, counter.name)
                setattr(self, counter.name, total)
        self.codes.update(other.codes)


def save_findings(
    company: Company,
    findings: list[Finding],
    existing: dict[str, Discrepancy],
    tally: Tally,
    *,
    created: list[Discrepancy] | None = None,
) -> list[AuditEvent]:
    """Insert new findings, update changed ones and resolve those now gone.

    The inserted cases are appended to ``created`` when it is given.
    """
    now = timezone.now()
    events: list[AuditEvent] = []
    if created is None:
        created = []
    changed: list[Discrepancy] = []
    reopened: list[tuple[Discrepancy, AuditEvent]] = []
    acted_on = _cases_people_acted_on(_rule_resolvable(findings, existing))
    # The callers hold these rows locked, and a proposal is made or decided
    # only under its case's lock, so the result stays true until the pass commits.
    waiting_proposals = cases_held_by_proposals(
        [
            row.pk
            for row in existing.values()
            if row.pk is not None and (not row.is_active or _may_rule_resolve(row))
        ]
    )
    for finding in findings:
        if not finding.settled_with:
            tally.codes[finding.code] += 1
        row = existing.pop(finding.fingerprint, None)
        if row is None:
            row = _new_row(company, finding, now)
            if finding.settled_with:
                tally.settled += 1
            else:
                tally.opened += 1
            created.append(row)
            continue

        before = _row_values(row)
        before_state = row.state
        _apply_finding(row, finding)
        after = _row_values(row)
        if finding.settled_with:
            action = _action_for_settled(
                row,
                finding,
                changed=after != before,
                now=now,
                acted_on=row.pk in acted_on or row.pk in waiting_proposals,
            )
        else:
            action = _action_for_holding(
                row,
                changed=after != before,
                figures_changed=_figures(after) != _figures(before),
                held_by_proposal=row.pk in waiting_proposals,
            )
        if action is None:
            tally.unchanged += 1
            continue
        if action == "discrepancy.reopened":
            tally.reopened += 1
        elif action == "discrepancy.resolved":
            tally.resolved += 1
        else:
            tally.updated += 1
        row.updated_at = now
        changed.append(row)
        before["state"] = before_state
        after["state"] = row.state
        proposal_id = waiting_proposals.get(row.pk)
        event = _event(action, row, before, after, proposal_id)
        events.append(event)
        if action == "discrepancy.reopened":
            reopened.append((row, event))
    _name_kept_cancellations(reopened)

    for row in existing.values():
        before_state = row.state
        action = _action_for_cleared(
            row, now=now, acted_on=row.pk in acted_on or row.pk in waiting_proposals
        )
        if action is None:
            continue
        if action == "discrepancy.resolved":
            tally.resolved += 1
        row.updated_at = now
        changed.append(row)
        before_state_only: dict[str, str | None] = {"state": before_state}
        state_after: dict[str, str | None] = {"state": row.state}
        events.append(
            _event(
                action,
                row,
                before_state_only,
                state_after,
                waiting_proposals.get(row.pk),
            )
        )

    insert_rows(created)
    for row in created:
        settled = row.state == State.RESOLVED
        action = "discrepancy.settled" if settled else "discrepancy.opened"
        events.append(_event(action, row, {}, {**_row_values(row), "state": row.state}))
    save_fields(changed, [*FINDING_FIELDS, *CASE_FIELDS, "updated_at"])
    return events


def _figures(values: dict[str, str | None]) -> dict[str, str | None]:
    """Leave out the fields that word a finding or name its invoice.

    A case a customer reported carries the report's wording and rule until
    the pass rewrites them in its own, and a goods case names its invoice
    once one bills the units. Neither is a new figure for a person who
    already decided the case.
    """
    return {name: value for name, value in values.items() if name not in NOT_FIGURES}


def _action_for_holding(
    row: Discrepancy,
    *,
    changed: bool,
    figures_changed: bool,
    held_by_proposal: bool = False,
) -> str | None:
    """Update the case of a finding that still holds, and name what happened.

    A case a person is working keeps its state. A case the matching pass
    resolved opens again. A case a person resolved, closed or rejected stays
    so while the figures are the same, because that person already decided on
    them. When the figures change, the case is reopened for that person.
    A case ``held_by_proposal`` (one with a waiting proposal) is never
    reopened: only its
    figures change.
    """
    holds_again = not row.finding_holds
    row.finding_holds = True
    if row.is_active or held_by_proposal:
        return "discrepancy.updated" if changed or holds_again else None

    resolved_by_rule = row.state == State.RESOLVED and row.resolved_by_id is None
    if not resolved_by_rule and not figures_changed:
        return None

    row.state = State.OPEN if resolved_by_rule else State.REOPENED
    row.resolved_at = None
    row.resolved_by_id = None
    row.resolution_code = ""
    row.resolution_note = ""
    row.reopen_count += 1
    return "discrepancy.reopened"


def _name_kept_cancellations(reopened: list[tuple[Discrepancy, AuditEvent]]) -> None:
    """Add to each reopen's event the case's cancellations that stay in force.

    A person's reopen reverses them (``cases.reopen_case``), but the pass
    leaves them: cancelled units are an agreement with the customer, and the
    pass never undoes a person's decision. The event lists each one as
    ``cancellations_kept``, and the case page shows a notice too.
    """
    if not reopened:
        return
    kept: dict[int, list[dict[str, object]]] = defaultdict(list)
    rows = (
        LineCancellation.objects.filter(
            case_id__in=[row.pk for row, _ in reopened], reversed_at__isnull=True
        )
        .order_by("pk")
        .values_list("case_id", "pk", "order_line__line_no", "qty")
    )
    for case_id, cancellation_id, line_no, qty in rows:
        kept[case_id].append(
            {"cancellation_id": cancellation_id, "line": line_no, "qty": str(qty)}
        )
    for row, event in reopened:
        if row.pk in kept:
            event.after["cancellations_kept"] = kept[row.pk]


def _may_rule_resolve(row: Discrepancy) -> bool:
    """Return whether nobody has picked the case up: open or reopened, unassigned."""
    return row.state in RULE_RESOLVABLE_STATES and row.assignee_id is None


def _rule_resolvable(
    findings: list[Finding], existing: dict[str, Discrepancy]
) -> list[Discrepancy]:
    """Return the cases the pass would resolve if no person had acted on them.

    They are the unpicked cases whose finding is gone or settled by its rule.
    """
    settled = {f.fingerprint for f in findings if f.settled_with}
    found = {f.fingerprint for f in findings}
    return [
        row
        for fingerprint, row in existing.items()
        if (fingerprint in settled or fingerprint not in found)
        and _may_rule_resolve(row)
        and row.pk is not None
    ]


def _cases_people_acted_on(rows: list[Discrepancy]) -> set[int]:
    """Return the ids of the cases in ``rows`` that a person reported or worked.

    A person acted on a case when an audit event on it has an actor
    (reporting, moving, assigning, commenting). A case with a customer's
    problem report, an approval request or a resolution proposal counts too,
    because their events name those rows instead of the case. The pass never
    resolves such a case: a person does.
    """
    if not rows:
        return set()
    ids = [row.pk for row in rows]
    acted = {
        int(object_id)
        for object_id in AuditEvent.objects.filter(
            object_type=Discrepancy._meta.label_lower,
            object_id__in=[str(pk) for pk in ids],
            actor__isnull=False,
        ).values_list("object_id", flat=True)
    }
    linked = Discrepancy.objects.filter(pk__in=ids).filter(
        Q(problem_reports__isnull=False)
        | Q(approvals__isnull=False)
        | Q(proposals__isnull=False)
    )
    acted.update(linked.values_list("pk", flat=True))
    # The rule alone marks a reported case whose audit event is missing.
    acted.update(row.pk for row in rows if row.rule.startswith(REPORTED_RULE_PREFIX))
    return acted


def _action_for_settled(
    row: Discrepancy,
    finding: Finding,
    *,
    changed: bool,
    now: datetime,
    acted_on: bool,
) -> str | None:
    """Keep a settled finding's case resolved; resolve it if nobody works it.

    A case a person reported or acted on stays as it is, for a person to resolve.
    """
    row.finding_holds = True
    if row.state == State.RESOLVED and row.resolved_by_id is None:
        return "discrepancy.updated" if changed else None
    if _may_rule_resolve(row) and not acted_on:
        _settle(row, finding, now)
        return "discrepancy.resolved"
    return "discrepancy.updated" if changed else None


def _action_for_cleared(
    row: Discrepancy, *, now: datetime, acted_on: bool
) -> str | None:
    """Update the case of a finding that no longer holds, and name what happened.

    An open case with no assignee that no person reported or acted on (nor
    made a proposal on) is not being worked, so the pass resolves it. Any
    other case is only flagged, and a person decides. A reported case the
    pass never found keeps its state and flag, because there is no finding
    of the pass that could be gone.
    """
    if not row.is_active or not row.finding_holds:
        return None
    if row.rule.startswith(REPORTED_RULE_PREFIX):
        return None
    if _may_rule_resolve(row) and not acted_on:
        row.state = State.RESOLVED
        row.resolved_at = now
        row.resolution_note = RULE_RESOLUTION_NOTE
        row.resolution_seconds = int((now - row.created_at).total_seconds())
        return "discrepancy.resolved"

    row.finding_holds = False
    return "discrepancy.cleared"


def _settle(row: Discrepancy, finding: Finding, now: datetime) -> None:
    row.state = State.RESOLVED
    row.resolved_at = now
    row.resolution_code = finding.settled_with
    row.resolution_note = SETTLED_NOTE.format(
        rule=finding.rule.name, explanation=finding.explanation
    )
    created = row.created_at or now
    row.resolution_seconds = int((now - created).total_seconds())


def _new_row(company: Company, finding: Finding, now: datetime) -> Discrepancy:
    row = Discrepancy(company=company)
    row.fingerprint = finding.fingerprint
    _apply_finding(row, finding)
    row.due_at = compute_due_at(
        severity=row.severity, detected_at=now, timezone_name=company.timezone
    )
    if finding.settled_with:
        _settle(row, finding, now)
    return row


def _apply_finding(row: Discrepancy, finding: Finding) -> None:
    row.code = finding.code
    row.control_point = finding.rule.control_point
    row.severity = finding.rule.severity
    row.owner_role = finding.rule.owner_role
    row.rule = finding.rule.name
    row.expected_value = finding.expected
    row.actual_value = finding.actual
    row.difference = finding.difference
    row.unit = finding.unit
    row.explanation = finding.explanation
    row.order_id = finding.order_id
    row.order_line_id = finding.order_line_id
    row.invoice_id = finding.invoice_id
    row.shipment_id = finding.shipment_id
    row.payment_id = finding.payment_id
    row.purchase_order_id = finding.purchase_order_id
    row.vendor_bill_id = finding.vendor_bill_id


def _row_values(row: Discrepancy) -> dict[str, str | None]:
    """Return the row's finding fields as text, so Decimal scale does not matter."""
    values: dict[str, str | None] = {}
    for name in FINDING_FIELDS:
        value = getattr(row, name)
        if isinstance(value, Decimal):
            value = value.normalize()
        values[name] = None if value is None else str(value)
    return values


def _event(
    action: str,
    row: Discrepancy,
    before: dict[str, str | None],
    after: dict[str, str | None],
    proposal_id: int | None = None,
) -> AuditEvent:
    """Build the pass's event; ``proposal_id`` names the proposal that held the case."""
    changed = [name for name in after if before.get(name) != after[name]]
    proposal: dict[str, int] = {} if proposal_id is None else {"held_by": proposal_id}
    return unsaved_audit_event(
        action=action,
        target=row,
        source=AuditEvent.Source.RULE,
        before={name: before[name] for name in changed if name in before},
        after={
            "fingerprint": row.fingerprint,
            **{name: after[name] for name in changed},
            **proposal,
        },
        reason=row.rule,
    )
