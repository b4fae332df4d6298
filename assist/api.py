"""JSON help for a CRM screen: the same ranking and visibility as the panel."""

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.security import HttpBearer, django_auth

from accounts.permissions import Viewer
from assist.caching import cached_panel
from assist.models import ApiToken
from assist.selectors import (
    HelpPanel,
    UnknownContextError,
    compute_help_panel,
    require_declared,
    viewer_audience,
)
from assist.tokens import authenticate_token

router = Router(tags=["assist"])


class HelpTokenAuth(HttpBearer):
    """An API token with the ``help:read`` scope, sent as ``Authorization: Bearer``."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        return authenticate_token(token, scope=ApiToken.Scope.HELP_READ)


def request_viewer(request: HttpRequest) -> Viewer:
    """Return whose visibility applies: the token's owner, or the signed-in person."""
    auth = getattr(request, "auth", None)
    if isinstance(auth, ApiToken):
        return auth.owner
    return request.user


class ContextOut(Schema):
    key: str
    title: str


class FaqEntryOut(Schema):
    id: int
    question: str
    answer_html: str
    url: str
    context: str


class DocumentOut(Schema):
    id: int
    title: str
    summary: str
    url: str
    context: str


class AnsweredQuestionOut(Schema):
    id: int
    title: str
    url: str
    context: str


class SuperUserOut(Schema):
    username: str
    name: str
    title: str
    available: bool


class HelpOut(Schema):
    context: ContextOut
    matched_context: ContextOut | None
    fell_back: bool
    crm_function: str | None
    faq_entries: list[FaqEntryOut]
    documents: list[DocumentOut]
    answered_questions: list[AnsweredQuestionOut]
    super_users: list[SuperUserOut]


def serialize_panel(panel: HelpPanel) -> HelpOut:
    matched = panel.matched_context
    return HelpOut(
        context=ContextOut(key=panel.context.key, title=panel.context.title),
        matched_context=(
            ContextOut(key=matched.key, title=matched.title) if matched else None
        ),
        fell_back=panel.fell_back,
        crm_function=panel.crm_function.slug if panel.crm_function else None,
        faq_entries=[
            FaqEntryOut(
                id=entry.pk,
                question=entry.question,
                answer_html=entry.answer_html,
                url=f"/questions/faq/{entry.pk}/",
                context=entry.context_key,
            )
            for entry in panel.faq_entries
        ],
        documents=[
            DocumentOut(
                id=document.pk,
                title=document.title,
                summary=document.summary,
                url=f"/library/{document.pk}/",
                context=document.context_key,
            )
            for document in panel.documents
        ],
        answered_questions=[
            AnsweredQuestionOut(
                id=question.pk,
                title=question.title,
                url=f"/questions/{question.pk}/",
                context=question.context_key,
            )
            for question in panel.answered_questions
        ],
        super_users=[
            SuperUserOut(
                username=person.username,
                name=person.name,
                title=person.title,
                available=person.available,
            )
            for person in panel.super_users
        ],
    )


@router.get(
    "/help",
    response=HelpOut,
    summary="Help for a CRM screen's context",
    auth=[HelpTokenAuth(), django_auth],
)
def get_help(request: HttpRequest, context: str) -> HttpResponse:
    """Return FAQ entries, documents and super-users for a context key.

    Content for the most specific context comes first, then its parents';
    ``matched_context`` names the most specific one that had content. Send
    the session cookie, or an API token with the ``help:read`` scope as
    ``Authorization: Bearer cph_...``; a token reads as its owner.
    """
    viewer = request_viewer(request)
    audience = viewer_audience(viewer)
    try:
        body = cached_panel(
            f"json:{require_declared(context)}",
            audience,
            lambda: serialize_panel(
                compute_help_panel(viewer=viewer, key=context)
            ).model_dump_json(),
        )
    except UnknownContextError as error:
        raise HttpError(404, str(error)) from None
    # The body was validated against HelpOut when it was cached.
    return HttpResponse(body, content_type="application/json")
