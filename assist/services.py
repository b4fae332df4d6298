"""Ask from here: a question asked on a CRM screen, routed to its super-users."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from accounts.models import SuperUserAssignment, User
from answers.models import Answer, Question
from answers.services import create_question
from assist.models import Availability, QuestionEscalation
from assist.selectors import context_chain
from communities.models import Membership
from communities.selectors import community_for_question
from core.audit import record_event
from core.models import AuditEvent
from core.text import clean_line
from notifications.models import Notification
from notifications.services import notify
from reconciliation.selectors import visible_orders

logger = logging.getLogger(__name__)


# A second identical question within this time is taken for a repeated click.
DUPLICATE_WINDOW = timedelta(minutes=10)


def _recent_duplicate(
    *, asker: User, title: str, context_key: str, record_ref: str
) -> Question | None:
    return (
        Question.objects.filter(
            author=asker,
            title=clean_line(title),
            context__key=context_key,
            record_ref=record_ref,
            created_at__gte=timezone.now() - DUPLICATE_WINDOW,
        )
        .order_by("created_at")
        .first()
    )


@transaction.atomic
def ask_from_context(
    *, asker: User, context_key: str, title: str, body: str, record_ref: str = ""
) -> Question:
    """Post a question carrying the screen's context and notify its super-users.

    Raises ``UnknownContextError`` for an undeclared key, ``ValidationError``
    for a record the asker may not see or an empty title, and ``LookupError``
    when no community takes questions for the screen's CRM function. The
    same question asked again within ``DUPLICATE_WINDOW`` returns the first.
    """
    chain = context_chain(context_key)
    context = chain[0]
    crm_function = next(
        (item.crm_function for item in chain if item.crm_function), None
    )
    record_ref = clean_line(record_ref)
    if record_ref and not visible_orders(asker).filter(number=record_ref).exists():
        raise ValidationError(
            f"Order {record_ref!r} is not among the orders you can see: ask from "
            "the order's own page."
        )
    community = community_for_question(asker=asker, crm_function=crm_function)

    repeated = _recent_duplicate(
        asker=asker, title=title, context_key=context.key, record_ref=record_ref
    )
    if repeated is not None:
        logger.info("question asked twice, kept the first: question=%s", repeated.pk)
        return repeated

    question = create_question(
        author=asker,
        community=community,
        title=title,
        body=body,
        context=context,
        record_ref=record_ref,
        customer=asker.customer if asker.is_external else None,
    )

    recipients = User.objects.filter(
        super_user_assignments__crm_function=crm_function, is_active=True
    ).exclude(pk=asker.pk)
    where = f" on {record_ref}" if record_ref else ""
    notify(
        recipients=recipients,
        kind=Notification.Kind.QUESTION_ROUTED,
        actor=asker,
        message=f"{asker.display_name} asked{where}: {question.title}",
        url=f"/questions/{question.pk}/",
        subject_key=f"question:{question.pk}",
    )
    logger.info(
        "question asked from context: question=%s context=%s community=%s",
        question.pk,
        context.key,
        community.slug,
    )
    return question


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
    the community's members who work in that CRM function are told, at
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
    crm_function = next(
        (item.crm_function for item in chain if item.crm_function), None
    )
    # Customer accounts get no notification, because the question may be
    # another company's and the escalation asks colleagues for help.
    memberships = Membership.objects.filter(
        community=question.community,
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
        after={"community": question.community.slug, "notified": len(recipients)},
        reason=f"no answer within {settings.ASK_ESCALATE_AFTER_MINUTES} minutes",
    )
    logger.info(
        "question escalated to its community: question=%s community=%s notified=%s",
        question.pk,
        question.community.slug,
        len(recipients),
    )
    return True
