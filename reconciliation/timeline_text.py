"""The words of the audit timeline: what an event did and what a document is.

Events store their ``before`` and ``after`` as JSON with field names and raw
values. A clerk reads them here as labelled changes ("Payment: Not paid →
Partially paid"), money rounded to its currency's minor unit, states and codes
by their labels and people by their names. Keys that only tie rows together
(ids, fingerprints, the compared inputs that the order page's "Why" section
shows) are left out.
"""

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model
from django.urls import reverse

from accounts.models import Role, User
from accounts.permissions import Viewer
from core.models import AuditEvent
from imports.models import ImportBatch
from imports.selectors import visible_batches
from reconciliation.models import (
    Allocation,
    Currency,
    Invoice,
    ReturnAuthorization,
    Shipment,
)
from reconciliation.money import format_money, format_number, format_quantity
from reconciliation.timeline import (
    EVENT,
    SUBJECT_KINDS,
    Change,
    Entry,
    Subject,
    Subjects,
)

ACTION_TITLES: dict[str, str] = {
    "order.refreshed": "Order figures recomputed",
    "invoice.refreshed": "Invoice figures recomputed",
    "payment.refreshed": "Payment figures recomputed",
    "salesorder.imported": "Order imported",
    "invoice.imported": "Invoice imported",
    "payment.imported": "Payment imported",
    "invoice.copied": "Invoice copied",
    "match.proposed": "Match proposed",
    "match.confirmed": "Match confirmed",
    "match.updated": "Match updated",
    "match.reversed": "Match unreconciled",
    "allocation.created": "Payment applied",
    "allocation.reversed": "Payment application reversed",
    "allocation.written_off": "Difference written off",
    "allocation.fx_booked": "Exchange difference booked",
    "allocation.surplus_kept": "Overpayment kept",
    "payment.payer_assigned": "Payer identified",
    "discrepancy.opened": "Case opened by the matching",
    "discrepancy.updated": "Case figures updated by the matching",
    "discrepancy.settled": "Case settled by the matching",
    "discrepancy.reopened": "Case reopened by the matching",
    "case.state_changed": "Case moved",
    "case.assigned": "Case assigned",
    "case.commented": "Comment added",
    "case.reported": "Problem reported to the case",
    "case.report_added": "Report added to the case",
    "case.invoice_linked": "Invoice linked to the case",
    "approval.requested": "Approval requested",
    "approval.approved": "Approval granted",
    "approval.rejected": "Approval rejected",
    "credit_note.proposed": "Credit note proposed",
    "credit_note.posted": "Credit note posted",
    "credit_note.cancelled": "Credit note cancelled",
    "proposal.awaiting_customer": "Proposal sent to the customer",
    "proposal.accepted": "Customer accepted the proposal",
    "proposal.rejected": "Customer rejected the proposal",
    "proposal.withdrawn": "Proposal withdrawn",
    "proposal.outdated": "Proposal outdated",
    "problem.reported": "Customer reported a problem",
    "problem.evidence_added": "Customer added evidence",
    "shipment.recorded": "Shipment recorded",
    "shipment.discarded": "Draft shipment discarded",
    "shipment.receipt_confirmed": "Customer confirmed receipt",
    "shipment.backorder_created": "Backorder created",
    "shipment.backorder_line_reduced": "Backorder line reduced",
    "shipment.backorder_line_emptied": "Backorder line emptied",
    "shipment.backorder_cancelled": "Backorder cancelled",
    "order_line.cancelled": "Units cancelled",
    "order_line.cancellation_reversed": "Cancellation reversed",
}

FIELD_LABELS: dict[str, str] = {
    "amount": "Amount",
    "amount_total": "Total",
    "amount_paid": "Paid",
    "amount_written_off": "Written off",
    "amount_credited": "Credited",
    "amount_residual": "Open amount",
    "amount_cancelled": "Cancelled value",
    "amount_unallocated": "Unallocated",
    "writeoff_forgiven": "Written off (forgiven)",
    "writeoff_kept": "Overpayment kept",
    "fx_difference": "Exchange difference",
    "payment_state": "Payment",
    "payment_status": "Payment",
    "delivery_status": "Shipping",
    "invoice_status": "Invoicing",
    "recon_status": "Reconciliation",
    "assignee_id": "Assignee",
    "owner_role": "Owner role",
    "expected_value": "Expected",
    "actual_value": "Actual",
    "difference": "Difference",
    "resolution_code": "Resolution",
    "resolution_note": "Resolution note",
    "body": "Comment",
    "code": "Type",
    "residual": "Residual",
    "kept": "Overpayment kept",
    "check_reason": "Check's reason",
}

# Keys that tie rows together or that other parts of the page already show.
HIDDEN_KEYS = frozenset(
    {
        "key",
        "fingerprint",
        "compared",
        "tolerances",
        "score",
        "rule",
        "rule_version",
        "explanation",
        "unit",
        "currency",
        "case",
        "comment_id",
        "mappings",
    }
)

# Keys whose values are money in the subject's currency (or the event's).
MONEY_KEYS = frozenset(
    {
        "amount",
        "amount_total",
        "amount_paid",
        "amount_written_off",
        "amount_credited",
        "amount_residual",
        "amount_cancelled",
        "amount_unallocated",
        "writeoff_forgiven",
        "writeoff_kept",
        "fx_difference",
        "expected_value",
        "actual_value",
        "difference",
        "residual",
        "disputed_amount",
        "credited_before",
        "proposed_before",
        "written_off_before",
        "kept",
    }
)

# The order in which a row lists changed fields. PostgreSQL's jsonb does not
# keep the order the keys were written in, so the page sets its own: these
# keys first, then the others by name.
KEY_ORDER = (
    "state",
    "decision",
    "code",
    "control_point",
    "severity",
    "owner_role",
    "assignee_id",
    "resolution_code",
    "resolution_note",
    "outcome",
    "amount",
    "amount_total",
    "amount_paid",
    "amount_written_off",
    "amount_credited",
    "amount_residual",
    "amount_cancelled",
    "expected_value",
    "actual_value",
    "difference",
    "residual",
    "delivery_status",
    "invoice_status",
    "payment_status",
    "payment_state",
    "recon_status",
    "body",
)
KEY_RANK = {key: rank for rank, key in enumerate(KEY_ORDER)}

SOURCE_NAMES = dict(AuditEvent.Source.choices)
ROLE_LABELS = dict(Role.choices)
IMPORT_REASON = re.compile(r"import batch (\d+)")
# A matching rule's id: a dotted name and a version number, as in payment.short@1.
RULE_ID = re.compile(r"\b[a-z_]+\.[a-z_]+@\d+\b")


def _humanize(name: str) -> str:
    words = name.replace(".", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _model(object_type: str) -> type[Model] | None:
    app_label, _sep, model_name = object_type.partition(".")
    try:
        return apps.get_model(app_label, model_name)
    except LookupError:
        return None


def _choice_labels(object_type: str, key: str) -> dict[str, str]:
    model = _model(object_type)
    if model is None:
        return {}
    try:
        choices = getattr(model._meta.get_field(key), "choices", None)
    except FieldDoesNotExist:
        return {}
    return {str(value): str(label) for value, label in choices or []}


class _Reader:
    """Formats one page of events with what the page needs looked up once."""

    def __init__(
        self,
        subjects: Subjects,
        people: dict[int, str],
        currencies: dict[str, int],
    ) -> None:
        self.subjects = subjects
        self.people = people
        self.currencies = currencies

    def currency(self, event: AuditEvent, subject: Subject | None) -> str:
        """Return the code of the currency that the event's money is in, or ""."""
        for values in (event.after, event.before):
            for key in ("currency", "unit"):
                code = values.get(key) if isinstance(values, dict) else None
                if isinstance(code, str) and code in self.currencies:
                    return code
        if subject is not None and subject.currency in self.currencies:
            return subject.currency
        return ""

    def unit(self, event: AuditEvent, subject: Subject | None) -> str:
        """Return the unit of the event's figures when they are not money, or ""."""
        for values in (event.after, event.before):
            unit = values.get("unit") if isinstance(values, dict) else None
            if isinstance(unit, str) and unit and unit not in self.currencies:
                return unit
        if subject is not None and subject.unit not in self.currencies:
            return subject.unit
        return ""

    def value_text(
        self, object_type: str, key: str, value: Any, currency: str, unit: str = ""
    ) -> str:
        if value is None or value == "":
            return "—"
        if isinstance(value, bool):
            return "yes" if value else "no"

        if isinstance(value, dict):
            parts = [
                (
                    _humanize(name).lower(),
                    self.value_text(object_type, name, item, currency, unit),
                )
                for name, item in value.items()
            ]
            return ", ".join(f"{name} {text}" for name, text in parts)
        if isinstance(value, list) and any(isinstance(item, dict) for item in value):
            # A list of rows, such as a credit note's lines, shows as a count
            # because the document lists the rows itself.
            return f"{len(value)} line{'s' if len(value) != 1 else ''}"
        if isinstance(value, list):
            return "; ".join(
                self.value_text(object_type, key, item, currency, unit)
                for item in value
            )

        if key == "assignee_id" and isinstance(value, int):
            return self.people.get(value, f"person {value}")
        if key in {"owner_role", "role"}:
            return ROLE_LABELS.get(str(value), str(value))
        labels = _choice_labels(object_type, key)
        if str(value) in labels:
            return labels[str(value)]

        number = _decimal(value)
        if number is not None and key in MONEY_KEYS and currency:
            amount = format_money(number, minor_units=self.currencies[currency])
            return f"{amount} {currency}"
        if number is not None and key in MONEY_KEYS and unit:
            # A figure of a match or a case that compares quantities or days.
            return format_quantity(number, unit)
        if number is not None and isinstance(value, str):
            return format_number(number)
        return str(value)

    def changes(self, event: AuditEvent, currency: str, unit: str = "") -> list[Change]:
        before = event.before if isinstance(event.before, dict) else {}
        after = event.after if isinstance(event.after, dict) else {}
        keys = sorted(
            {*before, *after}, key=lambda key: (KEY_RANK.get(key, len(KEY_ORDER)), key)
        )
        rows = []
        for key in keys:
            if key in HIDDEN_KEYS or (key.endswith("_id") and key != "assignee_id"):
                continue
            old, new = before.get(key), after.get(key)
            if key in before and _same(old, new):
                continue
            rows.append(
                Change(
                    label=FIELD_LABELS.get(key, _humanize(key)),
                    before=self.value_text(event.object_type, key, old, currency, unit)
                    if key in before
                    else "",
                    after=self.value_text(event.object_type, key, new, currency, unit)
                    if key in after
                    else "—",
                )
            )
        return rows


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _same(old: Any, new: Any) -> bool:
    old_number, new_number = _decimal(old), _decimal(new)
    if old_number is not None and new_number is not None:
        return old_number == new_number
    return bool(old == new)


def _rule_text(event: AuditEvent) -> str:
    """Return the rule id, with its version where the event stores one.

    A rule event stores its rule in ``after``, or names it in its reason:
    the whole reason (``payment.short@1``) or at its end
    ("... within the rounding allowance (payment.rounding@1).").
    """
    after = event.after if isinstance(event.after, dict) else {}
    named = RULE_ID.search(event.reason)
    rule = after.get("rule") or (named.group(0) if named else "")
    version = after.get("rule_version")
    if rule and version:
        return f"{rule}, version {version}"
    return str(rule or "")


def _why(event: AuditEvent) -> str:
    after = event.after if isinstance(event.after, dict) else {}
    if event.source == AuditEvent.Source.RULE:
        explanation = after.get("explanation")
        if explanation:
            return str(explanation)
        return "" if RULE_ID.fullmatch(event.reason) else event.reason
    if event.source == AuditEvent.Source.IMPORT and IMPORT_REASON.fullmatch(
        event.reason
    ):
        return ""
    return event.reason


def _actor(event: AuditEvent) -> str:
    if event.actor_name:
        return event.actor_name
    if event.source == AuditEvent.Source.RULE:
        return "Matching pass"
    return "System"


def describe_events(
    viewer: Viewer,
    subjects: Subjects,
    currencies: dict[str, int],
    event_ids: list[int],
) -> dict[tuple[str, int], Entry]:
    """Return an entry for each event of a page, keyed by ``(EVENT, pk)``.

    Reads the events, then the import batches and the people they name, if
    any: one to three queries. ``currencies`` maps codes to minor units.
    """
    if not event_ids:
        return {}
    events = list(AuditEvent.objects.filter(pk__in=event_ids))
    batch_ids = {
        int(found.group(1))
        for event in events
        if event.source == AuditEvent.Source.IMPORT
        and (found := IMPORT_REASON.fullmatch(event.reason))
    }
    batches: dict[int, ImportBatch] = (
        visible_batches(viewer).in_bulk(batch_ids) if batch_ids else {}
    )
    people_ids = {
        value
        for event in events
        for values in (event.before, event.after)
        if isinstance(values, dict)
        and isinstance(value := values.get("assignee_id"), int)
    }
    people = (
        {
            person.pk: person.display_name
            for person in User.objects.filter(pk__in=people_ids)
        }
        if people_ids
        else {}
    )
    reader = _Reader(subjects, people, currencies)
    entries = {}
    for event in events:
        subject = subjects.get(event.object_type, event.object_id)
        entry = Entry(
            when=event.occurred_at,
            kind=SUBJECT_KINDS.get(event.object_type, ""),
            title=ACTION_TITLES.get(event.action, _humanize(event.action)),
            subject=subject.label if subject else "",
            subject_url=subject.url if subject else "",
            actor=_actor(event),
            role=ROLE_LABELS.get(event.actor_role, event.actor_role),
            changes=reader.changes(
                event, reader.currency(event, subject), reader.unit(event, subject)
            ),
            why=_why(event),
            source=SOURCE_NAMES.get(event.source, event.source),
        )
        if event.source == AuditEvent.Source.RULE:
            entry.source_detail = _rule_text(event)
        found = IMPORT_REASON.fullmatch(event.reason)
        if event.source == AuditEvent.Source.IMPORT and found:
            batch = batches.get(int(found.group(1)))
            if batch is None:
                entry.source_detail = f"batch {found.group(1)}"
            else:
                entry.source_detail = (
                    f"batch {batch.pk}, file {batch.file_name} ({batch.file_format})"
                )
                entry.source_url = reverse(
                    "imports:batch_detail", kwargs={"batch_id": batch.pk}
                )
        entries[(EVENT, event.pk)] = entry
    return entries


def _money(amount: Decimal, currency: Currency) -> str:
    return f"{format_money(amount, minor_units=currency.minor_units)} {currency.code}"


def _shipment_entry(shipment: Shipment) -> Entry:
    facts = [shipment.get_state_display()]
    if shipment.backorder_of is not None:
        facts.append(f"backorder of {shipment.backorder_of.number}")
    if shipment.carrier:
        facts.append(shipment.carrier)
    if shipment.tracking_no:
        facts.append(f"tracking {shipment.tracking_no}")
    if shipment.delivered_at:
        facts.append(f"delivered {shipment.delivered_at}")
    return Entry(
        when=shipment.shipped_at or shipment.created_at.date(),
        kind="shipments",
        title=f"Shipment {shipment.number}",
        is_document=True,
        facts=facts,
    )


def _invoice_entry(invoice: Invoice) -> Entry:
    currency = invoice.currency
    facts = [
        f"total {_money(invoice.amount_total, currency)}",
        f"due {invoice.due_date}",
    ]
    if invoice.origin_invoice is not None:
        facts.append(f"on {invoice.origin_invoice.number}")
    if invoice.state != Invoice.State.POSTED:
        facts.append(invoice.get_state_display())
    elif invoice.kind == Invoice.Kind.INVOICE:
        facts.append(invoice.get_payment_state_display())
    facts.append(f"open {_money(invoice.amount_residual, currency)}")
    return Entry(
        when=invoice.invoice_date,
        kind="invoices",
        title=f"{invoice.get_kind_display()} {invoice.number}",
        is_document=True,
        facts=facts,
    )


def _allocation_entry(allocation: Allocation) -> Entry:
    payment, invoice = allocation.payment, allocation.invoice
    currency = invoice.currency
    facts = [f"applied {_money(allocation.amount, currency)}"]
    if allocation.writeoff_forgiven:
        facts.append(f"written off {_money(allocation.writeoff_forgiven, currency)}")
    if allocation.writeoff_kept:
        facts.append(f"overpayment kept {_money(allocation.writeoff_kept, currency)}")
    if allocation.writeoff_reason:
        facts.append(allocation.writeoff_reason)
    if allocation.fx_difference:
        # The exchange difference is booked in the company's currency.
        base = invoice.company.base_currency
        facts.append(f"exchange difference {_money(allocation.fx_difference, base)}")
    when: datetime | date
    if allocation.reverses_id is not None:
        title = f"Reversal of payment {payment.number} on {invoice.number}"
        when = allocation.created_at
    else:
        title = f"Payment {payment.number} on {invoice.number}"
        when = payment.value_date
    return Entry(when=when, kind="payments", title=title, is_document=True, facts=facts)


def _return_entry(authorization: ReturnAuthorization) -> Entry:
    facts = [authorization.get_state_display()]
    if authorization.reason:
        facts.append(authorization.reason)
    return Entry(
        when=authorization.received_at or authorization.created_at.date(),
        kind="returns",
        title=f"Return {authorization.number}",
        is_document=True,
        facts=facts,
    )


def describe_documents(
    subjects: Subjects, ids_by_type: dict[str, list[int]]
) -> dict[tuple[str, int], Entry]:
    """Return an entry for each document of a page, keyed by ``(type, pk)``.

    The documents were read with the subjects, so this runs no query.
    """
    builders: dict[str, Callable[[Any], Entry]] = {
        "shipment": _shipment_entry,
        "invoice": _invoice_entry,
        "allocation": _allocation_entry,
        "return": _return_entry,
    }
    entries: dict[tuple[str, int], Entry] = {}
    for entry_type, build in builders.items():
        records = subjects.records.get(entry_type, {})
        for pk in ids_by_type.get(entry_type, []):
            if pk in records:
                entries[(entry_type, pk)] = build(records[pk])
    return entries
