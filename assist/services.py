"""Ask from here: a question asked on a CRM screen, routed to its super-users."""

import logging

from django.db import transaction

from accounts.models import User
from answers.models import Question
from answers.services import create_question
from assist.selectors import context_chain
from communities.selectors import community_for_question
from notifications.models import Notification
from notifications.services import notify

logger = logging.getLogger(__name__)


@transaction.atomic
def ask_from_context(
    *, asker: User, context_key: str, title: str, body: str, record_ref: str = ""
) -> Question:
    """Post a question carrying the screen's context and notify its super-users.

    Raises ``UnknownContextError`` for an undeclared key and ``LookupError``
    when no community takes questions for the screen's CRM function.
    """
    chain = context_chain(context_key)
    context = chain[0]
    crm_function = next(
        (item.crm_function for item in chain if item.crm_function), None
    )
    community = community_for_question(asker=asker, crm_function=crm_function)

    question = create_question(
        author=asker,
        community=community,
        title=title,
        body=body,
        context=context,
        record_ref=record_ref,
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
