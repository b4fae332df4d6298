"""Votes on answers, and comments on questions and answers."""

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.authors import shown_name
from accounts.models import User
from answers.models import Answer, AnswerVote, Question, QuestionComment
from answers.permissions import VOTE_DENIED, can_vote
from answers.services.common import KIND_QA_COMMENT, MAX_COMMENT_LENGTH, clean_body
from answers.services.mentions import checked_mentions, notify_qa_mentions
from core.audit import record_event
from core.markdown import render_markdown
from notifications.services import notify
from social.selectors import can_moderate
from social.services.posts import can_post_in

logger = logging.getLogger(__name__)

VOTE_VALUES = {"up": 1, "down": -1, "none": 0}


@transaction.atomic
def set_vote(*, person: User, answer: Answer, value: int) -> int:
    """Set ``person``'s vote on ``answer`` to +1, -1 or 0 (none); return the score.

    The write states the wanted end state instead of toggling, so two racing
    clicks end in the state the person saw last. The answer row is locked
    first, so votes on one answer and its score change one at a time; the
    unique constraint on (answer, person) keeps one vote per person.
    """
    if value not in VOTE_VALUES.values():
        raise ValidationError(f"{value!r} is not a vote: use 1 (up), -1 (down) or 0.")
    locked = Answer.objects.select_for_update().get(pk=answer.pk)
    if locked.is_deleted:
        raise ValidationError("This answer was deleted, so it takes no votes.")
    if not can_vote(person, locked):
        raise PermissionDenied(VOTE_DENIED)

    current = AnswerVote.objects.filter(answer=locked, person=person).first()
    old = current.value if current is not None else 0
    if old == value:
        return locked.score
    if value == 0 and current is not None:
        current.delete()
    elif current is not None:
        current.value = value
        current.save(update_fields=["value", "updated_at"])
    else:
        AnswerVote.objects.create(answer=locked, person=person, value=value)
    Answer.objects.filter(pk=locked.pk).update(score=F("score") + (value - old))

    record_event(
        actor=person,
        action="answer.voted",
        target=locked,
        source="screen",
        before={"vote": old},
        after={"vote": value},
    )
    logger.info(
        "answer vote set: answer=%s person=%s vote=%s", locked.pk, person.pk, value
    )
    return locked.score + (value - old)


@transaction.atomic
def post_question_comment(
    *, author: User, question: Question, body: str, answer: Answer | None = None
) -> QuestionComment:
    """Comment on ``question``, or on ``answer`` when given.

    The caller checks that ``author`` can see the question.
    """
    question = (
        Question.objects.select_for_update()
        .select_related("community")
        .get(pk=question.pk)
    )
    if not can_post_in(author, question.community):
        raise PermissionDenied(f"Join {question.community.name} before commenting.")
    if question.is_duplicate:
        raise ValidationError(
            f"This question was closed as a duplicate of question "
            f"{question.duplicate_of_id}: comment there."
        )
    if answer is not None:
        if answer.question_id != question.pk:
            raise ValidationError(
                f"Answer {answer.pk} belongs to another question: comment there."
            )
        if answer.is_deleted:
            raise ValidationError("This answer was deleted, so it takes no comments.")
    text = clean_body(body, required=True, what="comment", limit=MAX_COMMENT_LENGTH)
    rendered = render_markdown(text)
    mentioned = checked_mentions(rendered, text_kind="comment")
    comment = QuestionComment.objects.create(
        question=question,
        answer=answer,
        author=author,
        author_name=author.display_name,
        body=text,
        body_html=rendered.html,
    )
    record_event(
        actor=author,
        action="question_comment.posted",
        target=comment,
        source="screen",
        after={"question": question.pk, "answer": answer.pk if answer else None},
    )
    notified = notify_qa_mentions(
        author=author,
        question=question,
        people=mentioned,
        subject_key=f"qa-comment:{comment.pk}",
        url=f"/questions/{question.pk}/#qa-comment-{comment.pk}",
        text_kind="a comment",
    )
    watcher = answer.author if answer is not None else question.author
    # A watcher the comment mentions has been told already.
    if watcher is not None and watcher.is_active and watcher not in notified:
        on_what = "your answer" if answer is not None else "your question"
        notify(
            recipients=[watcher],
            kind=KIND_QA_COMMENT,
            actor=author,
            message=(
                f"{shown_name(watcher, author)} commented on {on_what}: "
                f"{question.title}"
            ),
            url=f"/questions/{question.pk}/#qa-comment-{comment.pk}",
            subject_key=f"qa-comment:{comment.pk}",
        )
    return comment


@transaction.atomic
def delete_question_comment(
    *, actor: User, comment: QuestionComment, reason: str = ""
) -> QuestionComment:
    """Blank ``comment`` to a tombstone; the author or a moderator may delete."""
    comment = (
        QuestionComment.objects.select_for_update()
        .select_related("question__community")
        .get(pk=comment.pk)
    )
    if comment.is_deleted:
        raise ValidationError("This comment was already deleted.")
    if comment.author_id != actor.pk and not can_moderate(
        actor, comment.question.community
    ):
        raise PermissionDenied(
            "Only the author or a moderator of this community can delete this comment."
        )
    before = {"body": comment.body}
    comment.body = ""
    comment.body_html = ""
    comment.deleted_at = timezone.now()
    comment.save(update_fields=["body", "body_html", "deleted_at", "updated_at"])
    record_event(
        actor=actor,
        action="question_comment.deleted",
        target=comment,
        source="screen",
        before=before,
        reason=reason,
    )
    return comment
