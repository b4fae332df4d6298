"""Practice pages: the catalogue, a session's cases, and the productivity report.

Every session route starts from ``access_session``, so another person's
session returns 404. Cases are worked on the real case page and work
screens (``practice.screens``), scoped to the session's sandbox company.
"""

from collections.abc import Callable
from datetime import date, datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from core.forms import too_long_message
from core.http import AuthenticatedRequest
from core.text import clean_line, clean_text
from portal.models import ResolutionProposal
from practice import measures as productivity
from practice import services
from practice.manager import decisions_of, session_manager
from practice.scenarios import SCENARIOS, UnknownScenario
from practice.screens import numbering_session_cases, screen_links
from practice.selectors import (
    access_session,
    session_cases,
    session_invoices,
    session_offers,
    session_payments,
    visible_sessions,
)
from reconciliation import work
from reconciliation.cases import CaseError, write_off_limit
from reconciliation.models import Company, ResolutionCode

MAX_TEXT = 2000


def _internal(request: AuthenticatedRequest) -> None:
    if request.user.is_external:
        raise Http404("No such page.")


@login_required
def catalogue(request: AuthenticatedRequest) -> HttpResponse:
    _internal(request)
    return render(
        request,
        "practice/catalogue.html",
        {
            "scenarios": list(SCENARIOS.values()),
            "sessions": [
                (session, _scenario_title(session.scenario_key))
                for session in visible_sessions(request.user)[:50]
            ],
        },
    )


def _scenario_title(key: str) -> str:
    scenario = SCENARIOS.get(key)
    # A session of a scenario taken out of the catalogue keeps its key.
    return scenario.title if scenario else key


@login_required
@require_POST
def start(request: AuthenticatedRequest) -> HttpResponse:
    _internal(request)
    try:
        session = services.start_session(
            learner=request.user,
            scenario_key=clean_line(request.POST.get("scenario", ""))[:80],
        )
    except UnknownScenario as error:
        messages.error(request, str(error))
        return redirect(reverse("practice:catalogue"))
    return redirect(reverse("practice:session", args=[session.pk]))


@login_required
def session_detail(request: AuthenticatedRequest, session_id: int) -> HttpResponse:
    session = access_session(request.user, session_id)
    scenario = SCENARIOS.get(session.scenario_key)
    cases = list(session_cases(session))
    follow_ups = (
        {item.code: item.reason for item in scenario.follow_ups} if scenario else {}
    )
    return render(
        request,
        "practice/session.html",
        {
            "session": session,
            "scenario": scenario,
            "case_rows": [
                (case, screen_links(session, case), follow_ups.get(case.code, ""))
                for case in cases
            ],
            "offers": list(session_offers(session)),
            "cash_url": reverse("practice:work_cash", args=[session.pk]),
            "invoices": list(session_invoices(session)),
            "payments": list(session_payments(session)),
            "active": session.status == session.Status.ACTIVE,
            "seed_changed": services.seed_changed_text(session)
            if services.seed_changed(session)
            else "",
            "manager": session_manager(session),
            "decisions": decisions_of(session),
            "write_off_limit": write_off_limit(),
            "credit_limit": work.credit_limit(),
            "company_currency": session.company.base_currency,
        },
    )


def _back(session_id: int) -> HttpResponseRedirect:
    return redirect(reverse("practice:session", args=[session_id]))


def _run(
    request: AuthenticatedRequest,
    session_id: int,
    action: Callable[[], object],
    done: str = "",
) -> HttpResponseRedirect:
    """Run a service and go back, confirming it with ``done`` or showing the error."""
    try:
        action()
    except (CaseError, services.PracticeError, ValueError) as error:
        messages.error(request, str(error))
    else:
        if done:
            messages.success(request, done)
    return _back(session_id)


@login_required
@require_POST
def answer_proposal(
    request: AuthenticatedRequest, session_id: int, proposal_id: int
) -> HttpResponse:
    """Accept or reject a proposal in the customer's place: the learner plays both."""
    session = access_session(request.user, session_id)
    proposal = services.session_proposal(session, proposal_id)
    decision = clean_line(request.POST.get("decision", ""))
    if decision not in ("accept", "reject"):
        messages.error(
            request,
            f"Answer {decision[:40]!r} is not valid: press Accept or Reject.",
        )
        return _back(session.pk)
    accept = decision == "accept"
    reason = clean_text(request.POST.get("reason", ""))
    if len(reason) > MAX_TEXT:
        # Cutting the reason short would store words the learner did not write.
        messages.error(request, too_long_message("The reason", len(reason), MAX_TEXT))
        return _back(session.pk)
    try:
        services.answer_proposal(
            session=session,
            proposal_id=proposal_id,
            learner=request.user,
            accept=accept,
            reason=reason,
        )
    except (work.WorkError, CaseError, services.PracticeError) as error:
        with numbering_session_cases(session):
            messages.error(request, str(error))
    else:
        messages.success(request, _answer_text(proposal, accept=accept))
    return _back(session.pk)


def _answer_text(proposal: ResolutionProposal, *, accept: bool) -> str:
    if not accept:
        return (
            "As the customer, you rejected the proposal: the case is back with "
            "the sales rep."
        )
    if proposal.resolution_code == ResolutionCode.RESHIP:
        return (
            "As the customer, you accepted the replacement: the replacement "
            "shipment now waits in Pick and ship."
        )
    return "As the customer, you accepted the proposal: the credit note is posted."


@login_required
@require_POST
def check(request: AuthenticatedRequest, session_id: int) -> HttpResponse:
    session = access_session(request.user, session_id)
    try:
        services.check_session(session_id=session.pk, learner=request.user)
    except services.NothingToCheck as nothing:
        messages.info(request, str(nothing))
    except (CaseError, services.PracticeError, ValueError) as error:
        messages.error(request, str(error))
    return _back(session.pk)


# The value of the confirmation page's button. Any other POST shows the
# question again and resets nothing.
RESET_CONFIRMED = "yes"


@login_required
@require_http_methods(["GET", "POST"])
def reset(request: AuthenticatedRequest, session_id: int) -> HttpResponse:
    """Ask before a reset, then reset the sandbox once the learner confirms.

    The session page's Reset button opens this page with GET. Only the
    confirmation page's own button (``confirm=yes``) resets, so a stray or
    repeated POST loses no work. The question is a page of its own, so it
    works without JavaScript.
    """
    session = access_session(request.user, session_id)
    try:
        services.require_active(session, "reset")
    except services.PracticeError as error:
        messages.error(request, str(error))
        return _back(session.pk)
    if request.method != "POST" or request.POST.get("confirm") != RESET_CONFIRMED:
        return render(
            request,
            "practice/reset_confirm.html",
            {
                "session": session,
                "scenario_title": _scenario_title(session.scenario_key),
                "confirm_value": RESET_CONFIRMED,
            },
        )
    try:
        services.reset_session(session_id=session.pk, learner=request.user)
    except services.PracticeError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "The sandbox is back to the scenario's start.")
    return _back(session.pk)


# A day's bounds move by up to a day between a company's time zone and UTC,
# and the range's end gets one day added, so the first and last dates Python
# can represent cannot be measured.
FIRST_MEASURED_DAY = date.min + timedelta(days=1)
LAST_MEASURED_DAY = date.max - timedelta(days=1)
DEFAULT_RANGE_DAYS = 29


def _day(raw: str, default: date) -> date:
    if not raw:
        return default
    try:
        day = datetime.strptime(raw.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise ValueError(
            f"{raw[:20]!r} is not a date: write it as YYYY-MM-DD."
        ) from None
    if not FIRST_MEASURED_DAY <= day <= LAST_MEASURED_DAY:
        raise ValueError(
            f"{raw[:20]!r} is outside the days that can be measured: choose a "
            f"day from {FIRST_MEASURED_DAY} to {LAST_MEASURED_DAY}."
        )
    return day


def _default_start(end: date) -> date:
    """Return the start of the default 30-day range, cut at FIRST_MEASURED_DAY."""
    return end - timedelta(
        days=min(DEFAULT_RANGE_DAYS, (end - FIRST_MEASURED_DAY).days)
    )


# The query parameters of the productivity report, as its form sends them.
MEASURE_PARAMS = ("company", "start", "end")


def _check_measure_params(params: QueryDict, chosen: Company | None) -> None:
    """Raise ``ValueError`` for a parameter the report does not read or a bad company.

    Without this check, ``?from=...&to=...`` would show the default range as
    if it were the one requested.
    """
    for name in params:
        if name not in MEASURE_PARAMS:
            raise ValueError(
                f"Parameter {clean_line(name)[:20]!r} is unknown: choose the days "
                "with start and end, as YYYY-MM-DD, and the company with company."
            )
    company = params.get("company", "")
    if company and (chosen is None or str(chosen.pk) != company):
        raise ValueError(
            f"Company {clean_line(company)[:20]!r} is not one you can report on: "
            "choose a company from the list."
        )


@login_required
def measures(request: AuthenticatedRequest) -> HttpResponse:
    _internal(request)
    if not productivity.may_read_report(request.user):
        raise PermissionDenied(
            "The productivity report is for managers, HR and learning facilitators."
        )
    companies = productivity.report_companies()
    params = request.GET
    chosen = next(
        (item for item in companies if str(item.pk) == params.get("company", "")),
        companies[0] if companies else None,
    )
    report = None
    error = ""
    today = timezone.localdate()
    start = end = today
    try:
        _check_measure_params(params, chosen)
        end = _day(params.get("end", ""), today)
        start = _day(params.get("start", ""), _default_start(end))
        if chosen is not None:
            report = productivity.productivity_report(
                company=chosen, start=start, end=end, reader=request.user
            )
    except ValueError as problem:
        error = str(problem)
    return render(
        request,
        "practice/measures.html",
        {
            "companies": companies,
            "chosen": chosen,
            "report": report,
            "error": error,
            "start": start,
            "end": end,
        },
        status=400 if error else 200,
    )
