"""Purchase screens: purchase orders, goods receipts and the vendor bill's match.

Warehouse workers, finance clerks and managers use them. A customer gets 404
on every page, as if it did not exist; another employee gets 403. A view
fetches the document through ``purchase_selectors`` (404 for one the person
cannot see), parses the form and calls one service in ``purchase_work``.
"""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.models import Role
from assist.contexts import order_context_key
from assist.records import RecordKind
from core.http import AuthenticatedRequest
from core.numbers import InvalidNumberError, parse_positive_int
from core.text import clean_text
from reconciliation import purchase_selectors as selectors
from reconciliation import purchase_work, work
from reconciliation.purchase_selectors import (
    MatchStatus,
    PurchaseOrderFilters,
    ReceiptState,
    Release,
)
from reconciliation.work_views import _page, _run

LIST_CONTEXT = "reconciliation.work.purchasing"
ORDER_CONTEXT = "reconciliation.work.purchasing.order"
RECEIPT_CONTEXT = "reconciliation.work.purchasing.receipt"
BILL_CONTEXT = "reconciliation.work.purchasing.bill"
ORDERS_PER_PAGE = 50


def _require_purchasing(request: AuthenticatedRequest) -> None:
    if request.user.is_external:
        raise Http404("No such page.")
    if not selectors.may_use_purchasing(request.user):
        raise PermissionDenied(
            "The purchase screens are for the warehouse worker, finance clerk "
            "and manager roles."
        )


def _choice(value: str, choices: tuple[tuple[str, str], ...]) -> str:
    return value if value in {key for key, _ in choices} else ""


@login_required
def purchase_order_list(request: AuthenticatedRequest) -> HttpResponse:
    _require_purchasing(request)
    params = request.GET
    raw_vendor = params.get("vendor", "")
    vendor_id = None
    vendor_invalid = False
    if raw_vendor:
        try:
            vendor_id = parse_positive_int(
                raw_vendor, name="vendor", expected="a vendor id"
            )
        except InvalidNumberError as error:
            # The list shows all vendors' orders, under the message.
            messages.error(request, str(error))
            vendor_invalid = True
    filters = PurchaseOrderFilters(
        receipt_state=_choice(params.get("receipt", ""), ReceiptState.CHOICES),
        vendor_id=vendor_id,
        match_status=_choice(params.get("match", ""), MatchStatus.CHOICES),
        search=params.get("q", "")[:100],
    )
    orders = selectors.list_purchase_orders(request.user, filters)
    page = Paginator(orders, ORDERS_PER_PAGE).get_page(params.get("page"))
    response = _page(
        request,
        "reconciliation/work/purchase_orders.html",
        LIST_CONTEXT,
        "",
        {
            "page": page,
            "rows": [(order, selectors.receipt_state(order)) for order in page],
            "filters": filters,
            "receipt_states": ReceiptState.CHOICES,
            "receipt_labels": dict(ReceiptState.CHOICES),
            "match_statuses": MatchStatus.CHOICES,
            "vendors": list(selectors.list_vendors(request.user)),
        },
    )
    if vendor_invalid:
        response.status_code = 400
    return response


@login_required
def purchase_order_detail(request: AuthenticatedRequest, number: str) -> HttpResponse:
    _require_purchasing(request)
    order = selectors.access_purchase_order(request.user, number)
    lines = list(order.lines.all())
    figures = selectors.line_figures(lines)
    bills = sorted(order.bills.all(), key=lambda bill: (bill.bill_date, bill.pk))
    return _page(
        request,
        "reconciliation/work/purchase_order.html",
        ORDER_CONTEXT,
        order.number,
        {
            "order": order,
            "rows": [figures[line.pk] for line in lines],
            "receipts": selectors.order_receipts(order),
            "bills": [(bill, selectors.compare_bill(bill).release) for bill in bills],
            "release_labels": Release.LABELS,
            "cases": selectors.open_purchase_cases(request.user, order=order),
            "may_receive": request.user.role == Role.WAREHOUSE,
        },
        record_kind=RecordKind.PURCHASE_ORDER,
    )


def _received_quantities(
    request: AuthenticatedRequest, line_nos: list[int]
) -> dict[int, purchase_work.ReceivedQuantities]:
    quantities = {}
    for line_no in line_nos:
        received = request.POST.get(f"received_{line_no}", "").strip()
        rejected = request.POST.get(f"rejected_{line_no}", "").strip()
        if not received and not rejected:
            continue
        quantities[line_no] = purchase_work.ReceivedQuantities(
            received=work.parse_quantity(
                received or "0", label=f"Line {line_no} received"
            ),
            rejected=work.parse_quantity(
                rejected or "0", label=f"Line {line_no} rejected"
            ),
            reason=clean_text(request.POST.get(f"reason_{line_no}", ""))[:120],
        )
    return quantities


@login_required
def record_receipt(request: AuthenticatedRequest, number: str) -> HttpResponse:
    """Show the goods receipt form, and record the receipt on POST."""
    _require_purchasing(request)
    order = selectors.access_purchase_order(request.user, number)
    if request.user.role != Role.WAREHOUSE:
        raise PermissionDenied("Goods receipts are recorded by the warehouse role.")
    lines = list(order.lines.all())
    if request.method == "POST":
        line_nos = [line.line_no for line in lines]
        recorded = _run(
            request,
            lambda: purchase_work.record_goods_receipt(
                actor=request.user,
                order=order,
                quantities=_received_quantities(request, line_nos),
            ),
            f"Recorded the goods receipt of purchase order {order.number}.",
        )
        if recorded:
            return _back_to_order(order.number)
    figures = selectors.line_figures(lines)
    return _page(
        request,
        "reconciliation/work/goods_receipt.html",
        RECEIPT_CONTEXT,
        order.number,
        {
            "order": order,
            "rows": [
                (figures[line.pk], _entered(request, line.line_no)) for line in lines
            ],
        },
        record_kind=RecordKind.PURCHASE_ORDER,
    )


def _entered(request: AuthenticatedRequest, line_no: int) -> dict[str, str]:
    """Return what the person typed on a line, to show again after an error."""
    return {
        name: request.POST.get(f"{name}_{line_no}", "")[:120]
        for name in ("received", "rejected", "reason")
    }


def _back_to_order(number: str) -> HttpResponseRedirect:
    return redirect(reverse("reconciliation:purchase_order", args=[number]))


@login_required
def vendor_bill_detail(request: AuthenticatedRequest, number: str) -> HttpResponse:
    _require_purchasing(request)
    bill = selectors.access_vendor_bill(request.user, number)
    comparison = selectors.compare_bill(bill)
    open_cases = selectors.open_purchase_cases(request.user, bill=bill)
    # The help follows the bill's most urgent open case, as on the order page.
    context_key = order_context_key(open_cases[0].code) if open_cases else BILL_CONTEXT
    overridden = bill.release_override_at is not None
    return _page(
        request,
        "reconciliation/work/vendor_bill.html",
        context_key,
        bill.number,
        {
            "bill": bill,
            "comparison": comparison,
            "release_label": Release.LABELS[comparison.release],
            "released": comparison.release == Release.YES or overridden,
            "overridden": overridden,
            "cases": open_cases,
            "total": sum(
                (line.qty * line.unit_price for line in bill.lines.all()), Decimal(0)
            ),
            "may_override": request.user.role == Role.MANAGER
            and not overridden
            and comparison.release != Release.YES,
            "may_keep_duplicate": request.user.role
            in (Role.FINANCE_CLERK, Role.MANAGER)
            and bool(comparison.duplicates)
            and not bill.duplicate_override_reason,
        },
        record_kind=RecordKind.VENDOR_BILL,
    )


def _back_to_bill(number: str) -> HttpResponseRedirect:
    return redirect(reverse("reconciliation:vendor_bill", args=[number]))


@login_required
@require_POST
def override_release(request: AuthenticatedRequest, number: str) -> HttpResponse:
    _require_purchasing(request)
    bill = selectors.access_vendor_bill(request.user, number)
    _run(
        request,
        lambda: purchase_work.override_release(
            actor=request.user,
            bill=bill,
            reason=clean_text(request.POST.get("reason", ""))[:2000],
        ),
        f"Bill {bill.number} is released to pay by your override.",
    )
    return _back_to_bill(bill.number)


@login_required
@require_POST
def keep_duplicate(request: AuthenticatedRequest, number: str) -> HttpResponse:
    _require_purchasing(request)
    bill = selectors.access_vendor_bill(request.user, number)
    _run(
        request,
        lambda: purchase_work.keep_duplicate_reference(
            actor=request.user,
            bill=bill,
            reason=clean_text(request.POST.get("reason", ""))[:2000],
        ),
        f"Bill {bill.number} is kept; its repeated reference is recorded as checked.",
    )
    return _back_to_bill(bill.number)
