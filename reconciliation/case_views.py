"""Pages of discrepancy cases: the inbox per role, a case, and its actions.

Every route starts from ``visible_cases``, so a customer or another role gets
404 for a case it may not see, the same response as for a missing one.
"""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import User
from assist.contexts import case_inbox_context_key, order_context_key
from assist.selectors import build_help_panel
from core.http import AuthenticatedRequest
from core.numbers import InvalidNumberError, parse_positive_int
from reconciliation import approvals, cases
from reconciliation.models import (
    Approval,
    Currency,
    Discrepancy,
    DiscrepancyCode,
    ResolutionCode,
    Severity,
)
from reconciliation.selectors import (
    CaseFilters,
    access_case,
    list_assignable_people,
    list_cases,
    visible_cases,
)

CASES_PER_PAGE = 50
# The inbox spans every discrepancy code, so its help is the module's root.

State = Discrepancy.State
# Transitions whose form only carries a reason.
REASON_MOVES: dict[str, Callable[..., Discrepancy]] = {
    State.IN_PROGRESS: cases.start_case,
    State.WAITING_CUSTOMER: cases.wait_for_customer,
    State.WAITING_INTERNAL: cases.wait_internally,
    State.ESCALATED: cases.escalate_case,
    State.REJECTED: cases.reject_case,
    State.CLOSED: cases.close_case,
    State.REOPENED: cases.reopen_case,
}
# Transitions whose form carries a resolution code and a note.
RESOLUTION_MOVES: dict[str, Callable[..., Discrepancy]] = {
    State.PROPOSED_RESOLUTION: cases.propose_resolution,
    State.RESOLVED: cases.resolve_case,
}


def _choice(value: str, choices: list[str]) -> str:
    return value if value in choices else ""


@login_required
def case_list(request: AuthenticatedRequest) -> HttpResponse:
    if request.user.is_external:
        raise Http404("No such page.")

    params = request.GET
    filters = CaseFilters(
        code=_choice(params.get("code", ""), DiscrepancyCode.values),
        severity=_choice(params.get("severity", ""), Severity.values),
        state=_choice(params.get("state", ""), State.values),
        overdue=params.get("overdue") == "1",
        mine=params.get("assignee") == "me",
    )
    now = timezone.now()
    page = Paginator(
        list_cases(request.user, filters, now=now), CASES_PER_PAGE
    ).get_page(params.get("page"))
    # Filtered to one code, the inbox shows that code's help; otherwise the
    # help for the work the person's role does here most.
    help_key = (
        order_context_key(filters.code)
        if filters.code
        else case_inbox_context_key(request.user.role)
    )
    return render(
        request,
        "reconciliation/case_list.html",
        {
            "page": page,
            "filters": filters,
            "now": now,
            "codes": DiscrepancyCode.choices,
            "severities": Severity.choices,
            "states": State.choices,
            "help_context": help_key,
            "panel": build_help_panel(viewer=request.user, key=help_key),
            "record_ref": "",
        },
    )


@login_required
def case_detail(request: AuthenticatedRequest, case_id: int) -> HttpResponse:
    case = access_case(request.user, case_id)
    context_key = order_context_key(case.code)
    may_work = cases.may_work_case(request.user, case)
    approval_list = list(case.approvals.all())
    return render(
        request,
        "reconciliation/case_detail.html",
        {
            "case": case,
            "figure_currency": figure_currency(case),
            "now": timezone.now(),
            "may_work": may_work,
            "transitions": cases.allowed_transitions(request.user, case),
            "reason_moves": list(REASON_MOVES),
            "resolution_codes": ResolutionCode.choices,
            "assignable": list(list_assignable_people(case)) if may_work else [],
            "comments": list(case.comments.all()),
            "approvals": approval_list,
            "pending": next(
                (a for a in approval_list if a.decision == Approval.Decision.PENDING),
                None,
            ),
            "help_context": context_key,
            "panel": build_help_panel(viewer=request.user, key=context_key),
            "record_ref": case.order.number if case.order else case.subject_label,
        },
    )


def figure_currency(case: Discrepancy) -> Currency | None:
    """Return the currency of the case's figures, or None for a quantity.

    The figures' ``unit`` is a currency code or a unit of measure, and only
    a currency has a minor unit to round them to.
    """
    if case.difference is None:
        return None
    return Currency.objects.filter(code=case.unit).first()


def _back(case_id: int) -> HttpResponseRedirect:
    return redirect(reverse("reconciliation:case_detail", args=[case_id]))


def _run(
    request: AuthenticatedRequest, case_id: int, action: Callable[[], object]
) -> HttpResponseRedirect:
    """Run a case service and go back, showing a rejected request as a message.

    ``PermissionDenied`` from the service is left to Django, which answers 403.
    """
    try:
        action()
    except cases.CaseError as error:
        messages.error(request, str(error))
    return _back(case_id)


@login_required
@require_POST
def case_move(request: AuthenticatedRequest, case_id: int) -> HttpResponse:
    case = access_case(request.user, case_id)
    to = request.POST.get("to", "")
    reason = request.POST.get("reason", "")[:2000]
    if to in REASON_MOVES:
        move = REASON_MOVES[to]
        return _run(
            request,
            case.pk,
            lambda: move(case_id=case.pk, actor=request.user, reason=reason),
        )
    if to in RESOLUTION_MOVES:
        resolve = RESOLUTION_MOVES[to]
        return _run(
            request,
            case.pk,
            lambda: resolve(
                case_id=case.pk,
                actor=request.user,
                resolution_code=request.POST.get("resolution_code", ""),
                note=request.POST.get("note", "")[:2000],
            ),
        )
    messages.error(request, f"Unknown state {to[:40]!r}: pick one of the buttons.")
    return _back(case.pk)


@login_required
@require_POST
def case_assign(request: AuthenticatedRequest, case_id: int) -> HttpResponse:
    case = access_case(request.user, case_id)
    raw = request.POST.get("assignee", "")
    if not raw:
        messages.error(request, "Pick a person to assign the case to.")
        return _back(case.pk)
    try:
        assignee_id = parse_positive_int(raw, name="assignee", expected="a person's id")
    except InvalidNumberError as error:
        messages.error(request, str(error))
        return _back(case.pk)
    assignee = User.objects.filter(pk=assignee_id).first()
    if assignee is None:
        messages.error(
            request, f"No person has the id {assignee_id}: pick one from the list."
        )
        return _back(case.pk)
    return _run(
        request,
        case.pk,
        lambda: cases.assign_case(
            case_id=case.pk,
            actor=request.user,
            assignee=assignee,
            reason=request.POST.get("reason", "")[:2000],
        ),
    )


@login_required
@require_POST
def case_comment(request: AuthenticatedRequest, case_id: int) -> HttpResponse:
    case = access_case(request.user, case_id)
    return _run(
        request,
        case.pk,
        lambda: cases.add_comment(
            case_id=case.pk, author=request.user, body=request.POST.get("body", "")
        ),
    )


@login_required
@require_POST
def case_request_write_off(request: AuthenticatedRequest, case_id: int) -> HttpResponse:
    case = access_case(request.user, case_id)
    return _run(
        request,
        case.pk,
        lambda: approvals.request_write_off(
            case_id=case.pk,
            actor=request.user,
            reason=request.POST.get("reason", "")[:2000],
        ),
    )


@login_required
@require_POST
def approval_decide(request: AuthenticatedRequest, approval_id: int) -> HttpResponse:
    approval = Approval.objects.filter(
        pk=approval_id, case__in=visible_cases(request.user)
    ).first()
    if approval is None:
        raise Http404("No approval found with that number.")
    return _run(
        request,
        approval.case_id,
        lambda: approvals.decide_approval(
            approval_id=approval.pk,
            approver=request.user,
            approve=request.POST.get("decision") == "approve",
            reason=request.POST.get("reason", "")[:2000],
        ),
    )
