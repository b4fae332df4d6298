"""Unreconcile a cash match from the screen: a confirmation page, then the POST.

GET shows what the reversal would undo and a form that requires a reason. POST calls
``matches.unreconcile`` and returns to the page the match is shown on, with
a message naming the match and the restored balances. A match the person
cannot see is 404, and one they may see but not unreconcile is 403.
"""

import logging
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accounts.models import User
from accounts.permissions import Viewer
from core.http import AuthenticatedRequest
from core.text import clean_text
from reconciliation.matches import (
    MatchError,
    check_may_unreconcile,
    live_allocations,
    restored_balances,
    unreconcile,
)
from reconciliation.models import Allocation, MatchGroup
from reconciliation.money import format_money

logger = logging.getLogger(__name__)

# The reason is kept on the match and in the audit events.
MAX_REASON_LENGTH = 500


@dataclass(frozen=True)
class ReversalRow:
    """One allocation that the reversal undoes, as the confirmation page shows it."""

    allocation: Allocation
    amount: str
    writeoff: str
    currency: str


def access_match(viewer: Viewer, group_id: int) -> MatchGroup:
    """Return the match if ``viewer`` may see it, or raise 404.

    Employees see a real company's matches. A practice sandbox's matches are
    seen by its learner only, and customers see none.
    """
    if not isinstance(viewer, User) or viewer.is_external or not viewer.is_active:
        raise Http404("No match found with that number.")
    group = (
        MatchGroup.objects.select_related(
            "company", "order", "invoice", "payment", "reversed_by"
        )
        .filter(pk=group_id)
        .first()
    )
    if group is None:
        raise Http404("No match found with that number.")
    session = (
        MatchGroup.objects.filter(pk=group_id)
        .values_list("company__practice_session__learner_id", flat=True)
        .first()
    )
    if (group.company.is_sandbox or session is not None) and session != viewer.pk:
        raise Http404("No match found with that number.")
    return group


def _back_url(group: MatchGroup) -> str:
    """Return the page that lists the match: its order, session or cash screen."""
    session_id = (
        MatchGroup.objects.filter(pk=group.pk)
        .values_list("company__practice_session", flat=True)
        .first()
    )
    if session_id is not None:
        return reverse("practice:session", args=[session_id])
    if group.order is not None:
        return reverse("reconciliation:order_detail", args=[group.order.number])
    return reverse("reconciliation:work_cash")


def _write_off_text(allocation: Allocation, minor_units: int) -> str:
    """Return the allocation's forgiven and kept money as words, or ''."""
    currency = allocation.payment.currency_id
    parts = []
    if allocation.writeoff_forgiven:
        forgiven = format_money(allocation.writeoff_forgiven, minor_units=minor_units)
        parts.append(f"{forgiven} {currency} forgiven")
    if allocation.writeoff_kept:
        kept = format_money(allocation.writeoff_kept, minor_units=minor_units)
        parts.append(f"{kept} {currency} overpayment kept")
    return ", ".join(parts)


def _reversal_rows(group: MatchGroup) -> list[ReversalRow]:
    rows = []
    for allocation in live_allocations(group):
        minor_units = allocation.payment.currency.minor_units
        rows.append(
            ReversalRow(
                allocation=allocation,
                amount=format_money(allocation.amount, minor_units=minor_units),
                writeoff=_write_off_text(allocation, minor_units),
                currency=allocation.payment.currency_id,
            )
        )
    return rows


def _confirmation(
    request: AuthenticatedRequest,
    group: MatchGroup,
    reason: str,
    status: int = 200,
    *,
    blocked: bool = False,
) -> HttpResponse:
    return render(
        request,
        "reconciliation/unreconcile.html",
        {
            "group": group,
            "is_cash": group.kind == MatchGroup.Kind.CASH,
            "blocked": blocked,
            "rows": _reversal_rows(group)
            if group.state != MatchGroup.State.REVERSED
            else [],
            "reason": reason,
            "max_reason_length": MAX_REASON_LENGTH,
            "back_url": _back_url(group),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def unreconcile_match(request: AuthenticatedRequest, group_id: int) -> HttpResponse:
    group = access_match(request.user, group_id)
    try:
        check_may_unreconcile(request.user, group)
    except MatchError as error:
        # A finished practice session: the learner may look but not change it.
        messages.error(request, str(error))
        return _confirmation(request, group, "", status=400, blocked=True)
    if request.method == "GET":
        return _confirmation(request, group, "")

    reason = clean_text(request.POST.get("reason", ""))
    if not reason:
        messages.error(
            request,
            f"The reason is missing: say why match {group.matching_number} should "
            "be unreconciled. It is kept on the match and in the audit trail.",
        )
        return _confirmation(request, group, reason, status=400)
    if len(reason) > MAX_REASON_LENGTH:
        messages.error(
            request,
            f"The reason has {len(reason)} characters, more than the "
            f"{MAX_REASON_LENGTH} allowed: shorten it.",
        )
        return _confirmation(request, group, reason, status=400)
    try:
        reversed_group = unreconcile(
            group_id=group.pk, actor=request.user, reason=reason
        )
    except MatchError as error:
        logger.info(
            "Unreconcile of match %s by user %s rejected: %s",
            group.pk,
            request.user.pk,
            error,
        )
        messages.error(request, str(error))
        group.refresh_from_db()
        return _confirmation(request, group, reason, status=400)
    balances = ", ".join(str(item) for item in restored_balances(reversed_group))
    messages.success(
        request,
        f"Unreconciled match {reversed_group.matching_number}. Restored: {balances}.",
    )
    return redirect(_back_url(reversed_group))
