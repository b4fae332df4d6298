"""Warehouse writes of the work screens: picked and shipped quantities, shortages.

Each public function is one transaction with an audit event whose source is
the screen, and raises ``WorkError`` for bad input with a message that names
the value. A shipment is written as documents and ``refresh_order`` derives
the order lines' running quantities.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.models import Role, User
from core.audit import record_event
from core.models import AuditEvent
from portal.models import PickedQuantity
from reconciliation import cases
from reconciliation.matching import match_order
from reconciliation.models import (
    Discrepancy,
    DiscrepancyCode,
    SalesOrder,
    SalesOrderLine,
    Shipment,
    ShipmentLine,
)
from reconciliation.money import format_quantity, is_counted, unit_name
from reconciliation.replacements import covered_units_of
from reconciliation.services import (
    COUNTED_SHIPMENT_STATES,
    lock_documents,
    refresh_order,
)
from reconciliation.tolerances import Tolerance, ToleranceBook
from reconciliation.work import (
    SCREEN,
    ZERO,
    WorkError,
    open_case,
    require_role,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LineQuantities:
    picked: Decimal
    shipped: Decimal


def record_shipment(
    *,
    actor: User,
    order: SalesOrder,
    quantities: Mapping[int, LineQuantities],
    carrier: str = "",
    tracking_no: str = "",
    shipment_number: str = "",
    ship: bool = True,
    form_token: str = "",
) -> Shipment:
    """Record picked and shipped quantities per order line number.

    A new shipment is created, or the named draft shipment (a backorder) is
    updated. With ``ship`` the shipment is marked shipped today; without it
    stays a draft that holds only what was picked. A line may not ship more
    than its order's tolerance profile allows over the ordered quantity.
    The order is then checked again, so its cases follow the shipment.

    ``form_token`` is the one-time token of the pick and ship form. When a
    shipment of this order was already recorded with it, the form was sent
    twice (a double click or a retried request): that shipment is returned
    and nothing is written. Two shipments of the same quantities sent from
    two loads of the form are both recorded.
    """
    require_role(actor, Role.WAREHOUSE, "record shipments")
    with transaction.atomic():
        # The order lock makes a repeated form wait for the first to commit,
        # so it finds the first form's shipment instead of racing it.
        lock_documents({SalesOrder: [order.pk]})
        if form_token:
            repeated = _shipment_of_form(order, form_token)
            if repeated is not None:
                logger.info(
                    "Shipment form sent again by user %s, kept shipment %s",
                    actor.pk,
                    repeated.number,
                )
                return repeated
        lines = {line.line_no: line for line in order.lines.select_related("product")}
        _check_quantities(order, lines, quantities, ship=ship)
        replacing = named_shipment(order, shipment_number)
        # A draft contains goods picked to ship, so its picked quantities get
        # the bound the Ship step applies, when the draft is saved.
        if ship:
            shipped = {line_no: qty.shipped for line_no, qty in quantities.items()}
            _check_over_shipment(order, lines, shipped, replacing=replacing)
        else:
            picked = {line_no: qty.picked for line_no, qty in quantities.items()}
            _check_over_shipment(
                order, lines, picked, step=PICK_STEP, replacing=replacing
            )
        shipment = draft_or_new_shipment(order, shipment_number)
        shipment.carrier = carrier.strip()[:80]
        shipment.tracking_no = tracking_no.strip()[:60]
        if ship:
            shipment.state = Shipment.State.SHIPPED
            shipment.shipped_at = timezone.localdate()
        shipment.save()

        recorded: dict[str, dict[str, str]] = {}
        for line_no, qty in sorted(quantities.items()):
            shipment_line, _ = ShipmentLine.objects.update_or_create(
                shipment=shipment,
                order_line=lines[line_no],
                defaults={"qty_shipped": qty.shipped if ship else ZERO},
            )
            PickedQuantity.objects.update_or_create(
                shipment_line=shipment_line,
                defaults={"qty_picked": qty.picked, "picked_by": actor},
            )
            recorded[str(line_no)] = {
                "picked": str(qty.picked),
                "shipped": str(shipment_line.qty_shipped),
            }
        record_event(
            actor=actor,
            action="shipment.recorded",
            target=shipment,
            source=SCREEN,
            after={
                "order": order.number,
                "state": shipment.state,
                "lines": recorded,
                "tracking_no": shipment.tracking_no,
            }
            | ({"form_token": form_token} if form_token else {}),
        )
        if ship and shipment.replaces_case_id is not None:
            from reconciliation.reships import replacement_shipped

            replacement_shipped(shipment, actor=actor)
        refresh_order(order=order)
        match_order(order)
    logger.info("Shipment %s recorded by user %s", shipment.number, actor.pk)
    return shipment


def _shipment_of_form(order: SalesOrder, form_token: str) -> Shipment | None:
    """Return the shipment of ``order`` that the form ``form_token`` recorded.

    The token is stored in the shipment's audit event, so no new table is needed.
    A draft discarded since has no row left and is not found.
    """
    # Read after the order's lock, not from ``order.shipments``, which the
    # caller may have prefetched before another form's shipment committed.
    shipments = {str(row.pk): row for row in Shipment.objects.filter(order=order)}
    event = (
        AuditEvent.objects.filter(
            action="shipment.recorded",
            object_type=Shipment._meta.label_lower,
            object_id__in=list(shipments),
            after__form_token=form_token,
        )
        .order_by("pk")
        .first()
    )
    return shipments[event.object_id] if event is not None else None


def _check_quantities(
    order: SalesOrder,
    lines: Mapping[int, SalesOrderLine],
    quantities: Mapping[int, LineQuantities],
    *,
    ship: bool,
) -> None:
    if not quantities:
        raise WorkError(f"Enter a picked quantity for a line of order {order.number}.")
    for line_no, qty in quantities.items():
        if line_no not in lines:
            raise WorkError(
                f"Line {line_no} was not found on order {order.number}: enter "
                "quantities only in the order's lines."
            )
        if qty.picked < 0 or qty.shipped < 0:
            raise WorkError(
                f"Line {line_no}: quantities cannot be negative; enter 0 or more."
            )
        _check_whole_units(line_no, lines[line_no], qty)
        if qty.shipped > qty.picked:
            raise WorkError(
                f"Line {line_no}: shipped {qty.shipped} is more than the "
                f"{qty.picked} picked; pick the goods before shipping them."
            )
    if ship and all(qty.shipped == 0 for qty in quantities.values()):
        raise WorkError(
            "Every shipped quantity is 0: enter what left the warehouse, or save "
            "the picked quantities as a draft."
        )


def _check_whole_units(line_no: int, line: SalesOrderLine, qty: LineQuantities) -> None:
    """Reject a fraction of a product counted in whole units (``is_counted``)."""
    if not is_counted(line.product.uom):
        return
    for label, value in (("picked", qty.picked), ("shipped", qty.shipped)):
        if value != value.to_integral_value():
            raise WorkError(
                f"Line {line_no}: {label} {value.normalize():f} is not a whole "
                f"number, but {line.product.name} is counted in units: enter a "
                "whole number."
            )


@dataclass(frozen=True)
class QuantityStep:
    """Words for a step of the pick and ship form, for its messages."""

    verb: str
    gerund: str
    box: str


SHIP_STEP = QuantityStep(verb="ship", gerund="shipping", box="Shipped")
PICK_STEP = QuantityStep(verb="pick", gerund="picking", box="Picked")


def named_shipment(order: SalesOrder, shipment_number: str) -> Shipment | None:
    """Return the shipment of ``order`` the pick and ship form names, if any.

    A replacement (reship) draft's units replace reported ones, so the
    over-shipment check (``_check_over_shipment``) does not count them.
    """
    if not shipment_number:
        return None
    return Shipment.objects.filter(order=order, number=shipment_number).first()


def _check_over_shipment(
    order: SalesOrder,
    lines: Mapping[int, SalesOrderLine],
    quantities: Mapping[int, Decimal],
    *,
    step: QuantityStep = SHIP_STEP,
    replacing: Shipment | None = None,
) -> None:
    """Reject a line whose shipped total would pass its over-shipment tolerance.

    The total counts shipped and delivered shipments, as the matching pass
    does, plus ``quantities``: what ships now, or what a draft keeps as picked.
    A draft being shipped is not counted yet. The tolerance applies to the
    ordered quantity less the cancelled units, so cancelled units ship only
    within the profile's over-shipment percentage of what is still ordered.
    Replacement units (``replacements.covered_units``) are not counted,
    those of ``replacing`` (the draft being saved) included.
    """
    book = ToleranceBook.for_company(order.company)
    partner_id = order.customer.commercial_partner_id
    counted = ShipmentLine.objects.filter(
        order_line__in=[lines[line_no] for line_no in quantities],
        shipment__state__in=COUNTED_SHIPMENT_STATES,
    )
    shipped_before = dict(
        counted.values("order_line_id")
        .annotate(total=Sum("qty_shipped"))
        .values_list("order_line_id", "total")
    )
    replaced = covered_units_of(
        Shipment.objects.filter(
            order=order,
            state__in=COUNTED_SHIPMENT_STATES,
            replacement_line__isnull=False,
        )
    )
    for line_no, qty in sorted(quantities.items()):
        line = lines[line_no]
        tolerance = book.for_scope(customer_id=partner_id, group=line.product.group)
        already = shipped_before.get(line.pk, ZERO) - replaced.get(line.pk, ZERO)
        if (
            replacing is not None
            and replacing.state == Shipment.State.DRAFT
            and replacing.replacement_line_id == line.pk
            and replacing.replacement_qty is not None
        ):
            qty -= min(qty, replacing.replacement_qty)
        total = already + qty
        if not tolerance.is_over(ordered=line.qty_due, actual=total):
            continue
        uom = line.product.uom
        allowed = line.qty_due * (1 + tolerance.qty_over_pct / 100)
        left = max(allowed - already, ZERO)
        if left == 0:
            next_step = (
                f"nothing is left to ship on this line, so leave its {step.box} "
                "box empty."
            )
        else:
            next_step = f"{step.verb} at most {format_quantity(left, uom)}."
        ordered = f"{format_quantity(line.qty_ordered, uom)} ordered"
        if line.qty_cancelled > 0:
            # The message names the cancellation, so the warehouse learns
            # that the sales rep took the units off the order.
            ordered += (
                f", {format_quantity(line.qty_cancelled, uom)} of them cancelled "
                "by the sales rep,"
            )
        raise WorkError(
            f"Line {line_no}: {ordered} and "
            f"{format_quantity(already, uom)} already shipped, so {step.gerund} "
            f"{format_quantity(qty, uom)} now makes "
            f"{format_quantity(total, uom)}, {_over_order_text(tolerance)}: "
            f"{next_step}"
        )


def _over_order_text(tolerance: Tolerance) -> str:
    """Say how far a shipment may pass the order, without the profile's name.

    The warehouse worker needs the limit, not which tolerance profile of
    the customer or product group set it.
    """
    if tolerance.qty_over_pct == 0:
        return "more than was ordered"
    return f"more than {tolerance.qty_over_pct.normalize():f} % over the order"


def discard_draft_shipment(
    *, actor: User, order: SalesOrder, shipment_number: str
) -> Shipment:
    """Cancel a draft shipment with picked quantities, so that it ships nothing.

    The draft is kept as a cancelled shipment with its picked quantities, so
    the audit trail still shows what was picked. A backorder is not a draft of
    the warehouse's own: the sales rep decided it, so it cannot be discarded
    here.
    """
    require_role(actor, Role.WAREHOUSE, "discard draft shipments")
    with transaction.atomic():
        lock_documents({SalesOrder: [order.pk]})
        shipment = (
            Shipment.objects.select_for_update(of=("self",))
            .filter(order=order, number=shipment_number)
            .first()
        )
        if shipment is None:
            raise WorkError(
                f"Shipment {shipment_number[:30]!r} was not found on order "
                f"{order.number}: pick a draft from the list."
            )
        if shipment.state != Shipment.State.DRAFT:
            raise WorkError(
                f"Shipment {shipment.number} is {shipment.state}, not a draft: only "
                "a draft can be discarded."
            )
        if shipment.backorder_of_id is not None:
            raise WorkError(
                f"Shipment {shipment.number} is a backorder that a sales rep "
                "decided: ask the sales rep to cancel the rest instead."
            )
        shipment.state = Shipment.State.CANCELLED
        shipment.save(update_fields=["state", "updated_at"])
        record_event(
            actor=actor,
            action="shipment.discarded",
            target=shipment,
            source=SCREEN,
            before={"state": Shipment.State.DRAFT},
            after={"state": shipment.state, "order": order.number},
        )
        if shipment.replaces_case_id is not None:
            from reconciliation.reships import replacement_discarded

            replacement_discarded(shipment, actor=actor)
        refresh_order(order=order)
    logger.info("Draft shipment %s discarded by user %s", shipment.number, actor.pk)
    return shipment


def draft_or_new_shipment(order: SalesOrder, number: str) -> Shipment:
    if number:
        shipment = (
            Shipment.objects.select_for_update(of=("self",))
            .filter(order=order, number=number)
            .first()
        )
        if shipment is None:
            raise WorkError(f"Order {order.number} has no shipment {number[:30]}.")
        if shipment.state != Shipment.State.DRAFT:
            raise WorkError(
                f"Shipment {shipment.number} is already {shipment.state}: record "
                "what is left as a new shipment."
            )
        return shipment

    count = Shipment.objects.filter(order=order).count()
    while True:
        count += 1
        candidate = f"{order.number}-S{count}"
        taken = Shipment.objects.filter(company=order.company, number=candidate)
        if not taken.exists():
            return Shipment(
                company=order.company,
                order=order,
                number=candidate,
                state=Shipment.State.DRAFT,
            )


def report_shortage(
    *, actor: User, order: SalesOrder, line_no: int, qty_missing: Decimal, note: str
) -> Discrepancy:
    """Open the short-shipment case of an order line the warehouse cannot fill."""
    require_role(actor, Role.WAREHOUSE, "report shortages")
    line = order.lines.select_related("product").filter(line_no=line_no).first()
    if line is None:
        raise WorkError(
            f"Line {line_no} was not found on order {order.number}: pick a line "
            "from the list."
        )
    open_qty = line.qty_due - line.qty_shipped
    uom = line.product.uom
    if qty_missing <= 0:
        raise WorkError(
            f"Line {line_no}: the shortage is {format_quantity(qty_missing, uom)}: "
            "enter how many you cannot ship, more than 0."
        )
    if is_counted(uom) and qty_missing != qty_missing.to_integral_value():
        low = qty_missing.to_integral_value(rounding=ROUND_FLOOR)
        choices = f"{low + 1:f}" if low == 0 else f"{low:f} or {low + 1:f}"
        raise WorkError(
            f"Line {line_no}: a shortage of {qty_missing.normalize():f} is not a "
            f"whole number, but {line.product.name} is counted in "
            f"{unit_name(Decimal(2), uom)}: enter {choices}."
        )
    if qty_missing > open_qty:
        raise WorkError(
            f"Line {line_no}: a shortage of {format_quantity(qty_missing, uom)} is "
            f"more than the {format_quantity(open_qty, uom)} still to ship: enter "
            "the quantity you cannot ship."
        )
    if not note.strip():
        raise WorkError("Say why the goods are short, for the sales rep who decides.")

    fingerprint = f"{DiscrepancyCode.SHORT_SHIP}:line:{line.pk}"
    with transaction.atomic():
        lock_documents({SalesOrder: [order.pk]})
        _check_not_reported(order, line, fingerprint, qty_missing)
        case = open_case(
            order=order,
            code=DiscrepancyCode.SHORT_SHIP,
            fingerprint=fingerprint,
            explanation=(
                f"{actor.display_name} reported {format_quantity(qty_missing, uom)} "
                f"of line {line_no} short: {note.strip()}"
            ),
            actor=actor,
            expected=line.qty_ordered,
            actual=line.qty_ordered - qty_missing,
            unit=uom,
            order_line=line,
        )
        # The sales rep decides what happens to the missing units, so the
        # case is assigned to them and they are notified.
        return cases.hand_shortage_to_sales(case_id=case.pk, actor=actor)


class ShortageAlreadyReported(WorkError):
    """A repeated shortage report, which writes nothing."""


def _check_not_reported(
    order: SalesOrder, line: SalesOrderLine, fingerprint: str, qty_missing: Decimal
) -> None:
    """Reject a report that adds nothing to the line's open shortage case.

    The typed quantity is the line's whole shortage. A report of more than the
    case contains raises the case to the new total, which adds the difference.
    A report of as much or less writes nothing.
    """
    case = (
        Discrepancy.objects.filter(company=order.company, fingerprint=fingerprint)
        .order_by("pk")
        .first()
    )
    if case is None or not case.is_active:
        return
    if case.expected_value is None or case.actual_value is None:
        return
    reported = case.expected_value - case.actual_value
    if qty_missing > reported:
        return
    uom = line.product.uom
    event = (
        AuditEvent.objects.filter(
            object_type=case._meta.label_lower,
            object_id=str(case.pk),
            action__in=["case.reported", "case.report_added"],
        )
        .order_by("-occurred_at", "-pk")
        .first()
    )
    if event is not None:
        when = timezone.localtime(event.occurred_at)
        reported_by = f"by {event.actor_name or 'someone'} on {when:%Y-%m-%d at %H:%M}"
    else:
        when = timezone.localtime(case.created_at)
        reported_by = f"by the matching pass on {when:%Y-%m-%d at %H:%M}"
    already = (
        "Line {line}: {reported} short was already reported {reported_by} "
        "(case {case}), so nothing new was written."
    )
    if qty_missing == reported:
        template = already
    else:
        template = (
            already + " Enter the line's whole shortage: more than {reported} to "
            "report more, or ask the sales rep on case {case} to correct a "
            "smaller one."
        )
    raise ShortageAlreadyReported(
        template,
        case_id=case.pk,
        line=line.line_no,
        reported=format_quantity(reported, uom),
        reported_by=reported_by,
    )
