"""Writes of the purchase screens: goods receipts and a bill's overrides.

Each public function is one transaction with an audit event whose source is
the screen. It raises ``PermissionDenied`` for a person of the wrong role and
``WorkError`` for bad input, with a message that names the value. After a
goods receipt the purchase side of the matching pass runs again, so the
cases (a bill held until the goods arrive, a short receipt) follow the new
quantities in the same transaction.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Role, User
from core.audit import record_event
from core.bulk_writes import insert_rows
from core.models import AuditEvent
from reconciliation import cases
from reconciliation.findings import Tally, save_findings
from reconciliation.matches import existing_groups, save_match_records
from reconciliation.matching import build_context
from reconciliation.models import (
    ACTIVE_CASE_STATES,
    Company,
    Discrepancy,
    DiscrepancyCode,
    GoodsReceipt,
    GoodsReceiptLine,
    PurchaseOrder,
    PurchaseOrderLine,
    ResolutionCode,
    VendorBill,
)
from reconciliation.money import format_quantity
from reconciliation.purchase_selectors import (
    Release,
    compare_bill,
    duplicate_bills,
    line_figures,
)
from reconciliation.purchasing import check_purchases
from reconciliation.tolerances import ToleranceBook
from reconciliation.work import WorkError, move_case, require_role, resolution_changes

logger = logging.getLogger(__name__)

SCREEN = AuditEvent.Source.SCREEN
ZERO = Decimal(0)
QUANTITY_DECIMALS = 4
REASON_MAX_LENGTH = 200
# The cases a release override settles: the three-way match's objections.
RELEASE_CODES = (
    DiscrepancyCode.BILL_BEFORE_RECEIPT,
    DiscrepancyCode.BILL_PRICE_VARIANCE,
    DiscrepancyCode.BILL_QTY_OVER_RECEIVED,
)


@dataclass(frozen=True)
class ReceivedQuantities:
    received: Decimal
    rejected: Decimal
    reason: str = ""


def record_goods_receipt(
    *,
    actor: User,
    order: PurchaseOrder,
    quantities: Mapping[int, ReceivedQuantities],
) -> GoodsReceipt:
    """Record what arrived per purchase order line number, dated today.

    The accepted quantity (received less rejected) of a line may pass the
    ordered quantity only by the tolerance profile's over-receipt percentage.
    """
    require_role(actor, Role.WAREHOUSE, "record goods receipts")
    with transaction.atomic():
        locked = PurchaseOrder.objects.select_for_update().get(pk=order.pk)
        lines = {line.line_no: line for line in locked.lines.select_related("product")}
        _check_receipt(locked, lines, quantities)
        receipt = GoodsReceipt.objects.create(
            company=locked.company,
            number=_next_receipt_number(locked),
            purchase_order=locked,
            received_at=timezone.localdate(),
        )
        recorded: dict[str, dict[str, str]] = {}
        for line_no, qty in sorted(quantities.items()):
            GoodsReceiptLine.objects.create(
                receipt=receipt,
                order_line=lines[line_no],
                qty_received=qty.received,
                qty_rejected=qty.rejected,
                reason=qty.reason.strip()[:120],
            )
            recorded[str(line_no)] = {
                "received": str(qty.received),
                "rejected": str(qty.rejected),
                "reason": qty.reason.strip()[:120],
            }
        record_event(
            actor=actor,
            action="goods_receipt.recorded",
            target=receipt,
            source=SCREEN,
            after={
                "purchase_order": locked.number,
                "received_at": receipt.received_at.isoformat(),
                "lines": recorded,
            },
        )
        rematch_purchases(locked.company)
    logger.info(
        "Goods receipt %s of purchase order %s recorded by user %s",
        receipt.number,
        locked.number,
        actor.pk,
    )
    return receipt


def _check_receipt(
    order: PurchaseOrder,
    lines: Mapping[int, PurchaseOrderLine],
    quantities: Mapping[int, ReceivedQuantities],
) -> None:
    if not quantities:
        raise WorkError(
            f"Enter a received quantity for a line of purchase order {order.number}."
        )
    for line_no, qty in quantities.items():
        if line_no not in lines:
            raise WorkError(f"Purchase order {order.number} has no line {line_no}.")
        _check_line_quantities(line_no, qty, uom=lines[line_no].product.uom)
    if all(qty.received == 0 for qty in quantities.values()):
        raise WorkError(
            "Every received quantity is 0: enter what arrived at the warehouse."
        )

    figures = line_figures([lines[line_no] for line_no in quantities])
    book = ToleranceBook.for_company(order.company)
    for line_no, qty in quantities.items():
        line = lines[line_no]
        tolerance = book.for_scope(
            customer_id=order.vendor.commercial_partner_id, group=line.product.group
        )
        arriving = qty.received - qty.rejected
        accepted = figures[line.pk].accepted + arriving
        if tolerance.is_over(ordered=line.qty_ordered, actual=accepted):
            uom = line.product.uom
            # The maximum the line may still accept: the ordered quantity plus
            # the allowed percentage over it, less what it accepted before.
            allowed = line.qty_ordered + line.qty_ordered * tolerance.qty_over_pct / 100
            room = max(allowed - figures[line.pk].accepted, Decimal(0))
            if tolerance.qty_over_pct:
                limit = (
                    f"more than the {tolerance.qty_over_pct.normalize():f}% over "
                    "the order that may be received"
                )
            else:
                limit = "more than was ordered"
            raise WorkError(
                f"Line {line_no}: accepting {format_quantity(arriving, uom)} "
                f"brings it to {format_quantity(accepted, uom)} of "
                f"{format_quantity(line.qty_ordered, uom)} ordered, {limit}. "
                f"Receive at most {format_quantity(room, uom)} and reject the rest."
            )


def _check_line_quantities(line_no: int, qty: ReceivedQuantities, *, uom: str) -> None:
    for label, value in (("received", qty.received), ("rejected", qty.rejected)):
        if value < 0:
            raise WorkError(
                f"Line {line_no}: {label} quantity {value} is negative; "
                "enter 0 or more."
            )
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and -exponent > QUANTITY_DECIMALS:
            raise WorkError(
                f"Line {line_no}: {label} quantity {value} has more than "
                f"{QUANTITY_DECIMALS} decimals; round it."
            )
    if qty.rejected > qty.received:
        raise WorkError(
            f"Line {line_no}: rejected {format_quantity(qty.rejected, uom)} is more "
            f"than the {format_quantity(qty.received, uom)} received; reject only "
            "goods that arrived."
        )
    if qty.rejected > 0 and not qty.reason.strip():
        raise WorkError(
            f"Line {line_no}: say why {format_quantity(qty.rejected, uom)} were "
            "rejected (damaged, wrong item, ...), for the buyer's vendor claim."
        )


def _next_receipt_number(order: PurchaseOrder) -> str:
    count = GoodsReceipt.objects.filter(purchase_order=order).count()
    while True:
        count += 1
        candidate = f"{order.number}-GR{count}"
        taken = GoodsReceipt.objects.filter(company=order.company, number=candidate)
        if not taken.exists():
            return candidate


def rematch_purchases(company: Company) -> None:
    """Run the purchase side of the matching pass for ``company`` and store it.

    It stores the results the way ``matching.run_matching`` stores its
    purchase step, inside the caller's transaction.
    """
    # NOTE: this checks every purchase document of the company, because the
    # duplicate-bill check compares bills across orders. So each receipt costs
    # time in proportion to the company's purchase documents.
    context = build_context(company, timezone.localdate())
    results = check_purchases(company, context)
    rows = Discrepancy.objects.select_for_update().filter(
        company=company, order__isnull=True, payment__isnull=True
    )
    existing = {row.fingerprint: row for row in rows.order_by("pk")}
    events = save_findings(company, results.findings, existing, Tally())
    _, match_events = save_match_records(
        company,
        results.matches,
        existing_groups(company, Q(key__startswith="P2P:")),
        now=timezone.now(),
    )
    insert_rows([*events, *match_events])


def _check_reason(reason: str, what: str) -> str:
    text = reason.strip()
    if not text:
        raise WorkError(f"{what} needs a reason: say why, for the audit trail.")
    if len(text) > REASON_MAX_LENGTH:
        raise WorkError(
            f"The reason has {len(text)} characters; shorten it to "
            f"{REASON_MAX_LENGTH} or fewer."
        )
    return text


def _lock_posted_bill(bill: VendorBill) -> VendorBill:
    locked = (
        VendorBill.objects.select_for_update(of=("self",))
        .select_related("vendor", "company", "currency")
        .get(pk=bill.pk)
    )
    if locked.state != VendorBill.State.POSTED:
        raise WorkError(
            f"Bill {locked.number} is {locked.get_state_display().lower()}: only a "
            "posted bill can be released or kept."
        )
    return locked


def _resolve_bill_cases(
    bill: VendorBill, codes: tuple[str, ...], *, actor: User, note: str
) -> list[int]:
    ids = list(
        Discrepancy.objects.filter(
            vendor_bill=bill, code__in=codes, state__in=ACTIVE_CASE_STATES
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for case_id in ids:
        case = cases.lock_case(case_id)
        move_case(
            case,
            actor=actor,
            to=Discrepancy.State.RESOLVED,
            reason=note,
            changes=resolution_changes(
                case, code=ResolutionCode.ACCEPTED_AS_IS, note=note, by=actor
            ),
        )
    return ids


def override_release(*, actor: User, bill: VendorBill, reason: str) -> VendorBill:
    """Release a bill to pay that the three-way match holds or rejects.

    Only a finance manager may, with a reason. The bill's open three-way
    cases are resolved as accepted as is, by the manager.
    """
    require_role(actor, Role.MANAGER, "release bills the three-way match holds")
    text = _check_reason(reason, "Releasing a held bill")
    with transaction.atomic():
        locked = _lock_posted_bill(bill)
        if locked.release_override_at is not None:
            raise WorkError(
                f"Bill {locked.number} was already released by override on "
                f"{locked.release_override_at:%Y-%m-%d}: "
                f"{locked.release_override_reason}"
            )
        comparison = compare_bill(locked)
        if comparison.release == Release.YES:
            raise WorkError(
                f"Bill {locked.number} already matches its purchase order and "
                "receipts, so it is released without an override."
            )
        locked.release_override_reason = text
        locked.release_override_by = actor
        locked.release_override_at = timezone.now()
        locked.save(
            update_fields=[
                "release_override_reason",
                "release_override_by",
                "release_override_at",
                "updated_at",
            ]
        )
        resolved = _resolve_bill_cases(
            locked,
            RELEASE_CODES,
            actor=actor,
            note=f"Bill {locked.number} released to pay by override: {text}",
        )
        record_event(
            actor=actor,
            action="vendor_bill.release_overridden",
            target=locked,
            source=SCREEN,
            before={"release_to_pay": comparison.release},
            after={
                "release_to_pay": Release.YES,
                "codes": comparison.codes,
                "resolved_cases": resolved,
            },
            reason=text,
        )
    logger.info("Bill %s released by override by user %s", locked.number, actor.pk)
    return locked


def _require_finance(actor: User, action: str) -> None:
    if not actor.is_active or actor.role not in (Role.FINANCE_CLERK, Role.MANAGER):
        raise PermissionDenied(
            f"{actor.username} may not {action}: it is work for the finance "
            "clerk and manager roles."
        )


def keep_duplicate_reference(
    *, actor: User, bill: VendorBill, reason: str
) -> VendorBill:
    """Keep a bill whose supplier reference an earlier bill of the vendor has.

    Small vendors restart their numbering each year, so a repeated reference
    is not always a copy. The reason is stored on the bill, and the matching
    pass no longer reports it. The bill's open duplicate case is resolved.
    """
    _require_finance(actor, "keep bills with a repeated supplier reference")
    text = _check_reason(reason, "Keeping a bill with a repeated reference")
    with transaction.atomic():
        locked = _lock_posted_bill(bill)
        if locked.duplicate_override_reason:
            raise WorkError(
                f"Bill {locked.number} is already kept: "
                f"{locked.duplicate_override_reason}"
            )
        others = duplicate_bills(locked)
        if not others:
            raise WorkError(
                f"No other posted bill of {locked.vendor.name} has supplier "
                f"reference {locked.supplier_ref!r}, so there is nothing to override."
            )
        locked.duplicate_override_reason = text
        locked.save(update_fields=["duplicate_override_reason", "updated_at"])
        resolved = _resolve_bill_cases(
            locked,
            (DiscrepancyCode.DUPLICATE_INVOICE,),
            actor=actor,
            note=f"Bill {locked.number} kept although its reference repeats: {text}",
        )
        record_event(
            actor=actor,
            action="vendor_bill.duplicate_kept",
            target=locked,
            source=SCREEN,
            before={"duplicate_override_reason": ""},
            after={
                "duplicate_override_reason": text,
                "same_reference_as": [other.number for other in others],
                "resolved_cases": resolved,
            },
            reason=text,
        )
    logger.info("Bill %s kept as not a duplicate by user %s", locked.number, actor.pk)
    return locked
