"""Writes of the work screens: shipping, backorders, credit notes, cash, approvals.

Each public function is one transaction with an audit event whose source is
the screen. It raises ``PermissionDenied`` for a person of the wrong role (the view
returns 403) and ``WorkError`` for bad input, with a message that names the
value. Running quantities of order lines are never set here: a
shipment is written as documents and ``refresh_order`` derives the rest.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from accounts.models import Role, User
from core.audit import record_event
from core.models import AuditEvent
from core.numbers import InvalidDecimalError, parse_decimal
from portal.models import PickedQuantity, ResolutionProposal
from reconciliation import approvals, cases, notices

# Re-exported: the case pages and the practice sandbox read it from here.
from reconciliation.cancellations import BACKORDER_CODES as BACKORDER_CODES
from reconciliation.cancellations import cancel_units
from reconciliation.case_credit import case_open_amount
from reconciliation.credit_notes import (
    OPEN_PROPOSAL_STATES,
    InvoiceCredit,
    create_credit_lines,
    credit_on_invoice,
    invoice_money,
    over_invoice_total,
    plan_credit_lines,
    proposal_over_total,
)
from reconciliation.findings import Tally, save_findings
from reconciliation.matching import match_order
from reconciliation.models import (
    Allocation,
    Approval,
    Company,
    Currency,
    Discrepancy,
    DiscrepancyCode,
    Invoice,
    Party,
    Payment,
    PurchaseOrder,
    ResolutionCode,
    SalesOrder,
    SalesOrderLine,
    Shipment,
    ShipmentLine,
    VendorBill,
)
from reconciliation.money import format_money, format_quantity, quantize_money
from reconciliation.services import (
    COUNTED_SHIPMENT_STATES,
    RECEIVABLE_KINDS,
    allocate_payment,
    audit_event_rows,
    insert_values,
    lock_documents,
    payment_available,
    refresh_order,
)
from reconciliation.taxonomy import RULES
from reconciliation.tolerances import Tolerance, ToleranceBook

logger = logging.getLogger(__name__)

State = Discrepancy.State
SCREEN = AuditEvent.Source.SCREEN
ZERO = Decimal(0)
SHIP_LATER, CANCEL_REST = "ship_later", "cancel_rest"


class WorkError(cases.CaseNamingError):
    """A work action that the documents or the input do not allow."""


def require_role(person: User, role: str, action: str) -> None:
    """Raise ``PermissionDenied`` unless ``person`` is an active ``role``."""
    if not person.is_active or person.role != role:
        raise PermissionDenied(
            f"{person.username} may not {action}: it is work for the "
            f"{Role(role).label.lower()} role."
        )


# Typed quantities and amounts follow one rule, ``core.numbers.parse_decimal``,
# at the precision of the columns that store them.
QUANTITY_FIELD = ShipmentLine._meta.get_field("qty_shipped")
MONEY_FIELD = Allocation._meta.get_field("amount")


def parse_quantity(raw: str, *, label: str) -> Decimal:
    """Parse a typed quantity that the quantity columns can store.

    Raises ``WorkError`` with a message that names ``label`` and the text.
    """
    return _parse(
        raw,
        label=label,
        max_digits=QUANTITY_FIELD.max_digits or 0,
        decimal_places=QUANTITY_FIELD.decimal_places or 0,
    )


def parse_amount(raw: str, *, label: str, currency: Currency | None) -> Decimal:
    """Parse a typed amount of ``currency``, to at most its minor units.

    Without a currency (the payment or invoice is not found) the amount is
    checked against the money columns only, and the service then reports
    the missing document. Raises ``WorkError`` naming ``label`` and the text.
    """
    column_places = MONEY_FIELD.decimal_places or 0
    places = column_places
    if currency is not None:
        places = min(currency.minor_units, column_places)
        label = f"{label} in {currency.code}"
    return _parse(
        raw,
        label=label,
        max_digits=(MONEY_FIELD.max_digits or 0) - column_places + places,
        decimal_places=places,
    )


def _parse(raw: str, *, label: str, max_digits: int, decimal_places: int) -> Decimal:
    try:
        return parse_decimal(
            raw, label=label, max_digits=max_digits, decimal_places=decimal_places
        )
    except InvalidDecimalError as error:
        raise WorkError(str(error)) from None


def credit_limit() -> Decimal:
    raw = settings.SALES_REP_CREDIT_LIMIT
    try:
        limit = Decimal(str(raw))
    except InvalidOperation:
        raise ImproperlyConfigured(
            f"SALES_REP_CREDIT_LIMIT={raw!r} is not a number: "
            "set it to an amount such as 250.00."
        ) from None
    if limit < 0:
        raise ImproperlyConfigured(
            f"SALES_REP_CREDIT_LIMIT={raw!r} is negative: set it to zero or more."
        )
    return limit


# Case moves made by these screens


def move_case(
    case: Discrepancy,
    *,
    actor: User,
    to: str,
    reason: str,
    changes: Mapping[str, object] | None = None,
    offering: ResolutionProposal | None = None,
) -> None:
    """Move a locked case to ``to``, through ``in_progress`` when it must.

    Each step is checked against ``cases.TRANSITIONS`` and gets its own audit
    event, as on the case page. A move that a waiting proposal forbids is
    rejected (``cases.check_proposal_allows``); ``offering`` is the proposal
    the move itself offers to the customer.
    """
    cases.check_proposal_allows(case, to, offering=offering)
    allowed = cases.TRANSITIONS.get(case.state, ())
    if to not in allowed and State.IN_PROGRESS in allowed:
        _step(case, actor=actor, to=State.IN_PROGRESS, reason=reason, changes={})
    if to not in cases.TRANSITIONS.get(case.state, ()):
        raise cases.InvalidTransition(case, to)
    _step(case, actor=actor, to=to, reason=reason, changes=dict(changes or {}))


def _step(
    case: Discrepancy,
    *,
    actor: User,
    to: str,
    reason: str,
    changes: dict[str, object],
) -> None:
    fields = ("state", *changes)
    before = {name: _plain(getattr(case, name)) for name in fields}
    case.state = to
    for name, value in changes.items():
        setattr(case, name, value)
    case.save(update_fields=[*fields, "updated_at"])
    record_event(
        actor=actor,
        action="case.state_changed",
        target=case,
        source=SCREEN,
        before=before,
        after={name: _plain(getattr(case, name)) for name in fields},
        reason=reason,
    )


def _plain(value: object) -> object:
    if isinstance(value, Decimal | date):
        return str(value) if isinstance(value, Decimal) else value.isoformat()
    return value


def resolution_changes(
    case: Discrepancy, *, code: str, note: str, by: User
) -> dict[str, object]:
    now = timezone.now()
    return {
        "resolution_code": code,
        "resolution_note": note,
        "resolved_at": now,
        "resolved_by_id": by.pk,
        "resolution_seconds": int((now - case.created_at).total_seconds()),
    }


def open_case(
    *,
    order: SalesOrder,
    code: str,
    fingerprint: str,
    explanation: str,
    actor: User,
    expected: Decimal | None = None,
    actual: Decimal | None = None,
    unit: str = "",
    order_line: SalesOrderLine | None = None,
    shipment: Shipment | None = None,
    invoice: Invoice | None = None,
) -> Discrepancy:
    """Open the case a person reported, or reopen the one the engine keeps.

    The fingerprint is the matching pass's own where it finds the same fault,
    so the next pass updates this case instead of opening a second one.
    """
    rule = RULES[code]
    existing = (
        Discrepancy.objects.select_for_update(of=("self",))
        .filter(company=order.company, fingerprint=fingerprint)
        .order_by("pk")
        .first()
    )
    if existing is not None:
        _update_reported_figures(
            existing,
            actor=actor,
            expected=expected,
            actual=actual,
            explanation=explanation,
        )
        if not existing.is_active:
            reopen = {
                "resolved_at": None,
                "resolved_by_id": None,
                "resolution_code": "",
                "resolution_note": "",
                "reopen_count": existing.reopen_count + 1,
            }
            move_case(
                existing,
                actor=actor,
                to=State.REOPENED,
                reason=explanation,
                changes=reopen,
            )
        return existing

    now = timezone.now()
    case = Discrepancy.objects.create(
        company=order.company,
        control_point=rule.control_point,
        order=order,
        order_line=order_line,
        shipment=shipment,
        invoice=invoice,
        code=code,
        severity=rule.severity,
        owner_role=rule.owner_role,
        due_at=cases.compute_due_at(
            severity=rule.severity,
            detected_at=now,
            timezone_name=order.company.timezone,
        ),
        expected_value=expected,
        actual_value=actual,
        difference=None if expected is None or actual is None else actual - expected,
        unit=unit,
        explanation=explanation,
        rule=f"reported.{code.lower()}@1",
        fingerprint=fingerprint,
    )
    record_event(
        actor=actor,
        action="case.reported",
        target=case,
        source=SCREEN,
        after={"code": code, "order": order.number, "fingerprint": fingerprint},
        reason=explanation,
    )
    logger.info("Case %s (%s) reported by user %s", case.pk, code, actor.pk)
    return case


def _update_reported_figures(
    case: Discrepancy,
    *,
    actor: User,
    expected: Decimal | None,
    actual: Decimal | None,
    explanation: str,
) -> None:
    """Store a repeated report's running figures and text on the case it adds to.

    The reporting service passes the line's totals, with every earlier report
    counted, so the case shows the sum of the reports, not the first one.
    """
    if expected is None or actual is None:
        return
    before = {
        "expected_value": _plain(case.expected_value),
        "actual_value": _plain(case.actual_value),
        "difference": _plain(case.difference),
    }
    case.expected_value = expected
    case.actual_value = actual
    case.difference = actual - expected
    case.explanation = explanation
    case.save(
        update_fields=[
            "expected_value",
            "actual_value",
            "difference",
            "explanation",
            "updated_at",
        ]
    )
    record_event(
        actor=actor,
        action="case.report_added",
        target=case,
        source=SCREEN,
        before=before,
        after={
            "expected_value": _plain(expected),
            "actual_value": _plain(actual),
            "difference": _plain(case.difference),
        },
        reason=explanation,
    )


# Warehouse


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
        # A draft contains goods picked to ship, so its picked quantities get
        # the bound the Ship step applies, when the draft is saved.
        if ship:
            shipped = {line_no: qty.shipped for line_no, qty in quantities.items()}
            _check_over_shipment(order, lines, shipped)
        else:
            picked = {line_no: qty.picked for line_no, qty in quantities.items()}
            _check_over_shipment(order, lines, picked, step=PICK_STEP)
        shipment = _draft_or_new_shipment(order, shipment_number)
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
    """Reject a fraction of a product counted in units ("unit" as its UoM)."""
    if line.product.uom != "unit":
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


def _check_over_shipment(
    order: SalesOrder,
    lines: Mapping[int, SalesOrderLine],
    quantities: Mapping[int, Decimal],
    *,
    step: QuantityStep = SHIP_STEP,
) -> None:
    """Reject a line whose shipped total would pass its over-shipment tolerance.

    The total counts shipped and delivered shipments, as the matching pass
    does, plus ``quantities``: what ships now, or what a draft keeps as picked.
    A draft being shipped is not counted yet. The tolerance applies to the
    ordered quantity less the cancelled units, so cancelled units ship only
    within the profile's over-shipment percentage of what is still ordered.
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
    for line_no, qty in sorted(quantities.items()):
        line = lines[line_no]
        tolerance = book.for_scope(customer_id=partner_id, group=line.product.group)
        already = shipped_before.get(line.pk, ZERO)
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
        refresh_order(order=order)
    logger.info("Draft shipment %s discarded by user %s", shipment.number, actor.pk)
    return shipment


def _draft_or_new_shipment(order: SalesOrder, number: str) -> Shipment:
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


# Sales rep


def offers_sales_decision(case: Discrepancy) -> bool:
    """Return whether the sales decision screen has an action for ``case``.

    It reads only the case's own columns, so a list of cases can link to the
    screen without a query per case. ``sales_actions`` gives the exact set.
    """
    if not case.is_active:
        return False
    if case.code in BACKORDER_CODES and case.order_line_id is not None:
        return True
    if case.code == DiscrepancyCode.PRICE_MISMATCH:
        return True
    return case.invoice_id is not None and case.order_id is not None


@dataclass(frozen=True)
class SalesActions:
    """The actions the sales decision screen offers on a case now."""

    backorder: bool
    credit_note: bool
    uphold_price: bool
    # The proposal that waits for the customer, which the rep may withdraw.
    withdrawable: ResolutionProposal | None
    # The proposal that waits for a manager's approval, which the rep cannot change.
    awaiting_approval: ResolutionProposal | None
    # Another request that waits for a manager, such as a write-off; no
    # credit note can be proposed until it is decided.
    pending_approval: Approval | None = None
    # Why "Ship the rest later" cannot succeed on the case, such as nothing
    # of the order shipped yet, or "" when it can.
    ship_later_blocked: str = ""
    # The units "Ship the rest later" and "Cancel the rest" move
    # (``case_rest``), and the line's other units still to ship, which the
    # case does not cover, each with its unit, or "".
    rest: str = ""
    outside_case: str = ""

    @property
    def any(self) -> bool:
        return (
            self.backorder
            or self.credit_note
            or self.uphold_price
            or self.withdrawable is not None
        )


def sales_actions(case: Discrepancy) -> SalesActions:
    """Return what a sales rep can still do on ``case`` from the decision screen.

    The services check the same conditions again under the case lock.
    """
    if not offers_sales_decision(case):
        return SalesActions(False, False, False, None, None)
    proposal = (
        ResolutionProposal.objects.filter(case=case, state__in=OPEN_PROPOSAL_STATES)
        .select_related("credit_note")
        .order_by("pk")
        .first()
    )
    waiting = ResolutionProposal.State.AWAITING_CUSTOMER
    withdrawable = proposal if proposal and proposal.state == waiting else None
    rest = outside_case = ""
    line = case.order_line if case.code in BACKORDER_CODES else None
    if line is not None:
        uom = line.product.uom
        units = case_rest(case, line)
        rest = format_quantity(units, uom)
        if line.qty_to_ship > units:
            outside_case = format_quantity(line.qty_to_ship - units, uom)
    pending = None
    if proposal is None:
        pending = (
            Approval.objects.filter(case=case, decision=Approval.Decision.PENDING)
            .select_related("currency")
            .order_by("pk")
            .first()
        )
    return SalesActions(
        # A backorder decision resolves the case, which a waiting proposal
        # forbids (``cases.check_proposal_allows``).
        backorder=case.code in BACKORDER_CODES
        and case.order_line_id is not None
        and proposal is None,
        credit_note=case.invoice_id is not None and proposal is None and not pending,
        uphold_price=case.code == DiscrepancyCode.PRICE_MISMATCH
        and (proposal is None or withdrawable is not None),
        withdrawable=withdrawable,
        awaiting_approval=proposal if proposal and withdrawable is None else None,
        pending_approval=pending,
        ship_later_blocked=ship_later_blocker(case),
        rest=rest,
        outside_case=outside_case,
    )


def case_rest(case: Discrepancy, line: SalesOrderLine) -> Decimal:
    """Return the units of ``line`` that a backorder decision on ``case`` moves.

    That is the case's shortage, at most what the line has left to ship. A
    shortage the warehouse reports before it ships (5 of 20 units missing,
    15 on the shelf) covers 5 units: shipping later or cancelling moves
    those 5, and the other 15 ship as usual. A case the matching pass opened
    for a line shipped short, or not shipped at all, covers everything left.
    """
    left = max(line.qty_to_ship, ZERO)
    if case.expected_value is None or case.actual_value is None:
        return left
    if case.unit != line.product.uom:
        return left
    return max(min(left, case.expected_value - case.actual_value), ZERO)


def ship_later_blocker(case: Discrepancy) -> str:
    """Return why the rest of the case's line cannot ship later, or "".

    A backorder follows an earlier shipment of the order, so on an order of
    which nothing has shipped (a not-shipped case) the warehouse ships the
    line as usual instead. The screen hides "Ship the rest later" with this
    text, and ``decide_backorder`` rejects it with the same text under the
    lock, before it looks at the date.
    """
    line = case.order_line
    if case.code not in BACKORDER_CODES or line is None:
        return ""
    if line.qty_to_ship <= 0:
        return f"Line {line.line_no} has nothing left to ship."
    if _last_shipment(line.order) is None:
        return (
            f"Nothing of order {line.order.number} has shipped yet, so there is no "
            "shipment to back-order from; the warehouse ships the line as usual."
        )
    return ""


def _last_shipment(order: SalesOrder) -> Shipment | None:
    """Return the order's latest shipment that left, which a backorder follows."""
    return (
        Shipment.objects.filter(
            order=order,
            state__in=[Shipment.State.SHIPPED, Shipment.State.DELIVERED],
        )
        .order_by("-shipped_at", "-pk")
        .first()
    )


def _lock_case_for_rep(actor: User, case_id: int, action: str) -> Discrepancy:
    require_role(actor, Role.SALES_REP, action)
    case = cases.lock_case(case_id)
    cases.require_case_worker(actor, case)
    if not case.is_active:
        raise WorkError(
            "Case {case} is {state}: reopen it first.",
            case_id=case.pk,
            state=case.state,
        )
    return case


def decide_backorder(
    *,
    actor: User,
    case_id: int,
    decision: str,
    reason: str,
    expected_on: date | None = None,
) -> Discrepancy:
    """Ship the rest of a short line later (a draft backorder) or cancel it.

    ``expected_on`` is the day the rest is expected, stored as the
    backorder's ``expected_delivery``. The shipping check judges the rest
    against it instead of the order's promised date, so a backorder decided
    after that date does not at once open a "still on backorder" case.
    Shipping later needs it, from every caller (the screen, the API, the
    practice sandbox, a shell), so a missing or past date is rejected here
    before anything is written. Whether the rest can ship later at all
    (``ship_later_blocker``) is checked first: a date does not help an order
    of which nothing has shipped.
    """
    if decision not in (SHIP_LATER, CANCEL_REST):
        raise WorkError(
            f"Backorder decision {decision[:30]!r} is not valid: choose "
            f"{SHIP_LATER} or {CANCEL_REST}."
        )
    if not reason.strip():
        raise WorkError(
            "A backorder decision needs a reason: enter one for the customer."
        )

    with transaction.atomic():
        # The order first, then the case, the order the matching pass locks
        # them in: the check at the end locks the order, and the other order
        # could deadlock with a pass.
        order_id = (
            Discrepancy.objects.filter(pk=case_id)
            .values_list("order_id", flat=True)
            .first()
        )
        if order_id is not None:
            lock_documents({SalesOrder: [order_id]})
        case = _lock_case_for_rep(actor, case_id, "decide backorders")
        if case.code not in BACKORDER_CODES or case.order_line is None:
            raise WorkError(
                "Case {case} is a {code} case, not a short order line: "
                "backorders are decided on shipment cases.",
                case_id=case.pk,
                code=case.code,
            )
        line = case.order_line
        remaining = case_rest(case, line)
        if decision == SHIP_LATER:
            blocker = ship_later_blocker(case)
            if blocker:
                raise WorkError(blocker)
            if expected_on is None:
                raise WorkError(
                    "Expected date is missing: shipping the rest later needs the "
                    "day it is expected, today or later, or cancel the rest instead."
                )
            check_expected_date(expected_on, company=case.company)
            backorder = _create_backorder(case, line, remaining, actor, expected_on)
            code = ResolutionCode.BACKORDER
            note = (
                f"Backorder {backorder.number} ships "
                f"{format_quantity(remaining, line.product.uom)} later, "
                f"expected on {expected_on.isoformat()}: {reason}"
            )
        else:
            if remaining <= 0:
                raise WorkError(
                    f"Line {line.line_no} of order {line.order.number} has nothing "
                    "left to ship, so there is nothing to cancel: resolve the case "
                    "on its page instead."
                )
            code = ResolutionCode.CANCEL_REMAINDER
            cancelled = format_quantity(remaining, line.product.uom)
            note = f"{cancelled} of line {line.line_no} are cancelled: {reason}"
            cancel_units(
                line=line, qty=remaining, case=case, actor=actor, reason=reason
            )
        move_case(
            case,
            actor=actor,
            to=State.RESOLVED,
            reason=note,
            changes=resolution_changes(case, code=code, note=note, by=actor),
        )
        refresh_order(order=line.order)
        match_order(line.order)
    logger.info("Case %s: backorder decision %s by %s", case_id, decision, actor.pk)
    return case


# The furthest ahead a backorder's expected date may be, in days from today.
MAX_BACKORDER_DAYS = 366


def check_expected_date(expected_on: date, *, company: Company) -> None:
    """Raise unless ``expected_on`` is from today, the company's date, to a year on."""
    today = timezone.localdate(timezone=ZoneInfo(company.timezone))
    if expected_on < today:
        raise WorkError(
            f"Expected date {expected_on.isoformat()} is in the past: enter the "
            f"day the rest is expected, {today.isoformat()} or later."
        )
    latest = today + timedelta(days=MAX_BACKORDER_DAYS)
    if expected_on > latest:
        raise WorkError(
            f"Expected date {expected_on.isoformat()} is more than a year away: "
            f"enter a day up to {latest.isoformat()}, or cancel the rest instead."
        )


def _create_backorder(
    case: Discrepancy,
    line: SalesOrderLine,
    remaining: Decimal,
    actor: User,
    expected_on: date,
) -> Shipment:
    # ``decide_backorder`` checked both under the lock (``ship_later_blocker``).
    previous = _last_shipment(line.order)
    if remaining <= 0 or previous is None:
        raise WorkError(
            f"Line {line.line_no} of order {line.order.number} cannot ship later: "
            "nothing is left to ship, or nothing of the order has shipped yet."
        )
    shipment = _draft_or_new_shipment(line.order, "")
    shipment.backorder_of = previous
    shipment.expected_delivery = expected_on
    shipment.save()
    ShipmentLine.objects.create(
        shipment=shipment, order_line=line, qty_shipped=remaining
    )
    record_event(
        actor=actor,
        action="shipment.backorder_created",
        target=shipment,
        source=SCREEN,
        after={
            "case_id": case.pk,
            "line": line.line_no,
            "qty": str(remaining),
            "expected_delivery": expected_on.isoformat(),
        },
    )
    return shipment


@dataclass(frozen=True)
class UpheldPrice:
    """A price case resolved by keeping the invoiced price."""

    case: Discrepancy
    # The credit note proposal that waited for the customer and was withdrawn.
    withdrawn: ResolutionProposal | None


def uphold_invoiced_price(*, actor: User, case_id: int, reason: str) -> UpheldPrice:
    """Settle a price dispute by keeping the invoiced price.

    The case is resolved with ``ResolutionCode.PRICE_KEPT``, and neither the
    invoice nor the order changes.

    A credit note proposal that waits for the customer is withdrawn with its
    draft credit note, because keeping the price is the opposite decision and
    the customer must not accept both. A proposal that waits for a manager's
    approval is left to the manager, so the request is rejected.
    """
    if not reason.strip():
        raise WorkError("Say why the invoiced price is right.")
    with transaction.atomic():
        case = _lock_case_for_rep(actor, case_id, "decide price disputes")
        if case.code != DiscrepancyCode.PRICE_MISMATCH:
            raise WorkError(
                "Case {case} is a {code} case, not a price one.",
                case_id=case.pk,
                code=case.code,
            )
        proposal = cases.open_proposal(case)
        if proposal is not None:
            if proposal.state != ResolutionProposal.State.AWAITING_CUSTOMER:
                raise WorkError(cases.open_proposal_message(case, proposal))
            _withdraw_for_rep(
                case,
                proposal,
                actor=actor,
                reason=f"The invoiced price is kept: {reason}",
            )
        code = ResolutionCode.PRICE_KEPT
        move_case(
            case,
            actor=actor,
            to=State.RESOLVED,
            reason=reason,
            changes=resolution_changes(case, code=code, note=reason, by=actor),
        )
    return UpheldPrice(case=case, withdrawn=proposal)


def withdraw_credit_proposal(
    *, actor: User, case_id: int, reason: str
) -> ResolutionProposal:
    """Withdraw the case's proposal that waits for the customer, and keep working.

    The draft credit note is cancelled and the case goes back in progress,
    so the sales rep can resolve it another way or propose again.
    """
    if not reason.strip():
        raise WorkError("Say why you withdraw the proposal, for the case's history.")
    with transaction.atomic():
        case = _lock_case_for_rep(actor, case_id, "withdraw proposals")
        proposal = cases.open_proposal(case)
        if proposal is None:
            raise WorkError(
                "Case {case} has no proposal waiting for the customer: the "
                "customer may have answered it already, so reload the page.",
                case_id=case.pk,
            )
        if proposal.state != ResolutionProposal.State.AWAITING_CUSTOMER:
            raise WorkError(cases.open_proposal_message(case, proposal))
        _withdraw_for_rep(case, proposal, actor=actor, reason=reason)
        if case.state != State.IN_PROGRESS:
            move_case(
                case,
                actor=actor,
                to=State.IN_PROGRESS,
                reason=reason,
                changes={"resolution_code": "", "resolution_note": ""},
            )
    logger.info(
        "Proposal %s on case %s withdrawn by %s", proposal.pk, case_id, actor.pk
    )
    return proposal


def _withdraw_for_rep(
    case: Discrepancy, proposal: ResolutionProposal, *, actor: User, reason: str
) -> None:
    withdraw_proposal(proposal, actor=actor, reason=reason)
    record_event(
        actor=actor,
        action="proposal.withdrawn",
        target=proposal,
        source=SCREEN,
        before={"state": ResolutionProposal.State.AWAITING_CUSTOMER},
        after={"state": proposal.state, "case_id": case.pk},
        reason=reason,
    )


def propose_credit_note(
    *, actor: User, case_id: int, amount: Decimal, message: str
) -> ResolutionProposal:
    """Offer the customer a credit note on the case's invoice.

    Everything taken off the invoice counts: the posted credit notes, the
    open proposals of every case on it, what is written off it and this
    credit note. That sum may not exceed the invoice total, and the credit
    note may not exceed what the case leaves open. When the credit
    alone is above ``SALES_REP_CREDIT_LIMIT`` (in the company currency), the
    proposal waits for a manager's approval before the customer sees it.
    Write-offs do not count against the credit limit.
    """
    if not message.strip():
        raise WorkError("Write the customer a message that explains the credit note.")

    with transaction.atomic():
        case = _lock_case_for_rep(actor, case_id, "issue credit notes")
        waiting = cases.open_proposal(case)
        if waiting is not None:
            raise WorkError(
                cases.open_proposal_message(case, waiting, on_decision_screen=True)
            )
        check_no_pending_approval(case, "propose a credit note")
        invoice = _creditable_invoice(case)
        amount = _check_credit_amount(invoice, amount)

        credit = credit_on_invoice(invoice)
        _check_invoice_total(invoice, credit, amount)
        _check_case_open_amount(case, invoice, amount)
        credit_note = _draft_credit_note(case, invoice, amount)
        in_company = _in_company_currency(invoice, credit.total + amount)
        needs_approval = in_company > credit_limit()
        proposal = ResolutionProposal.objects.create(
            case=case,
            resolution_code=ResolutionCode.CREDIT_NOTE,
            credit_note=credit_note,
            amount=amount,
            currency=invoice.currency_id,
            message=message.strip(),
            proposed_by=actor,
            state=ResolutionProposal.State.AWAITING_APPROVAL
            if needs_approval
            else ResolutionProposal.State.AWAITING_CUSTOMER,
        )
        record_event(
            actor=actor,
            action="credit_note.proposed",
            target=credit_note,
            source=SCREEN,
            after={
                "case_id": case.pk,
                "proposal_id": proposal.pk,
                "amount": str(amount),
                "currency": invoice.currency_id,
                "credited_before": str(credit.posted),
                "proposed_before": str(credit.proposed),
                "written_off_before": str(credit.written_off),
                "needs_approval": needs_approval,
                "lines": [
                    {
                        "product": line.product.sku,
                        "description": line.description,
                        "qty": str(line.qty),
                        "unit_price": str(line.unit_price),
                        "subtotal": str(line.subtotal),
                        # A share of a money credit, not units at a price.
                        "amount_only": line.amount_only,
                    }
                    for line in credit_note.lines.select_related("product")
                ],
            },
            reason=message,
        )
        if needs_approval:
            reason = _approval_reason(invoice, credit, amount, in_company)
            _request_credit_approval(case, proposal, actor, reason)
        else:
            _offer_to_customer(case, proposal, actor)
    logger.info("Credit note %s proposed on case %s", credit_note.number, case_id)
    return proposal


def _creditable_invoice(case: Discrepancy) -> Invoice:
    """Lock and return the case's invoice, or raise when it cannot be credited.

    The lock makes two proposals on the same invoice, from two cases, and a
    proposal and a write-off add up its credit one after the other.
    """
    if case.invoice_id is None or case.order is None:
        raise WorkError(
            "Case {case} names no invoice of an order, so there is nothing to credit.",
            case_id=case.pk,
        )
    lock_documents({Invoice: [case.invoice_id]})
    invoice = Invoice.objects.select_related("currency", "company").get(
        pk=case.invoice_id
    )
    if invoice.kind not in RECEIVABLE_KINDS:
        described = f"a {invoice.get_kind_display().lower()}"
    elif invoice.state == Invoice.State.DRAFT:
        described = "a draft"
    elif invoice.state != Invoice.State.POSTED:
        described = invoice.get_state_display().lower()
    else:
        return invoice
    raise WorkError(
        "Invoice {invoice} of case {case} is {described}: only a posted "
        "invoice or debit note can be credited.",
        case_id=case.pk,
        invoice=invoice.number,
        described=described,
    )


def _check_credit_amount(invoice: Invoice, amount: Decimal) -> Decimal:
    minor_units = invoice.currency.minor_units
    if amount <= 0:
        raise WorkError(
            f"Credit note amount {amount} is invalid: it must be positive, so enter "
            "the amount to credit the customer, more than 0."
        )
    if amount != quantize_money(amount, minor_units=minor_units):
        raise WorkError(
            f"Credit note amount {amount} has more than {minor_units} decimals, "
            f"which {invoice.currency_id} does not allow: round it."
        )
    return amount


def _check_invoice_total(
    invoice: Invoice, credit: InvoiceCredit, amount: Decimal
) -> None:
    """Raise unless ``amount`` fits in what is left of the invoice total.

    What is written off the invoice counts too, so a credit note cannot
    credit a difference that a clerk already wrote off.
    """
    if credit.taken_off == 0 and amount > invoice.amount_total:
        raise WorkError(
            f"A credit note of {invoice_money(invoice, amount)} is more than "
            f"invoice {invoice.number}'s total of "
            f"{invoice_money(invoice, invoice.amount_total)}: credit at most the "
            "invoice total."
        )
    message = over_invoice_total(invoice, credit, amount=amount, action="credit note")
    if message is not None:
        raise WorkError(message)


def _check_case_open_amount(
    case: Discrepancy, invoice: Invoice, amount: Decimal
) -> None:
    """Raise when ``amount`` is more than the money ``case`` leaves open.

    A credit note settles a case, so it credits the case's difference and no
    more. A credit beyond it would reach the customer as a balance in their
    favour that no case explains.
    """
    open_amount = case_open_amount(case, invoice)
    if open_amount is None or amount <= open_amount:
        return
    requested = invoice_money(invoice, amount)
    if open_amount == 0:
        raise WorkError(
            "Case {case} leaves nothing open on invoice {invoice}, so a "
            "credit note of {requested} has nothing to settle: resolve the case "
            "without a credit note.",
            case_id=case.pk,
            invoice=invoice.number,
            requested=requested,
        )
    open_text = invoice_money(invoice, open_amount)
    raise WorkError(
        "A credit note of {requested} is more than the {open_text} that case "
        "{case} leaves open: credit at most {open_text}. If the customer is "
        "owed more, record the rest on a case of its own first.",
        case_id=case.pk,
        requested=requested,
        open_text=open_text,
    )


def _in_company_currency(invoice: Invoice, amount: Decimal) -> Decimal:
    return cases.in_company_currency(invoice, amount, limit_name="credit limit")


def _approval_reason(
    invoice: Invoice, credit: InvoiceCredit, amount: Decimal, in_company: Decimal
) -> str:
    """Say why a credit note needs approval, naming the credit on its invoice."""
    currency = invoice.currency_id
    if credit.total == 0:
        return (
            f"Credit note of {amount} {currency} is above the {credit_limit()} "
            f"limit ({in_company:.2f} in company currency)."
        )
    return (
        f"Credit note of {invoice_money(invoice, amount)} brings the credit on invoice "
        f"{invoice.number} to {invoice_money(invoice, credit.total + amount)} "
        f"({in_company:.2f} in company currency), above the {credit_limit()} "
        f"limit. Already credited: {invoice_money(invoice, credit.posted)}, proposed "
        f"on open proposals: {invoice_money(invoice, credit.proposed)}."
    )


def _draft_credit_note(case: Discrepancy, invoice: Invoice, amount: Decimal) -> Invoice:
    """Create the draft credit note with lines that describe what it credits."""
    count = Invoice.objects.filter(origin_invoice=invoice).count()
    while True:
        count += 1
        number = f"CN-{invoice.number}-{count}"
        if not Invoice.objects.filter(company=invoice.company, number=number).exists():
            break
    today = timezone.localdate()
    credit_note = Invoice.objects.create(
        company=invoice.company,
        kind=Invoice.Kind.CREDIT_NOTE,
        number=number,
        customer=invoice.customer,
        order=invoice.order,
        origin_invoice=invoice,
        currency=invoice.currency,
        fx_rate=invoice.fx_rate,
        invoice_date=today,
        due_date=today,
        state=Invoice.State.DRAFT,
        amount_total=amount,
        amount_residual=amount,
    )
    lines = plan_credit_lines(case=case, invoice=invoice, amount=amount)
    create_credit_lines(credit_note, lines)
    return credit_note


def check_no_pending_approval(case: Discrepancy, action: str) -> None:
    """Raise when the locked ``case`` has an approval that waits for a manager.

    ``action`` says what the person tried, such as ``propose a credit note``.
    A second request while one waits would leave the manager two decisions
    on one case, of which only the first could still apply.
    """
    pending = (
        Approval.objects.select_for_update(of=("self",))
        .filter(case=case, decision=Approval.Decision.PENDING)
        .select_related("currency")
        .order_by("pk")
        .first()
    )
    if pending is None:
        return
    raise WorkError(cases.pending_approval_message(case, pending, action))


def _request_credit_approval(
    case: Discrepancy, proposal: ResolutionProposal, actor: User, reason: str
) -> None:
    approval = Approval.objects.create(
        case=case,
        action=ResolutionCode.CREDIT_NOTE,
        amount=proposal.amount,
        currency_id=proposal.currency,
        requested_by=actor,
        request_reason=reason,
    )
    record_event(
        actor=actor,
        action="approval.requested",
        target=approval,
        source=SCREEN,
        after={
            "case_id": case.pk,
            "action": approval.action,
            "amount": str(approval.amount),
            "currency": proposal.currency,
        },
        reason=approval.request_reason,
    )
    notices.approval_requested(approval, actor=actor)
    move_case(
        case,
        actor=actor,
        to=State.WAITING_INTERNAL,
        reason=f"Credit note waits for approval {approval.pk}.",
    )


def _offer_to_customer(
    case: Discrepancy, proposal: ResolutionProposal, actor: User
) -> None:
    proposal.offered_at = timezone.now()
    proposal.save(update_fields=["offered_at"])
    number = proposal.credit_note.number if proposal.credit_note else ""
    note = (
        f"Credit note {number} of {proposal.amount} "
        f"{proposal.currency} offered to the customer."
    )
    move_case(
        case,
        actor=actor,
        to=State.PROPOSED_RESOLUTION,
        reason=note,
        changes={"resolution_code": proposal.resolution_code, "resolution_note": note},
        offering=proposal,
    )
    notices.resolution_offered(case, proposal, actor=actor)


# Finance manager


# The values of the two decision buttons on the approvals and case screens.
APPROVE, REJECT = "approve", "reject"


def parse_decision(raw: str) -> bool:
    """Return True for an approval, False for a rejection; raise for anything else.

    Any other value is rejected so that a tampered form is never read as a
    rejection.
    """
    if raw == APPROVE:
        return True
    if raw == REJECT:
        return False
    raise WorkError(f"Decision {raw[:40]!r} is invalid: choose {APPROVE} or {REJECT}.")


def decide_approval(
    *, approval_id: int, approver: User, approve: bool, reason: str
) -> Approval:
    """Decide an approval from the approvals screen, as a manager.

    ``approvals.decide_approval`` records the decision and, for a credit
    note, offers the proposal to the customer or withdraws it.
    """
    require_role(approver, Role.MANAGER, "decide approvals")
    return approvals.decide_approval(
        approval_id=approval_id, approver=approver, approve=approve, reason=reason
    )


def follow_credit_note_decision(
    approval: Approval, *, approver: User, approve: bool, reason: str
) -> None:
    """Offer the waiting proposal of a decided credit-note approval, or withdraw it.

    The caller holds the case lock. Before the proposal is offered, the
    invoice total is checked again, in case another path posted a credit
    note on the invoice while the approval waited.
    """
    case = cases.lock_case(approval.case_id)
    proposal = (
        ResolutionProposal.objects.select_for_update(of=("self",))
        .select_related("credit_note")
        .filter(case=case, state=ResolutionProposal.State.AWAITING_APPROVAL)
        .first()
    )
    if proposal is None:
        return
    if approve:
        _check_room_for_proposal(case, proposal)
        proposal.state = ResolutionProposal.State.AWAITING_CUSTOMER
        proposal.save(update_fields=["state"])
        _offer_to_customer(case, proposal, approver)
    else:
        withdraw_proposal(proposal, actor=approver, reason=reason)
        move_case(case, actor=approver, to=State.IN_PROGRESS, reason=reason)


def _check_room_for_proposal(case: Discrepancy, proposal: ResolutionProposal) -> None:
    """Raise when the invoice's credit, this proposal included, exceeds its total."""
    message = offer_over_total(proposal)
    if message is None:
        return
    raise WorkError(
        f"{message} Approving it would take more than the invoice total off it: "
        "reject this approval."
    )


def offer_over_total(proposal: ResolutionProposal) -> str | None:
    """Lock the invoice an open proposal credits; return why it no longer fits.

    Return None while the posted credit, the write-offs and the open
    proposals, this one included, stay within the invoice total. The caller
    holds the case lock, and takes the order's lock first if it needs one.
    """
    credit_note = proposal.credit_note
    if credit_note is None or credit_note.origin_invoice_id is None:
        return None
    invoice_id = credit_note.origin_invoice_id
    lock_documents({Invoice: [invoice_id]})
    invoice = Invoice.objects.select_related("currency").get(pk=invoice_id)
    credit = credit_on_invoice(invoice)
    return proposal_over_total(invoice, credit, amount=proposal.amount)


def withdraw_proposal(
    proposal: ResolutionProposal, *, actor: User, reason: str
) -> None:
    """Mark an open proposal withdrawn and cancel its draft credit note.

    The customer's notice that invites them to accept or reject it goes too.
    """
    proposal.state = ResolutionProposal.State.WITHDRAWN
    proposal.decided_at = timezone.now()
    proposal.save(update_fields=["state", "decided_at"])
    notices.offer_closed(proposal)
    if proposal.credit_note is not None:
        cancel_credit_note(proposal.credit_note, actor=actor, reason=reason)


def cancel_credit_note(credit_note: Invoice, *, actor: User, reason: str) -> None:
    credit_note.state = Invoice.State.CANCELLED
    credit_note.save(update_fields=["state", "updated_at"])
    record_event(
        actor=actor,
        action="credit_note.cancelled",
        target=credit_note,
        source=SCREEN,
        before={"state": Invoice.State.DRAFT},
        after={"state": Invoice.State.CANCELLED},
        reason=reason,
    )


# Finance clerk


def apply_cash(
    *,
    actor: User,
    payment_id: int,
    invoice_id: int,
    amount: Decimal,
    company: Company | None = None,
) -> Allocation:
    """Allocate ``amount`` of a payment to an open invoice of the same customer.

    The amount may not exceed what is left on the payment nor the invoice's
    residual; the payment and invoice rows are locked before they are read.
    The invoice's order is then checked again, so its payment cases follow.
    ``company`` limits the payment to one company, as ``open_payments`` does.
    """
    require_role(actor, Role.FINANCE_CLERK, "apply cash")
    with transaction.atomic():
        payment = open_payments(company).filter(pk=payment_id).first()
        if payment is None:
            raise WorkError(_payment_not_open(payment_id, company))
        # Only an invoice of the payment's company is read, so the messages
        # below never name an invoice of another company, such as a real
        # invoice posted from a practice sandbox.
        invoice_row = (
            Invoice.objects.filter(pk=invoice_id, company_id=payment.company_id)
            .select_related("currency")
            .first()
        )
        if invoice_row is None:
            raise WorkError(
                f"That invoice is not an open invoice of payment {payment.number}'s "
                "customer: reload the screen and pick one of the open invoices "
                "listed for the payment."
            )
        lock_documents(
            {
                SalesOrder: [invoice_row.order_id],
                Invoice: [invoice_row.pk],
                Payment: [payment.pk],
            }
        )
        invoice_row.refresh_from_db()
        _check_cash(payment, invoice_row, amount)
        allocation = allocate_payment(
            payment=payment, invoice=invoice_row, amount=amount, actor=actor
        )
        if invoice_row.order is not None:
            match_order(invoice_row.order)
        _resolve_payment_cases_if_applied(payment)
    logger.info(
        "Payment %s: %s applied to invoice %s by user %s",
        payment.number,
        amount,
        invoice_row.number,
        actor.pk,
    )
    return allocation


# The cash screen's message for a payment it may not name: one of another
# company, such as a real payment asked for from a practice sandbox, or one
# that is gone. Naming its number would show what the clerk may not see.
PAYMENT_NOT_OPEN = "That payment or invoice is no longer open: reload the screen."


def _payment_not_open(payment_id: int, company: Company | None) -> str:
    """Say why the payment ``payment_id`` of ``company`` cannot be applied now.

    A payment the screen may show is named by its number; any other gets
    ``PAYMENT_NOT_OPEN``.
    """
    payment = _payments_of(company).filter(pk=payment_id).first()
    if payment is None:
        return PAYMENT_NOT_OPEN
    if payment.party_id is None:
        return (
            f"Payment {payment.number} has no customer yet: assign its customer "
            "under Payments from an unknown payer first."
        )
    return (
        f"Payment {payment.number} has nothing left to allocate: it is applied "
        "in full. Reload the screen and pick another payment."
    )


def _resolve_payment_cases_if_applied(payment: Payment) -> None:
    """Store that a fully allocated payment has no unapplied money any more.

    The matching pass keeps a payment's unapplied and overpayment cases, and
    with nothing left on the payment it would find neither again. Cases are
    resolved or flagged by the pass's own rules for a finding that is gone.
    """
    if payment_available(payment) > 0:
        return
    rows = Discrepancy.objects.select_for_update().filter(
        company_id=payment.company_id,
        order__isnull=True,
        payment=payment,
        code__in=[DiscrepancyCode.UNAPPLIED_PAYMENT, DiscrepancyCode.OVER_PAYMENT],
    )
    existing = {row.fingerprint: row for row in rows.order_by("pk")}
    if not existing:
        return
    events = save_findings(payment.company, [], existing, Tally())
    insert_values(AuditEvent, audit_event_rows(events), returning=False)


def _check_cash(payment: Payment, invoice: Invoice, amount: Decimal) -> None:
    currency = payment.currency_id
    minor_units = payment.currency.minor_units

    def money(value: Decimal) -> str:
        return f"{format_money(value, minor_units=minor_units)} {currency}"

    documents = f"from payment {payment.number} to invoice {invoice.number}"
    if amount <= 0:
        raise WorkError(
            f"Amount {money(amount)} {documents} is not positive: enter more than 0."
        )
    if amount != quantize_money(amount, minor_units=minor_units):
        # Shown unrounded, because rounding would hide the extra decimals.
        raise WorkError(
            f"Amount {amount:,f} {currency} {documents} has more than "
            f"{minor_units} decimals, which {currency} does not allow: round it."
        )
    if invoice not in open_invoices_for(payment):
        raise WorkError(
            f"Invoice {invoice.number} is not an open invoice of payment "
            f"{payment.number}'s customer in {currency}: pick one of the open "
            "invoices listed for the payment."
        )
    available = payment_available(payment)
    if amount > available:
        raise WorkError(
            f"Amount {money(amount)} is more than the {money(available)} left on "
            f"payment {payment.number}: allocate {money(available)} or less."
        )
    # ``open_invoices_for`` keeps only invoices in the payment's currency.
    residual = invoice.amount_residual
    if amount > residual:
        raise WorkError(
            f"Amount {money(amount)} is more than the {money(residual)} open on "
            f"invoice {invoice.number}: allocate {money(residual)} or less."
        )


def assign_payer(
    *, actor: User, payment_id: int, party_id: int, company: Company | None = None
) -> Payment:
    """Set the customer of a payment whose payer the import could not identify.

    Only a payment with no customer and no allocation can be assigned, so a
    payment already applied never moves to another customer. The payment
    then appears among the open payments, to be allocated as usual.
    ``company`` limits the payment to one company, as ``open_payments`` does.
    """
    require_role(actor, Role.FINANCE_CLERK, "assign payers")
    with transaction.atomic():
        lock_documents({Payment: [payment_id]})
        payment = unassigned_payments(company).filter(pk=payment_id).first()
        if payment is None:
            raise WorkError(_payer_not_assignable(payment_id, company))
        party = (
            customers_for(payment).filter(pk=party_id).select_related("parent").first()
        )
        if party is None and not party_id:
            raise WorkError(
                f"Customer is missing: choose the customer of payment "
                f"{payment.number} from the list."
            )
        if party is None:
            raise WorkError(
                f"Customer {party_id} was not found among the customers of the "
                f"company of payment {payment.number}: choose one from the list."
            )
        payment.party = party
        payment.save(update_fields=["party", "updated_at"])
        record_event(
            actor=actor,
            action="payment.payer_assigned",
            target=payment,
            source=SCREEN,
            before={"party": None},
            after={"party": party.code, "party_name": party.name},
        )
    logger.info(
        "Payment %s assigned to party %s by user %s", payment.pk, party.pk, actor.pk
    )
    return payment


# The message for a payment the screen may not name, as ``PAYMENT_NOT_OPEN``.
PAYER_NOT_ASSIGNABLE = (
    "That payment already has a customer or is no longer open: reload the screen."
)


def _payer_not_assignable(payment_id: int, company: Company | None) -> str:
    """Say why the payer of payment ``payment_id`` cannot be assigned now."""
    payment = (
        _payments_of(company).filter(pk=payment_id).select_related("party").first()
    )
    if payment is None:
        return PAYER_NOT_ASSIGNABLE
    if payment.party is not None:
        return (
            f"Payment {payment.number} already belongs to {payment.party.name}: "
            "allocate it under Unallocated payments instead."
        )
    return (
        f"Payment {payment.number} is allocated already or has nothing left, so "
        "its payer can no longer change: reload the screen."
    )


# Reads for the work screens


def _payments_of(company: Company | None) -> QuerySet[Payment]:
    """Return the payments of ``company``, or of every real company for None.

    Only the practice sandbox passes a company: its screens read their own
    sandbox company, and the real screens never read a sandbox.
    """
    if company is None:
        return Payment.objects.exclude(company__practice_session__isnull=False)
    return Payment.objects.filter(company=company)


def open_payments(company: Company | None = None) -> QuerySet[Payment]:
    """Return identified payments with money left to allocate, oldest first."""
    return (
        _payments_of(company)
        .filter(party__isnull=False, amount_unallocated__gt=0)
        .select_related("party", "currency")
        .order_by("value_date", "number")
    )


def amount_label(
    payment_id: int, invoice_id: int, company: Company | None = None
) -> str:
    """Return the typed amount's label, naming the payment and invoice it moves.

    Only an open payment of ``company`` and an invoice of its company are
    named, as ``apply_cash`` names them; otherwise the label is ``Amount``.
    """
    payment = open_payments(company).filter(pk=payment_id).first()
    if payment is None:
        return "Amount"
    invoice = Invoice.objects.filter(
        pk=invoice_id, company_id=payment.company_id
    ).first()
    if invoice is None:
        return f"Amount from payment {payment.number}"
    return f"Amount from payment {payment.number} to invoice {invoice.number}"


def payment_currency(
    payment_id: int, company: Company | None = None
) -> Currency | None:
    """Return the currency of a payment of ``company``, or None when there is none."""
    payment = (
        _payments_of(company).select_related("currency").filter(pk=payment_id).first()
    )
    return payment.currency if payment is not None else None


def unassigned_payments(company: Company | None = None) -> QuerySet[Payment]:
    """Return payments with money left whose payer is unknown, oldest first."""
    return (
        _payments_of(company)
        .filter(party__isnull=True, amount_unallocated__gt=0)
        .filter(allocations__isnull=True)
        .select_related("currency")
        .order_by("value_date", "number")
    )


def customers_for(payment: Payment) -> QuerySet[Party]:
    """Return the customers a payment of unknown payer may be assigned to.

    A party records no kind, so a party we only buy from (a purchase order
    or a vendor bill, and no sales order or invoice) is left out. A new
    party with no documents yet stays in, since it may pay in advance.
    """
    sells_to = Exists(SalesOrder.objects.filter(customer=OuterRef("pk"))) | Exists(
        Invoice.objects.filter(customer=OuterRef("pk"))
    )
    buys_from = Exists(PurchaseOrder.objects.filter(vendor=OuterRef("pk"))) | Exists(
        VendorBill.objects.filter(vendor=OuterRef("pk"))
    )
    return (
        Party.objects.filter(company_id=payment.company_id)
        .filter(sells_to | ~buys_from)
        .order_by("name")
    )


def open_invoices_for(payment: Payment) -> QuerySet[Invoice]:
    """Return the posted, unpaid invoices of the payment's customer, oldest first."""
    party_id = payment.party_id
    return (
        Invoice.objects.filter(
            Q(customer_id=party_id) | Q(customer__parent_id=party_id),
            company_id=payment.company_id,
            currency_id=payment.currency_id,
            kind__in=RECEIVABLE_KINDS,
            state=Invoice.State.POSTED,
            amount_residual__gt=0,
        )
        .select_related("order", "customer")
        .order_by("due_date", "number")
    )


def pending_approvals() -> QuerySet[Approval]:
    return (
        Approval.objects.filter(decision=Approval.Decision.PENDING)
        .exclude(case__company__practice_session__isnull=False)
        .select_related(
            "case",
            "case__order",
            "case__invoice__currency",
            "currency",
            "requested_by",
        )
        .order_by("requested_at", "pk")
    )


def case_open_text(case: Discrepancy) -> str:
    """Format the money ``case`` leaves open on its invoice, or "" without one."""
    invoice = case.invoice
    if invoice is None:
        return ""
    open_amount = case_open_amount(case, invoice)
    if open_amount is None:
        return ""
    return invoice_money(invoice, open_amount)
