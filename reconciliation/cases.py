"""The lifecycle of a discrepancy case: transitions, assignment and comments.

A case moves ``open → assigned → in_progress → waiting_customer |
waiting_internal → proposed_resolution → resolved → closed``, and may also be
rejected, reopened or escalated. ``TRANSITIONS`` lists every allowed move.
Each public function here is one write: it locks the case row, checks the
person and the move, saves, and appends an audit event in one transaction.
"""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from core.audit import record_event
from core.models import AuditEvent
from portal.models import ResolutionProposal
from reconciliation.cancellations import (
    BACKORDER_CODES,
    reverse_case_cancellations,
)
from reconciliation.credit_notes import (
    OPEN_PROPOSAL_STATES,
    credit_on_invoice,
    invoice_money,
    over_invoice_total,
)
from reconciliation.duplicates import (
    DuplicateDecision,
    cancel_or_credit,
    decides_invoice,
    first_copy_of,
    keep_invoice,
    undo_decision,
)
from reconciliation.models import (
    Allocation,
    Approval,
    CaseComment,
    Currency,
    Discrepancy,
    DiscrepancyCode,
    Invoice,
    LineCancellation,
    ResolutionCode,
    SalesOrder,
)
from reconciliation.money import format_money
from reconciliation.services import lock_documents, refresh_order

logger = logging.getLogger(__name__)

State = Discrepancy.State

# Allowed next states, in lifecycle order so that messages list them stably.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    State.OPEN: (State.ASSIGNED, State.IN_PROGRESS, State.REJECTED, State.ESCALATED),
    State.ASSIGNED: (State.IN_PROGRESS, State.REJECTED, State.ESCALATED),
    State.IN_PROGRESS: (
        State.WAITING_CUSTOMER,
        State.WAITING_INTERNAL,
        State.PROPOSED_RESOLUTION,
        State.RESOLVED,
        State.ESCALATED,
    ),
    State.WAITING_CUSTOMER: (
        State.IN_PROGRESS,
        State.PROPOSED_RESOLUTION,
        State.ESCALATED,
    ),
    State.WAITING_INTERNAL: (
        State.IN_PROGRESS,
        State.PROPOSED_RESOLUTION,
        State.ESCALATED,
    ),
    State.PROPOSED_RESOLUTION: (State.IN_PROGRESS, State.RESOLVED, State.ESCALATED),
    State.RESOLVED: (State.CLOSED, State.REOPENED),
    State.CLOSED: (State.REOPENED,),
    State.REJECTED: (State.REOPENED,),
    State.REOPENED: (State.ASSIGNED, State.IN_PROGRESS, State.ESCALATED),
    State.ESCALATED: (State.ASSIGNED, State.IN_PROGRESS),
}
# Moves that require a reason, because the next person to work the case reads it.
REASON_REQUIRED = frozenset(
    {
        State.WAITING_CUSTOMER,
        State.WAITING_INTERNAL,
        State.REJECTED,
        State.REOPENED,
        State.ESCALATED,
    }
)
# States in which the assignee can change without the state changing.
REASSIGNABLE_STATES = frozenset(
    {
        State.ASSIGNED,
        State.IN_PROGRESS,
        State.WAITING_CUSTOMER,
        State.WAITING_INTERNAL,
        State.PROPOSED_RESOLUTION,
    }
)
MAX_COMMENT_LENGTH = 5000
# The resolutions that decide a duplicate-invoice case: the copy is taken off
# the books, or it is kept because it is not a copy (rejecting keeps it too).
DUPLICATE_DECISIONS = frozenset(
    {ResolutionCode.DUPLICATE_CANCELLED, ResolutionCode.ACCEPTED_AS_IS}
)
# Moves that end the work on a case.
ENDING_STATES = frozenset({State.RESOLVED, State.REJECTED})
# Moves that no path may make while a proposal on the case waits for the
# customer or a manager (``check_proposal_allows``). Ending or closing the
# case would leave the customer an offer to accept on a case that is over.
# Opening or reopening it clears its resolution and starts the work over
# while the offer stands. Proposing another resolution would overwrite the
# offer's resolution code.
MOVES_HELD_BY_PROPOSAL = frozenset(
    {
        *ENDING_STATES,
        State.CLOSED,
        State.OPEN,
        State.REOPENED,
        State.PROPOSED_RESOLUTION,
    }
)


# The case numbering of the current screen's messages. None names the case id.
# The practice sandbox sets it for one request (``numbering_cases``).
_case_numbers: ContextVar[Callable[[int], str] | None] = ContextVar(
    "case_numbers", default=None
)


@contextmanager
def numbering_cases(number_of: Callable[[int], str]) -> Iterator[None]:
    """Make errors raised or shown in this block name cases by ``number_of(id)``."""
    token = _case_numbers.set(number_of)
    try:
        yield
    finally:
        _case_numbers.reset(token)


def shown_case_number(case_id: int) -> str:
    """Return how the current screen names case ``case_id``.

    That is its id, or inside ``numbering_cases`` the number the practice
    sandbox gives it, so labels and messages on one page agree.
    """
    number_of = _case_numbers.get()
    return str(case_id) if number_of is None else number_of(case_id)


class CaseMessage:
    """A message that may name one case, kept as the ``case_id`` field.

    With ``case_id``, ``template`` is a ``str.format`` template: ``{case}`` is
    where the case's number goes, and every other field comes from
    ``values``. The values are inserted once and never read as a template,
    so typed text or an amount is shown as it is. ``str()`` names the case
    by its id, or by the number ``numbering_cases`` gives it, so a page that
    shows the message names the case as the errors do.
    """

    def __init__(
        self, template: str, /, *, case_id: int | None = None, **values: object
    ) -> None:
        self.template = template
        self.case_id = case_id
        self.values = values

    def render(self, case_number: str) -> str:
        """Return the message with ``case_number`` where the case goes."""
        if self.case_id is None:
            return self.template
        return self.template.format(case=case_number, **self.values)

    def __str__(self) -> str:
        if self.case_id is None:
            return self.render("None")
        return self.render(shown_case_number(self.case_id))


class CaseNamingError(ValueError):
    """An error whose message may name one case (``CaseMessage``).

    Pass a ``CaseMessage`` that a helper built, or its template, ``case_id``
    and values. ``str()`` names the case as ``CaseMessage`` does.
    """

    def __init__(
        self,
        message: str | CaseMessage,
        /,
        *,
        case_id: int | None = None,
        **values: object,
    ) -> None:
        if isinstance(message, CaseMessage):
            if case_id is not None or values:
                raise TypeError(
                    "A CaseMessage already carries its case and values: pass "
                    "them to CaseMessage, not to the error."
                )
            self.message = message
        else:
            self.message = CaseMessage(message, case_id=case_id, **values)
        super().__init__(self.message.render(str(self.message.case_id)))

    @property
    def case_id(self) -> int | None:
        """The id of the case the message names, or None."""
        return self.message.case_id

    def __str__(self) -> str:
        return str(self.message)


class CaseError(CaseNamingError):
    """A requested change that the case's state or data does not allow."""


class WriteOffNeedsApproval(CaseError):
    """A write-off above the limit that no manager approved yet.

    The case page shows it with a link to its "Request write-off approval"
    form.
    """


class InvalidTransition(CaseError):
    def __init__(self, case: Discrepancy, requested: str) -> None:
        allowed = ", ".join(TRANSITIONS.get(case.state, ())) or "none"
        super().__init__(
            "Cannot move case {case} from {state} to {requested}: "
            "the allowed next states are {allowed}.",
            case_id=case.pk,
            state=case.state,
            requested=requested,
            allowed=allowed,
        )


def compute_due_at(
    *, severity: str, detected_at: datetime, timezone_name: str
) -> datetime:
    """Return the end of the local day that falls the severity's days after detection.

    The days come from ``RECONCILIATION_CASE_DUE_DAYS``. The day is counted in
    the company's timezone, so a case found late in the evening in Auckland is
    due on the same local date as one found that morning.
    """
    days = settings.RECONCILIATION_CASE_DUE_DAYS[severity]
    zone = ZoneInfo(timezone_name)
    due_day = detected_at.astimezone(zone).date() + timedelta(days=days)
    return datetime.combine(due_day + timedelta(days=1), time.min, tzinfo=zone)


def write_off_limit() -> Decimal:
    """Read ``RECONCILIATION_WRITE_OFF_LIMIT``, an amount in the company currency."""
    raw = settings.RECONCILIATION_WRITE_OFF_LIMIT
    try:
        limit = Decimal(str(raw))
    except InvalidOperation:
        raise ImproperlyConfigured(
            f"RECONCILIATION_WRITE_OFF_LIMIT={raw!r} is not a number: "
            "set it to an amount such as 50.00."
        ) from None
    if limit < 0:
        raise ImproperlyConfigured(
            f"RECONCILIATION_WRITE_OFF_LIMIT={raw!r} is negative: "
            "set it to zero or more."
        )
    return limit


# Permissions


def may_work_case(person: User, case: Discrepancy) -> bool:
    """Return whether ``person`` may move, assign or comment on ``case``.

    Managers work every case. Others work cases of their own role, cases
    assigned to them, and, for a sales rep, cases on their own orders.
    """
    if not person.is_active or person.is_external:
        return False
    if person.role == Role.MANAGER:
        return True
    if person.role == case.owner_role or case.assignee_id == person.pk:
        return True
    if case.order is None:
        return False
    return person.role == Role.SALES_REP and case.order.sales_rep_id == person.pk


# Codes the sales rep of the order decides on the sales decision screen:
# what ships later or is cancelled, a price, and what a customer is offered
# for damaged or missing goods.
SALES_DECIDED_CODES = BACKORDER_CODES | {
    DiscrepancyCode.PRICE_MISMATCH,
    DiscrepancyCode.DAMAGED,
    DiscrepancyCode.NOT_RECEIVED,
}


def may_be_assigned(person: User, case: Discrepancy) -> bool:
    """Return whether ``person`` may take ``case``.

    The case's owner role and the managers may. The sales rep of the case's
    order may take a case that rep decides (``SALES_DECIDED_CODES``).
    """
    if not person.is_active or person.is_external:
        return False
    if person.role in (case.owner_role, Role.MANAGER):
        return True
    return (
        person.role == Role.SALES_REP
        and case.code in SALES_DECIDED_CODES
        and case.order is not None
        and case.order.sales_rep_id == person.pk
    )


def allowed_transitions(person: User, case: Discrepancy) -> tuple[str, ...]:
    """Return the next states ``person`` may move ``case`` to."""
    if not may_work_case(person, case):
        return ()
    return TRANSITIONS.get(case.state, ())


def require_case_worker(person: User, case: Discrepancy) -> None:
    if not may_work_case(person, case):
        raise PermissionDenied(
            f"{person.username} may not work case {case.pk}: it belongs to the "
            f"{case.owner_role} role."
        )


def lock_case(case_id: int) -> Discrepancy:
    """Lock and return the case, or raise ``CaseError`` when there is none."""
    # ``of`` keeps PostgreSQL from also locking the joined order row.
    locked = Discrepancy.objects.select_for_update(of=("self",))
    case = locked.select_related("order").filter(pk=case_id).first()
    if case is None:
        raise CaseError(
            "Case {case} was not found: it may have been deleted. Reload the "
            "case list.",
            case_id=case_id,
        )
    return case


def _check_move(case: Discrepancy, to: str, reason: str) -> None:
    if to not in TRANSITIONS.get(case.state, ()):
        raise InvalidTransition(case, to)
    if to in REASON_REQUIRED and not reason.strip():
        raise CaseError(
            "Moving case {case} to {to} needs a reason.", case_id=case.pk, to=to
        )
    check_proposal_allows(case, to)


def open_proposal(
    case: Discrepancy, *, excluding: ResolutionProposal | None = None
) -> ResolutionProposal | None:
    """Lock and return the case's proposal that waits for a decision, if any.

    ``excluding`` is left out, as the proposal a move is offering.
    """
    rows = ResolutionProposal.objects.select_for_update(of=("self",)).filter(
        case=case, state__in=OPEN_PROPOSAL_STATES
    )
    if excluding is not None:
        rows = rows.exclude(pk=excluding.pk)
    return rows.select_related("credit_note__currency").order_by("pk").first()


def waiting_proposal(case: Discrepancy) -> ResolutionProposal | None:
    """Return the case's proposal that waits for a decision, without a lock.

    Pages use it to leave out the moves it forbids; the services decide
    under the case lock with ``check_proposal_allows``.
    """
    return (
        ResolutionProposal.objects.filter(case=case, state__in=OPEN_PROPOSAL_STATES)
        .select_related("credit_note__currency")
        .order_by("pk")
        .first()
    )


def check_proposal_allows(
    case: Discrepancy, to: str, *, offering: ResolutionProposal | None = None
) -> None:
    """Raise when a waiting proposal forbids moving the locked ``case`` to ``to``.

    This is the one guard of every path that changes a case's state: the
    case page, the work screens, the portal and the approvals call it through
    ``_check_move`` or ``work.move_case``, and the matching pass asks
    ``cases_held_by_proposals`` the same question for its rows. ``offering``
    is the proposal that the move itself offers to the customer, which does
    not count against it.
    """
    if to not in MOVES_HELD_BY_PROPOSAL:
        return
    proposal = open_proposal(case, excluding=offering)
    if proposal is None:
        return
    raise CaseError(open_proposal_message(case, proposal))


def cases_held_by_proposals(case_ids: list[int]) -> dict[int, int]:
    """Return, per case in ``case_ids`` with a waiting proposal, that proposal's id.

    The matching pass calls it for the rows it holds locked, and leaves the
    state of these cases alone (``MOVES_HELD_BY_PROPOSAL``).
    """
    if not case_ids:
        return {}
    wanted = set(case_ids)
    # Few proposals wait at a time, so the id range reads them all without
    # an IN list as long as the pass's share of cases.
    rows = (
        ResolutionProposal.objects.filter(
            state__in=OPEN_PROPOSAL_STATES,
            case_id__gte=min(wanted),
            case_id__lte=max(wanted),
        )
        .order_by("-pk")
        .values_list("case_id", "pk")
    )
    return {case_id: pk for case_id, pk in rows if case_id in wanted}


def open_proposal_message(
    case: Discrepancy,
    proposal: ResolutionProposal,
    *,
    on_decision_screen: bool = False,
) -> CaseMessage:
    """Say which proposal keeps ``case`` open and what to do about it.

    With ``on_decision_screen`` the reader is on the sales decision screen,
    which shows the withdraw button, so the message names that button
    instead of sending the reader to the screen.
    """
    credit_note = proposal.credit_note
    offer = (
        f"credit note {credit_note.number} of "
        f"{invoice_money(credit_note, proposal.amount)}"
        if credit_note is not None
        else f"proposal {proposal.pk}"
    )
    if proposal.state == ResolutionProposal.State.AWAITING_APPROVAL:
        return CaseMessage(
            "Case {case} has {offer} waiting for a manager's approval: wait "
            "for the decision, or ask a manager to reject the approval first.",
            case_id=case.pk,
            offer=offer,
        )
    if on_decision_screen:
        button = (
            f"Withdraw credit note {credit_note.number}"
            if credit_note is not None
            else "Withdraw"
        )
        return CaseMessage(
            "Case {case} already has {offer} waiting for the customer's "
            "answer, so no second credit note can be proposed: withdraw it "
            "with the {button} button on this screen, or wait for the customer.",
            case_id=case.pk,
            offer=offer,
            button=f"“{button}”",
        )
    return CaseMessage(
        "Case {case} has {offer} waiting for the customer's answer: "
        "withdraw the credit note proposal first, on the case's decision "
        "screen, or wait for the customer.",
        case_id=case.pk,
        offer=offer,
    )


def pending_approval_message(
    case: Discrepancy, approval: Approval, action: str
) -> CaseMessage:
    """Say which approval waits on ``case`` and that ``action`` must wait for it."""
    label = (
        str(ResolutionCode(approval.action).label).lower()
        if approval.action in ResolutionCode.values
        else approval.action
    )
    amount = format_money(approval.amount, minor_units=approval.currency.minor_units)
    return CaseMessage(
        "Case {case} has approval {approval} for a {label} of {amount} "
        "{currency} waiting for a manager: you cannot {action} until a "
        "manager decides it.",
        case_id=case.pk,
        approval=approval.pk,
        label=label,
        amount=amount,
        currency=approval.currency_id,
        action=action,
    )


def _snapshot(case: Discrepancy, fields: tuple[str, ...]) -> dict[str, object]:
    values: dict[str, object] = {}
    for name in fields:
        value = getattr(case, name)
        if isinstance(value, datetime):
            value = value.isoformat()
        values[name] = value
    return values


def _save_move(
    case: Discrepancy,
    *,
    actor: User,
    to: str,
    reason: str,
    changes: dict[str, object],
) -> Discrepancy:
    """Apply ``changes`` and the new state, save, and append the audit event."""
    fields = ("state", *changes)
    before = _snapshot(case, fields)
    was_active = case.is_active
    case.state = to
    for name, value in changes.items():
        setattr(case, name, value)
    case.save(update_fields=[*fields, "updated_at"])
    record_event(
        actor=actor,
        action="case.state_changed",
        target=case,
        source=AuditEvent.Source.SCREEN,
        before=before,
        after=_snapshot(case, fields),
        reason=reason,
    )
    check_order_if_case_ended_or_opened(case, was_active=was_active)
    logger.info(
        "Case %s moved from %s to %s by user %s", case.pk, before["state"], to, actor.pk
    )
    return case


def check_order_if_case_ended_or_opened(case: Discrepancy, *, was_active: bool) -> None:
    """Check the case's order after the commit when the case ended or opened again.

    An order is an exception while one of its cases is active
    (``matching._save_order_results``). Without this check, an order whose
    last case was rejected or resolved read "Exception", and one whose case
    was reopened read "Clean", until the next pass. Moves between active
    states, such as assigning the case, change no status and check nothing.
    """
    if case.order_id is None or case.is_active == was_active:
        return
    # Imported here: the matching pass imports this module's callers.
    from reconciliation.matching import check_order_after_commit

    check_order_after_commit(case.order_id)


def _move(*, case_id: int, actor: User, to: str, reason: str) -> Discrepancy:
    with transaction.atomic():
        case = lock_case(case_id)
        require_case_worker(actor, case)
        _check_move(case, to, reason)
        return _save_move(case, actor=actor, to=to, reason=reason, changes={})


# Transitions


def assign_case(
    *, case_id: int, actor: User, assignee: User, reason: str = ""
) -> Discrepancy:
    """Give the case to ``assignee``; an unassigned case becomes ``assigned``."""
    with transaction.atomic():
        case = lock_case(case_id)
        require_case_worker(actor, case)
        if not may_be_assigned(assignee, case):
            raise CaseError(
                "{username} cannot be assigned case {case}: the "
                "assignee must have the {role} role or be a manager.",
                case_id=case.pk,
                username=assignee.username,
                role=case.owner_role,
            )
        if case.state in REASSIGNABLE_STATES:
            return _reassign(case, actor=actor, assignee=assignee, reason=reason)

        _check_move(case, State.ASSIGNED, reason)
        return _save_move(
            case,
            actor=actor,
            to=State.ASSIGNED,
            reason=reason,
            changes={"assignee_id": assignee.pk},
        )


def _reassign(
    case: Discrepancy, *, actor: User, assignee: User, reason: str
) -> Discrepancy:
    before = {"assignee_id": case.assignee_id}
    case.assignee = assignee
    case.save(update_fields=["assignee", "updated_at"])
    record_event(
        actor=actor,
        action="case.assigned",
        target=case,
        source=AuditEvent.Source.SCREEN,
        before=before,
        after={"assignee_id": assignee.pk},
        reason=reason,
    )
    logger.info("Case %s assigned to user %s by %s", case.pk, assignee.pk, actor.pk)
    return case


def hand_shortage_to_sales(*, case_id: int, actor: User) -> Discrepancy:
    """Give a short-shipment case that the warehouse reported to the sales rep.

    The warehouse worker reports the shortage, and the sales rep decides
    what happens to the missing units (backorder, cancellation or credit).
    So the case's owner role becomes sales rep, and the order's sales rep is
    assigned when the order has an active one. Then ``notices`` notifies the
    order's sales rep, or every active sales rep when the order has none.
    Any other case, or one that is no longer active, is returned unchanged.
    """
    from reconciliation import notices

    with transaction.atomic():
        case = lock_case(case_id)
        if case.code != DiscrepancyCode.SHORT_SHIP or not case.is_active:
            return case
        rep = _order_sales_rep(case)
        changes: dict[str, object] = {}
        if case.owner_role != Role.SALES_REP:
            changes["owner_role"] = Role.SALES_REP
        if rep is not None and case.assignee_id is None:
            changes["assignee_id"] = rep.pk
        if not changes:
            # Already handed over, so there is no change to record or notify.
            return case
        reason = "The sales rep decides what happens to the missing units."
        moves_to_assigned = State.ASSIGNED in TRANSITIONS.get(case.state, ())
        if moves_to_assigned and "assignee_id" in changes:
            _save_move(
                case, actor=actor, to=State.ASSIGNED, reason=reason, changes=changes
            )
        else:
            fields = tuple(changes)
            before = _snapshot(case, fields)
            for name, value in changes.items():
                setattr(case, name, value)
            case.save(update_fields=[*fields, "updated_at"])
            record_event(
                actor=actor,
                action="case.assigned",
                target=case,
                source=AuditEvent.Source.SCREEN,
                before=before,
                after=_snapshot(case, fields),
                reason=reason,
            )
        notices.decision_needed(case, rep=rep, actor=actor)
    logger.info("Case %s handed to the sales rep by user %s", case.pk, actor.pk)
    return case


def _order_sales_rep(case: Discrepancy) -> User | None:
    """Return the order's sales rep when they are active and still a sales rep."""
    if case.order is None or case.order.sales_rep_id is None:
        return None
    rep = User.objects.filter(
        pk=case.order.sales_rep_id, is_active=True, role=Role.SALES_REP
    ).first()
    return rep


def start_case(*, case_id: int, actor: User, reason: str = "") -> Discrepancy:
    """Move the case to ``in_progress``; an unassigned case goes to ``actor``."""
    with transaction.atomic():
        case = lock_case(case_id)
        require_case_worker(actor, case)
        _check_move(case, State.IN_PROGRESS, reason)
        changes: dict[str, object] = {}
        if case.assignee_id is None:
            if not may_be_assigned(actor, case):
                raise CaseError(
                    "{username} cannot take case {case}: assign it to a "
                    "person with the {role} role first.",
                    case_id=case.pk,
                    username=actor.username,
                    role=case.owner_role,
                )
            changes["assignee_id"] = actor.pk
        return _save_move(
            case, actor=actor, to=State.IN_PROGRESS, reason=reason, changes=changes
        )


def wait_for_customer(*, case_id: int, actor: User, reason: str) -> Discrepancy:
    return _move(case_id=case_id, actor=actor, to=State.WAITING_CUSTOMER, reason=reason)


def wait_internally(*, case_id: int, actor: User, reason: str) -> Discrepancy:
    return _move(case_id=case_id, actor=actor, to=State.WAITING_INTERNAL, reason=reason)


def escalate_case(*, case_id: int, actor: User, reason: str) -> Discrepancy:
    return _move(case_id=case_id, actor=actor, to=State.ESCALATED, reason=reason)


def reject_case(*, case_id: int, actor: User, reason: str) -> Discrepancy:
    """Mark the finding as not a real discrepancy, for the reason given.

    Rejecting a duplicate-invoice case means the invoice is not a duplicate,
    so its hold is lifted (``duplicates.keep_invoice``).
    """
    with transaction.atomic():
        case = lock_case(case_id)
        require_case_worker(actor, case)
        _check_move(case, State.REJECTED, reason)
        rejected = _save_move(
            case, actor=actor, to=State.REJECTED, reason=reason, changes={}
        )
        if decides_invoice(case):
            _decide_duplicate(
                case, lambda: keep_invoice(case, actor=actor, reason=reason)
            )
        return rejected


def _decide_duplicate(
    case: Discrepancy, decide: Callable[[], DuplicateDecision | None]
) -> DuplicateDecision | None:
    """Run ``decide`` on the case's invoice with the order locked first.

    The order's figures are derived again, and the move that decided the
    case checks the order after the commit (``_save_move``), so a lifted
    hold or a cancelled copy shows at once.
    """
    if case.order_id is not None:
        lock_documents({SalesOrder: [case.order_id]})
    decision = decide()
    if decision is not None and case.order_id is not None:
        refresh_order(order=SalesOrder.objects.get(pk=case.order_id))
    return decision


def close_case(*, case_id: int, actor: User, reason: str = "") -> Discrepancy:
    return _move(case_id=case_id, actor=actor, to=State.CLOSED, reason=reason)


def _check_resolution(case: Discrepancy, resolution_code: str, note: str) -> None:
    if resolution_code not in ResolutionCode.values:
        allowed = ", ".join(ResolutionCode.values)
        raise CaseError(
            f"Resolution code {resolution_code!r} is not valid: use one of {allowed}."
        )
    if not note.strip():
        raise CaseError(
            "Resolving case {case} needs a resolution note.", case_id=case.pk
        )
    if resolution_code == ResolutionCode.DUPLICATE_CANCELLED and decides_invoice(case):
        _check_not_an_original(case)
    if (
        resolution_code == ResolutionCode.CANCEL_REMAINDER
        and case.code in BACKORDER_CODES
        and case.order_line_id is not None
    ):
        # The code alone would leave the rest of the line shippable.
        raise CaseError(
            "Case {case}: cancel the rest on the sales decision screen, where "
            "the order's sales rep records the cancelled units so that they "
            "can no longer ship.",
            case_id=case.pk,
        )


def _check_not_an_original(case: Discrepancy) -> None:
    """Refuse to cancel an invoice that a later invoice repeats.

    A customer may report the first of two invoices as the duplicate.
    Cancelling it would leave the copy owed and take the original off the
    books, so the copy is named and the person decides its case instead.
    """
    if case.invoice_id is None:
        return
    invoice = Invoice.objects.select_related("customer").get(pk=case.invoice_id)
    copy = first_copy_of(invoice)
    if copy is None:
        return
    raise CaseError(
        "Invoice {invoice} is the original: invoice {copy} repeats its "
        "reference {reference!r}. Cancel invoice {copy} as the duplicate, and "
        'resolve case {case} "Accepted as is" or reject it.',
        case_id=case.pk,
        invoice=invoice.number,
        copy=copy.number,
        reference=copy.reference,
    )


def propose_resolution(
    *, case_id: int, actor: User, resolution_code: str, note: str
) -> Discrepancy:
    """Record the resolution a person proposes, for the customer or a colleague."""
    with transaction.atomic():
        case = lock_case(case_id)
        require_case_worker(actor, case)
        _check_move(case, State.PROPOSED_RESOLUTION, note)
        _check_resolution(case, resolution_code, note)
        return _save_move(
            case,
            actor=actor,
            to=State.PROPOSED_RESOLUTION,
            reason=note,
            changes={"resolution_code": resolution_code, "resolution_note": note},
        )


def resolve_case(
    *, case_id: int, actor: User, resolution_code: str, note: str
) -> Discrepancy:
    """Resolve the case with a resolution code and a note.

    A write-off worth more than ``RECONCILIATION_WRITE_OFF_LIMIT`` in the
    company currency needs an approved write-off approval for at least the
    amount, decided by someone else.
    """
    with transaction.atomic():
        case = lock_case(case_id)
        require_case_worker(actor, case)
        _check_move(case, State.RESOLVED, note)
        _check_resolution(case, resolution_code, note)
        return _resolve_locked(
            case,
            actor=actor,
            resolution_code=resolution_code,
            note=note,
            resolved_by=actor,
        )


def finish_approved_write_off(
    case: Discrepancy, *, approver: User, approval: Approval
) -> Discrepancy:
    """Book an approved write-off and resolve the locked ``case`` with it.

    The manager's approval is the second pair of eyes, so the case needs
    no second resolution. The case counts as resolved by the requester,
    whose work it is, and the audit events name the approver. A case that
    is not in progress is first moved there, with its own audit event.
    """
    note = (
        f"Write-off approved by {approver.display_name} (approval {approval.pk}): "
        f"{approval.request_reason}"
    )
    if State.RESOLVED not in TRANSITIONS.get(case.state, ()):
        _check_move(case, State.IN_PROGRESS, note)
        _save_move(case, actor=approver, to=State.IN_PROGRESS, reason=note, changes={})
    _check_move(case, State.RESOLVED, note)
    return _resolve_locked(
        case,
        actor=approver,
        resolution_code=ResolutionCode.WRITE_OFF,
        note=note,
        resolved_by=approval.requested_by,
    )


def _resolve_locked(
    case: Discrepancy,
    *,
    actor: User,
    resolution_code: str,
    note: str,
    resolved_by: User,
) -> Discrepancy:
    """Resolve the locked ``case``, booking a write-off first when it is one."""
    booked = False
    if resolution_code == ResolutionCode.WRITE_OFF:
        _check_write_off_approved(case)
        # Lock the order before the invoice, as every writer of these rows
        # does. The refresh below locks the order, and a customer accepting
        # a credit note holds the order while it waits for the invoice.
        lock_documents({SalesOrder: [case.order_id]})
        booked = _book_write_off(case, actor=actor, note=note)

    now = timezone.now()
    changes: dict[str, object] = {
        "resolution_code": resolution_code,
        "resolution_note": note,
        "resolved_at": now,
        "resolved_by_id": resolved_by.pk,
        "resolution_seconds": int((now - case.created_at).total_seconds()),
    }
    resolved = _save_move(
        case, actor=actor, to=State.RESOLVED, reason=note, changes=changes
    )
    if decides_invoice(case) and resolution_code in DUPLICATE_DECISIONS:
        if resolution_code == ResolutionCode.DUPLICATE_CANCELLED:
            _decide_duplicate(
                case, lambda: cancel_or_credit(case, actor=actor, note=note)
            )
        else:
            _decide_duplicate(
                case, lambda: keep_invoice(case, actor=actor, reason=note)
            )
        return resolved
    if booked and case.order is not None:
        # The order is checked after the commit (``_save_move``).
        refresh_order(order=case.order)
    return resolved


def _book_write_off(case: Discrepancy, *, actor: User, note: str) -> bool:
    """Write the case's money difference off its invoice, on the latest payment.

    Return False when the invoice has nothing open, as for a case about
    quantities; raise ``CaseError`` when there is money open but no payment to
    book it on, because only a credit note can settle an unpaid invoice.
    """
    if case.invoice_id is None:
        return False
    invoice = lock_case_invoice(case)
    residual = invoice.amount_residual
    if residual == 0:
        return False
    check_money_case(case, invoice)
    allocation = (
        # The reversal test is an outer join, which PostgreSQL cannot lock.
        Allocation.objects.select_for_update(of=("self",))
        .filter(invoice=invoice, reverses__isnull=True, reversal__isnull=True)
        .order_by("-pk")
        .first()
    )
    if allocation is None:
        raise CaseError(
            f"Invoice {invoice.number} has no payment to write the rest off "
            "against: propose a credit note instead, or resolve the case with "
            "another code."
        )
    amount = min(write_off_amount(case), abs(residual))
    if residual < 0:
        amount = -amount
    else:
        check_write_off_room(invoice, amount)
    before = allocation.writeoff_state()
    allocation.book_write_off(amount)
    allocation.writeoff_reason = f"Written off on case {case.pk}: {note}"[:120]
    allocation.save(
        update_fields=["writeoff_forgiven", "writeoff_kept", "writeoff_reason"]
    )
    record_event(
        actor=actor,
        action="allocation.written_off",
        target=allocation,
        source=AuditEvent.Source.SCREEN,
        before=before,
        after={**allocation.writeoff_state(), "case": case.pk},
        reason=note,
    )
    return True


def lock_case_invoice(case: Discrepancy) -> Invoice:
    """Lock and return the case's invoice, the row that credit notes lock too."""
    # ``of`` keeps PostgreSQL from also locking the joined currency row.
    locked = Invoice.objects.select_for_update(of=("self",))
    return locked.select_related("currency").get(pk=case.invoice_id or 0)


def check_write_off_room(invoice: Invoice, amount: Decimal) -> None:
    """Raise unless writing ``amount`` off the locked ``invoice`` leaves it whole.

    Credit notes, the drafts of open proposals and earlier write-offs count
    with it against the invoice total. A draft credit note settles the open
    amount first when the customer accepts it. So a write-off may take only
    what the drafts leave open, because the customer would otherwise be
    forgiven the same money twice.
    """
    credit = credit_on_invoice(invoice)
    message = over_invoice_total(invoice, credit, amount=amount, action="write-off")
    if message is not None:
        raise CaseError(message)

    left_open = invoice.amount_residual - credit.proposed
    if amount <= left_open:
        return
    # A write-off takes the case's whole difference; the clerk cannot ask
    # for less, so the step is to settle the proposals first.
    next_step = (
        "wait for the customer's answer to the proposal, or withdraw it "
        "before writing off."
    )
    raise CaseError(
        f"Invoice {invoice.number} totals "
        f"{invoice_money(invoice, invoice.amount_total)} and has "
        f"{invoice_money(invoice, invoice.amount_residual)} open, and open "
        f"proposals offer {invoice_money(invoice, credit.proposed)} of credit "
        "on it, which settles the open amount first when the customer accepts. "
        f"A write-off of {invoice_money(invoice, amount)} would forgive that "
        f"money twice: {next_step}"
    )


def write_off_amount(case: Discrepancy) -> Decimal:
    """Return the money a write-off would forgive: the size of the difference."""
    if case.difference is None or case.invoice_id is None:
        raise CaseError(
            "Case {case} has no money difference on an invoice to write off.",
            case_id=case.pk,
        )
    return abs(case.difference)


def measures_money(case: Discrepancy, invoice: Invoice) -> bool:
    """Return whether the case's difference is in a currency, not a unit."""
    if case.unit == invoice.currency_id:
        return True
    return Currency.objects.filter(pk=case.unit).exists()


def check_money_case(case: Discrepancy, invoice: Invoice) -> None:
    """Raise unless the case's difference is money, not a quantity.

    A case about goods stores its difference in the product's unit, and
    writing 200 units off as 200.00 would forgive money that the customer
    does not owe.
    """
    if measures_money(case, invoice):
        return
    raise CaseError(
        "Case {case} measures its difference in {unit}, not in money, "
        "so there is no money to write off: propose a credit note or resolve "
        "the case with another code.",
        case_id=case.pk,
        unit=case.unit,
    )


def _check_write_off_approved(case: Discrepancy) -> None:
    amount = write_off_amount(case)
    limit = write_off_limit()
    invoice = case_invoice(case)
    if not measures_money(case, invoice):
        # No money is booked for a quantity: ``_book_write_off`` books
        # nothing when the invoice has nothing open, and rejects it otherwise.
        return
    if in_company_currency(invoice, amount, limit_name="write-off limit") <= limit:
        return
    approved = Approval.objects.filter(
        case=case,
        action=ResolutionCode.WRITE_OFF,
        decision=Approval.Decision.APPROVED,
        amount__gte=amount,
    ).exists()
    if not approved:
        amount_text, limit_text = write_off_and_limit_text(case, invoice, amount, limit)
        raise WriteOffNeedsApproval(
            "A write-off of {amount} on case {case} is above the {limit} "
            "limit: request an approval and wait for a manager to approve it.",
            case_id=case.pk,
            amount=amount_text,
            limit=limit_text,
        )


def case_invoice(case: Discrepancy) -> Invoice:
    """Return the case's invoice with its currency and company, for limit checks."""
    related = ("currency", "company__base_currency")
    return Invoice.objects.select_related(*related).get(pk=case.invoice_id or 0)


def in_company_currency(
    invoice: Invoice, amount: Decimal, *, limit_name: str
) -> Decimal:
    """Convert ``amount`` in the invoice's currency to the company currency.

    The rate is ``Invoice.fx_rate``, the company currency per unit of the
    invoice currency on the invoice date. The credit limit and the write-off
    limit are both amounts in the company currency, so both convert this way.
    Raise ``CaseError`` naming ``limit_name`` when a foreign invoice has no rate.
    """
    if invoice.currency_id == invoice.company.base_currency_id:
        return amount
    if invoice.fx_rate is None:
        raise CaseError(
            f"Invoice {invoice.number} in {invoice.currency_id} has no exchange "
            f"rate, so the {limit_name} cannot be checked: ask finance to set it."
        )
    return amount * invoice.fx_rate


def write_off_and_limit_text(
    case: Discrepancy, invoice: Invoice, amount: Decimal, limit: Decimal
) -> tuple[str, str]:
    """Return a write-off and the limit as text, such as ``83.63 USD`` and ``50.00``.

    A write-off in a foreign currency also shows its value in the company
    currency, and the limit then names that currency, as in ``49.999 BHD
    (132.98 USD)`` and ``50.00 USD``.
    """
    amount_text = (
        f"{format_money(amount, minor_units=invoice.currency.minor_units)} {case.unit}"
    )
    base = invoice.company.base_currency
    if invoice.currency_id == base.pk:
        return amount_text, str(limit)
    in_company = in_company_currency(invoice, amount, limit_name="write-off limit")
    converted = format_money(in_company, minor_units=base.minor_units)
    return f"{amount_text} ({converted} {base.pk})", f"{limit} {base.pk}"


def reopen_case(*, case_id: int, actor: User, reason: str) -> Discrepancy:
    """Reopen a resolved, closed or rejected case and count the reopen.

    Reopening undoes the case's decision, so the units its "Cancel the
    rest" cancelled are reversed and open to ship again, with an audit event
    per line. The next check of the order then finds the line short again.
    """
    with transaction.atomic():
        case = lock_case(case_id)
        require_case_worker(actor, case)
        _check_move(case, State.REOPENED, reason)
        changes: dict[str, object] = {
            "resolved_at": None,
            "resolved_by_id": None,
            "resolution_code": "",
            "resolution_note": "",
            "reopen_count": case.reopen_count + 1,
        }
        reopened = _save_move(
            case, actor=actor, to=State.REOPENED, reason=reason, changes=changes
        )
        if decides_invoice(case):
            _decide_duplicate(
                case, lambda: undo_decision(case, actor=actor, reason=reason)
            )
        if case.order_id is not None and _has_live_cancellation(case):
            # The order after the case, as a write-off booked on resolving
            # does; the check itself waits for the commit.
            lock_documents({SalesOrder: [case.order_id]})
            reverse_case_cancellations(case, actor=actor, reason=reason)
            # The order is checked after the commit (``_save_move``).
            refresh_order(order=SalesOrder.objects.get(pk=case.order_id))
        return reopened


def _has_live_cancellation(case: Discrepancy) -> bool:
    return LineCancellation.objects.filter(case=case, reversed_at__isnull=True).exists()


# Comments


def add_comment(*, case_id: int, author: User, body: str) -> CaseComment:
    """Append a comment to the case's internal thread."""
    text = body.strip()
    if not text:
        raise CaseError("A comment needs some text.")
    if len(text) > MAX_COMMENT_LENGTH:
        raise CaseError(
            f"A comment is at most {MAX_COMMENT_LENGTH} characters; "
            f"this one has {len(text)}."
        )

    with transaction.atomic():
        case = lock_case(case_id)
        require_case_worker(author, case)
        comment = CaseComment.objects.create(
            case=case, author=author, author_name=author.display_name, body=text
        )
        record_event(
            actor=author,
            action="case.commented",
            target=case,
            source=AuditEvent.Source.SCREEN,
            after={"comment_id": comment.pk, "body": text},
        )
    logger.info(
        "Comment %s added to case %s by user %s", comment.pk, case_id, author.pk
    )
    return comment
