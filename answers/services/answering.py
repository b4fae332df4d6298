"""Answer questions, accept an answer, and edit or delete answers.

An accepted answer that is edited keeps its acceptance, and the FAQ entry
made from it turns "needs review" so its owners compare the texts. An
accepted answer that is deleted loses its acceptance. The asker and the FAQ
owners are notified, and the FAQ entry turns "needs review" too.
"""

import logging
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.authors import shown_name
from accounts.models import User
from answers.models import Answer, AnswerRevision, FaqEntry, Question
from answers.permissions import (
    DELETE_DENIED,
    EDIT_DENIED,
    accept_denied_message,
    can_accept,
    can_delete_answer,
    can_edit_answer,
)
from answers.services.common import (
    KIND_ANSWER_UNACCEPTED,
    clean_body,
    question_url,
)
from answers.services.faq_audience import notify_faq_owners
from answers.services.mentions import checked_mentions, notify_qa_mentions
from core.audit import record_event
from core.markdown import render_markdown
from notifications.models import Notification
from notifications.services import notify
from social.services.posts import can_post_in

logger = logging.getLogger(__name__)

# A second identical answer within this time is taken for a repeated click,
# the same rule as for a question asked twice from a screen.
REPEATED_ANSWER_WINDOW = timedelta(minutes=10)


def _answer_url(answer: Answer) -> str:
    return f"/questions/{answer.question_id}/#answer-{answer.pk}"


def _lock_question(question_id: int) -> Question:
    return (
        Question.objects.select_for_update(of=("self",))
        .select_related("community", "crm_function")
        .get(pk=question_id)
    )


def _lock_answer(answer: Answer) -> Answer:
    return Answer.objects.select_for_update().get(pk=answer.pk)


def _recent_identical_answer(
    *, author: User, question: Question, body: str
) -> Answer | None:
    return (
        Answer.objects.filter(
            question=question,
            author=author,
            body=body,
            deleted_at__isnull=True,
            created_at__gte=timezone.now() - REPEATED_ANSWER_WINDOW,
        )
        .order_by("created_at", "pk")
        .first()
    )


@transaction.atomic
def post_answer(*, author: User, question: Question, body: str) -> Answer:
    """Post ``author``'s answer to ``question`` and notify the asker.

    The same text from the same author on the same question within
    ``REPEATED_ANSWER_WINDOW`` returns the first answer and notifies nobody
    again. The question's row lock makes two concurrent submissions wait for
    each other, so the second one finds the first.
    """
    question = _lock_question(question.pk)
    if not can_post_in(author, question.community):
        raise PermissionDenied(f"Join {question.community.name} before answering.")
    if question.is_duplicate:
        raise ValidationError(
            f"This question was closed as a duplicate of question "
            f"{question.duplicate_of_id}: answer there."
        )
    body = clean_body(body, required=True, what="answer")
    repeated = _recent_identical_answer(author=author, question=question, body=body)
    if repeated is not None:
        logger.info("repeated answer ignored, first one kept: answer=%s", repeated.pk)
        return repeated

    rendered = render_markdown(body)
    mentioned = checked_mentions(rendered, text_kind="answer")
    answer = Answer.objects.create(
        question=question,
        author=author,
        author_name=author.display_name,
        body=body,
        body_html=rendered.html,
    )
    record_event(actor=author, action="answer.posted", target=answer, source="screen")
    notified = notify_qa_mentions(
        author=author,
        question=question,
        people=mentioned,
        subject_key=f"answer:{answer.pk}",
        url=_answer_url(answer),
        text_kind="an answer",
    )
    # An asker the answer mentions has been told already.
    if question.author is not None and question.author not in notified:
        notify(
            recipients=[question.author],
            kind=Notification.Kind.ANSWER_POSTED,
            actor=author,
            message=(
                f"{shown_name(question.author, author)} answered your question: "
                f"{question.title}"
            ),
            url=_answer_url(answer),
            subject_key=f"answer:{answer.pk}",
        )
    return answer


def _flag_faq_entry(
    *, actor: User, answer: Answer, flag: str, message: str
) -> FaqEntry | None:
    """Mark the FAQ entry made from ``answer`` as needing review and tell its owners."""
    entry = FaqEntry.objects.select_for_update().filter(source_answer=answer).first()
    if entry is None:
        return None
    if entry.review_flag == flag == FaqEntry.ReviewFlag.SOURCE_DELETED:
        # Deleting the answer narrowed the entry's audience in this
        # transaction, which flagged it and notified its owners already.
        return entry
    before = {"review_flag": entry.review_flag}
    entry.review_flag = flag
    entry.save(update_fields=["review_flag", "updated_at"])
    event = record_event(
        actor=actor,
        action="faq.flagged_for_review",
        target=entry,
        source="screen",
        before=before,
        after={"review_flag": flag, "answer": answer.pk},
    )
    notify_faq_owners(entry, actor=actor, message=message, event_id=event.pk)
    return entry


@transaction.atomic
def edit_answer(*, editor: User, answer: Answer, body: str) -> Answer:
    """Replace the answer's text, keeping the old text as a revision.

    Only the author edits. Acceptance stays; the FAQ entry made from the
    answer keeps its own copy of the text and turns "needs review".
    """
    answer = _lock_answer(answer)
    if answer.is_deleted:
        raise ValidationError("This answer was deleted, so it cannot be edited.")
    if not can_edit_answer(editor, answer):
        raise PermissionDenied(EDIT_DENIED)
    text = clean_body(body, required=True, what="answer")
    if text == answer.body:
        return answer
    rendered = render_markdown(text)
    mentioned = checked_mentions(rendered, text_kind="answer")

    AnswerRevision.objects.create(
        answer=answer,
        body=answer.body,
        edited_by=editor,
        edited_by_name=editor.display_name,
    )
    before = {"body": answer.body}
    answer.body = text
    answer.body_html = rendered.html
    answer.edited_at = timezone.now()
    answer.save(update_fields=["body", "body_html", "edited_at", "updated_at"])
    # Only people the earlier text did not mention are notified.
    notify_qa_mentions(
        author=editor,
        question=Question.objects.select_related("community").get(
            pk=answer.question_id
        ),
        people=mentioned,
        subject_key=f"answer:{answer.pk}",
        url=_answer_url(answer),
        text_kind="an answer",
    )
    record_event(
        actor=editor,
        action="answer.edited",
        target=answer,
        source="screen",
        before=before,
        after={"body": text},
    )
    is_accepted = Question.objects.filter(
        pk=answer.question_id, accepted_answer=answer
    ).exists()
    if is_accepted:
        _flag_faq_entry(
            actor=editor,
            answer=answer,
            flag=FaqEntry.ReviewFlag.SOURCE_EDITED,
            message="The accepted answer behind an FAQ entry was edited",
        )
    logger.info("answer edited: answer=%s editor=%s", answer.pk, editor.pk)
    return answer


@transaction.atomic
def delete_answer(*, actor: User, answer: Answer, reason: str = "") -> Answer:
    """Blank ``answer`` to a tombstone; an accepted answer loses its acceptance.

    The author or a moderator of the community may delete. The asker is
    notified when the accepted answer goes, and the FAQ owners are notified
    when an entry was made from it.
    """
    question = _lock_question(answer.question_id)
    answer = _lock_answer(answer)
    if answer.is_deleted:
        raise ValidationError("This answer was already deleted.")
    if not can_delete_answer(actor, answer, question):
        raise PermissionDenied(DELETE_DENIED)

    AnswerRevision.objects.create(
        answer=answer,
        body=answer.body,
        edited_by=actor,
        edited_by_name=actor.display_name,
    )
    before = {"body": answer.body}
    answer.body = ""
    answer.body_html = ""
    answer.deleted_at = timezone.now()
    answer.save(update_fields=["body", "body_html", "deleted_at", "updated_at"])
    record_event(
        actor=actor,
        action="answer.deleted",
        target=answer,
        source="screen",
        before=before,
        reason=reason,
    )
    if question.accepted_answer_id == answer.pk:
        _clear_acceptance(
            actor=actor, question=question, reason="the accepted answer was deleted"
        )
        if question.author is not None:
            notify(
                recipients=[question.author],
                kind=KIND_ANSWER_UNACCEPTED,
                actor=actor,
                message=(
                    "The accepted answer to your question was deleted: "
                    f"{question.title}"
                ),
                url=question_url(question),
                subject_key=f"answer-unaccepted:{answer.pk}",
            )
        _flag_faq_entry(
            actor=actor,
            answer=answer,
            flag=FaqEntry.ReviewFlag.SOURCE_DELETED,
            message="The accepted answer behind an FAQ entry was deleted",
        )
    logger.info("answer deleted: answer=%s actor=%s", answer.pk, actor.pk)
    return answer


def _clear_acceptance(*, actor: User, question: Question, reason: str) -> None:
    before = {"accepted_answer": question.accepted_answer_id}
    question.accepted_answer = None
    question.save(update_fields=["accepted_answer", "updated_at"])
    record_event(
        actor=actor,
        action="answer.unaccepted",
        target=question,
        source="screen",
        before=before,
        after={"accepted_answer": None},
        reason=reason,
    )


@transaction.atomic
def accept_answer(*, actor: User, answer: Answer) -> Question:
    """Mark ``answer`` as the accepted answer to its question.

    ``can_accept`` is checked under the question's row lock, so a change of
    the question or its community cannot slip between check and write.
    """
    question = _lock_question(answer.question_id)
    answer = _lock_answer(answer)
    if not can_accept(actor, question, answer):
        raise PermissionDenied(accept_denied_message(actor, answer))
    if answer.is_deleted:
        raise ValidationError("This answer was deleted, so it cannot be accepted.")
    if question.accepted_answer_id == answer.pk:
        return question

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
            url=_answer_url(answer),
            subject_key=f"answer:{answer.pk}",
        )
    return question


@transaction.atomic
def unaccept_answer(*, actor: User, question: Question) -> Question:
    """Withdraw the acceptance of ``question``'s accepted answer.

    An FAQ entry made from the answer stays, because its owners decide
    whether the text still holds; it turns "needs review".
    """
    question = _lock_question(question.pk)
    answer = question.accepted_answer
    if not can_accept(actor, question, answer):
        raise PermissionDenied(accept_denied_message(actor, answer))
    if answer is None:
        raise ValidationError("No answer to this question is accepted.")
    _clear_acceptance(actor=actor, question=question, reason="withdrawn")
    _flag_faq_entry(
        actor=actor,
        answer=answer,
        flag=FaqEntry.ReviewFlag.SOURCE_UNACCEPTED,
        message="The answer behind an FAQ entry is no longer accepted",
    )
    return question
