from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from assist.contexts import order_context_key
from assist.selectors import build_help_panel
from core.http import AuthenticatedRequest
from reconciliation.backorder_decisions import offers_sales_decision
from reconciliation.models import DiscrepancyCode, ReconStatus, SalesOrder
from reconciliation.selectors import (
    OrderFilters,
    access_order,
    explain_matches,
    leading_discrepancy,
    list_orders,
    open_discrepancies,
    visible_cases,
)
from reconciliation.timeline import order_timeline

ORDERS_PER_PAGE = 50
ORDER_LIST_CONTEXT = "reconciliation.orders"


def _choice(value: str, choices: list[str]) -> str:
    return value if value in choices else ""


@login_required
def order_list(request: AuthenticatedRequest) -> HttpResponse:
    # A customer's list of orders is the portal's home page.
    if request.user.is_external:
        return redirect(reverse("reconciliation:portal_home"))
    params = request.GET
    filters = OrderFilters(
        recon_status=_choice(params.get("status", ""), ReconStatus.values),
        delivery_status=_choice(
            params.get("delivery", ""), SalesOrder.DeliveryStatus.values
        ),
        payment_status=_choice(
            params.get("payment", ""), SalesOrder.PaymentStatus.values
        ),
        code=_choice(params.get("code", ""), DiscrepancyCode.values),
        search=params.get("q", "")[:100],
    )
    page = Paginator(list_orders(request.user, filters), ORDERS_PER_PAGE).get_page(
        params.get("page")
    )
    return render(
        request,
        "reconciliation/order_list.html",
        {
            "page": page,
            "filters": filters,
            "recon_statuses": ReconStatus.choices,
            "delivery_statuses": SalesOrder.DeliveryStatus.choices,
            "payment_statuses": SalesOrder.PaymentStatus.choices,
            "codes": DiscrepancyCode.choices,
            "help_context": ORDER_LIST_CONTEXT,
            "panel": build_help_panel(viewer=request.user, key=ORDER_LIST_CONTEXT),
            "record_ref": "",
        },
    )


def _context_key(code: str | None) -> str:
    """Return the order screen's help context for ``code`` (every code has one)."""
    return order_context_key(code)


@login_required
def order_detail(request: AuthenticatedRequest, number: str) -> HttpResponse:
    order = access_order(request.user, number)
    # A customer's order page is the portal's. The order is looked up first,
    # so a hidden order is 404 on both pages.
    if request.user.is_external:
        return redirect(reverse("reconciliation:portal_order", args=[order.number]))
    discrepancies = open_discrepancies(order)
    # Only the cases the reader may open get links; the others are listed
    # without one, so no link on the page leads to a 404.
    openable = set(
        visible_cases(request.user)
        .filter(pk__in=[item.pk for item in discrepancies])
        .values_list("pk", flat=True)
    )
    leading = leading_discrepancy(discrepancies)
    context_key = _context_key(leading.code if leading else None)
    return render(
        request,
        "reconciliation/order_detail.html",
        {
            "order": order,
            "lines": list(order.lines.all()),
            "discrepancies": discrepancies,
            "openable_cases": openable,
            # The sales decision screen is linked only where it has an action.
            "decidable_cases": {
                item.pk
                for item in discrepancies
                if item.pk in openable and offers_sales_decision(item)
            },
            "matches": explain_matches(order),
            "timeline": order_timeline(
                request.user,
                order,
                kind=request.GET.get("timeline_kind", ""),
                page=request.GET.get("timeline_page"),
            ),
            "help_context": context_key,
            "panel": build_help_panel(viewer=request.user, key=context_key),
            "record_ref": order.number,
        },
    )
