"""Orders over JSON, filtered by the same visibility rule as the pages."""

import datetime
from decimal import Decimal
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Router, Schema
from ninja.errors import HttpError

from accounts.models import User
from accounts.permissions import Viewer
from reconciliation.models import ReconStatus, SalesOrder
from reconciliation.money import quantize_money
from reconciliation.selectors import OrderFilters, access_order, list_orders

router = Router(tags=["reconciliation"])
MAX_PAGE_SIZE = 200
MAX_OFFSET = 1_000_000_000


class OrderSummaryOut(Schema):
    number: str
    customer: str
    order_date: datetime.date
    currency: str
    # The order's value after cancelled units, and the value of those units.
    amount_total: Decimal
    amount_cancelled: Decimal
    delivery_status: str
    invoice_status: str
    payment_status: str
    # None for customer accounts, who do not see reconciliation results.
    recon_status: str | None


class OrderLineOut(Schema):
    line_no: int
    product: str
    qty_ordered: Decimal
    # Units a sales rep cancelled, which are no longer to ship.
    qty_cancelled: Decimal
    qty_shipped: Decimal
    qty_invoiced: Decimal
    unit_price: Decimal
    amount_invoiced: Decimal
    amount_paid: Decimal
    # The part of the line's value that its cancelled units make up.
    amount_cancelled: Decimal


class OrderOut(OrderSummaryOut):
    lines: list[OrderLineOut]


def _money(amount: Decimal, order: SalesOrder) -> Decimal:
    # Amounts are stored with four decimals; the API gives the currency's.
    return quantize_money(amount, minor_units=order.currency.minor_units)


def _summary(order: SalesOrder, *, viewer: Viewer) -> dict[str, Any]:
    return {
        "number": order.number,
        "customer": order.customer.name,
        "order_date": order.order_date,
        "currency": order.currency_id,
        "amount_total": _money(order.amount_total, order),
        "amount_cancelled": _money(order.amount_cancelled, order),
        "delivery_status": order.delivery_status,
        "invoice_status": order.invoice_status,
        "payment_status": order.payment_status,
        "recon_status": None if _is_external(viewer) else order.recon_status,
    }


def _is_external(viewer: Viewer) -> bool:
    return isinstance(viewer, User) and viewer.is_external


@router.get("/orders", response=list[OrderSummaryOut], summary="Orders you may see")
def get_orders(
    request: HttpRequest, status: str = "", limit: int = 50, offset: int = 0
) -> list[OrderSummaryOut]:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise HttpError(
            422, f"limit={limit} is out of range: use 1 to {MAX_PAGE_SIZE}."
        )
    if offset < 0:
        raise HttpError(422, f"offset={offset} is negative: use 0 or more.")
    if offset > MAX_OFFSET:
        raise HttpError(422, f"offset={offset} is out of range: use 0 to {MAX_OFFSET}.")
    if status and status not in ReconStatus.values:
        allowed = ", ".join(ReconStatus.values)
        raise HttpError(
            422,
            f"status={status!r} is not a reconciliation status: use one of {allowed}.",
        )
    # Customers do not see reconciliation statuses, so they cannot filter by one.
    if _is_external(request.user):
        filters = OrderFilters()
    else:
        filters = OrderFilters(recon_status=status)
    orders = list_orders(request.user, filters)
    return [
        OrderSummaryOut(**_summary(order, viewer=request.user))
        for order in orders[offset : offset + limit]
    ]


@router.get("/orders/{number}", response=OrderOut, summary="One order with its lines")
def get_order(request: HttpRequest, number: str) -> OrderOut:
    try:
        order = access_order(request.user, number)
    except Http404:
        raise HttpError(
            404, f"No order {number!r} found among the orders you may see."
        ) from None
    lines = [
        OrderLineOut(
            line_no=line.line_no,
            product=line.product.name,
            qty_ordered=line.qty_ordered,
            qty_cancelled=line.qty_cancelled,
            qty_shipped=line.qty_shipped,
            qty_invoiced=line.qty_invoiced,
            unit_price=line.unit_price,
            amount_invoiced=_money(line.amount_invoiced, order),
            amount_paid=_money(line.amount_paid, order),
            amount_cancelled=_money(line.amount_cancelled, order),
        )
        for line in order.lines.all()
    ]
    return OrderOut(**_summary(order, viewer=request.user), lines=lines)
