"""Replacement shipments (reships) for damaged or missing goods cases.

A sales rep offers the customer to ship again units a goods case reported
(``propose_reship``). The customer accepts or rejects the offer in the
portal like a credit note offer, under the same locks. On acceptance
(``accept_reship``) a draft replacement shipment of those units appears in
the warehouse's pick and ship list, and the case waits for it. When the
warehouse ships it (``replacement_shipped``), the case is resolved with the
``reship`` resolution code, credited to the rep who proposed it. When the
warehouse discards it (``replacement_discarded``), the case goes back to the
rep.

The matching pass does not count the replacement's units as shipped, up to
the offered quantity (``replacements.covered_units``), so they are neither an
over-shipment nor billed again. ``propose_reship`` and ``accept_reship`` are
each one transaction; the other two run inside the warehouse's. Every step
records audit events whose source is the screen (docs/reconciliation.md,
"Replacement shipments (reship)").

The return check counts the units a replacement replaced as settled, so
damaged units that come back after it need no credit note
(``cash_checks._check_return_credits``).
"""

import logging
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core.audit import record_event
from portal.models import ResolutionProposal
from portal.services import lock_open_proposal, record_decision, require_customer
from reconciliation import cases, notices
from reconciliation.credit_proposals import check_no_pending_approval
from reconciliation.goods_billing import GOODS_CODES
from reconciliation.matching import check_order_after_commit
from reconciliation.models import (
    Discrepancy,
    ReplacementOffer,
    ResolutionCode,
    SalesOrder,
    Shipment,
    ShipmentLine,
)
from reconciliation.money import format_quantity, is_counted, unit_name
from reconciliation.services import lock_documents
from reconciliation.warehouse_work import draft_or_new_shipment
from reconciliation.work import (
    SCREEN,
    State,
    WorkError,
    lock_case_for_rep,
    move_case,
    resolution_changes,
)

logger = logging.getLogger(__name__)

ZERO = Decimal(0)
MAX_MESSAGE_CHARS = 2000


def case_shipment_line(case: Discrepancy) -> ShipmentLine | None:
    """Return the shipment line a goods case reported units on, or None."""
    if case.shipment_id is None or case.order_line_id is None:
        return None
    return (
        ShipmentLine.objects.filter(
            shipment_id=case.shipment_id, order_line_id=case.order_line_id
        )
        .select_related("shipment", "order_line__product", "order_line__order")
        .order_by("pk")
        .first()
    )


def replaced_units(case: Discrepancy) -> Decimal:
    """Sum the units of ``case`` that accepted replacement offers cover."""
    offers = (
        ReplacementOffer.objects.filter(
            proposal__case=case, proposal__state=ResolutionProposal.State.ACCEPTED
        )
        # A replacement the warehouse discarded replaces nothing.
        .exclude(shipment__state=Shipment.State.CANCELLED)
    )
    # Summed in Python, because SQLite adds decimal columns as floats.
    return sum(offers.values_list("qty", flat=True), ZERO)


def units_to_replace(case: Discrepancy) -> Decimal:
    """Return the reported units of ``case`` that no accepted reship covers yet."""
    if case.difference is None:
        return ZERO
    return max(abs(case.difference) - replaced_units(case), ZERO)


def pending_replacement(case: Discrepancy) -> Shipment | None:
    """Return the case's accepted replacement that has not shipped yet, or None."""
    return (
        Shipment.objects.filter(replaces_case=case, state=Shipment.State.DRAFT)
        .order_by("pk")
        .first()
    )


def reship_blocker(case: Discrepancy) -> str:
    """Say why ``case`` offers no replacement now, or return "" when it can."""
    if case.code not in GOODS_CODES:
        return (
            f"Case {case.pk} is a {case.get_code_display().lower()} case: only "
            "damaged or missing goods can be shipped again."
        )
    line = case_shipment_line(case)
    if line is None:
        return (
            f"Case {case.pk} names no shipment line, so there are no units to "
            "ship again: work it on the case page."
        )
    if line.order_line.product.uom != case.unit:
        return (
            f"Case {case.pk} counts its difference in {case.unit or 'no unit'}, "
            f"not in {line.order_line.product.uom}, so it names no units to ship "
            "again: work it on the case page."
        )
    waiting = pending_replacement(case)
    if waiting is not None:
        return (
            f"Replacement shipment {waiting.number} of case {case.pk} has not "
            "shipped yet: the case resolves when the warehouse ships it."
        )
    if units_to_replace(case) <= 0:
        return (
            f"Every unit case {case.pk} reported is covered by an accepted "
            "replacement already, so there is nothing left to ship again."
        )
    return ""


def propose_reship(
    *, actor: User, case_id: int, qty: Decimal, message: str
) -> ResolutionProposal:
    """Offer the customer a replacement shipment of ``qty`` of the case's units.

    ``qty`` is at most the units the case reported, less those an accepted
    replacement covers already. A reship credits no money, so it needs no
    manager's approval and reaches the customer at once.
    """
    message = message.strip()
    if not message:
        raise WorkError("Write the customer a message that explains the replacement.")
    if len(message) > MAX_MESSAGE_CHARS:
        raise WorkError(
            f"The message is {len(message):,} characters long: shorten it to at "
            f"most {MAX_MESSAGE_CHARS:,}."
        )
    with transaction.atomic():
        case = lock_case_for_rep(actor, case_id, "offer replacement shipments")
        waiting = cases.open_proposal(case)
        if waiting is not None:
            raise WorkError(
                cases.open_proposal_message(case, waiting, on_decision_screen=True)
            )
        check_no_pending_approval(case, "offer a replacement shipment")
        blocker = reship_blocker(case)
        line = case_shipment_line(case)
        if blocker or line is None:
            raise WorkError(blocker)
        _check_quantity(case, line, qty)
        order = line.order_line.order
        proposal = ResolutionProposal.objects.create(
            case=case,
            resolution_code=ResolutionCode.RESHIP,
            amount=ZERO,
            currency=order.currency_id,
            message=message,
            proposed_by=actor,
            state=ResolutionProposal.State.AWAITING_CUSTOMER,
            offered_at=timezone.now(),
        )
        ReplacementOffer.objects.create(proposal=proposal, shipment_line=line, qty=qty)
        units = format_quantity(qty, line.order_line.product.uom)
        record_event(
            actor=actor,
            action="reship.proposed",
            target=proposal,
            source=SCREEN,
            after={
                "case_id": case.pk,
                "shipment": line.shipment.number,
                "line": line.order_line.line_no,
                "qty": str(qty),
                "reported": str(abs(case.difference or ZERO)),
            },
            reason=message,
        )
        note = (
            f"Replacement of {units} of line {line.order_line.line_no} offered "
            "to the customer."
        )
        move_case(
            case,
            actor=actor,
            to=State.PROPOSED_RESOLUTION,
            reason=note,
            changes={"resolution_code": ResolutionCode.RESHIP, "resolution_note": note},
            offering=proposal,
        )
        notices.resolution_offered(case, proposal, actor=actor)
    logger.info("Reship of %s proposed on case %s", qty, case_id)
    return proposal


def _check_quantity(case: Discrepancy, line: ShipmentLine, qty: Decimal) -> None:
    uom = line.order_line.product.uom
    typed = f"{qty.normalize():f}"
    if qty <= 0:
        raise WorkError(
            f"Replacement quantity {typed} is invalid: enter the units to ship "
            "again, more than 0."
        )
    if is_counted(uom) and qty != qty.to_integral_value():
        raise WorkError(
            f"Replacement quantity {typed} is not a whole number, but "
            f"{line.order_line.product.name} is counted in "
            f"{unit_name(Decimal(2), uom)}: enter a whole number."
        )
    left = units_to_replace(case)
    if qty > left:
        reported = format_quantity(abs(case.difference or ZERO), uom)
        raise WorkError(
            f"Replacement quantity {typed} is more than the "
            f"{format_quantity(left, uom)} case {case.pk} leaves to replace "
            f"({reported} reported): offer at most {format_quantity(left, uom)}. "
            "If more units are damaged or missing, the customer reports them first."
        )


def accept_reship(*, customer: User, proposal_id: int) -> ResolutionProposal:
    """Accept a replacement offer: draft the replacement shipment for the warehouse.

    The order and the case are locked in the order a problem report locks
    them (``portal.services.lock_open_proposal``). So an acceptance and a
    report of more units on the same case run one after the other. A report
    that comes first withdraws the offer, and the acceptance gets its
    message. The case waits for the warehouse until the replacement ships.
    """
    require_customer(customer)
    with transaction.atomic():
        case, proposal = lock_open_proposal(proposal_id, customer)
        offer = (
            ReplacementOffer.objects.select_for_update(of=("self",))
            .select_related("shipment_line__order_line__order__company")
            .filter(proposal=proposal)
            .first()
        )
        if offer is None:
            raise WorkError(
                f"Proposal {proposal_id} is not a replacement shipment: reload the "
                "page and accept it there."
            )
        record_decision(proposal, customer, ResolutionProposal.State.ACCEPTED, "")
        order_line = offer.shipment_line.order_line
        order = order_line.order
        lock_documents({SalesOrder: [order.pk]})
        shipment = draft_or_new_shipment(order, "")
        shipment.replaces_case = case
        shipment.replacement_line = order_line
        shipment.replacement_qty = offer.qty
        shipment.save()
        ShipmentLine.objects.create(
            shipment=shipment, order_line=order_line, qty_shipped=offer.qty
        )
        offer.shipment = shipment
        offer.save(update_fields=["shipment"])
        record_event(
            actor=customer,
            action="reship.accepted",
            target=shipment,
            source=SCREEN,
            after={
                "case_id": case.pk,
                "proposal_id": proposal.pk,
                "state": shipment.state,
                "line": order_line.line_no,
                "qty": str(offer.qty),
            },
        )
        units = format_quantity(offer.qty, order_line.product.uom)
        note = (
            f"The customer accepted a replacement of {units}: replacement "
            f"shipment {shipment.number} waits for the warehouse."
        )
        move_case(
            case,
            actor=customer,
            to=State.WAITING_INTERNAL,
            reason=note,
            changes={"resolution_code": ResolutionCode.RESHIP, "resolution_note": note},
        )
        notices.resolution_decided(proposal, customer=customer)
        notices.replacement_to_ship(case, shipment, actor=customer)
        check_order_after_commit(order.pk)
    logger.info("Reship proposal %s accepted by user %s", proposal_id, customer.pk)
    return proposal


def replacement_shipped(shipment: Shipment, *, actor: User) -> None:
    """Resolve the case a replacement shipment replaces, once it has shipped.

    The caller holds the order's lock and has marked ``shipment`` shipped.
    All the offered units shipped: the case is resolved with ``reship``,
    credited to the rep who proposed it. Fewer shipped: the case goes back
    in progress for the rep to decide on the rest. A case that ended
    another way meanwhile stays as it is; the event records the shipment.
    """
    case_id = shipment.replaces_case_id
    line_id = shipment.replacement_line_id
    offered = shipment.replacement_qty
    if case_id is None or line_id is None or offered is None:
        return
    case = cases.lock_case(case_id)
    # Summed in Python, because SQLite adds decimal columns as floats.
    sent = sum(
        ShipmentLine.objects.filter(
            shipment=shipment, order_line_id=line_id
        ).values_list("qty_shipped", flat=True),
        ZERO,
    )
    offer = (
        ReplacementOffer.objects.filter(shipment=shipment)
        .select_related("proposal__proposed_by", "shipment_line__order_line__product")
        .first()
    )
    record_event(
        actor=actor,
        action="reship.shipped",
        target=shipment,
        source=SCREEN,
        after={
            "case_id": case.pk,
            "offered": str(offered),
            "shipped": str(sent),
            "case_state": case.state,
        },
    )
    if offer is not None and sent > 0:
        notices.replacement_shipped(case, offer.proposal, shipment, actor=actor)
    if not case.is_active or offer is None:
        return
    uom = offer.shipment_line.order_line.product.uom
    if sent < offered:
        note = (
            f"Replacement shipment {shipment.number} shipped "
            f"{format_quantity(sent, uom)} of the {format_quantity(offered, uom)} "
            "offered: decide on the rest."
        )
        move_case(
            case,
            actor=actor,
            to=State.IN_PROGRESS,
            reason=note,
            changes={"resolution_code": "", "resolution_note": note},
        )
        return
    rest = units_to_replace(case)
    if rest > 0:
        # The customer reported more units after accepting the replacement.
        note = (
            f"Replacement shipment {shipment.number} shipped "
            f"{format_quantity(sent, uom)}, but {format_quantity(rest, uom)} more "
            "were reported since the customer accepted it: decide on them."
        )
        move_case(
            case,
            actor=actor,
            to=State.IN_PROGRESS,
            reason=note,
            changes={"resolution_code": "", "resolution_note": note},
        )
        return
    note = (
        f"Replacement shipment {shipment.number} shipped "
        f"{format_quantity(sent, uom)} to replace the reported units."
    )
    move_case(
        case,
        actor=actor,
        to=State.RESOLVED,
        reason=note,
        changes=resolution_changes(
            case, code=ResolutionCode.RESHIP, note=note, by=offer.proposal.proposed_by
        ),
    )


def replacement_discarded(shipment: Shipment, *, actor: User) -> None:
    """Send the case of a discarded draft replacement back to the sales rep.

    The caller holds the order's lock and has cancelled ``shipment``. Its
    units count as not replaced again (``replaced_units``), so the rep can
    offer a replacement or a credit note for them. A case that is no
    longer active stays as it is; the event records the discard.
    """
    if shipment.replaces_case_id is None:
        return
    case = cases.lock_case(shipment.replaces_case_id)
    record_event(
        actor=actor,
        action="reship.discarded",
        target=shipment,
        source=SCREEN,
        after={"case_id": case.pk, "case_state": case.state},
    )
    if not case.is_active:
        return
    note = (
        f"The warehouse discarded replacement shipment {shipment.number}, so "
        "nothing was shipped again: decide again."
    )
    move_case(
        case,
        actor=actor,
        to=State.IN_PROGRESS,
        reason=note,
        changes={"resolution_code": "", "resolution_note": note},
    )
