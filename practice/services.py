"""Start, check and reset practice sessions, and the learner's case work.

The public API for other apps (the learning app's final simulation test
builds on it) is ``start_session``, ``check_session`` and ``reset_session``.
Each is one transaction and appends an audit event with a ``practice.``
action. The case work calls the same reconciliation services as the real
screens, after checking that the case belongs to the learner's session.
"""

import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Sum
from django.http import Http404
from django.utils import timezone

from accounts.models import Role, User
from core.audit import record_event
from core.models import AuditEvent
from portal import services as portal_services
from portal.models import ResolutionProposal
from practice.manager import ManagerDecision, decisions_of, run_with_manager
from practice.models import SandboxSession
from practice.roles import played_role
from practice.scenarios import (
    AS_OF,
    SCENARIOS,
    ExpectedAllocation,
    ExpectedResolution,
    Scenario,
    get_scenario,
)
from practice.seed import (
    SANDBOX_CURRENCY,
    SANDBOX_TIMEZONE,
    build_scenario,
    fingerprint,
    wipe_company,
)
from practice.seed_version import seed_code_version
from reconciliation import approvals, cases, reships
from reconciliation.matching import run_matching
from reconciliation.models import (
    Allocation,
    Company,
    Discrepancy,
    DiscrepancyCode,
    Invoice,
    Payment,
    ResolutionCode,
    Shipment,
)
from reconciliation.money import format_money
from reconciliation.replacements import covered_units_of
from reconciliation.services import COUNTED_SHIPMENT_STATES, allocate_payment

logger = logging.getLogger(__name__)

RESOLVED_STATES = frozenset({Discrepancy.State.RESOLVED, Discrepancy.State.CLOSED})
# The way on after a wrong resolution. Some resolutions change the documents
# for good (a cancelled line, a posted document), so that reopening alone
# cannot reach the expected end.
WORK_AGAIN = (
    "Reopen the case on its case page to settle it again. If your step "
    "changed the documents, reset the sandbox to start from the beginning."
)


class PracticeError(ValueError):
    """A request the session's state does not allow; the message names the next step."""


class NothingToCheck(PracticeError):
    """A check requested before the learner changed anything in the sandbox."""


class SeedChanged(PracticeError):
    """A check of a sandbox whose seed digest cannot be rebuilt by this code."""


def seed_changed_text(session: SandboxSession, *, checked: bool = False) -> str:
    """Tell the learner why the sandbox cannot be checked, and what to do.

    ``checked`` adds that the check just refused counted no attempt.
    """
    text = (
        f"Session {session.pk} was seeded by an earlier version of the practice "
        "sandbox, so Check my work can no longer tell your work from the "
        "scenario's start, and a score could be wrong. Reset the sandbox to "
        "start the scenario again from the current seed (the work in this "
        "sandbox is undone), then work the cases and check again."
    )
    if checked:
        text += " This check did not count as an attempt."
    return text


def seed_changed(session: SandboxSession) -> bool:
    """Return whether the active session has no seed digest this code can rebuild."""
    return (
        session.status == SandboxSession.Status.ACTIVE
        and not session.seed_digest
        and session.seed_version != seed_code_version()
    )


def seed_digest(company: Company) -> str:
    """Return the SHA-256 of the sandbox's rows, independent of ids and clock times."""
    rows = json.dumps(fingerprint(company), sort_keys=True, default=str)
    return hashlib.sha256(rows.encode()).hexdigest()


def rebuild_seed_digest(session: SandboxSession) -> str:
    """Return the digest of the session's latest seed, rebuilt in a discarded copy.

    The digest depends on the scenario and the day it was seeded as of, not
    on the sandbox's ids. So the scenario is seeded again as of that day
    into a new sandbox company, inside a savepoint that is rolled back. The
    day is the ``as_of`` of the session's latest ``practice.started`` or
    ``practice.reset`` event. Events from before seeds moved with the
    session's day carry no ``as_of``, and those seeds used the catalogue's
    fixed dates, which are ``AS_OF``. Returns "" when the catalogue no
    longer has the session's version of the scenario, whose seed differs.

    The rebuilt digest equals the real one only while the seed, the
    matching rules and the models produce the rows they produced then. So
    it also returns "" when the session's ``seed_version`` is not the
    code's (``seed_code_version``), or is unknown, and "Check my work" then
    asks the learner to reset (``SeedChanged``).
    """
    scenario = SCENARIOS.get(session.scenario_key)
    if scenario is None or scenario.version != session.scenario_version:
        return ""
    if session.seed_version != seed_code_version():
        return ""
    day = _seed_day(session)
    with transaction.atomic():
        copy = Company.objects.create(
            name=f"Seed digest of practice session {session.pk}",
            base_currency_id=SANDBOX_CURRENCY,
            timezone=SANDBOX_TIMEZONE,
            is_sandbox=True,
        )
        build_scenario(company=copy, scenario=scenario, today=day)
        digest = seed_digest(copy)
        # Rolls back the copy, and the on-commit work it queued, on exit.
        transaction.set_rollback(True)
    return digest


def _seed_day(session: SandboxSession) -> date:
    """Return the day the session's sandbox was last seeded as of."""
    seeded = (
        AuditEvent.objects.filter(
            object_type=SandboxSession._meta.label_lower,
            object_id=str(session.pk),
            action__in=("practice.started", "practice.reset"),
        )
        .order_by("-occurred_at", "-pk")
        .values_list("after", flat=True)
        .first()
    )
    as_of = (seeded or {}).get("as_of")
    return date.fromisoformat(as_of) if as_of else AS_OF


def fill_seed_digest(session: SandboxSession) -> bool:
    """Store the rebuilt seed digest of a session that has none.

    Returns whether it stored one. The caller holds the session's row lock.
    """
    if session.seed_digest:
        return False
    digest = rebuild_seed_digest(session)
    if not digest:
        return False
    session.seed_digest = digest
    session.save(update_fields=["seed_digest"])
    logger.info("Practice session %s: seed digest rebuilt", session.pk)
    return True


@dataclass(frozen=True)
class CheckResult:
    """One check of "Check my work": what was expected and what was found.

    ``expected`` states the solution, so the session page never shows it.
    ``feedback`` states what is wrong and gives the scenario's hint.
    ``scored`` is False for a seed allocation left in place, which is no
    work of the learner's.
    """

    label: str
    passed: bool
    expected: str
    found: str
    feedback: str
    scored: bool = True
    # The percent of the check's marks a failed check still earns, for a
    # resolution that settles the case less well than the expected one.
    part: int = 0


def _may_practise(person: User) -> None:
    if not person.is_active or person.is_external:
        raise PermissionDenied(f"{person.username} may not use the practice sandbox.")


def session_day() -> date:
    """Return the day a seed starts from: today, as the work screens date their work."""
    return timezone.localdate()


def start_session(
    *, learner: User, scenario_key: str, today: date | None = None
) -> SandboxSession:
    """Give ``learner`` a fresh sandbox company seeded with the scenario.

    The scenario's dates move so that it plays out as of ``today``, which
    defaults to ``session_day()``.
    """
    _may_practise(learner)
    scenario = get_scenario(scenario_key)
    day = today or session_day()
    with transaction.atomic():
        now = timezone.now()
        company = Company.objects.create(
            # Filled in below, once the session id is known.
            name=f"Practice {learner.pk} {now.isoformat()}",
            base_currency_id=SANDBOX_CURRENCY,
            timezone=SANDBOX_TIMEZONE,
            is_sandbox=True,
        )
        session = SandboxSession.objects.create(
            learner=learner,
            scenario_key=scenario.key,
            scenario_version=scenario.version,
            company=company,
            started_at=now,
        )
        company.name = f"Practice session {session.pk}"
        company.save(update_fields=["name"])
        build_scenario(company=company, scenario=scenario, today=day)
        session.seed_digest = seed_digest(company)
        session.seed_version = seed_code_version()
        session.save(update_fields=["seed_digest", "seed_version"])
        record_event(
            actor=learner,
            action="practice.started",
            target=session,
            source=AuditEvent.Source.SCREEN,
            after={
                "scenario": scenario.key,
                "version": scenario.version,
                "company_id": company.pk,
                "as_of": day.isoformat(),
                "seed_version": session.seed_version,
            },
        )
    logger.info(
        "Practice session %s started: scenario %s for user %s",
        session.pk,
        scenario.key,
        learner.pk,
    )
    return session


def _scenario_of(session: SandboxSession) -> Scenario:
    scenario = get_scenario(session.scenario_key)
    if scenario.version != session.scenario_version:
        raise PracticeError(
            f"Session {session.pk} was started on version {session.scenario_version} "
            f"of {scenario.key!r}, and the catalogue now has version "
            f"{scenario.version}: start a new session."
        )
    return scenario


def _lock_own_session(session_id: int, learner: User) -> SandboxSession:
    session = (
        SandboxSession.objects.select_for_update()
        .select_related("company")
        .filter(pk=session_id, learner=learner)
        .first()
    )
    if session is None:
        raise Http404("No practice session found with that number.")
    return session


def _require_active(session: SandboxSession, doing: str) -> None:
    if session.status != SandboxSession.Status.ACTIVE:
        raise PracticeError(
            f"Session {session.pk} is {session.status}, so it cannot be {doing}: "
            "start a new session of the scenario to practise again."
        )


def check_session(*, session_id: int, learner: User) -> list[CheckResult]:
    """Score the sandbox against the scenario's expected resolutions.

    Stores the score (percent of checks passed) and the results, counts the
    attempt, and finishes the session when every check passes. Raises
    ``NothingToCheck``, and counts no attempt, while the sandbox is still as
    seeded and the scripted manager has decided nothing. A session without a
    seed digest first gets it rebuilt and stored, in its own transaction, so
    that ``NothingToCheck`` does not roll it back. When the code that seeded
    it is not this code, nothing is rebuilt: ``SeedChanged`` asks the
    learner to reset, and no attempt counts.
    """
    with transaction.atomic():
        session = _lock_own_session(session_id, learner)
        if session.status == SandboxSession.Status.ACTIVE:
            fill_seed_digest(session)
    with transaction.atomic():
        session = _lock_own_session(session_id, learner)
        _require_active(session, "checked")
        scenario = _scenario_of(session)
        if seed_changed(session):
            raise SeedChanged(seed_changed_text(session, checked=True))
        if (
            session.seed_digest
            and not session.manager_decisions
            and seed_digest(session.company) == session.seed_digest
        ):
            raise NothingToCheck(
                "There is nothing to check yet: the sandbox is still as the "
                "scenario started. Work the cases first, then check your work. "
                "This did not count as an attempt."
            )
        results = check_results(session, scenario)
        passed = sum(1 for result in results if result.passed)
        before = {
            "score": session.score,
            "attempts": session.attempts,
            "status": session.status,
        }
        session.score = score_results(results)
        session.attempts += 1
        session.last_check = [asdict(result) for result in results]
        if passed == len(results):
            session.status = SandboxSession.Status.FINISHED
            session.finished_at = timezone.now()
        session.save(
            update_fields=["score", "attempts", "last_check", "status", "finished_at"]
        )
        record_event(
            actor=learner,
            action="practice.checked",
            target=session,
            source=AuditEvent.Source.SCREEN,
            before=before,
            after={
                "score": session.score,
                "attempts": session.attempts,
                "status": session.status,
                "passed": passed,
                "checks": len(results),
            },
        )
    logger.info("Practice session %s checked: score %s", session.pk, session.score)
    return results


def check_results(session: SandboxSession, scenario: Scenario) -> list[CheckResult]:
    """Compare the sandbox with the scenario's expected end; store nothing."""
    decisions = decisions_of(session)
    return [
        *(
            _check_resolution(session.company, item, decisions)
            for item in scenario.resolutions
        ),
        *(_check_allocation(session.company, item) for item in scenario.allocations),
    ]


def score_results(results: list[CheckResult]) -> int:
    """Return the percent of scored checks passed: the learner's own work only."""
    scored = [result for result in results if result.scored]
    if not scored:
        return 100
    marks = sum(100 if result.passed else result.part for result in scored)
    return round(marks / len(scored))


def _find_case(company: Company, item: ExpectedResolution) -> Discrepancy | None:
    found = Discrepancy.objects.filter(company=company, code=item.code)
    if item.order:
        found = found.filter(order__number=item.order)
    if item.invoice:
        found = found.filter(invoice__number=item.invoice)
    if item.payment:
        found = found.filter(payment__number=item.payment)
    return found.order_by("pk").first()


def _check_resolution(
    company: Company,
    item: ExpectedResolution,
    decisions: list[ManagerDecision],
) -> CheckResult:
    subject = " / ".join(
        name for name in (item.order, item.invoice, item.payment) if name
    )
    label = f"{DiscrepancyCode(item.code).label} on {subject}"
    wanted = " or ".join(str(ResolutionCode(code).label) for code in item.codes)
    expected = f"resolved with {wanted}" if wanted else "resolved"
    case = _find_case(company, item)
    if item.write_off is not None:
        expected += f", writing off {_money_text(item.write_off, case)}"
    if case is None:
        feedback = f"The case is missing: reset the sandbox. {item.hint}"
        return CheckResult(label, False, expected, "no such case", feedback)
    if case.state not in RESOLVED_STATES:
        # Case ids change with a reset, so the text names the state only.
        state = case.get_state_display().lower()
        found = f"the case is {state}"
        feedback = f"The case is not resolved yet. {item.hint}"
        on_case = [decision for decision in decisions if decision.case_id == case.pk]
        rejected = [decision for decision in on_case if not decision.approved]
        if not case.finding_holds:
            # The pass leaves a case that someone took to that person.
            feedback = (
                "The documents now agree, but the matching pass leaves a case "
                "that you took to you: resolve it on its case page."
            )
        elif (
            on_case
            and on_case[-1].approved
            and case.state == Discrepancy.State.PROPOSED_RESOLUTION
        ):
            latest = on_case[-1]
            found += (
                f", and {latest.manager} approved the {latest.action_label} of "
                f"{latest.amount}"
            )
            feedback = (
                f"The manager approved your {latest.action_label}, so it waits "
                "for the customer's answer: answer as the customer on the "
                "session page."
            )
        elif rejected:
            latest = rejected[-1]
            found += (
                f", and {latest.manager} rejected the {latest.action_label} of "
                f"{latest.amount}"
            )
            feedback = (
                f"The case is not resolved yet, and the manager's answer to your "
                f"request still holds: {latest.reason} {item.hint}"
            )
        return CheckResult(label, False, expected, found, feedback)
    code_label = case.get_resolution_code_display()
    if code_label:
        found = f"resolved with {code_label}"
    elif case.resolved_by_id is None:
        # The matching pass resolves a case, without a resolution, once the
        # documents agree.
        found = "resolved, because the documents now agree"
    else:
        found = "resolved without a resolution chosen"
    # The documents agree once the pass resolved the case (no resolver) or
    # flagged that its finding no longer holds.
    settled = (
        item.documents_settle
        and case.state == Discrepancy.State.RESOLVED
        and (case.resolved_by_id is None or not case.finding_holds)
    )
    if item.codes and case.resolution_code not in item.codes and not settled:
        part = dict(item.partial).get(case.resolution_code, 0)
        if part:
            feedback = (
                f"{code_label} settles this case, but not as well as it could "
                f"be settled, so it earns {part} % of this check. {item.hint} "
                f"{WORK_AGAIN}"
            )
            return CheckResult(label, False, expected, found, feedback, part=part)
        done = code_label or "Resolving it without a resolution"
        feedback = f"{done} does not settle this case. {item.hint} {WORK_AGAIN}"
        return CheckResult(label, False, expected, found, feedback)
    if (
        item.replaced_units is not None
        and case.resolution_code == ResolutionCode.RESHIP
    ):
        replaced = replaced_by_case(case)
        found += f", replacing {_bare(replaced)} units"
        expected += f", replacing {_bare(item.replaced_units)} units"
        if replaced != item.replaced_units:
            feedback = (
                f"The replacement shipments sent {_bare(replaced)} units, which "
                f"is not what the case is about. {item.hint} {WORK_AGAIN}"
            )
            return CheckResult(label, False, expected, found, feedback)
    if item.write_off is not None:
        amount = cases.write_off_amount(case)
        found += f", writing off {_money_text(amount, case)}"
        if amount != item.write_off:
            feedback = (
                "The amount written off is not the difference the case is "
                f"about. {item.hint}"
            )
            return CheckResult(label, False, expected, found, feedback)
    return CheckResult(label, True, expected, found, "Correct.")


def replaced_by_case(case: Discrepancy) -> Decimal:
    """Return the units the case's shipped replacements sent, up to each offer.

    Units beyond a replacement's offered quantity replace nothing
    (``replacements.covered_units``), and a draft or discarded replacement
    has sent nothing.
    """
    shipments = Shipment.objects.filter(
        replaces_case=case, state__in=COUNTED_SHIPMENT_STATES
    )
    covered = covered_units_of(list(shipments))
    return covered.get(case.order_line_id or 0, Decimal(0))


def _bare(qty: Decimal) -> str:
    """Format a quantity without its unit, such as 3 or 2.5."""
    return f"{qty.normalize():,f}"


def _money_text(amount: Decimal, case: Discrepancy | None) -> str:
    """Format ``amount`` in the minor unit of the case's invoice currency.

    Without a case or an invoice it gets two decimals, as most currencies have.
    """
    if case is None or case.invoice is None:
        return format_money(amount, minor_units=2)
    return format_money(amount, minor_units=case.invoice.currency.minor_units)


def _check_allocation(company: Company, item: ExpectedAllocation) -> CheckResult:
    label = f"Allocation of {item.payment} to {item.invoice}"
    invoice = (
        Invoice.objects.filter(company=company, number=item.invoice)
        .select_related("currency")
        .first()
    )
    # The session page shows every amount as the work screens do: 1,280.00.
    minor_units = invoice.currency.minor_units if invoice is not None else 2
    expected = f"{format_money(item.amount, minor_units=minor_units)} allocated"
    total = Allocation.objects.filter(
        payment__company=company,
        payment__number=item.payment,
        invoice__number=item.invoice,
    ).aggregate(total=Sum("amount"))["total"] or Decimal(0)
    found = f"{format_money(total, minor_units=minor_units)} allocated"
    if total == item.amount:
        return CheckResult(
            label, True, expected, found, "Correct.", scored=not item.keep
        )
    if item.keep:
        feedback = f"The allocation the scenario started with was changed. {item.hint}"
    elif total > item.amount:
        feedback = f"More is allocated to this invoice than it should get. {item.hint}"
    else:
        feedback = f"The payment is not yet allocated in full. {item.hint}"
    return CheckResult(label, False, expected, found, feedback)


def reset_session(
    *, session_id: int, learner: User, today: date | None = None
) -> SandboxSession:
    """Restore the session's sandbox to the scenario's seed, exactly.

    Deletes every document of the sandbox company and seeds it again as of
    ``today`` (default ``session_day()``), so a reset on a later day moves
    the scenario's dates to that day. The
    latest check's results and score are cleared, because they describe the
    rows that are gone. Attempts stay, as the learner's history, and the
    audit log keeps every earlier score. The rows get new ids, so the pages
    number the cases by their place in the session instead.
    """
    with transaction.atomic():
        session = _lock_own_session(session_id, learner)
        _require_active(session, "reset")
        scenario = _scenario_of(session)
        cleared = {"score": session.score, "checks": len(session.last_check)}
        deleted = wipe_company(session.company)
        day = today or session_day()
        build_scenario(company=session.company, scenario=scenario, today=day)
        session.score = None
        session.last_check = []
        session.manager_decisions = []
        session.seed_digest = seed_digest(session.company)
        before_version = session.seed_version
        session.seed_version = seed_code_version()
        session.save(
            update_fields=[
                "score",
                "last_check",
                "manager_decisions",
                "seed_digest",
                "seed_version",
            ]
        )
        record_event(
            actor=learner,
            action="practice.reset",
            target=session,
            source=AuditEvent.Source.SCREEN,
            before={**cleared, "seed_version": before_version},
            after={
                "scenario": scenario.key,
                "rows_deleted": deleted,
                "as_of": day.isoformat(),
                "seed_version": session.seed_version,
            },
        )
    logger.info("Practice session %s reset", session.pk)
    return session


# The learner's work on the cases of a session.


def session_case(session: SandboxSession, case_id: int) -> Discrepancy:
    case = Discrepancy.objects.filter(company=session.company, pk=case_id).first()
    if case is None:
        raise Http404("No case found with that number in this practice session.")
    return case


def require_active(session: SandboxSession, doing: str) -> None:
    """Raise ``PracticeError`` unless the session is active.

    ``doing`` completes "it cannot be ..." in the message, such as "worked".
    """
    _require_active(session, doing)


def _take_locked(session: SandboxSession, case: Discrepancy, learner: User) -> None:
    if case.assignee_id is not None:
        return
    case.assignee = learner
    case.save(update_fields=["assignee", "updated_at"])
    record_event(
        actor=learner,
        action="practice.case_taken",
        target=case,
        source=AuditEvent.Source.SCREEN,
        before={"assignee_id": None},
        after={"assignee_id": learner.pk, "session_id": session.pk},
    )


def take_case(*, session: SandboxSession, case_id: int, learner: User) -> Discrepancy:
    """Assign an unassigned case of the session to its learner.

    The learner plays every role in the sandbox, so the case is theirs
    whatever its owner role. A case assigned already stays as it is.
    """
    _require_active(session, "worked")
    case = session_case(session, case_id)
    with transaction.atomic():
        locked = cases.lock_case(case.pk)
        _take_locked(session, locked, learner)
    return locked


def start_case(*, session: SandboxSession, case_id: int, learner: User) -> Discrepancy:
    """Take the case and start work on it.

    The learner plays every role in the sandbox, so an unassigned case is
    first assigned to them, whatever its owner role. ``cases.start_case``
    then moves it as on the real screens.
    """
    _require_active(session, "worked")
    case = session_case(session, case_id)
    with transaction.atomic():
        locked = cases.lock_case(case.pk)
        _take_locked(session, locked, learner)
        return cases.start_case(case_id=case.pk, actor=learner)


def session_proposal(session: SandboxSession, proposal_id: int) -> ResolutionProposal:
    proposal = (
        ResolutionProposal.objects.filter(case__company=session.company, pk=proposal_id)
        .select_related("case__order")
        .first()
    )
    if proposal is None:
        raise Http404("No proposal found with that number in this practice session.")
    return proposal


def answer_proposal(
    *,
    session: SandboxSession,
    proposal_id: int,
    learner: User,
    accept: bool,
    reason: str,
) -> ResolutionProposal:
    """Accept or reject a proposal as the sandbox order's customer would.

    The learner plays the customer too, so this calls the customer portal's
    services with a copy of the learner in the customer role, for the
    order's customer. Accepting posts the credit note and resolves the case.
    """
    _require_active(session, "worked")
    proposal = session_proposal(session, proposal_id)
    customer = _played_customer(learner, proposal)
    if accept and proposal.resolution_code == ResolutionCode.RESHIP:
        # As the customer portal's accept does for a replacement offer.
        return reships.accept_reship(customer=customer, proposal_id=proposal.pk)
    if accept:
        return portal_services.accept_proposal(
            customer=customer, proposal_id=proposal.pk
        )
    return portal_services.reject_proposal(
        customer=customer, proposal_id=proposal.pk, reason=reason
    )


def _played_customer(learner: User, proposal: ResolutionProposal) -> User:
    """Return the learner in the customer role, for the proposal's order's customer."""
    order = proposal.case.order
    customer = played_role(learner, Role.CUSTOMER)
    customer.customer_id = order.customer_id if order is not None else None
    return customer


def customer_answers_replacements(
    *, session: SandboxSession, learner: User
) -> list[str]:
    """Let the scenario's scripted customer accept its waiting replacement offers.

    Each acceptance goes through ``reships.accept_reship``, as the customer
    portal's does, so the draft replacement waits in Pick and ship. Records
    ``practice.customer_accepted`` on the session for each, and returns what
    the learner reads. A scenario without a scripted customer leaves the
    offers to the learner, on the session page.
    """
    scenario = SCENARIOS.get(session.scenario_key)
    scripted = scenario.customer if scenario else None
    if scripted is None:
        return []
    waiting = ResolutionProposal.objects.filter(
        case__company=session.company,
        state=ResolutionProposal.State.AWAITING_CUSTOMER,
        resolution_code=ResolutionCode.RESHIP,
    ).order_by("pk")
    customer_messages = []
    for proposal in waiting.select_related("case__order"):
        with transaction.atomic():
            reships.accept_reship(
                customer=_played_customer(learner, proposal), proposal_id=proposal.pk
            )
            record_event(
                actor=learner,
                action="practice.customer_accepted",
                target=session,
                source=AuditEvent.Source.SCREEN,
                after={
                    "proposal_id": proposal.pk,
                    "case_id": proposal.case_id,
                    "customer": scripted.name,
                },
                reason=scripted.accepted,
            )
        customer_messages.append(
            f"{scripted.name} accepted the replacement at once: “{scripted.accepted}” "
            "The replacement shipment now waits in Pick and ship."
        )
    return customer_messages


def resolve_case(
    *,
    session: SandboxSession,
    case_id: int,
    learner: User,
    resolution_code: str,
    note: str,
) -> Discrepancy:
    _require_active(session, "worked")
    return cases.resolve_case(
        case_id=session_case(session, case_id).pk,
        actor=learner,
        resolution_code=resolution_code,
        note=note,
    )


def reject_case(
    *, session: SandboxSession, case_id: int, learner: User, reason: str
) -> Discrepancy:
    _require_active(session, "worked")
    return cases.reject_case(
        case_id=session_case(session, case_id).pk, actor=learner, reason=reason
    )


def reopen_case(
    *, session: SandboxSession, case_id: int, learner: User, reason: str
) -> Discrepancy:
    _require_active(session, "worked")
    return cases.reopen_case(
        case_id=session_case(session, case_id).pk, actor=learner, reason=reason
    )


def request_write_off(
    *, session: SandboxSession, case_id: int, learner: User, reason: str
) -> ManagerDecision:
    """Request a write-off above the limit, which the scripted manager rejects.

    The real request's checks run first, so a write-off within the limit or
    a missing reason raises ``CaseError`` as on the real case page.
    """
    _require_active(session, "worked")
    case = session_case(session, case_id)
    _, decision = run_with_manager(
        session,
        learner,
        lambda: approvals.request_write_off(
            case_id=case.pk, actor=learner, reason=reason
        ),
    )
    # ``approvals.request_write_off`` either raises or requests an approval.
    assert decision is not None  # noqa: S101 - the request raises or asks.
    return decision


def allocate(
    *,
    session: SandboxSession,
    learner: User,
    payment_number: str,
    invoice_number: str,
    amount: Decimal | None,
) -> Allocation:
    """Allocate a sandbox payment to a sandbox invoice, then rerun the matching pass.

    The pass runs at once so the learner sees the cases the allocation
    settles or opens, as a clerk would after the next scheduled pass.
    """
    _require_active(session, "worked")
    company = session.company
    payment = Payment.objects.filter(company=company, number=payment_number).first()
    if payment is None:
        raise PracticeError(
            f"There is no payment {payment_number!r} in this session: pick one "
            "from the list."
        )
    invoice = Invoice.objects.filter(company=company, number=invoice_number).first()
    if invoice is None:
        raise PracticeError(
            f"There is no invoice {invoice_number!r} in this session: pick one "
            "from the list."
        )
    allocation = allocate_payment(
        payment=payment, invoice=invoice, amount=amount, actor=learner
    )
    run_matching(company=company, as_of=session_day())
    return allocation
