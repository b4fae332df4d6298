"""JSON help for a CRM screen: the same ranking and visibility as the panel."""

import json
from collections.abc import Mapping

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.security import HttpBearer, django_auth

from accounts.models import User
from accounts.permissions import Viewer
from assist.caching import cached_panel
from assist.models import ApiToken, HelpContext
from assist.selectors import (
    FaqItem,
    HelpPanel,
    UnknownContextError,
    compute_help_panel,
    held_faq_items,
    read_help_version,
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
    # True for an entry held for its owners, sent only to a signed-in owner.
    held: bool


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


def _context_json(context: HelpContext | None) -> dict[str, str] | None:
    return None if context is None else {"key": context.key, "title": context.title}


def faq_entry_json(entry: FaqItem) -> dict[str, object]:
    return {
        "id": entry.pk,
        "question": entry.question,
        "answer_html": entry.answer_html,
        "url": f"/questions/faq/{entry.pk}/",
        "context": entry.context_key,
        "held": entry.held,
    }


def panel_json(panel: HelpPanel) -> str:
    """Return the panel as the JSON body of ``HelpOut``, fields in its order.

    Built from plain dicts: building the ``HelpOut`` schema objects cost
    more than reading the panel from the database. A test checks that the
    body validates against ``HelpOut`` and that pydantic writes it the same.
    """
    matched = panel.matched_context
    body = {
        "context": _context_json(panel.context),
        "matched_context": _context_json(matched),
        "fell_back": panel.fell_back,
        "crm_function": panel.crm_function.slug if panel.crm_function else None,
        "faq_entries": [faq_entry_json(entry) for entry in panel.faq_entries],
        "documents": [
            {
                "id": document.pk,
                "title": document.title,
                "summary": document.summary,
                "url": f"/library/{document.pk}/",
                "context": document.context_key,
            }
            for document in panel.documents
        ],
        "answered_questions": [
            {
                "id": question.pk,
                "title": question.title,
                "url": f"/questions/{question.pk}/",
                "context": question.context_key,
            }
            for question in panel.answered_questions
        ],
        "super_users": [
            {
                "username": person.username,
                "name": person.name,
                "title": person.title,
                "available": person.available,
            }
            for person in panel.super_users
        ],
    }
    return _dump(body)


def _dump(body: Mapping[str, object]) -> str:
    # Compact and not ASCII-escaped, as pydantic writes JSON.
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def with_held_entries(body: str, held: list[FaqItem]) -> str:
    """Return the JSON ``body`` with the ``held`` entries put first."""
    panel = json.loads(body)
    panel["faq_entries"] = [*map(faq_entry_json, held), *panel["faq_entries"]]
    return _dump(panel)


@router.get(
    "/help",
    response=HelpOut,
    summary="Help for a CRM screen's context",
    auth=[HelpTokenAuth(), django_auth],
)
def get_help(request: HttpRequest, context: str) -> HttpResponse:
    """Return FAQ entries, documents and super-users for a context key.

    Each list holds the items of the most specific context in the chain
    that has any for that list, so a parent's items show only when the
    screen's own context has none; ``matched_context`` names the most
    specific context that had content. Send
    the session cookie, or an API token with the ``help:read`` scope as
    ``Authorization: Bearer cph_...``; a token reads as its owner. FAQ
    entries held for their owners (``held``) come first, and only in the
    response to an owner's own session, never to a token.
    """
    viewer = request_viewer(request)
    audience = viewer_audience(viewer)
    try:
        key = require_declared(context)
        version, may_own = read_help_version(viewer)
        body = cached_panel(
            f"json:{key}",
            audience,
            lambda: panel_json(compute_help_panel(viewer=viewer, key=key).focused()),
            version=version,
        )
    except UnknownContextError as error:
        raise HttpError(404, str(error)) from None
    # A token may be shared by everyone using the tool that embeds it, so
    # held entries go only to their owner's own session.
    signed_in = not isinstance(getattr(request, "auth", None), ApiToken)
    if signed_in and may_own and isinstance(viewer, User):
        held = held_faq_items(viewer, key, version)
        if held:
            body = with_held_entries(body, held)
    # The body has the shape of HelpOut (see panel_json).
    return HttpResponse(body, content_type="application/json")
