"""Ask from here: a question asked on a CRM screen, routed to its super-users."""

import logging
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from answers.models import Question
from answers.services import create_question
from assist.selectors import context_chain
from communities.selectors import community_for_question
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
