"""The scenario's scripted manager, who decides a session's approval requests.

An approval needs a manager other than the requester, and a sandbox has one
person. So the sandbox runs the real request (a write-off above the limit,
a credit note above the credit limit) with every check of the real screens,
then rolls it back and lets the scenario's ``ScriptedManager`` decide at
once. No ``Approval`` row, proposal or notification outlives the request,
so no real manager is sent a sandbox request. The decision is stored on
the session (``manager_decisions``), shown to the learner, and read by
"Check my work".
"""

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import User
from core.audit import record_event
from core.models import AuditEvent
from practice.models import SandboxSession
from practice.scenarios import MANAGER, SCENARIOS, ScriptedManager
from practice.selectors import session_case_number
from reconciliation.models import Approval, Discrepancy, ResolutionCode
from reconciliation.money import format_money

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ManagerDecision:
    """A request the scripted manager rejected, as the session stores it."""

    case_id: int
    case_number: int
    # ``ResolutionCode.WRITE_OFF`` or ``ResolutionCode.CREDIT_NOTE``.
    action: str
    # The amount with its currency, such as "180.00 EUR".
    amount: str
    # The reason the learner typed with the request.
    request_reason: str
    manager: str
    reason: str
    decided_at: str

    @property
    def action_label(self) -> str:
        return str(ResolutionCode(self.action).label).lower()

    @property
    def message(self) -> str:
        """Return what the learner reads after the request."""
        return (
            f"{self.manager} rejected the {self.action_label} of {self.amount} "
            f"on case {self.case_number}: {self.reason} Nothing was booked, and "
            "the case stays with you."
        )


def session_manager(session: SandboxSession) -> ScriptedManager:
    """Return the scripted manager of the session's scenario."""
    scenario = SCENARIOS.get(session.scenario_key)
    return scenario.manager if scenario else MANAGER


def decisions_of(session: SandboxSession) -> list[ManagerDecision]:
    """Return the session's decisions since it started or was last reset."""
    return [ManagerDecision(**item) for item in session.manager_decisions]


def run_with_manager[Result](
    session: SandboxSession, learner: User, action: Callable[[], Result]
) -> tuple[Result, ManagerDecision | None]:
    """Run ``action``, and let the scripted manager decide an approval it requests.

    ``action`` is a real screen or service. When it requests an approval on a
    case of the session, everything it wrote is rolled back and the manager
    rejects the request. Otherwise its work stays, and no decision is
    returned.
    """
    approvals = Approval.objects.filter(case__company=session.company)
    with transaction.atomic():
        # Only a request of this action counts, because a session started
        # before the scripted manager may still contain an undecided one.
        before = approvals.aggregate(last=Max("pk"))["last"] or 0
        result = action()
        requested = (
            approvals.filter(pk__gt=before, decision=Approval.Decision.PENDING)
            .select_related("currency")
            .order_by("pk")
            .first()
        )
        if requested is None:
            return result, None
        pending = (
            requested.case_id,
            requested.action,
            requested.amount,
            requested.currency.minor_units,
            requested.currency_id,
            requested.request_reason,
        )
        transaction.set_rollback(True)
    return result, _reject(session, learner, *pending)


def _reject(
    session: SandboxSession,
    learner: User,
    case_id: int,
    action: str,
    amount: Decimal,
    minor_units: int,
    currency: str,
    request_reason: str,
) -> ManagerDecision:
    manager = session_manager(session)
    with transaction.atomic():
        locked = SandboxSession.objects.select_for_update().get(pk=session.pk)
        case = Discrepancy.objects.get(company=locked.company, pk=case_id)
        decision = ManagerDecision(
            case_id=case_id,
            case_number=session_case_number(locked, case),
            action=action,
            amount=f"{format_money(amount, minor_units=minor_units)} {currency}",
            request_reason=request_reason,
            manager=manager.name,
            reason=manager.reason(action),
            decided_at=timezone.now().isoformat(),
        )
        locked.manager_decisions = [*locked.manager_decisions, asdict(decision)]
        locked.save(update_fields=["manager_decisions"])
        session.manager_decisions = locked.manager_decisions
        record_event(
            actor=learner,
            action="practice.manager_rejected",
            target=locked,
            source=AuditEvent.Source.SCREEN,
            after=asdict(decision),
            reason=request_reason,
        )
    logger.info(
        "Practice session %s: the scripted manager rejected a %s on case %s",
        session.pk,
        action,
        case_id,
    )
    return decision
