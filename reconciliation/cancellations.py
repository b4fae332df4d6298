"""Cancelled units of order lines: recording a cancellation and undoing it.

A cancellation is a ``LineCancellation`` row of its own. The line's
``qty_cancelled`` is derived from the rows that are not reversed by
``services.refresh_order``, as ``qty_shipped`` is from shipments, so each
function here refreshes the order in the caller's transaction. Undoing a
cancellation marks its row reversed and keeps it, with who, when and why.
"""

from decimal import Decimal

from django.utils import timezone

from accounts.models import User
from core.audit import record_event
from core.models import AuditEvent
from reconciliation.models import (
    Discrepancy,
    DiscrepancyCode,
    LineCancellation,
    SalesOrderLine,
    Shipment,
    ShipmentLine,
)
from reconciliation.money import format_quantity

ZERO = Decimal(0)
SCREEN = AuditEvent.Source.SCREEN
# Codes whose remainder a sales rep decides on: ship it later or cancel it.
BACKORDER_CODES = frozenset(
    {
        DiscrepancyCode.SHORT_SHIP,
        DiscrepancyCode.PARTIAL_SHIP,
        DiscrepancyCode.BACKORDER_OPEN,
        DiscrepancyCode.NOT_SHIPPED,
    }
)


def live_cancelled(line: SalesOrderLine) -> Decimal:
    """Sum the line's cancellations that are not reversed.

    The sum is taken in Python because SQLite adds decimal columns as floats.
    """
    rows = LineCancellation.objects.filter(order_line=line, reversed_at__isnull=True)
    return sum(rows.values_list("qty", flat=True), ZERO)


def cancel_units(
    *,
    line: SalesOrderLine,
    qty: Decimal,
    case: Discrepancy,
    actor: User,
    reason: str,
) -> LineCancellation:
    """Record ``qty`` units of ``line`` as cancelled by ``actor`` on ``case``.

    The caller holds the order's row lock and refreshes the order after.
    Draft backorders of the line keep at most the units still to ship after
    the cancellation: when it takes everything left, they are emptied
    (see ``_empty_backorders_of``). A cancellation of a shortage the
    warehouse reported leaves the backorder of other units alone.
    """
    before = live_cancelled(line)
    left = max(line.qty_ordered - before - qty - line.qty_shipped, ZERO)
    cancellation = LineCancellation.objects.create(
        company_id=line.order.company_id,
        order_line=line,
        qty=qty,
        case=case,
        reason=reason,
        cancelled_by=actor,
        cancelled_at=timezone.now(),
    )
    cancelled, emptied = _empty_backorders_of(line, actor=actor, case=case, keep=left)
    record_event(
        actor=actor,
        action="order_line.cancelled",
        target=line,
        source=SCREEN,
        before={"qty_cancelled": str(before)},
        after={
            "qty_cancelled": str(before + qty),
            "cancellation_id": cancellation.pk,
            "case_id": case.pk,
            "order": line.order.number,
            "line": line.line_no,
            "backorders_cancelled": cancelled,
            "backorder_rows_emptied": emptied,
        },
        reason=reason,
    )
    return cancellation


def _empty_backorders_of(
    line: SalesOrderLine, *, actor: User, case: Discrepancy, keep: Decimal = ZERO
) -> tuple[list[str], list[str]]:
    """Cut ``line``'s draft backorders to ``keep`` units; return their numbers.

    Two lists: the drafts cancelled, and those whose row was lowered or emptied.

    The oldest drafts keep their units first. A draft that carries only this
    line and keeps none of it is cancelled. In a draft that the warehouse
    also filled with other lines, the line's row is set to 0, because
    shipping the draft ships the quantities its rows contain. A draft that
    keeps some of its units has its row lowered to them.
    """
    drafts = Shipment.objects.filter(
        order_id=line.order_id,
        state=Shipment.State.DRAFT,
        backorder_of__isnull=False,
        lines__order_line=line,
    )
    cancelled: list[str] = []
    emptied: list[str] = []
    for shipment in drafts.distinct().order_by("pk"):
        rows = ShipmentLine.objects.filter(shipment=shipment, order_line=line)
        carried = sum((row.qty_shipped for row in rows), ZERO)
        if carried <= keep:
            keep -= carried
            continue
        if keep > 0:
            row = rows.order_by("pk").first()
            if row is None:
                continue
            rows.exclude(pk=row.pk).update(qty_shipped=ZERO)
            ShipmentLine.objects.filter(pk=row.pk).update(qty_shipped=keep)
            record_event(
                actor=actor,
                action="shipment.backorder_line_reduced",
                target=shipment,
                source=SCREEN,
                before={"line": line.line_no, "qty": str(carried)},
                after={"line": line.line_no, "qty": str(keep), "case_id": case.pk},
            )
            emptied.append(shipment.number)
            keep = ZERO
            continue
        if shipment.lines.exclude(order_line=line).exists():
            before = [str(qty) for qty in rows.values_list("qty_shipped", flat=True)]
            rows.update(qty_shipped=ZERO)
            record_event(
                actor=actor,
                action="shipment.backorder_line_emptied",
                target=shipment,
                source=SCREEN,
                before={"line": line.line_no, "qty": before},
                after={"line": line.line_no, "qty": "0", "case_id": case.pk},
            )
            emptied.append(shipment.number)
            continue
        shipment.state = Shipment.State.CANCELLED
        shipment.save(update_fields=["state", "updated_at"])
        record_event(
            actor=actor,
            action="shipment.backorder_cancelled",
            target=shipment,
            source=SCREEN,
            before={"state": Shipment.State.DRAFT},
            after={"state": shipment.state, "case_id": case.pk},
        )
        cancelled.append(shipment.number)
    return cancelled, emptied


def reverse_case_cancellations(
    case: Discrepancy, *, actor: User, reason: str
) -> list[LineCancellation]:
    """Reverse the live cancellations ``case`` recorded; return them.

    The units are open to ship again once the caller refreshes the order.
    A backorder the cancellation closed stays cancelled, so the next
    decision on the case starts from the line as it is.
    """
    rows = list(
        LineCancellation.objects.select_for_update(of=("self",))
        .filter(case=case, reversed_at__isnull=True)
        .select_related("order_line__order", "order_line__product")
        .order_by("pk")
    )
    now = timezone.now()
    for cancellation in rows:
        line = cancellation.order_line
        before = live_cancelled(line)
        cancellation.reversed_at = now
        cancellation.reversed_by = actor
        cancellation.reversal_reason = reason
        cancellation.save(
            update_fields=["reversed_at", "reversed_by", "reversal_reason"]
        )
        record_event(
            actor=actor,
            action="order_line.cancellation_reversed",
            target=line,
            source=SCREEN,
            before={"qty_cancelled": str(before)},
            after={
                "qty_cancelled": str(before - cancellation.qty),
                "cancellation_id": cancellation.pk,
                "case_id": case.pk,
                "order": line.order.number,
                "line": line.line_no,
            },
            reason=reason,
        )
    return rows


def live_case_summary(case: Discrepancy) -> str:
    """Describe the case's cancellations that are not reversed, or return "".

    The text reads as "4 units of line 1", one part per cancellation.
    """
    rows = (
        LineCancellation.objects.filter(case=case, reversed_at__isnull=True)
        .select_related("order_line__product")
        .order_by("pk")
    )
    parts = [
        f"{format_quantity(row.qty, row.order_line.product.uom)} of line "
        f"{row.order_line.line_no}"
        for row in rows
    ]
    return " and ".join(parts)


def kept_cancellation_notice(case: Discrepancy) -> str:
    """Return the notice that an active case's cancellations stay in force, or "".

    Only the matching pass reopens a case without reversing them
    (``findings.save_findings``), because it never undoes a person's decision.
    """
    # Only a sales rep's decision on a backorder case cancels units, so other
    # cases skip the query.
    if not case.is_active or case.code not in BACKORDER_CODES:
        return ""
    summary = live_case_summary(case)
    if not summary:
        return ""
    return (
        f"The cancellation of {summary} that this case recorded stays in force, "
        "so those units are not to ship. The matching pass reopened the case "
        "because its figures changed, and it does not undo a person's decision. "
        "To ship the units after all, resolve the case and then reopen it: "
        "reopening a case by hand reverses its cancellations."
    )
