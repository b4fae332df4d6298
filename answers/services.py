"""Writes for questions, answers and FAQ entries.

Each function runs in one transaction, checks the actor's permission first,
records an audit event and writes the in-app notifications it causes.
"""

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from accounts.models import CrmFunction, User
from accounts.permissions import can_curate_faq
from answers.models import Answer, FaqEntry, Question
from assist.models import HelpContext
from communities.models import Community
from core.audit import record_event
from core.markdown import render_markdown
from core.text import clean_line, clean_text
from notifications.models import Notification
from notifications.services import notify
from reconciliation.models import Party

logger = logging.getLogger(__name__)

MAX_TITLE_LENGTH = 200
MAX_BODY_LENGTH = 20_000


def _clean_title(title: str) -> str:
    cleaned = clean_line(title)
    if not cleaned:
        raise ValidationError("The question is empty: write what you want to know.")
    if len(cleaned) > MAX_TITLE_LENGTH:
        raise ValidationError(
            f"The question is {len(cleaned)} characters long; keep it to "
            f"{MAX_TITLE_LENGTH} and put the details in the description."
        )
    return cleaned


def _clean_body(body: str, *, required: bool, what: str) -> str:
    cleaned = clean_text(body)
    if required and not cleaned:
        raise ValidationError(f"The {what} is empty: write something before posting.")
    if len(cleaned) > MAX_BODY_LENGTH:
        raise ValidationError(
            f"The {what} is {len(cleaned)} characters long; the limit is "
            f"{MAX_BODY_LENGTH}."
        )
    return cleaned


def _crm_function_of(question: Question) -> CrmFunction | None:
    context = question.context
    while context is not None:
        if context.crm_function_id is not None:
            return context.crm_function
        context = context.parent
    return None


@transaction.atomic
def create_question(
    *,
    author: User,
    community: Community,
    title: str,
    body: str = "",
    context: HelpContext | None = None,
    record_ref: str = "",
    customer: Party | None = None,
) -> Question:
    body = _clean_body(body, required=False, what="description")
    question = Question.objects.create(
        community=community,
        context=context,
        record_ref=record_ref[:80],
        customer=customer,
        author=author,
        author_name=author.display_name,
        title=_clean_title(title),
        body=body,
        body_html=render_markdown(body).html if body else "",
    )
    record_event(
        actor=author,
        action="question.asked",
        target=question,
        source="screen",
        after={"community": community.slug, "context": context.key if context else ""},
    )
    return question


@transaction.atomic
def post_answer(*, author: User, question: Question, body: str) -> Answer:
    body = _clean_body(body, required=True, what="answer")
    answer = Answer.objects.create(
        question=question,
        author=author,
        author_name=author.display_name,
        body=body,
        body_html=render_markdown(body).html,
    )
    record_event(actor=author, action="answer.posted", target=answer, source="screen")
    if question.author is not None:
        notify(
            recipients=[question.author],
            kind=Notification.Kind.ANSWER_POSTED,
            actor=author,
            message=f"{author.display_name} answered your question: {question.title}",
            url=f"/questions/{question.pk}/#answer-{answer.pk}",
            subject_key=f"answer:{answer.pk}",
        )
    return answer


def can_accept(actor: User, question: Question) -> bool:
    is_asker = question.author_id is not None and question.author_id == actor.pk
    return is_asker or can_curate_faq(actor, _crm_function_of(question))


def can_promote(actor: User, question: Question) -> bool:
    return can_curate_faq(actor, _crm_function_of(question))


@transaction.atomic
def accept_answer(*, actor: User, answer: Answer) -> Question:
    question = Question.objects.select_for_update().get(pk=answer.question_id)
    if not can_accept(actor, question):
        raise PermissionDenied(
            "Only the asker, a learning facilitator, a moderator or a super-user "
            "of this CRM function can accept an answer."
        )
    if answer.author_id == actor.pk and question.author_id != actor.pk:
        raise PermissionDenied(
            "You wrote this answer, so someone else must accept it: the asker, "
            "a learning facilitator or another super-user."
        )

    before = {"accepted_answer": question.accepted_answer_id}
    question.accepted_answer = answer
    question.save(update_fields=["accepted_answer", "updated_at"])
    record_event(
        actor=actor,
        action="answer.accepted",
        target=question,
        source="screen",
        before=before,
        after={"accepted_answer": answer.pk},
    )
    if answer.author is not None:
        notify(
            recipients=[answer.author],
            kind=Notification.Kind.ANSWER_ACCEPTED,
            actor=actor,
            message=f"Your answer was accepted: {question.title}",
            url=f"/questions/{question.pk}/#answer-{answer.pk}",
            subject_key=f"answer:{answer.pk}",
        )
    return question


@transaction.atomic
def promote_answer_to_faq(
    *, actor: User, answer: Answer, question_text: str = ""
) -> FaqEntry:
    """Make an FAQ entry from an accepted answer, linked to the question's context."""
    question = Question.objects.select_related("community", "context").get(
        pk=answer.question_id
    )
    if not can_promote(actor, question):
        raise PermissionDenied(
            "Only a learning facilitator, a moderator or a super-user of this "
            "CRM function can add answers to the FAQ."
        )
    if question.community.visibility == Community.Visibility.PRIVATE:
        raise ValidationError(
            "Answers in a private community stay in it, and every employee reads "
            "the FAQ: repost the question in an open community to add it there."
        )
    if question.accepted_answer_id != answer.pk:
        raise ValidationError(
            "Accept this answer first: only accepted answers go to the FAQ."
        )
    if FaqEntry.objects.filter(source_answer=answer).exists():
        raise ValidationError("This answer is already an FAQ entry.")

    try:
        with transaction.atomic():
            entry = FaqEntry.objects.create(
                question=_clean_title(clean_line(question_text) or question.title),
                answer=answer.body,
                answer_html=answer.body_html,
                crm_function=_crm_function_of(question),
                # A customer company's own question may name its orders, so
                # only general customer questions reach every customer.
                customer_visible=(
                    question.community.visibility == Community.Visibility.CUSTOMER
                    and question.customer_id is None
                ),
                source_answer=answer,
                created_by=actor,
            )
    except IntegrityError:
        raise ValidationError("This answer is already an FAQ entry.") from None
    if question.context is not None:
        entry.contexts.add(question.context)

    record_event(
        actor=actor,
        action="faq.promoted",
        target=entry,
        source="screen",
        after={"answer": answer.pk, "question": question.pk},
    )
    notify(
        recipients=[person for person in (answer.author, question.author) if person],
        kind=Notification.Kind.FAQ_PROMOTED,
        actor=actor,
        message=f"An answer is now in the FAQ: {entry.question}",
        url=f"/questions/faq/{entry.pk}/",
        subject_key=f"faq:{entry.pk}",
    )
    logger.info("answer promoted to FAQ: answer=%s faq=%s", answer.pk, entry.pk)
    return entry
