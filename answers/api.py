"""Questions over JSON, with the same visibility rule as the question page."""

import datetime

from django.http import Http404, HttpRequest
from ninja import Router, Schema
from ninja.errors import HttpError

from accounts.authors import author_of, hidden_author_labels
from answers.models import Question
from answers.selectors import access_question, visible_questions
from assist.contexts import is_customer_context
from assist.records import record_link

router = Router(tags=["answers"])


class AnswerOut(Schema):
    id: int
    author: str
    body_html: str
    created_at: datetime.datetime
    accepted: bool
    score: int
    deleted: bool


class QuestionOut(Schema):
    id: int
    title: str
    body_html: str
    author: str
    community: str
    context: str | None
    # Both empty when the question names no record or the reader may not
    # see it.
    record_kind: str
    record_ref: str
    tags: list[str]
    duplicate_of: int | None
    created_at: datetime.datetime
    answers: list[AnswerOut]


def _visible_original(request: HttpRequest, question: Question) -> int | None:
    """Return the number of the question's original if the reader may open it."""
    original_id = question.duplicate_of_id
    if original_id is None:
        return None
    if not visible_questions(request.user).filter(pk=original_id).exists():
        return None
    return original_id


def _shown_context(request: HttpRequest, question: Question) -> str | None:
    """Return the question's screen key, or None when the reader may not see it.

    A customer account reads only the portal's screens
    (``assist.contexts.is_customer_context``).
    """
    if question.context is None:
        return None
    key = question.context.key
    if getattr(request.user, "is_external", False) and not is_customer_context(key):
        return None
    return key


@router.get("/questions/{question_id}", response=QuestionOut, summary="One question")
def get_question(request: HttpRequest, question_id: int) -> QuestionOut:
    try:
        question = access_question(request.user, question_id)
    except Http404:
        raise HttpError(
            404, f"No question {question_id} found among those you may see."
        ) from None
    answers = list(question.answers.all())
    record = record_link(request.user, question)
    hidden = hidden_author_labels(
        request.user,
        [question.author_id, *(answer.author_id for answer in answers)],
    )
    return QuestionOut(
        id=question.pk,
        title=question.title,
        body_html=question.body_html,
        author=author_of(question, hidden),
        community=question.community.slug,
        context=_shown_context(request, question),
        record_kind=record.kind if record else "",
        record_ref=record.ref if record else "",
        tags=[tag.name for tag in question.hashtags.all()],
        duplicate_of=_visible_original(request, question),
        created_at=question.created_at,
        answers=[
            AnswerOut(
                id=answer.pk,
                author=author_of(answer, hidden),
                body_html=answer.body_html,
                created_at=answer.created_at,
                accepted=answer.pk == question.accepted_answer_id,
                score=answer.score,
                deleted=answer.is_deleted,
            )
            for answer in answers
        ],
    )
