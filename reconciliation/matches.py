"""Match groups: store what the rules matched, confirm proposals, unreconcile.

A ``MatchGroup`` records one pairwise match at a control point. The matching
pass upserts one group per key, so a second pass over the same documents
writes nothing. Proposals (``state=proposed``) and confirmed matches are kept
apart: a rule only confirms what it may confirm on its own, and a person
confirms the rest with ``confirm_match``.

``unreconcile`` never deletes. It writes a negative reversal row for each
allocation of a cash match (the pair nets to zero, so every residual returns
to what it was), marks the group reversed and appends audit events. A rule
does not match the same payment and invoice again after a person reversed
that pair; a person still can. Only a finance clerk or a manager may
unreconcile a real company's match, and only its learner a practice
sandbox's (``check_may_unreconcile``).

Writes that touch several documents lock their rows in one fixed order: by
model (orders, invoices, payments, then the match group, see
``services.LOCK_ORDER``) and then by id. Two people reconciling the same
documents therefore wait for each other instead of deadlocking or
allocating twice.
"""

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Role, User
from core.audit import record_event
from core.bulk_writes import JsonText, insert_values, save_fields
from core.models import AuditEvent
from core.text import clean_text
from reconciliation.checks import MatchRecord
from reconciliation.credit_notes import credit_on_invoice, invoice_money
from reconciliation.models import (
    Allocation,
    Company,
    Invoice,
    MatchGroup,
    Payment,
    SalesOrder,
)
from reconciliation.money import format_money
from reconciliation.services import (
    allocate_locked,
    audit_event_values,
    lock_documents,
    refresh_documents,
)

logger = logging.getLogger(__name__)

ZERO = Decimal(0)
State = MatchGroup.State
Origin = MatchGroup.Origin
GROUP_FIELDS = (
    "state",
    "outcome",
    "rule",
    "rule_version",
    "score",
    "compared",
    "residual",
    "unit",
    "explanation",
    "order_id",
    "order_line_id",
    "invoice_id",
    "payment_id",
    "purchase_order_id",
)
LEFTOVER_REASON = "The matching pass no longer finds these documents matched."
# Before one match per order and control point, A and C kept a match per
# order line. The pass reverses such a match when it stores the order's,
# also one a person confirmed, so an order never shows both.
PER_LINE_PREFIXES = ("A:line:", "C:line:")
PER_LINE_REASON = "Replaced by one match per order at this control point."
# Roles that may unreconcile a real company's cash match. In a practice
# sandbox the learner plays every role, so the learner may, whatever the role.
UNRECONCILE_ROLES = frozenset({Role.FINANCE_CLERK, Role.MANAGER})


class MatchError(ValueError):
    """A confirm or unreconcile that the match's state or documents do not allow."""


# Storing what the pass found


def _values(group: MatchGroup | dict[str, Any]) -> dict[str, Any]:
    """Return the compared fields of a group or of a stored row, Decimals as text."""
    values: dict[str, Any] = {}
    for name in GROUP_FIELDS:
        value = group[name] if isinstance(group, dict) else getattr(group, name)
        if isinstance(value, Decimal):
            value = str(value.normalize())
        values[name] = value
    return values


def _apply(group: MatchGroup, record: MatchRecord) -> None:
    confirmed_by_person = (
        group.confirmed_by_id is not None and group.compared == record.compared
    )
    group.state = (
        State.CONFIRMED
        if confirmed_by_person or not record.proposed
        else State.PROPOSED
    )
    group.outcome = record.outcome
    group.rule = record.rule
    group.rule_version = record.rule_version
    group.score = record.score
    group.compared = record.compared
    group.residual = record.residual
    group.unit = record.unit
    group.explanation = record.explanation
    group.order_id = record.order_id
    group.order_line_id = record.order_line_id
    group.invoice_id = record.invoice_id
    group.payment_id = record.payment_id
    group.purchase_order_id = record.purchase_order_id


def _record_values(record: MatchRecord, row: dict[str, Any]) -> dict[str, Any]:
    """Return what ``_values`` gives for ``row`` once ``_apply`` applied ``record``."""
    confirmed_by_person = (
        row["confirmed_by_id"] is not None and row["compared"] == record.compared
    )
    state = (
        State.CONFIRMED
        if confirmed_by_person or not record.proposed
        else State.PROPOSED
    )
    values = {name: getattr(record, name, None) for name in GROUP_FIELDS}
    values["state"] = state
    if isinstance(record.residual, Decimal):
        values["residual"] = str(record.residual.normalize())
    return values


def _stored_group(company: Company, row: dict[str, Any]) -> MatchGroup:
    """Build the model instance of a stored row, to update it without a read."""
    group = MatchGroup(
        pk=row["id"],
        company=company,
        kind=row["kind"],
        key=row["key"],
        origin=row["origin"],
        confirmed_by_id=row["confirmed_by_id"],
        **{name: row[name] for name in GROUP_FIELDS},
    )
    group._state.adding = False
    return group


def save_match_records(
    company: Company,
    records: list[MatchRecord],
    existing: dict[str, dict[str, Any]],
    *,
    now: datetime,
) -> tuple[dict[str, int], list[AuditEvent]]:
    """Store match records as ``store_match_records`` does, with event instances.

    Return the id of every stored group by key, and the audit events to
    append.
    """
    stored, event_rows = store_match_records(company, records, existing, now=now)
    events = []
    for row in event_rows:
        if isinstance(row["after"], JsonText):
            row = {**row, "after": json.loads(row["after"])}
        events.append(AuditEvent(**row))
    return stored, events


def store_match_records(
    company: Company,
    records: list[MatchRecord],
    existing: dict[str, dict[str, Any]],
    *,
    now: datetime,
) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """Insert new groups, update changed ones and reverse those now gone.

    ``existing`` contains the stored rows (see ``existing_groups``) in the same
    scope that are not reversed. Only the groups whose compared values changed
    become model instances and are written. New groups are inserted from
    their values, without instances. Return the id of every stored group by
    key, and the audit events to append as ``insert_values`` rows.
    """
    events: list[dict[str, Any]] = []
    created: list[MatchRecord] = []
    changed: list[MatchGroup] = []
    stored: dict[str, int] = {}
    for record in records:
        row = existing.pop(record.key, None)
        if row is None:
            created.append(record)
            continue
        stored[record.key] = row["id"]
        before = _values(row)
        after = _record_values(record, row)
        if after == before:
            continue
        group = _stored_group(company, row)
        _apply(group, record)
        group.updated_at = now
        changed.append(group)
        diff = [name for name in after if after[name] != before[name]]
        events.append(
            _group_event(
                "match.updated",
                group.pk,
                before={name: before[name] for name in diff},
                after={name: after[name] for name in diff},
                reason=group.rule,
            )
        )

    leftovers = [
        row
        for row in existing.values()
        if row["origin"] == Origin.RULE or row["key"].startswith(PER_LINE_PREFIXES)
    ]
    with_allocations = set(
        Allocation.objects.filter(
            match_group_id__in=[row["id"] for row in leftovers]
        ).values_list("match_group_id", flat=True)
    )
    reversed_groups: list[MatchGroup] = []
    for row in leftovers:
        if row["id"] in with_allocations:
            continue
        reason = (
            PER_LINE_REASON
            if row["key"].startswith(PER_LINE_PREFIXES)
            else LEFTOVER_REASON
        )
        group = _stored_group(company, row)
        before_state = group.state
        group.state = State.REVERSED
        group.reversed_at = now
        group.reversal_reason = reason
        group.updated_at = now
        reversed_groups.append(group)
        events.append(
            _group_event(
                "match.reversed",
                group.pk,
                before={"state": before_state},
                after={"state": State.REVERSED},
                reason=reason,
            )
        )

    events.extend(_insert_groups(company, created, stored, now=now))
    save_fields(changed, [*GROUP_FIELDS, "updated_at"])
    save_fields(
        reversed_groups, ["state", "reversed_at", "reversal_reason", "updated_at"]
    )
    return stored, events


def _insert_groups(
    company: Company,
    records: list[MatchRecord],
    stored: dict[str, int],
    *,
    now: datetime,
) -> list[dict[str, Any]]:
    """Insert a group per new record, add its id to ``stored``; return the events.

    The rows and events hold what ``_apply`` and ``_values`` give for a new
    group, so a later pass compares them the same way.
    """
    rows = []
    after_values = []
    for record in records:
        values = _new_values(record)
        # ``compared`` is the largest value of both rows, so it is encoded
        # once, and the event's ``after`` is encoded around it.
        compared = JsonText(json.dumps(record.compared))
        after = json.dumps({"key": record.key, **values, "compared": _COMPARED})
        after_values.append(
            (values["state"], JsonText(after.replace(_COMPARED_JSON, compared, 1)))
        )
        rows.append(
            {
                **values,
                "compared": compared,
                "company_id": company.pk,
                "kind": record.kind,
                "key": record.key,
                "residual": record.residual,
                "confirmed_at": now if values["state"] == State.CONFIRMED else None,
            }
        )
    ids = insert_values(MatchGroup, rows)
    events = []
    for record, (state, after), group_id in zip(
        records, after_values, ids, strict=True
    ):
        stored[record.key] = group_id
        events.append(
            _group_event(f"match.{state}", group_id, after=after, reason=record.rule)
        )
    return events


# Stands for ``compared`` in an event's ``after`` until its encoded text
# replaces it. No other value of ``after`` comes before ``compared`` in
# ``GROUP_FIELDS`` that could hold this text.
_COMPARED = "\0compared\0"
_COMPARED_JSON = json.dumps(_COMPARED)


def _new_values(record: MatchRecord) -> dict[str, Any]:
    """Return what ``_values`` gives for a new group that ``_apply`` filled."""
    values = {name: getattr(record, name, None) for name in GROUP_FIELDS}
    values["state"] = State.PROPOSED if record.proposed else State.CONFIRMED
    if isinstance(record.residual, Decimal):
        values["residual"] = str(record.residual.normalize())
    return values


def _group_event(
    action: str,
    group_id: int,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | JsonText,
    reason: str,
) -> dict[str, Any]:
    return audit_event_values(
        action=action,
        object_type=MatchGroup._meta.label_lower,
        object_id=group_id,
        source=AuditEvent.Source.RULE,
        before=before,
        after=after,
        reason=reason,
    )


def existing_groups(
    company: Company, scope: Q, *, company_in_sql: bool = True
) -> dict[str, dict[str, Any]]:
    """Return the company's groups in ``scope`` that are not reversed, by key, locked.

    The rows are read as values, not model instances: a pass over unchanged
    documents compares them and builds no instance. Without
    ``company_in_sql`` the company is checked on the rows read, for a
    ``scope`` that an index narrows better than the company does.
    """
    rows = MatchGroup.objects.select_for_update().filter(scope)
    if company_in_sql:
        rows = rows.filter(company=company)
    values = (
        rows.exclude(state=State.REVERSED)
        .order_by("pk")
        .values(
            "id",
            "company_id",
            "kind",
            "key",
            "origin",
            "confirmed_by_id",
            *GROUP_FIELDS,
        )
    )
    return {row["key"]: row for row in values if row["company_id"] == company.pk}


# Confirming and reversing


def _lock_group(group_id: int) -> MatchGroup:
    """Lock a group's documents, then the group, in ``LOCK_ORDER``."""
    group = MatchGroup.objects.get(pk=group_id)
    invoice_ids = [group.invoice_id, *_proposed_invoice_ids(group)]
    allocations = Allocation.objects.filter(
        Q(invoice_id__in=[pk for pk in invoice_ids if pk]) | Q(match_group=group)
    )
    payment_ids = [group.payment_id, *allocations.values_list("payment_id", flat=True)]
    invoice_ids += list(allocations.values_list("invoice_id", flat=True))
    order_ids = Invoice.objects.filter(
        pk__in=[i for i in invoice_ids if i]
    ).values_list("order_id", flat=True)
    lock_documents(
        {
            SalesOrder: [group.order_id, *order_ids],
            Invoice: invoice_ids,
            Payment: payment_ids,
            MatchGroup: [group.pk],
        }
    )
    return MatchGroup.objects.select_related("company").get(pk=group_id)


def _proposed_invoice_ids(group: MatchGroup) -> list[int]:
    items = (
        group.compared.get("invoices", []) if isinstance(group.compared, dict) else []
    )
    return [int(item["id"]) for item in items]


def confirm_match(*, group_id: int, actor: User, reason: str = "") -> MatchGroup:
    """Confirm a proposed match; a cash proposal allocates the payment."""
    with transaction.atomic():
        group = _lock_group(group_id)
        if group.state != State.PROPOSED:
            raise MatchError(
                f"Match {group.matching_number} is {group.state}: only a proposed "
                "match can be confirmed."
            )
        before = {"state": group.state}
        if group.kind == MatchGroup.Kind.CASH and group.payment_id is not None:
            payment = Payment.objects.get(pk=group.payment_id)
            for item in group.compared.get("invoices", []):
                invoice = Invoice.objects.get(pk=int(item["id"]))
                _check_still_open(group, invoice, item)
                _check_write_off_room(group, invoice, item)
                allocate_locked(
                    payment=payment,
                    invoice=invoice,
                    amount=Decimal(item["amount"]),
                    writeoff=Decimal(item.get("writeoff", "0")),
                    writeoff_reason=group.rule if item.get("writeoff") else "",
                    group=group,
                    actor=actor,
                    source=AuditEvent.Source.SCREEN,
                )
        group.state = State.CONFIRMED
        group.origin = MatchGroup.Origin.PERSON
        group.confirmed_by = actor
        group.confirmed_at = timezone.now()
        group.save(
            update_fields=[
                "state",
                "origin",
                "confirmed_by",
                "confirmed_at",
                "updated_at",
            ]
        )
        record_event(
            actor=actor,
            action="match.confirmed",
            target=group,
            source=AuditEvent.Source.SCREEN,
            before=before,
            after={"state": group.state, "key": group.key, "rule": group.rule},
            reason=reason,
        )
    logger.info("Match %s confirmed by user %s", group.pk, actor.pk)
    return group


def _check_still_open(
    group: MatchGroup, invoice: Invoice, item: dict[str, str]
) -> None:
    """Raise when the invoice no longer owes what the proposal would settle."""
    settles = Decimal(item["amount"]) + Decimal(item.get("writeoff", "0"))
    if settles <= invoice.amount_residual:
        return
    minor_units = invoice.currency.minor_units
    raise MatchError(
        f"Match {group.matching_number} would settle "
        f"{format_money(settles, minor_units=minor_units)} {invoice.currency_id} "
        f"on invoice {invoice.number}, which now owes "
        f"{format_money(invoice.amount_residual, minor_units=minor_units)}: run "
        "the matching again for a new proposal."
    )


def _check_write_off_room(
    group: MatchGroup, invoice: Invoice, item: dict[str, str]
) -> None:
    """Raise when the proposal's write-off forgives money that credit covers.

    The same bounds apply as to a write-off a person books on a case: the
    open proposals' draft credit notes settle the open amount first when the
    customer accepts them, and everything taken off the invoice stays
    within its total.
    """
    writeoff = Decimal(item.get("writeoff", "0"))
    if writeoff <= 0:
        return
    credit = credit_on_invoice(invoice)
    left_open = invoice.amount_residual - Decimal(item["amount"]) - credit.proposed
    room = min(left_open, invoice.amount_total - credit.taken_off)
    if writeoff <= room:
        return
    raise MatchError(
        f"Match {group.matching_number} would write off "
        f"{invoice_money(invoice, writeoff)} on invoice {invoice.number}, but "
        f"only {invoice_money(invoice, max(room, ZERO))} of it is free: open "
        f"proposals offer {invoice_money(invoice, credit.proposed)} of credit, "
        "which settles the open amount first when the customer accepts, "
        f"{invoice_money(invoice, credit.posted)} is credited and "
        f"{invoice_money(invoice, credit.written_off)} written off already. "
        "Wait for the customer's answer to the proposals, or withdraw them, "
        "then run the matching again."
    )


def check_may_unreconcile(actor: User, group: MatchGroup) -> None:
    """Raise ``PermissionDenied`` unless ``actor`` may unreconcile ``group``.

    A real company's match needs an active finance clerk or manager. A
    practice sandbox's match needs the sandbox's own learner, while the
    session is active (``MatchError`` once it is finished).
    """
    number = group.matching_number
    if not actor.is_active or actor.is_external:
        raise PermissionDenied(f"{actor.username} may not unreconcile match {number}.")
    # The session is read by its reverse relation, so this module needs no
    # import of the practice app.
    company = (
        Company.objects.filter(pk=group.company_id)
        .values_list(
            "is_sandbox",
            "practice_session",
            "practice_session__learner_id",
            "practice_session__status",
        )
        .first()
    )
    is_sandbox, session_id, learner_id, status = company or (False, None, None, "")
    if is_sandbox or session_id is not None:
        if learner_id is None or learner_id != actor.pk:
            raise PermissionDenied(
                f"{actor.username} may not unreconcile match {number}: it belongs "
                "to another learner's practice session."
            )
        if status != "active":
            raise MatchError(
                f"Practice session {session_id} is {status}, so match {number} "
                "cannot be unreconciled: start a new session to practise again."
            )
        return
    if actor.role not in UNRECONCILE_ROLES:
        raise PermissionDenied(
            f"{actor.username} may not unreconcile match {number}: it is work "
            "for a finance clerk or a manager."
        )


def unreconcile(*, group_id: int, actor: User, reason: str) -> MatchGroup:
    """Reverse a cash match: write reversal allocations and mark it reversed.

    Raises ``PermissionDenied`` for a person who may not (see
    ``check_may_unreconcile``) and ``MatchError`` for a match that is not a
    cash match, is already reversed or has nothing left to reverse. The
    group row is locked, so of two people unreconciling one match at once
    the second waits and then gets "already reversed".
    """
    found = MatchGroup.objects.filter(pk=group_id).first()
    if found is None:
        raise MatchError(
            f"Match M{group_id} was not found: reload the page and pick a match "
            "from the list."
        )
    check_may_unreconcile(actor, found)
    # Without NUL and invisible characters, which PostgreSQL's text rejects
    # and which would make a blank reason look filled in.
    reason = clean_text(reason)
    if not reason:
        raise MatchError("Unreconciling needs a reason.")
    with transaction.atomic():
        group = _lock_group(group_id)
        if group.kind != MatchGroup.Kind.CASH:
            raise MatchError(
                f"Match {group.matching_number} is a {group.get_kind_display()} "
                "match, which follows the documents: change the documents instead."
            )
        if group.state == State.REVERSED:
            raise MatchError(f"Match {group.matching_number} is already reversed.")
        reversals = _reverse_allocations(group, actor=actor, reason=reason)
        before = {"state": group.state}
        group.state = State.REVERSED
        group.reversed_by = actor
        group.reversed_at = timezone.now()
        group.reversal_reason = reason
        group.save(
            update_fields=[
                "state",
                "reversed_by",
                "reversed_at",
                "reversal_reason",
                "updated_at",
            ]
        )
        record_event(
            actor=actor,
            action="match.reversed",
            target=group,
            source=AuditEvent.Source.SCREEN,
            before=before,
            after={
                "state": group.state,
                "key": group.key,
                "reversal_allocations": [row.pk for row in reversals],
            },
            reason=reason,
        )
        invoice_ids = {row.invoice_id for row in reversals} | {group.invoice_id or 0}
        refresh_documents(
            invoice_ids=invoice_ids,
            payment_ids={row.payment_id for row in reversals},
            source=AuditEvent.Source.SCREEN,
        )
        # Imported here because the matching pass imports this module.
        from reconciliation.matching import check_order_after_commit

        order_ids = Invoice.objects.filter(pk__in=invoice_ids).values_list(
            "order_id", flat=True
        )
        for order_id in sorted({pk for pk in order_ids if pk is not None}):
            check_order_after_commit(order_id)
    logger.info("Match %s unreconciled by user %s", group.pk, actor.pk)
    return group


def live_allocations(group: MatchGroup) -> QuerySet[Allocation]:
    """Return the allocations that unreconciling ``group`` would reverse.

    They are the group's own allocations and, for a match of one invoice,
    every allocation of that invoice, less those already reversed.
    """
    scope = Q(match_group=group)
    if group.invoice_id is not None:
        scope |= Q(invoice_id=group.invoice_id)
    return (
        Allocation.objects.filter(scope, reverses__isnull=True, reversal__isnull=True)
        .select_related("payment", "payment__currency", "invoice", "invoice__currency")
        .order_by("pk")
    )


def _reverse_allocations(
    group: MatchGroup, *, actor: User, reason: str
) -> list[Allocation]:
    reversals = []
    for allocation in live_allocations(group):
        reversal = Allocation.objects.create(
            payment=allocation.payment,
            invoice=allocation.invoice,
            amount=-allocation.amount,
            writeoff_forgiven=-allocation.writeoff_forgiven,
            writeoff_kept=-allocation.writeoff_kept,
            writeoff_reason=allocation.writeoff_reason,
            fx_difference=-allocation.fx_difference,
            match_group=group,
            reverses=allocation,
        )
        record_event(
            actor=actor,
            action="allocation.reversed",
            target=allocation,
            source=AuditEvent.Source.SCREEN,
            before={
                "amount": str(allocation.amount),
                **allocation.writeoff_state(),
                "fx_difference": str(allocation.fx_difference),
            },
            after={"reversal_id": reversal.pk, "net_amount": "0"},
            reason=reason,
        )
        reversals.append(reversal)
    if not reversals:
        raise MatchError(
            f"Match {group.matching_number} has no allocation left to reverse."
        )
    return reversals


@dataclass(frozen=True)
class Balance:
    """An invoice's open amount or a payment's unallocated amount, for a message."""

    document: str
    number: str
    amount: Decimal
    currency: str
    minor_units: int

    def __str__(self) -> str:
        amount = format_money(self.amount, minor_units=self.minor_units)
        if self.document == "invoice":
            return f"invoice {self.number} is open {amount} {self.currency}"
        return f"payment {self.number} has {amount} {self.currency} unallocated"


def restored_balances(group: MatchGroup) -> list[Balance]:
    """Return the balances of the documents an unreconcile of ``group`` restored.

    The amounts are read after the reversal, so they are the restored
    residuals, invoices first, then payments, each by number.
    """
    rows = (
        Allocation.objects.filter(match_group=group, reverses__isnull=False)
        .select_related("invoice__currency", "payment__currency")
        .order_by("pk")
    )
    invoices = {row.invoice_id: row.invoice for row in rows}
    payments = {row.payment_id: row.payment for row in rows}
    balances = [
        Balance(
            "invoice",
            invoice.number,
            invoice.amount_residual,
            invoice.currency_id,
            invoice.currency.minor_units,
        )
        for invoice in sorted(invoices.values(), key=lambda item: item.number)
    ]
    balances += [
        Balance(
            "payment",
            payment.number,
            payment.amount_unallocated,
            payment.currency_id,
            payment.currency.minor_units,
        )
        for payment in sorted(payments.values(), key=lambda item: item.number)
    ]
    return balances


def reversed_pairs(
    company: Company, payment: Payment | None = None
) -> set[tuple[int, int]]:
    """Return the (payment, invoice) pairs a person unreconciled.

    With ``payment``, only that payment's pairs are read.
    """
    rows = Allocation.objects.filter(reverses__isnull=False)
    if payment is None:
        rows = rows.filter(payment__company=company)
    else:
        rows = rows.filter(payment=payment)
    return set(rows.values_list("payment_id", "invoice_id"))
