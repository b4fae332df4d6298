"""The scenario's scripted manager, who decides a session's approval requests.

An approval needs a manager other than the requester, and a sandbox has one
person. So the sandbox runs the real request (a write-off above the limit,
a credit note above the credit limit) with every check of the real screens,
and the scenario's ``ScriptedManager`` decides it at once. A rejected
request is rolled back, so no ``Approval`` row, proposal or notification
outlives it. An approved credit note stays: its proposal goes on to the
customer, as a manager's approval sends it, and its ``Approval`` row is
kept, decided with the scripted manager's own account as approver, so the
request's ``approval.requested`` event still names a row. That account is
inactive and has no usable password, so nobody signs in as it. Sandbox
cases notify nobody, so no real manager hears of either. The decision is stored on the
session (``manager_decisions``), shown to the learner, and read by "Check
my work".
"""

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import Role, User
from core.audit import record_event
from core.models import AuditEvent
from practice.models import SandboxSession
from practice.roles import played_role
from practice.scenarios import MANAGER, SCENARIOS, ScriptedManager
from practice.selectors import session_case_number
from reconciliation.approval_decisions import follow_credit_note_decision
from reconciliation.models import Approval, Discrepancy, ResolutionCode
from reconciliation.money import format_money

logger = logging.getLogger(__name__)
# Usernames of the accounts that decide approvals as a scenario's manager.
SCRIPTED_ACCOUNT_PREFIX = "practice-manager-"


@dataclass(frozen=True)
class ManagerDecision:
    """A request the scripted manager decided, as the session stores it."""

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
    # Sessions stored decisions before the manager could approve, so a
    # stored decision without this key is a rejection.
    approved: bool = False

    @property
    def action_label(self) -> str:
        return str(ResolutionCode(self.action).label).lower()

    @property
    def summary(self) -> str:
        """Return who decided what, and why, in one sentence."""
        verb = "approved" if self.approved else "rejected"
        return (
            f"{self.manager} {verb} the {self.action_label} of {self.amount} "
            f"on case {self.case_number}: {self.reason}"
        )

    @property
    def message(self) -> str:
        """Return what the learner reads after the request."""
        if self.approved:
            return (
                f"{self.summary} The {self.action_label} now waits for the "
                "customer's answer: answer as the customer on the session page."
            )
        return f"{self.summary} Nothing was booked, and the case stays with you."


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
    case of the session, the manager decides at once. An approved credit
    note keeps the action's work and goes on to the customer. Any other
    request is rejected, and everything the action wrote is rolled back.
    Without a request the action's work stays, and no decision is returned.
    """
    approvals = Approval.objects.filter(case__company=session.company)
    manager = session_manager(session)
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
        if manager.approves(requested.action, requested.amount):
            return result, _approve(session, learner, requested, manager)
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


def _approve(
    session: SandboxSession,
    learner: User,
    approval: Approval,
    manager: ScriptedManager,
) -> ManagerDecision:
    """Send the credit note of ``approval`` on to the customer, as approving does.

    Call it inside the request's transaction. The ``Approval`` row is
    decided as ``approvals.decide_approval`` decides it, with the scripted
    manager's account as approver and an ``approval.approved`` event by it.
    The proposal's moves are recorded with the learner in the manager's
    role, the only person of the sandbox, and
    ``practice.manager_approved`` names the scripted manager.
    """
    approver = scripted_manager_account(manager)
    approval.decision = Approval.Decision.APPROVED
    approval.approver = approver
    approval.decided_at = timezone.now()
    approval.reason = manager.approval
    approval.save(update_fields=["decision", "approver", "decided_at", "reason"])
    record_event(
        actor=approver,
        action="approval.approved",
        target=approval,
        source=AuditEvent.Source.SCREEN,
        before={"decision": Approval.Decision.PENDING},
        after={"decision": approval.decision, "case_id": approval.case_id},
        reason=manager.approval,
    )
    follow_credit_note_decision(
        approval,
        approver=played_role(learner, Role.MANAGER),
        approve=True,
        reason=manager.approval,
    )
    decision = _store_decision(
        session,
        learner,
        case_id=approval.case_id,
        action=approval.action,
        amount=_money_text(
            approval.amount, approval.currency.minor_units, approval.currency_id
        ),
        request_reason=approval.request_reason,
        reason=manager.approval,
        approved=True,
        event="practice.manager_approved",
    )
    logger.info(
        "Practice session %s: the scripted manager approved %s request %s on case %s",
        session.pk,
        decision.action,
        approval.pk,
        decision.case_id,
    )
    return decision


def scripted_manager_account(manager: ScriptedManager) -> User:
    """Return the account that decides approvals as ``manager``, creating it once.

    An approval's approver is a user other than the requester, and the
    sandbox's only person is the learner. The account is inactive and its
    password unusable, so nobody signs in as it. It is marked scripted, so
    every list of people (``User.objects.listed``) leaves it out.
    """
    account, _ = User.objects.get_or_create(
        username=f"{SCRIPTED_ACCOUNT_PREFIX}{slugify(manager.name)}",
        defaults={
            "first_name": manager.name.partition(" ")[0],
            "last_name": manager.name.partition(" ")[2],
            "role": Role.MANAGER,
            "is_active": False,
            "is_scripted": True,
            "password": make_password(None),
        },
    )
    if not account.is_scripted:
        # An account made before the flag existed and missed by its migration.
        account.is_scripted = True
        account.save(update_fields=["is_scripted"])
    return account


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
        decision = _store_decision(
            session,
            learner,
            case_id=case_id,
            action=action,
            amount=_money_text(amount, minor_units, currency),
            request_reason=request_reason,
            reason=manager.reason(action),
            approved=False,
            event="practice.manager_rejected",
        )
    logger.info(
        "Practice session %s: the scripted manager rejected a %s on case %s",
        session.pk,
        action,
        case_id,
    )
    return decision


def _store_decision(
    session: SandboxSession,
    learner: User,
    *,
    case_id: int,
    action: str,
    amount: str,
    request_reason: str,
    reason: str,
    approved: bool,
    event: str,
) -> ManagerDecision:
    """Append a decision to the session and record ``event`` for it.

    Call it inside a transaction.
    """
    locked = SandboxSession.objects.select_for_update().get(pk=session.pk)
    case = Discrepancy.objects.get(company=locked.company, pk=case_id)
    decision = ManagerDecision(
        case_id=case_id,
        case_number=session_case_number(locked, case),
        action=action,
        amount=amount,
        request_reason=request_reason,
        manager=session_manager(locked).name,
        reason=reason,
        decided_at=timezone.now().isoformat(),
        approved=approved,
    )
    locked.manager_decisions = [*locked.manager_decisions, asdict(decision)]
    locked.save(update_fields=["manager_decisions"])
    session.manager_decisions = locked.manager_decisions
    record_event(
        actor=learner,
        action=event,
        target=locked,
        source=AuditEvent.Source.SCREEN,
        after=asdict(decision),
        reason=request_reason,
    )
    return decision


def _money_text(amount: Decimal, minor_units: int, currency: str) -> str:
    return f"{format_money(amount, minor_units=minor_units)} {currency}"
