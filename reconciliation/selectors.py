"""Reads of orders and their documents; the one visibility rule for an order.

Employees see every order of their company. A customer account sees only the
orders of its own customer company (and of that company's child contacts).
"""

from dataclasses import dataclass

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404

from accounts.models import User
from accounts.permissions import Viewer
from reconciliation.models import (
    Allocation,
    Discrepancy,
    DiscrepancyCode,
    Invoice,
    SalesOrder,
    Shipment,
)

# Which open discrepancy decides an order screen's help context, first wins:
# money at stake before paperwork, paperwork before logistics.
CONTEXT_PRIORITY: dict[str, int] = {
    code: rank
    for rank, code in enumerate(
        [
            DiscrepancyCode.DUPLICATE_INVOICE,
            DiscrepancyCode.SHORT_PAYMENT,
            DiscrepancyCode.MISSING_PAYMENT,
            DiscrepancyCode.OVER_PAYMENT,
            DiscrepancyCode.PRICE_MISMATCH,
            DiscrepancyCode.INVOICE_QTY_MISMATCH,
            DiscrepancyCode.SHORT_SHIP,
            DiscrepancyCode.NOT_SHIPPED,
            DiscrepancyCode.OVER_SHIP,
            DiscrepancyCode.UNINVOICED_DELIVERY,
            DiscrepancyCode.LATE_SHIP,
        ]
    )
}


def visible_orders(viewer: Viewer) -> QuerySet[SalesOrder]:
    if not isinstance(viewer, User):
        return SalesOrder.objects.none()
    if viewer.is_external:
        return SalesOrder.objects.filter(
            Q(customer_id=viewer.customer_id)
            | Q(customer__parent_id=viewer.customer_id)
        )
    return SalesOrder.objects.all()


@dataclass(frozen=True)
class OrderFilters:
    recon_status: str = ""
    delivery_status: str = ""
    payment_status: str = ""
    code: str = ""
    search: str = ""


def list_orders(viewer: Viewer, filters: OrderFilters) -> QuerySet[SalesOrder]:
    orders = visible_orders(viewer).select_related("customer", "sales_rep", "currency")
    if filters.recon_status:
        orders = orders.filter(recon_status=filters.recon_status)
    if filters.delivery_status:
        orders = orders.filter(delivery_status=filters.delivery_status)
    if filters.payment_status:
        orders = orders.filter(payment_status=filters.payment_status)
    if filters.code:
        orders = orders.filter(
            pk__in=Discrepancy.objects.filter(
                code=filters.code, state=Discrepancy.State.OPEN
            ).values("order_id")
        )
    if filters.search:
        term = filters.search.strip()
        orders = orders.filter(
            Q(number__icontains=term)
            | Q(customer__name__icontains=term)
            | Q(customer__code__iexact=term)
        )
    # A correlated subquery, not a join with GROUP BY, so the database counts
    # only for the orders on the page.
    open_count = (
        Discrepancy.objects.filter(order=OuterRef("pk"), state=Discrepancy.State.OPEN)
        .order_by()
        .values("order")
        .annotate(total=Count("pk"))
        .values("total")
    )
    return orders.annotate(
        open_discrepancies=Coalesce(Subquery(open_count), 0)
    ).order_by("-order_date", "-number")


def access_order(viewer: Viewer, number: str) -> SalesOrder:
    """Return the order with everything its page shows, or raise 404."""
    order = (
        visible_orders(viewer)
        .select_related("customer", "sales_rep", "currency")
        .prefetch_related(
            "lines__product",
            Prefetch("shipments", queryset=Shipment.objects.prefetch_related("lines")),
            Prefetch(
                "invoices",
                queryset=Invoice.objects.prefetch_related(
                    Prefetch(
                        "allocations",
                        queryset=Allocation.objects.select_related("payment"),
                    )
                ),
            ),
            Prefetch(
                "discrepancies",
                queryset=Discrepancy.objects.filter(
                    state=Discrepancy.State.OPEN
                ).select_related("order_line", "invoice"),
                to_attr="open_discrepancies",
            ),
        )
        .filter(number=number)
        .first()
    )
    if order is None:
        raise Http404("No order found with that number.")
    return order


def open_discrepancies(order: SalesOrder) -> list[Discrepancy]:
    """Return the open discrepancies that ``access_order`` prefetched."""
    prefetched: list[Discrepancy] = order.open_discrepancies  # type: ignore[attr-defined]
    return prefetched


def leading_discrepancy(discrepancies: list[Discrepancy]) -> Discrepancy | None:
    """Return the open discrepancy that best describes the order's state."""
    if not discrepancies:
        return None
    return min(discrepancies, key=lambda item: CONTEXT_PRIORITY.get(item.code, 99))
