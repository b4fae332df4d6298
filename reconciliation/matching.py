"""The matching pass: compare each order with its shipments, invoices and payments.

``run_matching`` checks every order of a company as of a date and keeps one
``Discrepancy`` row per finding, keyed by its fingerprint. A second run over
the same documents changes nothing. A finding that no longer applies is
resolved, never deleted. Each finding names the rule and version that made it.

The checks read the documents themselves (shipment lines, invoice lines,
allocations), not the running quantities on the order lines, so a stale
refresh cannot hide a difference. Quantities are compared per line as Decimal:
when the large line of an order ships in full and its small line does not, the
small line is still reported.

A duplicate invoice is reported once, as a duplicate. It is left out of the
quantity and payment checks, because being a duplicate explains both its extra
quantity and its missing payment.
"""

import logging
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.models import AuditEvent
from reconciliation.cases import compute_due_at
from reconciliation.checks import (
    CheckContext,
    DuplicateOf,
    Finding,
    OrderDocuments,
    check_order,
    settle_within_tolerance,
)
from reconciliation.models import (
    Allocation,
    Company,
    Discrepancy,
    Invoice,
    InvoiceLine,
    ReconStatus,
    SalesOrder,
    SalesOrderLine,
    Shipment,
    ShipmentLine,
)
from reconciliation.money import DEFAULT_TOLERANCE, TolerancePolicy, payment_tolerance
from reconciliation.services import (
    derive_payment_status,
    save_fields,
    unsaved_audit_event,
)

logger = logging.getLogger(__name__)

# Orders are checked in chunks of this many, so memory stays flat on a large
# company while each chunk costs the same fixed number of queries.
CHUNK_SIZE = 2000
# Discrepancy fields a later run may change on an existing row.
FINDING_FIELDS = (
    "code",
    "severity",
    "owner_role",
    "expected_value",
    "actual_value",
    "difference",
    "unit",
    "explanation",
    "rule",
    "order_line_id",
    "invoice_id",
    "shipment_id",
)
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


@dataclass(frozen=True)
class MatchingSummary:
    """Counts of the findings one matching pass stored and the rows it changed."""

    orders_checked: int
    opened: int
    reopened: int
    updated: int
    resolved: int
    unchanged: int
    written_off: int
    open_by_code: dict[str, int] = field(default_factory=dict)


@dataclass
class _Tally:
    opened: int = 0
    reopened: int = 0
    updated: int = 0
    resolved: int = 0
    unchanged: int = 0
    written_off: int = 0
    orders: int = 0
    codes: Counter[str] = field(default_factory=Counter)


def run_matching(
    *, company: Company, as_of: date, tolerance: TolerancePolicy = DEFAULT_TOLERANCE
) -> MatchingSummary:
    """Check every order of ``company`` as of ``as_of`` and store the findings.

    ``as_of`` is the day that promised and due dates are compared with.
    Documents dated after it still count.
    """
    logger.info("Matching pass started for company %s as of %s", company.pk, as_of)
    context = CheckContext(
        as_of=as_of,
        late_days=settings.RECONCILIATION_LATE_DAYS,
        tolerance=tolerance,
        payment_tolerance=payment_tolerance(),
        duplicates={},
    )
    tally = _Tally()
    with transaction.atomic():
        context.duplicates.update(find_duplicate_invoices(company=company))
        order_ids = list(
            SalesOrder.objects.filter(company=company)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for start in range(0, len(order_ids), CHUNK_SIZE):
            chunk = order_ids[start : start + CHUNK_SIZE]
            _match_chunk(company, chunk[0], chunk[-1], context, tally)

    summary = MatchingSummary(
        orders_checked=tally.orders,
        opened=tally.opened,
        reopened=tally.reopened,
        updated=tally.updated,
        resolved=tally.resolved,
        unchanged=tally.unchanged,
        written_off=tally.written_off,
        open_by_code=dict(sorted(tally.codes.items())),
    )
    logger.info(
        "Matching pass finished for company %s: %d orders, %d opened, "
        "%d reopened, %d updated, %d resolved, %d written off",
        company.pk,
        summary.orders_checked,
        summary.opened,
        summary.reopened,
        summary.updated,
        summary.resolved,
        summary.written_off,
    )
    return summary


def normalize_reference(reference: str) -> str:
    """Fold a reference for comparison: Unicode NFKC, trimmed, case-folded."""
    return unicodedata.normalize("NFKC", reference).strip().casefold()


def find_duplicate_invoices(*, company: Company) -> dict[int, DuplicateOf]:
    """Map each duplicate posted invoice to the original it repeats.

    Two invoices are the same when they have one commercial partner (the
    parent party of a child contact) and one reference after normalizing. The
    original is the earliest by invoice date, then by entry order. A reference
    reused a year later is flagged as well: only a person can tell a reused
    number from a copy.
    """
    rows = (
        Invoice.objects.filter(
            company=company, kind=Invoice.Kind.INVOICE, state=Invoice.State.POSTED
        )
        .exclude(reference="")
        .order_by("invoice_date", "pk")
        .values_list(
            "pk",
            "number",
            "reference",
            "invoice_date",
            "customer__name",
            "customer__parent_id",
            "customer__parent__name",
            "customer_id",
        )
    )
    originals: dict[tuple[int, str], DuplicateOf] = {}
    duplicates: dict[int, DuplicateOf] = {}
    for pk, number, reference, invoice_date, name, parent_id, parent_name, own in rows:
        key = (parent_id or own, normalize_reference(reference))
        original = originals.get(key)
        if original is None:
            originals[key] = DuplicateOf(
                number=number,
                reference=reference,
                invoice_date=invoice_date,
                partner_name=parent_name or name,
            )
        else:
            duplicates[pk] = original
    return duplicates


def _match_chunk(
    company: Company, first: int, last: int, context: CheckContext, tally: _Tally
) -> None:
    documents = _load_documents(company, first, last)
    writeoffs: list[tuple[Allocation, Invoice, Decimal]] = []
    findings: list[Finding] = []
    for order_documents in documents:
        writeoffs.extend(settle_within_tolerance(order_documents, context))
        findings.extend(check_order(order_documents, context))

    # Locked, in id order, so a person's change to a case waits for the pass
    # instead of being overwritten by the pass's older copy of the row.
    rows = Discrepancy.objects.select_for_update().filter(
        company=company, order_id__gte=first, order_id__lte=last
    )
    existing = {row.fingerprint: row for row in rows.order_by("pk")}
    events = _save_findings(company, findings, existing, tally)
    events.extend(_save_writeoffs(writeoffs, documents))
    _save_recon_statuses(documents, findings)
    AuditEvent.objects.bulk_create(events, batch_size=500)

    tally.orders += len(documents)
    tally.written_off += len(writeoffs)
    tally.codes.update(finding.code for finding in findings)


def _load_documents(company: Company, first: int, last: int) -> list[OrderDocuments]:
    """Read the orders with ids in ``first..last`` and all their documents."""
    in_range = {"order_id__gte": first, "order_id__lte": last}
    orders = SalesOrder.objects.filter(company=company, pk__gte=first, pk__lte=last)
    documents = {
        order.pk: OrderDocuments(order=order)
        for order in orders.select_related("currency").order_by("pk")
    }
    lines = SalesOrderLine.objects.filter(order__company=company, **in_range)
    for line in lines.select_related("product").order_by("line_no"):
        documents[line.order_id].lines.append(line)

    shipments = {}
    for shipment in Shipment.objects.filter(company=company, **in_range):
        shipments[shipment.pk] = shipment
        documents[shipment.order_id].shipments.append(shipment)
    shipment_lines = ShipmentLine.objects.filter(
        shipment__company=company,
        shipment__order_id__gte=first,
        shipment__order_id__lte=last,
    )
    for shipment_line in shipment_lines:
        order_id = shipments[shipment_line.shipment_id].order_id
        documents[order_id].shipment_lines.append(shipment_line)

    # Order id of each invoice; the range filter leaves out invoices with none.
    invoice_orders: dict[int, int] = {}
    invoice_rows = Invoice.objects.filter(company=company, **in_range)
    for invoice in invoice_rows.select_related("currency").order_by("pk"):
        if invoice.order_id is not None:
            invoice_orders[invoice.pk] = invoice.order_id
            documents[invoice.order_id].invoices.append(invoice)
    invoice_lines = InvoiceLine.objects.filter(
        invoice__company=company,
        invoice__order_id__gte=first,
        invoice__order_id__lte=last,
    )
    for invoice_line in invoice_lines.order_by("pk"):
        order_id = invoice_orders[invoice_line.invoice_id]
        documents[order_id].invoice_lines.append(invoice_line)
    allocations = Allocation.objects.filter(
        invoice__company=company,
        invoice__order_id__gte=first,
        invoice__order_id__lte=last,
    )
    for allocation in allocations.order_by("pk"):
        order_id = invoice_orders[allocation.invoice_id]
        documents[order_id].allocations.append(allocation)
    return list(documents.values())


def _save_findings(
    company: Company,
    findings: list[Finding],
    existing: dict[str, Discrepancy],
    tally: _Tally,
) -> list[AuditEvent]:
    """Insert new findings, update changed ones and resolve those now gone."""
    now = timezone.now()
    events: list[AuditEvent] = []
    created: list[Discrepancy] = []
    changed: list[Discrepancy] = []
    for finding in findings:
        row = existing.pop(finding.fingerprint, None)
        if row is None:
            created.append(_new_row(company, finding, now))
            continue

        before = _row_values(row)
        before_state = row.state
        _apply_finding(row, finding)
        after = _row_values(row)
        action = _action_for_holding(row, changed=after != before)
        if action is None:
            tally.unchanged += 1
            continue
        if action == "discrepancy.reopened":
            tally.reopened += 1
        else:
            tally.updated += 1
        row.updated_at = now
        changed.append(row)
        before["state"] = before_state
        after["state"] = row.state
        events.append(_event(action, row, before, after))

    for row in existing.values():
        before_state = row.state
        action = _action_for_cleared(row, now=now)
        if action is None:
            continue
        if action == "discrepancy.resolved":
            tally.resolved += 1
        row.updated_at = now
        changed.append(row)
        before_state_only: dict[str, str | None] = {"state": before_state}
        events.append(_event(action, row, before_state_only, {"state": row.state}))

    Discrepancy.objects.bulk_create(created, batch_size=500)
    for row in created:
        events.append(_event("discrepancy.opened", row, {}, _row_values(row)))
    tally.opened += len(created)
    save_fields(changed, [*FINDING_FIELDS, *CASE_FIELDS, "updated_at"])
    return events


def _action_for_holding(row: Discrepancy, *, changed: bool) -> str | None:
    """Update the case of a finding that still holds, and name what happened.

    A case a person is working keeps its state. A case the matching pass
    resolved opens again. A case a person resolved, closed or rejected stays
    so while the figures are the same, because that person already decided on
    them. When the figures change, the case is reopened for that person.
    """
    holds_again = not row.finding_holds
    row.finding_holds = True
    if row.is_active:
        return "discrepancy.updated" if changed or holds_again else None

    resolved_by_rule = row.state == State.RESOLVED and row.resolved_by_id is None
    if not resolved_by_rule and not changed:
        return None

    row.state = State.OPEN if resolved_by_rule else State.REOPENED
    row.resolved_at = None
    row.resolved_by_id = None
    row.resolution_code = ""
    row.resolution_note = ""
    row.reopen_count += 1
    return "discrepancy.reopened"


def _action_for_cleared(row: Discrepancy, *, now: datetime) -> str | None:
    """Update the case of a finding that no longer holds, and name what happened.

    An open case with no assignee is not being worked, so the pass resolves
    it. A case in a person's hands is only flagged, and the person decides.
    """
    if not row.is_active or not row.finding_holds:
        return None
    if row.state in RULE_RESOLVABLE_STATES and row.assignee_id is None:
        row.state = State.RESOLVED
        row.resolved_at = now
        row.resolution_note = RULE_RESOLUTION_NOTE
        row.resolution_seconds = int((now - row.created_at).total_seconds())
        return "discrepancy.resolved"

    row.finding_holds = False
    return "discrepancy.cleared"


def _new_row(company: Company, finding: Finding, now: datetime) -> Discrepancy:
    row = Discrepancy(company=company, order_id=finding.order_id)
    row.fingerprint = finding.fingerprint
    _apply_finding(row, finding)
    row.due_at = compute_due_at(
        severity=row.severity, detected_at=now, timezone_name=company.timezone
    )
    return row


def _apply_finding(row: Discrepancy, finding: Finding) -> None:
    row.code = finding.code
    row.severity = finding.rule.severity
    row.owner_role = finding.rule.owner_role
    row.rule = finding.rule.name
    row.expected_value = finding.expected
    row.actual_value = finding.actual
    row.difference = finding.difference
    row.unit = finding.unit
    row.explanation = finding.explanation
    row.order_line_id = finding.order_line_id
    row.invoice_id = finding.invoice_id
    row.shipment_id = finding.shipment_id


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
) -> AuditEvent:
    changed = [name for name in after if before.get(name) != after[name]]
    return unsaved_audit_event(
        action=action,
        target=row,
        source=AuditEvent.Source.RULE,
        before={name: before[name] for name in changed if name in before},
        after={
            "fingerprint": row.fingerprint,
            **{name: after[name] for name in changed},
        },
        reason=row.rule,
    )


def _save_writeoffs(
    writeoffs: list[tuple[Allocation, Invoice, Decimal]],
    documents: list[OrderDocuments],
) -> list[AuditEvent]:
    """Store write-offs the checks made and the paid state they give the order."""
    if not writeoffs:
        return []

    now = timezone.now()
    events = []
    for allocation, invoice, amount in writeoffs:
        invoice.updated_at = now
        events.append(
            unsaved_audit_event(
                action="allocation.written_off",
                target=allocation,
                source=AuditEvent.Source.RULE,
                before={"writeoff_amount": str(allocation.writeoff_amount - amount)},
                after={"writeoff_amount": str(allocation.writeoff_amount)},
                reason=allocation.writeoff_reason,
            )
        )
    save_fields(
        [allocation for allocation, _, _ in writeoffs],
        ["writeoff_amount", "writeoff_reason"],
    )
    invoice_fields = [
        "amount_paid",
        "amount_written_off",
        "amount_residual",
        "payment_state",
        "updated_at",
    ]
    save_fields([invoice for _, invoice, _ in writeoffs], invoice_fields)

    touched = {invoice.order_id for _, invoice, _ in writeoffs}
    orders = []
    for order_documents in documents:
        order = order_documents.order
        if order.pk in touched:
            order.payment_status = derive_payment_status(order_documents.invoices)
            order.updated_at = now
            orders.append(order)
    save_fields(orders, ["payment_status", "updated_at"])
    return events


def _save_recon_statuses(
    documents: list[OrderDocuments], findings: list[Finding]
) -> None:
    """Set each order's reconciliation status from its findings and write-offs."""
    with_findings = {finding.order_id for finding in findings}
    changed = []
    for order_documents in documents:
        order = order_documents.order
        if order.pk in with_findings:
            status = ReconStatus.EXCEPTION
        elif order_documents.has_writeoff():
            status = ReconStatus.IN_TOLERANCE
        else:
            status = ReconStatus.CLEAN
        if order.recon_status != status:
            order.recon_status = status
            changed.append(order)
    save_fields(changed, ["recon_status"])
