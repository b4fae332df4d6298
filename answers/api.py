"""Questions over JSON, with the same visibility rule as the question page."""

import datetime

from django.http import Http404, HttpRequest
from ninja import Router, Schema
from ninja.errors import HttpError

from answers.selectors import access_question

router = Router(tags=["answers"])


class AnswerOut(Schema):
    id: int
    author: str
    body_html: str
    created_at: datetime.datetime
    accepted: bool


class QuestionOut(Schema):
    id: int
    title: str
    body_html: str
    author: str
    community: str
    context: str | None
    record_ref: str
    created_at: datetime.datetime
    answers: list[AnswerOut]


@router.get("/questions/{question_id}", response=QuestionOut, summary="One question")
def get_question(request: HttpRequest, question_id: int) -> QuestionOut:
    try:
        question = access_question(request.user, question_id)
    except Http404:
        raise HttpError(
            404, f"No question {question_id} found among those you may see."
        ) from None
    return QuestionOut(
        id=question.pk,
        title=question.title,
        body_html=question.body_html,
        author=question.author_name,
        community=question.community.slug,
        context=question.context.key if question.context else None,
        record_ref=question.record_ref,
        created_at=question.created_at,
        answers=[
            AnswerOut(
                id=answer.pk,
                author=answer.author_name,
                body_html=answer.body_html,
                created_at=answer.created_at,
                accepted=answer.pk == question.accepted_answer_id,
            )
            for answer in question.answers.all()
        ],
    )
