"""Pages of discrepancy cases: the inbox per role, a case, and its actions.

Every route starts from ``visible_cases``, so a customer or another role gets
404 for a case it may not see, the same response as for a missing one.

The case page and its move, comment and write-off request take a ``scope``
keyword (a ``WorkScope``), as the work screens do, so the practice sandbox
opens them on its own company.
"""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Role, User
from assist.contexts import case_inbox_context_key, order_context_key
from assist.records import case_record
from assist.selectors import build_help_panel
from core.http import AuthenticatedRequest
from core.numbers import InvalidNumberError, parse_positive_int
from core.text import clean_line, clean_text
from reconciliation import approvals, cases
from reconciliation.approval_decisions import decide_approval, parse_decision
from reconciliation.backorder_decisions import decision_label, offers_sales_decision
from reconciliation.cancellations import (
    BACKORDER_CODES,
    kept_cancellation_notice,
    live_case_summary,
)
from reconciliation.models import (
    Approval,
    Currency,
    Discrepancy,
    DiscrepancyCode,
    ResolutionCode,
    Severity,
)
from reconciliation.money import format_money
from reconciliation.scopes import REAL_SCOPE, WorkScope
from reconciliation.selectors import (
    CaseFilters,
    access_case,
    list_assignable_people,
    list_cases,
    visible_cases,
)
from reconciliation.templatetags.case_tags import resolution_label
from reconciliation.timeline import build_timeline, case_subjects
from reconciliation.work import WorkError

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
# The button of each move, in the order the case page shows them.
MOVE_LABELS: dict[str, str] = {
    State.IN_PROGRESS: "Start work",
    State.WAITING_CUSTOMER: "Wait for customer",
    State.WAITING_INTERNAL: "Wait for a colleague",
    State.ESCALATED: "Escalate",
    State.REJECTED: "Reject",
    State.CLOSED: "Close",
    State.REOPENED: "Reopen",
    State.RESOLVED: "Resolve case",
    State.PROPOSED_RESOLUTION: "Propose only",
}
# The success message of each move; ``{pk}`` is the case id.
MOVE_DONE: dict[str, str] = {
    State.IN_PROGRESS: "You started work on case {pk}.",
    State.WAITING_CUSTOMER: "Case {pk} now waits for the customer.",
    State.WAITING_INTERNAL: "Case {pk} now waits for a colleague.",
    State.ESCALATED: "Escalated case {pk}.",
    State.REJECTED: "Rejected case {pk}: it is not a real discrepancy.",
    State.CLOSED: "Closed case {pk}.",
    State.REOPENED: "Reopened case {pk}.",
}

# The message tag of a write-off that needs a manager's approval first.
WRITE_OFF_REQUEST_TAG = "write-off-request"


def _posted_text(request: AuthenticatedRequest, field: str) -> str:
    """Return a posted text field cleaned of control and invisible characters.

    PostgreSQL rejects NUL in text columns, so a reason or note is cleaned
    before a service stores it in a case or an audit event.
    """
    return clean_text(request.POST.get(field, ""))[:2000]


# A filter with more choices than this names one example instead of all.
LISTED_CHOICES = 12


def _choice(params: QueryDict, name: str, choices: list[str], errors: list[str]) -> str:
    """Return the filter value ``name`` if it is one of ``choices``, else ""."""
    value = params.get(name, "")
    if value == "" or value in choices:
        return value
    if len(choices) > LISTED_CHOICES:
        allowed = f"a value from the list, such as {choices[0]}"
    else:
        allowed = f"one of {', '.join(choices)}"
    errors.append(
        f"{name.capitalize()} {clean_line(value)[:40]!r} is invalid: use "
        f"{allowed}, or leave it empty for any."
    )
    return ""


def _flag(params: QueryDict, name: str, on_value: str, errors: list[str]) -> bool:
    """Return whether the check box ``name`` is on, given it sends ``on_value``."""
    value = params.get(name, "")
    if value not in ("", on_value):
        errors.append(
            f"{name.capitalize()} {clean_line(value)[:40]!r} is invalid: use "
            f"{on_value}, or leave it out."
        )
    return value == on_value


@login_required
def case_list(request: AuthenticatedRequest) -> HttpResponse:
    if request.user.is_external:
        raise Http404("No such page.")

    params = request.GET
    errors: list[str] = []
    filters = CaseFilters(
        code=_choice(params, "code", DiscrepancyCode.values, errors),
        severity=_choice(params, "severity", Severity.values, errors),
        state=_choice(params, "state", State.values, errors),
        overdue=_flag(params, "overdue", "1", errors),
        mine=_flag(params, "assignee", "me", errors),
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
            "errors": errors,
        },
        status=400 if errors else 200,
    )


def _links_fulfilment(person: User, case: Discrepancy) -> bool:
    """Return whether the case page links a warehouse worker to Pick and ship.

    The shipping codes are the ones a shipment can settle: goods not shipped,
    short or waiting on a backorder.
    """
    return (
        person.role == Role.WAREHOUSE
        and case.order is not None
        and case.code in BACKORDER_CODES
    )


@login_required
def case_detail(
    request: AuthenticatedRequest, case_id: int, *, scope: WorkScope = REAL_SCOPE
) -> HttpResponse:
    case = scope.case(request.user, case_id)
    worker = scope.case_worker(request.user, case)
    context_key = order_context_key(case.code)
    may_work = cases.may_work_case(worker, case)
    approval_list = list(case.approvals.all())
    transitions = cases.allowed_transitions(worker, case)
    # The page offers no move that a waiting proposal forbids, and shows
    # why; the services check the same under the case lock.
    waiting = cases.waiting_proposal(case)
    if waiting is not None:
        transitions = tuple(
            to for to in transitions if to not in cases.MOVES_HELD_BY_PROPOSAL
        )
    approved = _approved_write_off(case, approval_list)
    shown_currency = figure_currency(case)
    currencies = _approval_currencies(approval_list, shown_currency)
    help_record = scope.panel_record(request.user, case_record(case))
    return render(
        request,
        "reconciliation/case_detail.html",
        {
            "case": case,
            "case_number": scope.case_number(case),
            "figure_currency": shown_currency,
            "now": timezone.now(),
            "may_work": may_work,
            "transitions": transitions,
            "reason_moves": [
                (to, MOVE_LABELS[to]) for to in transitions if to in REASON_MOVES
            ],
            "reason_hint": _reason_hint(transitions),
            "may_resolve": State.RESOLVED in transitions,
            "may_propose": State.PROPOSED_RESOLUTION in transitions,
            "resolution_codes": _resolution_choices(case),
            "chosen_code": case.resolution_code
            or (ResolutionCode.WRITE_OFF if approved else ""),
            "approved_write_off": approved,
            "approved_amount": _amount_text(approved, currencies) if approved else "",
            "links_fulfilment": _links_fulfilment(worker, case),
            "links_decision": worker.role == Role.SALES_REP
            and may_work
            and offers_sales_decision(case),
            "decision_label": decision_label(case),
            "may_request_write_off": may_work
            and waiting is None
            and _offers_write_off_request(case, approval_list),
            "waiting_proposal": (
                str(cases.open_proposal_message(case, waiting)) if waiting else ""
            ),
            "kept_cancellations": kept_cancellation_notice(case),
            "offers_assign": scope.offers_assign,
            "assignable": list(list_assignable_people(case))
            if may_work and scope.offers_assign
            else [],
            "comments": list(case.comments.all()),
            "reports": list(
                case.problem_reports.select_related("reported_by").prefetch_related(
                    "evidence"
                )
            ),
            "approvals": approval_list,
            "timeline": build_timeline(
                request.user,
                case_subjects(case),
                kind=request.GET.get("timeline_kind", ""),
                page=request.GET.get("timeline_page"),
            ),
            "approval_rows": [
                (approval, _amount_text(approval, currencies))
                for approval in approval_list
            ],
            "pending": next(
                (a for a in approval_list if a.decision == Approval.Decision.PENDING),
                None,
            ),
            "help_context": context_key,
            "panel": build_help_panel(viewer=request.user, key=context_key),
            "record_kind": help_record.kind,
            "record_ref": help_record.ref,
            "work_urls": _case_urls(case, scope),
            **scope.context(),
        },
    )


def _case_urls(case: Discrepancy, scope: WorkScope) -> dict[str, str]:
    """Return the case page's links and form targets in ``scope``."""
    order_number = case.order.number if case.order else ""
    return {
        "case_list": scope.url("case_list"),
        "order": scope.url("order_detail", order_number) if order_number else "",
        "fulfilment": (
            scope.url("work_fulfilment", order_number) if order_number else ""
        ),
        "decision": scope.url("work_sales", case.pk),
        "move": scope.url("case_move", case.pk),
        "comment": scope.url("case_comment", case.pk),
        "request_write_off": scope.url("case_request_write_off", case.pk),
    }


def figure_currency(case: Discrepancy) -> Currency | None:
    """Return the currency of the case's figures, or None for a quantity.

    The figures' ``unit`` is a currency code or a unit of measure, and only
    a currency has a minor unit to round them to.
    """
    if case.difference is None:
        return None
    return Currency.objects.filter(code=case.unit).first()


def _quoted_list(labels: list[str]) -> str:
    quoted = [f"“{label}”" for label in labels]
    if len(quoted) < 2:
        return "".join(quoted)
    return f"{', '.join(quoted[:-1])} and {quoted[-1]}"


def _reason_hint(transitions: tuple[str, ...]) -> str:
    """Say which of the offered moves need a reason, for the reason field."""
    moves = [to for to in transitions if to in REASON_MOVES]
    required = [MOVE_LABELS[to] for to in moves if to in cases.REASON_REQUIRED]
    optional = [MOVE_LABELS[to] for to in moves if to not in cases.REASON_REQUIRED]
    if not required:
        return "The reason is optional."
    if not optional:
        return "These actions need a reason."
    verb = "needs" if len(required) == 1 else "need"
    return (
        f"{_quoted_list(required)} {verb} a reason; for {_quoted_list(optional)} "
        "it is optional."
    )


def _resolution_choices(case: Discrepancy) -> list[tuple[str, str]]:
    """Return the resolution codes the case may take, as (value, label) pairs.

    Only a case with a money difference on an invoice can be written off, so
    the others leave ``write_off`` out; ``resolve_case`` rejects it for them.
    """
    writable = case.invoice_id is not None and case.difference is not None
    return [
        (value, label)
        for value, label in ResolutionCode.choices
        if writable or value != ResolutionCode.WRITE_OFF
    ]


def _approval_currencies(
    approval_list: list[Approval], known: Currency | None
) -> dict[str, Currency]:
    """Return the currencies of the approvals, reading only those not yet known."""
    currencies = {known.code: known} if known is not None else {}
    missing = {a.currency_id for a in approval_list} - currencies.keys()
    if missing:
        currencies.update(
            (currency.code, currency)
            for currency in Currency.objects.filter(code__in=missing)
        )
    return currencies


def _amount_text(approval: Approval, currencies: dict[str, Currency]) -> str:
    return _shown_amount(approval.amount, currencies[approval.currency_id])


def _shown_amount(amount: Decimal, currency: Currency) -> str:
    return f"{format_money(amount, minor_units=currency.minor_units)} {currency.code}"


def _approved_write_off(
    case: Discrepancy, approval_list: list[Approval]
) -> Approval | None:
    """Return the approved write-off that covers the case's difference, if any."""
    if case.difference is None:
        return None
    return next(
        (
            approval
            for approval in approval_list
            if approval.action == ResolutionCode.WRITE_OFF
            and approval.decision == Approval.Decision.APPROVED
            and approval.amount >= abs(case.difference)
        ),
        None,
    )


def _offers_write_off_request(case: Discrepancy, approval_list: list[Approval]) -> bool:
    """Return whether the case page offers "Request write-off approval".

    It is offered for an active case with a money difference on an invoice
    above the limit, with no pending approval and no approved write-off.
    ``approvals.request_write_off`` checks the state, the limit and a pending
    approval again under the case lock.
    """
    if not case.is_active or case.invoice_id is None or case.difference is None:
        return False
    if any(a.decision == Approval.Decision.PENDING for a in approval_list):
        return False
    if _approved_write_off(case, approval_list) is not None:
        return False
    # NOTE: the limit is compared in the case's currency, as
    # ``approvals.request_write_off`` does; change both together.
    return abs(case.difference) > cases.write_off_limit()


def _already_approved_message(case: Discrepancy, approved: Approval) -> str:
    return (
        f"A manager already approved the write-off of "
        f"{_shown_amount(approved.amount, approved.currency)} on case {case.pk}: "
        "resolve the case with the Write-off resolution code."
    )


def _back(case_id: int, scope: WorkScope = REAL_SCOPE) -> HttpResponseRedirect:
    return redirect(scope.url("case_detail", case_id))


def _run(
    request: AuthenticatedRequest,
    case_id: int,
    action: Callable[[], Any],
    success: Callable[[Any], str],
    scope: WorkScope = REAL_SCOPE,
) -> HttpResponseRedirect:
    """Run a case service and go back with a message that names what it did.

    ``success`` builds the message from the service's result. A rejected
    request shows the service's error instead. ``PermissionDenied`` from the
    service is left to Django, which returns 403.
    """
    try:
        result = action()
    except cases.WriteOffNeedsApproval as error:
        # The tag makes the case page link the "Request write-off approval"
        # form under the message.
        messages.error(request, str(error), extra_tags=WRITE_OFF_REQUEST_TAG)
    except (cases.CaseError, WorkError) as error:
        messages.error(request, str(error))
    else:
        messages.success(request, success(result))
    return _back(case_id, scope)


def _moved_message(
    to: str, actor: User, assignee_before: int | None, number: str
) -> Callable[[Discrepancy], str]:
    """Build the success message of a move; ``number`` is the case's shown number."""

    def message(case: Discrepancy) -> str:
        if to == State.RESOLVED:
            return f"Resolved case {number} with {case.get_resolution_code_display()}."
        if to == State.PROPOSED_RESOLUTION:
            return (
                f"Proposed {case.get_resolution_code_display()} on case {number}. "
                "The case stays open until someone resolves it."
            )
        text = MOVE_DONE[to].format(pk=number)
        if assignee_before is None and case.assignee_id == actor.pk:
            text += " It is assigned to you."
        return text

    return message


def _with_reversed_cancellations(
    message: Callable[[Discrepancy], str], cancelled: str
) -> Callable[[Discrepancy], str]:
    """Add to a reopen's message the units it made open to ship again."""
    if not cancelled:
        return message

    def with_units(case: Discrepancy) -> str:
        return (
            f"{message(case)} The cancellation of {cancelled} is reversed, so "
            "those units are open to ship again."
        )

    return with_units


@login_required
@require_POST
def case_move(
    request: AuthenticatedRequest, case_id: int, *, scope: WorkScope = REAL_SCOPE
) -> HttpResponse:
    case = scope.case(request.user, case_id)
    actor = scope.case_worker(request.user, case)
    to = request.POST.get("to", "")
    reason = _posted_text(request, "reason")
    if to not in REASON_MOVES and to not in RESOLUTION_MOVES:
        messages.error(request, f"Unknown state {to[:40]!r}: pick one of the buttons.")
        return _back(case.pk, scope)
    done = _moved_message(to, actor, case.assignee_id, scope.case_number(case))
    if to == State.REOPENED:
        # Read before the reopen, which reverses these cancellations.
        done = _with_reversed_cancellations(done, live_case_summary(case))
    if to in REASON_MOVES:
        move = REASON_MOVES[to]
        return _run(
            request,
            case.pk,
            lambda: move(case_id=case.pk, actor=actor, reason=reason),
            done,
            scope,
        )
    code = request.POST.get("resolution_code", "")
    if not code:
        messages.error(
            request,
            f"“{MOVE_LABELS[to]}” needs a resolution code: pick one from the list.",
        )
        return _back(case.pk, scope)
    resolve = RESOLUTION_MOVES[to]
    return _run(
        request,
        case.pk,
        lambda: resolve(
            case_id=case.pk,
            actor=actor,
            resolution_code=code,
            note=_posted_text(request, "note"),
        ),
        done,
        scope,
    )


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
            reason=_posted_text(request, "reason"),
        ),
        lambda assigned: (
            f"Assigned case {assigned.pk} to {assigned.assignee.display_name}."
        ),
    )


@login_required
@require_POST
def case_comment(
    request: AuthenticatedRequest, case_id: int, *, scope: WorkScope = REAL_SCOPE
) -> HttpResponse:
    case = scope.case(request.user, case_id)
    author = scope.case_worker(request.user, case)
    return _run(
        request,
        case.pk,
        lambda: cases.add_comment(
            case_id=case.pk,
            author=author,
            body=clean_text(request.POST.get("body", "")),
        ),
        lambda comment: f"Added your comment to case {scope.case_number(case)}.",
        scope,
    )


@login_required
@require_POST
def case_request_write_off(
    request: AuthenticatedRequest, case_id: int, *, scope: WorkScope = REAL_SCOPE
) -> HttpResponse:
    case = scope.case(request.user, case_id)
    actor = scope.case_worker(request.user, case)
    approved = _approved_write_off(case, list(case.approvals.all()))
    if approved is not None and case.is_active and cases.may_work_case(actor, case):
        messages.error(request, _already_approved_message(case, approved))
        return _back(case.pk, scope)
    return _run(
        request,
        case.pk,
        lambda: approvals.request_write_off(
            case_id=case.pk,
            actor=actor,
            reason=_posted_text(request, "reason"),
        ),
        lambda approval: (
            f"Sent the write-off of {_shown_amount(approval.amount, approval.currency)}"
            f" on case {scope.case_number(case)} to a manager for approval."
        ),
        scope,
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
        # ``approval_decisions.decide_approval`` also offers an approved
        # credit note to the customer, or withdraws a rejected one.
        lambda: decide_approval(
            approval_id=approval.pk,
            approver=request.user,
            approve=parse_decision(request.POST.get("decision", "")),
            reason=_posted_text(request, "reason"),
        ),
        decided_message,
    )


# The sentence per action that follows "Approved/Rejected the … on case N.".
DECISION_OUTCOMES: dict[tuple[str, bool], str] = {
    (ResolutionCode.WRITE_OFF, True): (
        "The write-off is booked and the case is resolved; the requester is told."
    ),
    (ResolutionCode.WRITE_OFF, False): (
        "Nothing was written off; the requester is told to resolve the case "
        "another way."
    ),
    (ResolutionCode.CREDIT_NOTE, True): (
        "The credit note is now offered to the customer."
    ),
    (ResolutionCode.CREDIT_NOTE, False): (
        "The credit note is withdrawn and the case is back in progress."
    ),
}


def decided_message(approval: Approval) -> str:
    """Say what the manager decided and what the decision did to the case."""
    approved = approval.decision == Approval.Decision.APPROVED
    verb = "Approved" if approved else "Rejected"
    resolution = str(resolution_label(approval.action)).lower()
    amount = _shown_amount(approval.amount, approval.currency)
    text = f"{verb} the {resolution} of {amount} on case {approval.case_id}."
    outcome = DECISION_OUTCOMES.get((approval.action, approved))
    return f"{text} {outcome}" if outcome else text
