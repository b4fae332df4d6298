"""Reads of the purchase side; the one visibility rule for purchase documents.

Warehouse workers, finance clerks and managers see every purchase order and
vendor bill of the real companies. For every other person, customers
included, the querysets are empty. The three-way comparison of a bill is
computed here from the documents, with the same rules as the matching pass
(``purchasing``), so a goods receipt releases a held bill on the page at once.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import Http404

from accounts.models import Role, User
from accounts.permissions import Viewer
from reconciliation.duplicates import normalize_reference
from reconciliation.models import (
    ACTIVE_CASE_STATES,
    Discrepancy,
    GoodsReceipt,
    GoodsReceiptLine,
    Party,
    PurchaseOrder,
    PurchaseOrderLine,
    VendorBill,
    VendorBillLine,
)
from reconciliation.purchasing import find_duplicate_bills, three_way_codes
from reconciliation.selectors import visible_cases
from reconciliation.tolerances import ToleranceBook

PURCHASE_ROLES = frozenset({Role.WAREHOUSE, Role.FINANCE_CLERK, Role.MANAGER})
ZERO = Decimal(0)
QUANTITY = DecimalField(max_digits=16, decimal_places=4)


class ReceiptState:
    WAITING = "waiting"
    PARTIAL = "partial"
    RECEIVED = "received"
    CHOICES = (
        (WAITING, "Nothing received"),
        (PARTIAL, "Partly received"),
        (RECEIVED, "Received"),
    )


class MatchStatus:
    CLEAN = "clean"
    EXCEPTION = "exception"
    CHOICES = ((CLEAN, "No open case"), (EXCEPTION, "Open cases"))


class Release:
    """Release to pay of a vendor bill, as the three-way match decides it."""

    YES = "yes"
    NO = "no"
    EXCEPTION = "exception"
    LABELS = {
        YES: "Release to pay",
        NO: "On hold until the goods arrive",
        EXCEPTION: "Exception: do not pay",
    }


def may_use_purchasing(viewer: Viewer) -> bool:
    return (
        isinstance(viewer, User)
        and viewer.is_active
        and not viewer.is_external
        and viewer.role in PURCHASE_ROLES
    )


def visible_purchase_orders(viewer: Viewer) -> QuerySet[PurchaseOrder]:
    if not may_use_purchasing(viewer):
        return PurchaseOrder.objects.none()
    # Practice sandboxes live in their own companies, as for sales orders.
    return PurchaseOrder.objects.exclude(company__practice_session__isnull=False)


def visible_vendor_bills(viewer: Viewer) -> QuerySet[VendorBill]:
    if not may_use_purchasing(viewer):
        return VendorBill.objects.none()
    return VendorBill.objects.exclude(company__practice_session__isnull=False)


@dataclass(frozen=True)
class PurchaseOrderFilters:
    receipt_state: str = ""
    vendor_id: int | None = None
    match_status: str = ""
    search: str = ""


def _accepted_per_line() -> Subquery:
    """Return the received less rejected quantity of the outer order line."""
    accepted = (
        GoodsReceiptLine.objects.filter(order_line=OuterRef("pk"))
        .order_by()
        .values("order_line")
        .annotate(total=Sum(F("qty_received") - F("qty_rejected")))
        .values("total")
    )
    return Subquery(accepted, output_field=QUANTITY)


def list_purchase_orders(
    viewer: Viewer, filters: PurchaseOrderFilters
) -> QuerySet[PurchaseOrder]:
    """Return the purchase orders with their receipt state and open cases."""
    short_lines = (
        PurchaseOrderLine.objects.filter(order=OuterRef("pk"))
        .annotate(accepted=Coalesce(_accepted_per_line(), Value(ZERO)))
        .filter(accepted__lt=F("qty_ordered"))
        .order_by()
        .values("order")
        .annotate(total=Count("pk"))
        .values("total")
    )
    received_any = GoodsReceiptLine.objects.filter(
        receipt__purchase_order=OuterRef("pk"), qty_received__gt=F("qty_rejected")
    )
    open_cases = (
        visible_cases(viewer)
        .filter(purchase_order=OuterRef("pk"), state__in=ACTIVE_CASE_STATES)
        .order_by()
        .values("purchase_order")
        .annotate(total=Count("pk"))
        .values("total")
    )
    orders = (
        visible_purchase_orders(viewer)
        .select_related("vendor", "currency")
        .annotate(
            short_lines=Coalesce(Subquery(short_lines), 0),
            received_any=Exists(received_any),
            open_cases=Coalesce(Subquery(open_cases), 0),
        )
    )
    if filters.receipt_state == ReceiptState.WAITING:
        orders = orders.filter(received_any=False)
    elif filters.receipt_state == ReceiptState.PARTIAL:
        orders = orders.filter(received_any=True, short_lines__gt=0)
    elif filters.receipt_state == ReceiptState.RECEIVED:
        orders = orders.filter(received_any=True, short_lines=0)
    if filters.vendor_id is not None:
        orders = orders.filter(vendor_id=filters.vendor_id)
    if filters.match_status == MatchStatus.CLEAN:
        orders = orders.filter(open_cases=0)
    elif filters.match_status == MatchStatus.EXCEPTION:
        orders = orders.filter(open_cases__gt=0)
    if filters.search:
        term = filters.search.strip()
        orders = orders.filter(
            Q(number__icontains=term)
            | Q(vendor__name__icontains=term)
            | Q(vendor__code__iexact=term)
            | Q(bills__number__iexact=term)
            | Q(bills__supplier_ref__iexact=term)
        ).distinct()
    return orders.order_by("-order_date", "-number")


def receipt_state(order: PurchaseOrder) -> str:
    """Return the receipt state of an order that ``list_purchase_orders`` read."""
    if not order.received_any:  # type: ignore[attr-defined]
        return ReceiptState.WAITING
    if order.short_lines:  # type: ignore[attr-defined]
        return ReceiptState.PARTIAL
    return ReceiptState.RECEIVED


def list_vendors(viewer: Viewer) -> QuerySet[Party]:
    """Return the parties that have a purchase order the viewer may see."""
    orders = visible_purchase_orders(viewer)
    return Party.objects.filter(pk__in=orders.values("vendor_id")).order_by("name")


def access_purchase_order(viewer: Viewer, number: str) -> PurchaseOrder:
    """Return the purchase order with its lines, receipts and bills, or raise 404."""
    order = (
        visible_purchase_orders(viewer)
        .select_related("vendor", "currency", "company")
        .prefetch_related("lines__product", "receipts__lines", "bills")
        .filter(number=number)
        .first()
    )
    if order is None:
        raise Http404("No purchase order found with that number.")
    return order


def access_vendor_bill(viewer: Viewer, number: str) -> VendorBill:
    """Return the vendor bill with its lines, or raise 404."""
    bill = (
        visible_vendor_bills(viewer)
        .select_related(
            "vendor", "currency", "company", "purchase_order", "release_override_by"
        )
        .prefetch_related("lines__product", "lines__order_line__order")
        .filter(number=number)
        .first()
    )
    if bill is None:
        raise Http404("No vendor bill found with that number.")
    return bill


@dataclass(frozen=True)
class LineFigures:
    """Ordered, received, rejected and billed quantities of a purchase order line."""

    line: PurchaseOrderLine
    received: Decimal
    rejected: Decimal
    billed: Decimal

    @property
    def accepted(self) -> Decimal:
        return self.received - self.rejected

    @property
    def open_to_receive(self) -> Decimal:
        return max(self.line.qty_ordered - self.accepted, ZERO)


def line_figures(lines: list[PurchaseOrderLine]) -> dict[int, LineFigures]:
    """Sum receipts and posted bills per purchase order line.

    A duplicate bill (``purchasing.find_duplicate_bills``) is left out, as
    the matching pass leaves it out, so its quantities do not count twice.
    """
    ids = [line.pk for line in lines]
    received: dict[int, Decimal] = defaultdict(Decimal)
    rejected: dict[int, Decimal] = defaultdict(Decimal)
    receipt_rows = GoodsReceiptLine.objects.filter(order_line_id__in=ids).values_list(
        "order_line_id", "qty_received", "qty_rejected"
    )
    for line_id, qty_received, qty_rejected in receipt_rows:
        received[line_id] += qty_received
        rejected[line_id] += qty_rejected
    billed: dict[int, Decimal] = defaultdict(Decimal)
    bill_rows = list(
        VendorBillLine.objects.filter(
            order_line_id__in=ids, bill__state=VendorBill.State.POSTED
        ).values_list("order_line_id", "qty", "bill_id")
    )
    duplicates = duplicate_bill_ids({bill_id for _, _, bill_id in bill_rows})
    for line_id, qty, bill_id in bill_rows:
        if bill_id not in duplicates:
            billed[line_id] += qty
    return {
        line.pk: LineFigures(
            line, received[line.pk], rejected[line.pk], billed[line.pk]
        )
        for line in lines
    }


def duplicate_bill_ids(bill_ids: set[int]) -> set[int]:
    """Return the ids among ``bill_ids`` of posted bills that repeat an earlier one."""
    if not bill_ids:
        return set()
    bills = VendorBill.objects.filter(pk__in=bill_ids).select_related("vendor")
    partners = {bill.vendor.commercial_partner_id for bill in bills}
    companies = {bill.company_id for bill in bills}
    candidates = (
        VendorBill.objects.filter(
            Q(vendor_id__in=partners) | Q(vendor__parent_id__in=partners),
            company_id__in=companies,
            state=VendorBill.State.POSTED,
        )
        .exclude(supplier_ref="")
        .select_related("vendor")
        .order_by("bill_date", "pk")
    )
    return set(find_duplicate_bills(candidates)) & bill_ids


def order_receipts(order: PurchaseOrder) -> list[GoodsReceipt]:
    receipts: list[GoodsReceipt] = list(order.receipts.all())
    return sorted(receipts, key=lambda receipt: (receipt.received_at, receipt.pk))


def open_purchase_cases(
    viewer: Viewer,
    *,
    order: PurchaseOrder | None = None,
    bill: VendorBill | None = None,
) -> list[Discrepancy]:
    """Return the active cases of a purchase order or a bill visible to ``viewer``."""
    rows = visible_cases(viewer).filter(state__in=ACTIVE_CASE_STATES)
    if order is not None:
        rows = rows.filter(purchase_order=order)
    if bill is not None:
        rows = rows.filter(vendor_bill=bill)
    return list(rows.order_by(F("due_at").asc(nulls_last=True), "pk"))


@dataclass(frozen=True)
class BillLineComparison:
    """One bill line next to its purchase order line and what was received."""

    bill_line: VendorBillLine
    figures: LineFigures | None
    price_ok: bool
    codes: list[str]
    release: str

    @property
    def price_difference(self) -> Decimal | None:
        if self.figures is None:
            return None
        return self.bill_line.unit_price - self.figures.line.unit_price


@dataclass(frozen=True)
class BillComparison:
    lines: list[BillLineComparison]
    release: str
    duplicates: list[VendorBill] = field(default_factory=list)

    @property
    def codes(self) -> list[str]:
        return sorted({code for line in self.lines for code in line.codes})


def compare_bill(bill: VendorBill) -> BillComparison:
    """Compare each bill line with its purchase order line and the receipts.

    A line without a purchase order line, or with a price off the order's
    beyond the tolerance profile, is an exception. Otherwise the quantity
    rules of ``purchasing.three_way_codes`` decide: nothing wrong releases
    the line, billed before receipt holds it, anything else is an exception.
    The bill is released when every line is, held when every line is held,
    and an exception otherwise (a mix of held and released lines included).
    A bill that repeats an earlier bill's supplier reference is an exception
    whatever its lines show, until a person keeps it. Until then its
    quantities are not counted on its lines, as the matching pass does not
    count them.
    """
    bill_lines: list[VendorBillLine] = list(bill.lines.all())
    order_lines = [line.order_line for line in bill_lines if line.order_line]
    figures = line_figures(order_lines)
    book = ToleranceBook.for_company(bill.company)
    comparisons: list[BillLineComparison] = []
    for bill_line in bill_lines:
        order_line = bill_line.order_line
        if order_line is None:
            comparisons.append(
                BillLineComparison(
                    bill_line, None, False, ["BILL_NO_PO"], Release.EXCEPTION
                )
            )
            continue
        line_figure = figures[order_line.pk]
        billed = line_figure.billed
        if bill.state != VendorBill.State.POSTED:
            # A draft is compared as if it were posted, which is what it will be.
            billed += bill_line.qty
        tolerance = book.for_scope(
            customer_id=bill.vendor.commercial_partner_id,
            group=bill_line.product.group,
        )
        price_ok = tolerance.price_matches(
            expected=order_line.unit_price, actual=bill_line.unit_price
        )
        codes = three_way_codes(
            order_line, line_figure.accepted, line_figure.received, billed
        )
        if not price_ok:
            codes.append("BILL_PRICE_VARIANCE")
        comparisons.append(
            BillLineComparison(
                bill_line, line_figure, price_ok, codes, _line_release(codes)
            )
        )
    duplicates = duplicate_bills(bill)
    release = _bill_release([line.release for line in comparisons])
    if _repeats_earlier(bill, duplicates):
        release = Release.EXCEPTION
    return BillComparison(lines=comparisons, release=release, duplicates=duplicates)


def _repeats_earlier(bill: VendorBill, duplicates: list[VendorBill]) -> bool:
    """Return whether ``bill`` is the duplicate of one of ``duplicates``.

    A draft repeats any posted bill, because it would be posted after them.
    """
    if bill.duplicate_override_reason:
        return False
    if bill.state != VendorBill.State.POSTED:
        return bool(duplicates)
    return any(
        (other.bill_date, other.pk) < (bill.bill_date, bill.pk) for other in duplicates
    )


def _line_release(codes: list[str]) -> str:
    if not codes:
        return Release.YES
    if codes == ["BILL_BEFORE_RECEIPT"]:
        return Release.NO
    return Release.EXCEPTION


def _bill_release(releases: list[str]) -> str:
    if releases and all(release == Release.YES for release in releases):
        return Release.YES
    if releases and all(release == Release.NO for release in releases):
        return Release.NO
    return Release.EXCEPTION


def duplicate_bills(bill: VendorBill) -> list[VendorBill]:
    """Return the other posted bills of the vendor with the same supplier reference.

    The vendor is compared by commercial partner and the reference after
    ``normalize_reference``, as the matching pass does.
    """
    reference = normalize_reference(bill.supplier_ref)
    if not reference:
        return []
    partner_id = bill.vendor.commercial_partner_id
    candidates = (
        VendorBill.objects.filter(
            Q(vendor_id=partner_id) | Q(vendor__parent_id=partner_id),
            company_id=bill.company_id,
            state=VendorBill.State.POSTED,
        )
        .exclude(pk=bill.pk)
        .order_by("bill_date", "pk")
    )
    return [
        other
        for other in candidates
        if normalize_reference(other.supplier_ref) == reference
    ]
