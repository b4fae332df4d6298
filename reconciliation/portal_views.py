"""The customer portal: orders, shipments, invoices, statement, problems, cases.

Only customer accounts use these pages (staff get 403). Every read starts
from ``portal.selectors``, which start from ``visible_orders``, so another
company's order, shipment or case returns 404 like a missing one.
"""

from collections.abc import Callable
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import User
from assist.selectors import build_help_panel
from core.http import AuthenticatedRequest
from library.uploads import UploadError, readable_size
from portal import selectors, services
from portal.models import ProblemReport, ResolutionProposal
from portal.uploads import reject_oversized_request
from reconciliation import reships
from reconciliation.cases import CaseError
from reconciliation.models import Invoice, ResolutionCode, SalesOrder, ShipmentLine
from reconciliation.selectors import access_order, visible_orders
from reconciliation.work import WorkError

PORTAL_CONTEXT = "portal"
ORDER_CONTEXT = "portal.order"
STATEMENT_CONTEXT = "portal.statement"
PROBLEM_CONTEXT = "portal.problem"
CASE_CONTEXT = "portal.case"
# Customer-facing status per case state. Every other state reads as WORKING_STATUS.
CUSTOMER_STATUS = {
    "proposed_resolution": "A resolution is proposed to you",
    "resolved": "Resolved",
    "closed": "Resolved",
}
WORKING_STATUS = "We are looking into it"


def _require_customer(request: AuthenticatedRequest) -> None:
    if not request.user.is_active or not request.user.is_external:
        raise PermissionDenied("The portal is for customer accounts.")


def _page(
    request: AuthenticatedRequest,
    template: str,
    context_key: str,
    record_ref: str,
    context: dict[str, object],
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        template,
        {
            **context,
            "help_context": context_key,
            "panel": build_help_panel(viewer=request.user, key=context_key),
            "record_ref": record_ref,
        },
        status=status,
    )


def _run(
    request: AuthenticatedRequest, action: Callable[[], object], done: str
) -> bool:
    try:
        action()
    except (WorkError, CaseError, UploadError) as error:
        messages.error(request, str(error))
        return False
    messages.success(request, done)
    return True


@login_required
def home(request: AuthenticatedRequest) -> HttpResponse:
    _require_customer(request)
    orders = visible_orders(request.user).select_related("currency")[:100]
    return _page(
        request,
        "reconciliation/portal/home.html",
        PORTAL_CONTEXT,
        "",
        {
            "orders": list(orders),
            "cases": [
                (case, CUSTOMER_STATUS.get(case.state, WORKING_STATUS))
                for case in selectors.customer_cases(request.user)[:50]
            ],
        },
    )


@login_required
def order(request: AuthenticatedRequest, number: str) -> HttpResponse:
    _require_customer(request)
    found = access_order(request.user, number)
    reported = selectors.reported_units_by_line(found)
    return _page(
        request,
        "reconciliation/portal/order.html",
        ORDER_CONTEXT,
        found.number,
        {
            "order": found,
            "lines": [(line, reported.get(line.pk)) for line in found.lines.all()],
            "shipments": list(
                selectors.customer_shipments(request.user).filter(order=found)
            ),
            "invoices": list(
                selectors.customer_invoices(request.user).filter(order=found)
            ),
            # The same cases as on the portal's home page, for this order:
            # a proposal the customer did not ask for shows here too.
            "cases": [
                (case, CUSTOMER_STATUS.get(case.state, WORKING_STATUS))
                for case in selectors.customer_cases(request.user).filter(order=found)
            ],
        },
    )


@login_required
def statement(request: AuthenticatedRequest) -> HttpResponse:
    _require_customer(request)
    return _page(
        request,
        "reconciliation/portal/statement.html",
        STATEMENT_CONTEXT,
        "",
        {"statements": selectors.statement_of_account(request.user)},
    )


@login_required
@require_POST
def confirm_receipt(request: AuthenticatedRequest, shipment_id: int) -> HttpResponse:
    _require_customer(request)
    shipment = selectors.access_shipment(request.user, shipment_id)
    _run(
        request,
        lambda: services.confirm_receipt(customer=request.user, shipment=shipment),
        f"Thank you: shipment {shipment.number} is confirmed as received.",
    )
    return redirect(
        reverse("reconciliation:portal_order", args=[shipment.order.number])
    )


@login_required
@reject_oversized_request
def report_problem(request: AuthenticatedRequest, number: str) -> HttpResponse:
    _require_customer(request)
    found = access_order(request.user, number)
    shipment_lines = list(
        ShipmentLine.objects.filter(
            shipment__in=selectors.customer_shipments(request.user).filter(order=found)
        ).select_related("shipment", "order_line")
    )
    invoices = list(
        selectors.customer_invoices(request.user).filter(
            order=found, kind=Invoice.Kind.INVOICE
        )
    )
    posted: dict[str, str] = {}
    errors: dict[str, str] = {}
    files_dropped = 0
    if request.method == "POST":
        errors = _submit_problem(request, found, shipment_lines, invoices)
        if not errors:
            return redirect(reverse("reconciliation:portal_home"))
        # Show the form again as the customer filled it in. A browser cannot
        # be given back the chosen files, so the page requests them again.
        posted = {
            field: request.POST.get(field, "")
            for field in ("kind", "line", "quantity", "invoice", "message", "repeat")
        }
        files_dropped = len(request.FILES.getlist("evidence"))
    return _page(
        request,
        "reconciliation/portal/problem.html",
        PROBLEM_CONTEXT,
        found.number,
        {
            "order": found,
            "kinds": ProblemReport.Kind.choices,
            "shipment_lines": shipment_lines,
            "invoices": invoices,
            "open_reports": selectors.open_line_reports(found, shipment_lines),
            "posted": posted,
            "errors": errors,
            "files_dropped": files_dropped,
            "evidence_limit": readable_size(settings.PORTAL_MAX_EVIDENCE_BYTES),
            "max_files": services.MAX_EVIDENCE_FILES,
        },
        # A rejected report is shown again with 422, as the other forms do.
        status=422 if request.method == "POST" else 200,
    )


def _submit_problem(
    request: AuthenticatedRequest,
    found: SalesOrder,
    shipment_lines: list[ShipmentLine],
    invoices: list[Invoice],
) -> dict[str, str]:
    """Send the report, or return its error by the form field to correct.

    The error is shown at the top of the form too; one that no field
    decides (the case changed meanwhile) is kept under ``form``.
    """
    post = request.POST
    line = next((s for s in shipment_lines if str(s.pk) == post.get("line")), None)
    invoice = next((i for i in invoices if str(i.pk) == post.get("invoice")), None)
    raw_qty = post.get("quantity", "").strip()
    try:
        problem = services.ProblemInput(
            kind=post.get("kind", ""),
            message=post.get("message", ""),
            shipment_line=line,
            quantity=services.parse_quantity(raw_qty) if raw_qty else None,
            invoice=invoice,
            repeat=post.get("repeat", ""),
        )
        evidence = services.check_evidence(request.FILES.getlist("evidence"))
        result = services.submit_problem_report(
            customer=request.user,
            order=found,
            problem=problem,
            evidence=evidence,
        )
    except services.ProblemError as error:
        messages.error(request, str(error))
        return {error.field: str(error)}
    except UploadError as error:
        messages.error(request, str(error))
        return {"evidence": str(error)}
    except (WorkError, CaseError) as error:
        messages.error(request, str(error))
        return {"form": str(error)}
    messages.success(request, _report_message(result, found, request.user))
    return {}


def _report_message(
    result: services.ReportResult, order: SalesOrder, customer: User
) -> str:
    report = result.report
    if result.outcome == services.ReportOutcome.NEW:
        return "Thank you: we have your report and will reply."
    if result.outcome == services.ReportOutcome.MORE and report.quantity is not None:
        return _more_units_message(result, report.quantity)
    reported_on = f"{timezone.localtime(report.reported_at):%Y-%m-%d}"
    if result.outcome == services.ReportOutcome.REPEATED:
        return (
            f"We already have this report on order {order.number}, sent on "
            f"{reported_on} (case {report.case_id}), so nothing was added."
        )
    # The open report may be a colleague's of the same customer company.
    reporter = "You" if report.reported_by_id == customer.pk else "A colleague"
    earlier = (
        f"{reporter} reported this problem on order {order.number} on "
        f"{reported_on}, and that report (case {report.case_id}) is still open"
    )
    parts = []
    if result.added_files == 1:
        parts.append("your new file")
    elif result.added_files > 1:
        parts.append(f"your {result.added_files} new files")
    if result.added_description:
        parts.append("description" if parts else "your new description")
    added = " and ".join(parts)
    return f"{earlier}, so we added {added} to it instead of opening a second case."


def _more_units_message(result: services.ReportResult, quantity: Decimal) -> str:
    report = result.report
    line = report.shipment_line
    where = (
        f"Shipment {line.shipment.number}, line {line.order_line.line_no}"
        if line is not None
        else "The shipment line"
    )
    before = _bare(result.line_before or Decimal(0))
    after = _bare(result.line_after or Decimal(0))
    return (
        f"Thank you: we added {_bare(quantity)} more {report.kind} to case "
        f"{report.case_id}. {where} now has {after} {report.kind} reported, "
        f"{before} before your report."
    )


def _bare(quantity: Decimal) -> str:
    """Format a quantity without trailing zeros: 2.5000 as 2.5, 10.0000 as 10."""
    return f"{quantity.normalize():f}"


@login_required
def case(request: AuthenticatedRequest, case_id: int) -> HttpResponse:
    _require_customer(request)
    found = selectors.access_customer_case(request.user, case_id)
    reports = list(
        ProblemReport.objects.filter(case=found, order__in=visible_orders(request.user))
        .select_related(
            "shipment_line__order_line__product", "shipment_line__shipment", "invoice"
        )
        .prefetch_related("evidence")
        .order_by("reported_at", "pk")
    )
    return _page(
        request,
        "reconciliation/portal/case.html",
        CASE_CONTEXT,
        found.order.number if found.order else "",
        {
            "case": found,
            "status": CUSTOMER_STATUS.get(found.state, WORKING_STATUS),
            "reports": reports,
            "proposals": selectors.case_proposals(found),
        },
    )


def _proposal_for(
    request: AuthenticatedRequest, proposal_id: int
) -> ResolutionProposal:
    """Return a proposal on one of the customer's orders, or raise 404.

    The lookup spans the customer's orders, not only the cases the portal
    lists, so a proposal withdrawn while the customer's page was open gets
    the service's message instead of a missing page.
    """
    proposal = (
        ResolutionProposal.objects.filter(
            pk=proposal_id, case__order__in=visible_orders(request.user)
        )
        .select_related("case__order")
        .first()
    )
    if proposal is None:
        raise Http404("No proposal found with that number.")
    return proposal


def _after_decision(
    request: AuthenticatedRequest, proposal: ResolutionProposal
) -> HttpResponseRedirect:
    """Go back to the proposal's case, or to its order when the case is hidden.

    A withdrawn offer that reached the customer keeps its case visible. The
    order page is the fallback for a case the customer cannot see, so the
    message shows instead of a missing page.
    """
    visible = selectors.customer_cases(request.user).filter(pk=proposal.case_id)
    if not visible.exists() and proposal.case.order is not None:
        return redirect(
            reverse("reconciliation:portal_order", args=[proposal.case.order.number])
        )
    return redirect(reverse("reconciliation:portal_case", args=[proposal.case_id]))


@login_required
@require_POST
def accept_proposal(request: AuthenticatedRequest, proposal_id: int) -> HttpResponse:
    _require_customer(request)
    proposal = _proposal_for(request, proposal_id)
    if proposal.resolution_code == ResolutionCode.RESHIP:
        _run(
            request,
            lambda: reships.accept_reship(
                customer=request.user, proposal_id=proposal.pk
            ),
            "You accepted the replacement. We will ship it and tell you when it "
            "leaves our warehouse.",
        )
        return _after_decision(request, proposal)
    _run(
        request,
        lambda: services.accept_proposal(
            customer=request.user, proposal_id=proposal.pk
        ),
        "You accepted the proposal. Thank you.",
    )
    return _after_decision(request, proposal)


@login_required
@require_POST
def reject_proposal(request: AuthenticatedRequest, proposal_id: int) -> HttpResponse:
    _require_customer(request)
    proposal = _proposal_for(request, proposal_id)
    _run(
        request,
        lambda: services.reject_proposal(
            customer=request.user,
            proposal_id=proposal.pk,
            reason=request.POST.get("reason", ""),
        ),
        "You rejected the proposal; your sales rep will come back to you.",
    )
    return _after_decision(request, proposal)


@login_required
def evidence_file(request: AuthenticatedRequest, evidence_id: int) -> FileResponse:
    """Serve an evidence file to its customer company and to staff on the case."""
    evidence = selectors.access_evidence(request.user, evidence_id)
    response = FileResponse(
        evidence.file.open("rb"),
        as_attachment=True,
        filename=evidence.name,
        content_type=evidence.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
