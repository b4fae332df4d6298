"""Ask from here: a question asked on a CRM screen, routed to its super-users.

A customer's question from a portal screen goes to the people who serve
that customer: the sales representatives on the order and the customer
account, and the super-users of the CRM function the screen concerns
(``PORTAL_FUNCTIONS``). Everyone notified must be able to open the question.
``docs/asking.md`` describes the routing and the confirmation the asker reads.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from accounts.models import CrmFunction, SuperUserAssignment, User
from accounts.selectors import visible_people
from answers.models import Answer, Question
from answers.selectors import visible_questions
from answers.services import create_question
from answers.services.questions import recent_duplicate
from assist.contexts import may_ask_from
from assist.models import Availability, HelpContext, QuestionEscalation
from assist.records import HelpRecord, RecordKind, parse_record, visible_record
from assist.selectors import UnknownContextError, context_chain, live_statuses
from communities.models import Community, Membership
from communities.selectors import community_for_question
from core.audit import record_event
from core.models import AuditEvent
from core.text import clean_line
from notifications.models import Notification
from notifications.services import notify
from reconciliation.models import Party, SalesOrder

logger = logging.getLogger(__name__)


def _recent_duplicate(
    *, asker: User, title: str, context_key: str, record: HelpRecord
) -> Question | None:
    return recent_duplicate(
        asker=asker,
        title=title,
        context_key=context_key,
        record_kind=record.kind,
        record_ref=record.ref,
    )


# The CRM function whose super-users answer a question asked from a portal
# screen, which declares none of its own: the statement is about payments,
# the order page about the order, and the rest about a problem or its case.
PORTAL_FUNCTIONS = {
    "portal": "disputes",
    "portal.order": "order_entry",
    "portal.statement": "payments",
    "portal.problem": "disputes",
    "portal.case": "disputes",
}


@dataclass(frozen=True)
class Recipient:
    """A person a question was routed to, and the reason shown to the asker."""

    person: User
    reason: str
    # Whether the asker may see this person's name; else only the reason shows.
    named: bool = True
    # A super-user's status in force ("available", "busy", "away"), or "".
    status: str = ""
    super_user: bool = False

    @property
    def label(self) -> str:
        if not self.named:
            return self.reason
        return f"{self.person.display_name} ({self.reason})"


@dataclass(frozen=True)
class AskOutcome:
    """A posted question and the people notified of it, in routing order."""

    question: Question
    notified: list[Recipient]
    repeated: bool = False

    @property
    def no_super_user_available(self) -> bool:
        """Whether super-users were notified and none of them is available now."""
        super_users = [person for person in self.notified if person.super_user]
        return bool(super_users) and not any(
            person.status == Availability.Status.AVAILABLE for person in super_users
        )


def routing_function(chain: list[HelpContext]) -> CrmFunction | None:
    """Return the CRM function whose super-users take questions from ``chain``.

    The most specific context with a function decides; a portal screen,
    which has none, uses ``PORTAL_FUNCTIONS``.
    """
    function = next((item.crm_function for item in chain if item.crm_function), None)
    if function is not None:
        return function
    slug = next(
        (PORTAL_FUNCTIONS[item.key] for item in chain if item.key in PORTAL_FUNCTIONS),
        None,
    )
    return CrmFunction.objects.filter(slug=slug).first() if slug else None


def _account_representatives(
    asker: User, order: SalesOrder | None
) -> list[tuple[User, str]]:
    """Return the sales representatives who serve the asker's company.

    The order's representative comes first, then the customer account's
    (``Party.sales_rep``), then its commercial partner's.
    """
    found: list[tuple[User, str]] = []
    if asker.customer_id is None:
        return found
    if order is not None and order.sales_rep is not None:
        found.append((order.sales_rep, f"the sales representative for {order.number}"))
    party = (
        Party.objects.select_related("sales_rep", "parent__sales_rep")
        .filter(pk=asker.customer_id)
        .first()
    )
    if party is None:
        return found
    if party.sales_rep is not None:
        found.append((party.sales_rep, "your account's sales representative"))
    if party.parent is not None and party.parent.sales_rep is not None:
        found.append((party.parent.sales_rep, "your account's sales representative"))
    return found


def _recipients(
    *,
    asker: User,
    question: Question,
    function: CrmFunction | None,
    order: SalesOrder | None,
) -> list[Recipient]:
    """Return who hears of ``question``: the customer's people, then super-users.

    Only active employees who may open the question are kept, each once. A
    customer reads only the names of staff visible to customers. When one
    or more of the super-users are available now (``live_statuses``), only
    they are notified; when none is, all of them are, to read it when they
    are back, and the confirmation says so.
    """
    candidates: list[tuple[User, str, bool]] = []
    if asker.is_external:
        candidates += [
            (person, reason, False)
            for person, reason in _account_representatives(asker, order)
        ]
    if function is not None:
        super_users = (
            User.objects.listed()
            .filter(super_user_assignments__crm_function=function)
            .order_by("first_name", "last_name", "pk")
        )
        candidates += [
            (person, f"a super-user for {function.name}", True)
            for person in super_users
        ]

    named_ids = set(visible_people(asker).values_list("pk", flat=True))
    statuses = live_statuses(
        [person.pk for person, _, is_super in candidates if is_super]
    )
    chosen: list[Recipient] = []
    seen = {asker.pk}
    for person, reason, is_super in candidates:
        if person.pk in seen or not person.is_active or person.is_external:
            continue
        seen.add(person.pk)
        if not visible_questions(person).filter(pk=question.pk).exists():
            continue
        chosen.append(
            Recipient(
                person,
                reason,
                named=person.pk in named_ids,
                status=statuses.get(person.pk, "") if is_super else "",
                super_user=is_super,
            )
        )
    available = Availability.Status.AVAILABLE
    if any(r.super_user and r.status == available for r in chosen):
        chosen = [r for r in chosen if not r.super_user or r.status == available]
    return chosen


def _notified_before(question: Question, asker: User) -> list[Recipient]:
    """Return who was notified of ``question`` when it was first asked."""
    people = User.objects.filter(
        notifications__subject_key=f"question:{question.pk}",
        notifications__kind=Notification.Kind.QUESTION_ROUTED,
    ).order_by("first_name", "last_name", "pk")
    named_ids = set(visible_people(asker).values_list("pk", flat=True))
    return [
        Recipient(person, "notified earlier", named=person.pk in named_ids)
        for person in people
    ]


def _checked_record(asker: User, record: HelpRecord) -> Any | None:
    """Return the row ``record`` names, or raise if ``asker`` may not see it.

    The record's kind decides the visibility rule (``assist.records``). A
    record that does not exist gets the same message as a hidden one, so the
    message does not tell which numbers exist.
    """
    if not record:
        return None
    row = visible_record(asker, record)
    if row is None:
        kind = RecordKind(record.kind).label
        advice = (
            "ask from the order's own page"
            if record.kind == RecordKind.ORDER
            else "ask from a screen that shows it to you, or ask without it"
        )
        raise ValidationError(
            f"{kind} {record.ref!r} is not among the {kind.lower()}s you can "
            f"see: {advice}."
        )
    return row


@transaction.atomic
def ask_and_route(
    *,
    asker: User,
    context_key: str,
    title: str,
    body: str,
    record_ref: str = "",
    record_kind: str = "",
) -> AskOutcome:
    """Post a question carrying the screen's context and notify who serves it.

    An employee's question goes to the super-users of the screen's CRM
    function. A customer's also goes to the sales representatives who serve
    the customer (``_account_representatives``). ``record_ref`` without a
    ``record_kind`` is an order number. Raises ``UnknownContextError`` for
    an undeclared key, ``ValidationError`` for an unknown record kind, a
    record the asker may not see or an empty title, and ``LookupError``
    when no community takes the question. The same question asked again
    within ``answers.services.questions.DUPLICATE_WINDOW`` returns the
    first, notifying nobody again. A customer asking from a context that no
    portal screen declares gets ``UnknownContextError`` too, as for a key
    nobody declares.
    """
    if asker.is_external and not may_ask_from(context_key, external=True):
        raise UnknownContextError(context_key)
    chain = context_chain(context_key)
    context = chain[0]
    function = routing_function(chain)
    record = parse_record(clean_line(record_kind), clean_line(record_ref))
    row = _checked_record(asker, record)
    order = row if isinstance(row, SalesOrder) else None
    # An employee's question lands in the community of the screen's own
    # function; a portal screen's function only routes it.
    screen_function = next(
        (item.crm_function for item in chain if item.crm_function), None
    )
    community = community_for_question(asker=asker, crm_function=screen_function)

    repeated = _recent_duplicate(
        asker=asker, title=title, context_key=context.key, record=record
    )
    if repeated is not None:
        logger.info("question asked twice, kept the first: question=%s", repeated.pk)
        return AskOutcome(repeated, _notified_before(repeated, asker), repeated=True)

    question = create_question(
        author=asker,
        community=community,
        title=title,
        body=body,
        context=context,
        record_kind=record.kind,
        record_ref=record.ref,
        customer=asker.customer if asker.is_external else None,
    )

    recipients = _recipients(
        asker=asker, question=question, function=function, order=order
    )
    _notify_recipients(asker, question, record, recipients)
    logger.info(
        "question asked from context: question=%s context=%s community=%s notified=%s",
        question.pk,
        context.key,
        community.slug,
        len(recipients),
    )
    return AskOutcome(question, recipients)


def _notify_recipients(
    asker: User, question: Question, record: HelpRecord, recipients: list[Recipient]
) -> None:
    """Notify ``recipients``; only those who may see the record read its number."""
    people = [recipient.person for recipient in recipients]
    record_readers = (
        [person for person in people if visible_record(person, record) is not None]
        if record
        else []
    )
    reader_ids = {person.pk for person in record_readers}
    groups = [
        (record_readers, f" on {record.label}" if record else ""),
        ([person for person in people if person.pk not in reader_ids], ""),
    ]
    for group, where in groups:
        if not group:
            continue
        notify(
            recipients=group,
            kind=Notification.Kind.QUESTION_ROUTED,
            actor=asker,
            message=f"{asker.display_name} asked{where}: {question.title}",
            url=f"/questions/{question.pk}/",
            subject_key=f"question:{question.pk}",
        )


def ask_from_context(
    *,
    asker: User,
    context_key: str,
    title: str,
    body: str,
    record_ref: str = "",
    record_kind: str = "",
) -> Question:
    """Post and route a question as ``ask_and_route`` does; return the question."""
    return ask_and_route(
        asker=asker,
        context_key=context_key,
        title=title,
        body=body,
        record_ref=record_ref,
        record_kind=record_kind,
    ).question


@transaction.atomic
def set_availability(
    *, person: User, status: str, hours: int | None = None
) -> Availability:
    """Record whether a super-user can take questions now, and for how long.

    Only super-users have a status: it is shown beside their name in the
    help panel. Without ``hours`` it holds for ``HELP_AVAILABILITY_HOURS``.
    """
    if not SuperUserAssignment.objects.filter(person=person).exists():
        raise PermissionDenied(
            "Only super-users show an availability: ask a manager to name you "
            "super-user for a CRM function first."
        )
    if status not in Availability.Status.values:
        raise ValidationError(
            f"Unknown status {status!r}: choose available, busy or away."
        )
    until = timezone.now() + timedelta(hours=hours) if hours else None
    availability, _ = Availability.objects.update_or_create(
        person=person, defaults={"status": status, "until": until}
    )
    return availability


def _unanswered_since(cutoff: datetime) -> QuerySet[Question]:
    """Return screen questions older than ``cutoff`` with no live answer.

    A deleted answer leaves a placeholder row, which answers nothing.
    """
    live_answers = Answer.objects.filter(
        question=OuterRef("pk"), deleted_at__isnull=True
    )
    return Question.objects.filter(
        context__isnull=False,
        created_at__lte=cutoff,
        escalation__isnull=True,
        duplicate_of__isnull=True,
    ).exclude(Exists(live_answers))


def escalate_unanswered_questions(*, now: datetime | None = None) -> list[int]:
    """Tell each community about its screen questions nobody answered in time.

    A question asked from a CRM screen first goes to the function's
    super-users. When it has no answer ``ASK_ESCALATE_AFTER_MINUTES`` later,
    the community's members who work in that CRM function are told (for a
    customer's question, the function's open community: see
    ``escalation_community``), at
    most ``ASK_ESCALATION_MAX_RECIPIENTS`` of them (longest-standing members
    first); members of other functions are not, so a large community is not
    flooded. Each question is escalated once: running this again, or twice
    at the same time, tells nobody twice. Returns the escalated question ids.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.ASK_ESCALATE_AFTER_MINUTES)
    escalated: list[int] = []
    for question_id in (
        _unanswered_since(cutoff)
        .order_by("created_at", "id")
        .values_list("pk", flat=True)
    ):
        if _escalate_one(question_id, cutoff):
            escalated.append(question_id)
    return escalated


@transaction.atomic
def _escalate_one(question_id: int, cutoff: datetime) -> bool:
    """Escalate one question under a row lock; return False when already done."""
    question = (
        _unanswered_since(cutoff)
        .select_for_update(of=("self",))
        .select_related("community", "context")
        .filter(pk=question_id)
        .first()
    )
    if question is None:
        return False
    escalation, created = QuestionEscalation.objects.get_or_create(question=question)
    if not created:
        return False

    chain = context_chain(question.context.key) if question.context else []
    crm_function = routing_function(chain)
    community = escalation_community(question, crm_function)
    # Customer accounts get no notification, because the question may be
    # another company's and the escalation asks colleagues for help.
    memberships = Membership.objects.filter(
        community=community,
        person__is_active=True,
        person__customer__isnull=True,
    ).exclude(person_id=question.author_id)
    if crm_function is not None:
        memberships = memberships.filter(person__crm_functions=crm_function).exclude(
            person__super_user_assignments__crm_function=crm_function
        )
    recipients = [
        membership.person
        for membership in memberships.select_related("person").order_by(
            "joined_at", "pk"
        )[: settings.ASK_ESCALATION_MAX_RECIPIENTS]
    ]

    notify(
        recipients=recipients,
        kind=Notification.Kind.QUESTION_ESCALATED,
        actor=None,
        message=f"No answer yet, can you help? {question.title}",
        url=f"/questions/{question.pk}/",
        subject_key=f"question-escalated:{question.pk}",
    )
    escalation.notified_count = len(recipients)
    escalation.save(update_fields=["notified_count"])
    record_event(
        actor=None,
        action="question.escalated",
        target=question,
        source=AuditEvent.Source.SYSTEM,
        after={"community": community.slug, "notified": len(recipients)},
        reason=f"no answer within {settings.ASK_ESCALATE_AFTER_MINUTES} minutes",
    )
    logger.info(
        "question escalated to its community: question=%s community=%s notified=%s",
        question.pk,
        community.slug,
        len(recipients),
    )
    return True


def escalation_community(
    question: Question, crm_function: CrmFunction | None
) -> Community:
    """Return the community whose members hear of an unanswered question.

    An employee's question is escalated in its own community. A customer's
    question lives in a customer community with few staff members. So it
    goes to the open community of the function the portal screen concerns,
    or stays in its own when that function has none.
    """
    if question.customer_id is None or crm_function is None:
        return question.community
    function_community = (
        Community.objects.filter(
            visibility=Community.Visibility.OPEN, crm_functions=crm_function
        )
        .order_by("id")
        .first()
    )
    return function_community or question.community
