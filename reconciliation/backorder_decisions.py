"""Sales rep decisions on a shortage: ship the rest later or cancel it.

Each public function is one transaction with an audit event whose source is
the screen, and raises ``WorkError`` for bad input with a message that names
the value.
"""

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core.audit import record_event
from portal.models import ResolutionProposal
from reconciliation.cancellations import BACKORDER_CODES, cancel_units
from reconciliation.credit_notes import (
    OPEN_PROPOSAL_STATES,
)
from reconciliation.goods_billing import GOODS_CODES, not_billed_message
from reconciliation.matching import match_order
from reconciliation.models import (
    Approval,
    Company,
    Discrepancy,
    DiscrepancyCode,
    ResolutionCode,
    SalesOrder,
    SalesOrderLine,
    Shipment,
    ShipmentLine,
)
from reconciliation.money import format_quantity
from reconciliation.services import lock_documents, refresh_order
from reconciliation.warehouse_work import (
    draft_or_new_shipment,
)
from reconciliation.work import (
    CANCEL_REST,
    SCREEN,
    SHIP_LATER,
    ZERO,
    State,
    WorkError,
    lock_case_for_rep,
    move_case,
    resolution_changes,
)

logger = logging.getLogger(__name__)


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
    if case.code in GOODS_CODES and case.order_line_id is not None:
        # Billed or not, the screen says what the rep can do for the customer.
        return True
    return case.invoice_id is not None and case.order_id is not None


def decision_label(case: Discrepancy) -> str:
    """Name the choices the sales decision screen has for ``case``'s code.

    The case page links to the screen with this text. Like
    ``offers_sales_decision`` it reads only the case's own columns.
    """
    if case.code == DiscrepancyCode.PRICE_MISMATCH:
        return "Decide this case: keep the invoiced price or credit the difference"
    if case.code in GOODS_CODES:
        return "Decide this case: credit note or replacement"
    if case.code in BACKORDER_CODES:
        if case.invoice_id is not None:
            return "Decide this case: ship the rest later, cancel it or credit it"
        return "Decide this case: ship the rest later or cancel it"
    return "Decide this case: credit note"


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
    # Why a goods case offers no credit note yet (its line is not billed),
    # with what the rep can do instead, or "".
    not_billed: str = ""
    # The maximum units a replacement shipment may carry (the reported units
    # no accepted reship covers), when one can be offered now, else None.
    reship_max: Decimal | None = None
    reship_units: str = ""
    # The accepted replacement shipment that has not shipped yet.
    replacement: Shipment | None = None

    @property
    def any(self) -> bool:
        return (
            self.backorder
            or self.credit_note
            or self.reship_max is not None
            or self.uphold_price
            or self.withdrawable is not None
            or bool(self.not_billed)
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
    reship_max = replacement = None
    reship_units = ""
    if case.code in GOODS_CODES:
        from reconciliation import reships

        replacement = reships.pending_replacement(case)
        if proposal is None and pending is None and not reships.reship_blocker(case):
            reship_max = reships.units_to_replace(case)
            reship_units = format_quantity(reship_max, case.unit)
    return SalesActions(
        reship_max=reship_max,
        reship_units=reship_units,
        replacement=replacement,
        # A backorder decision resolves the case, which a waiting proposal
        # forbids (``cases.check_proposal_allows``).
        backorder=case.code in BACKORDER_CODES
        and case.order_line_id is not None
        and proposal is None,
        credit_note=case.invoice_id is not None
        and proposal is None
        and not pending
        and replacement is None,
        uphold_price=case.code == DiscrepancyCode.PRICE_MISMATCH
        and (proposal is None or withdrawable is not None),
        withdrawable=withdrawable,
        awaiting_approval=proposal if proposal and withdrawable is None else None,
        pending_approval=pending,
        ship_later_blocked=ship_later_blocker(case),
        rest=rest,
        outside_case=outside_case,
        not_billed=not_billed_message(case)
        if case.code in GOODS_CODES and case.invoice_id is None
        else "",
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
        case = lock_case_for_rep(actor, case_id, "decide backorders")
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
    shipment = draft_or_new_shipment(line.order, "")
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
