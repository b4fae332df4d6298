"""JSON help for a CRM screen: the same ranking and visibility as the panel."""

import json
import re
from collections.abc import Mapping
from urllib.parse import urljoin

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.params.functions import Query
from ninja.security import HttpBearer

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
    require_declared_for,
    viewer_audience,
)
from assist.tokens import authenticate_token, session_unless_token

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


# A link or image address in sanitized HTML, which nh3 always writes with
# double quotes.
HTML_URL_ATTRIBUTE = re.compile(r'\b(href|src)="([^"]*)"')


def request_base_url(request: HttpRequest) -> str:
    """Return the address the JSON's links start with, without a final slash.

    BASE_URL when it is set, else the scheme and host of the request.
    """
    base_url = settings.COMMONPLACE_BASE_URL or request.build_absolute_uri("/")
    return base_url.rstrip("/")


def absolute_url(base_url: str, url: str) -> str:
    """Return ``url`` as an absolute address under ``base_url``.

    A path from the site root keeps any path of ``base_url``, so Commonplace
    served under ``https://host/learn`` still gets ``/learn/questions/...``.
    An absolute or ``mailto:`` address is returned as it is.
    """
    if url.startswith("/") and not url.startswith("//"):
        return f"{base_url}{url}"
    return urljoin(f"{base_url}/", url)


def absolute_html_urls(base_url: str, html: str) -> str:
    """Return ``html`` with every ``href`` and ``src`` made absolute."""
    return HTML_URL_ATTRIBUTE.sub(
        lambda match: f'{match[1]}="{absolute_url(base_url, match[2])}"', html
    )


def faq_entry_json(entry: FaqItem, base_url: str) -> dict[str, object]:
    return {
        "id": entry.pk,
        "question": entry.question,
        "answer_html": absolute_html_urls(base_url, entry.answer_html),
        "url": absolute_url(base_url, f"/questions/faq/{entry.pk}/"),
        "context": entry.context_key,
        "held": entry.held,
    }


def panel_json(panel: HelpPanel, base_url: str) -> str:
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
        "faq_entries": [faq_entry_json(entry, base_url) for entry in panel.faq_entries],
        "documents": [
            {
                "id": document.pk,
                "title": document.title,
                "summary": document.summary,
                "url": absolute_url(base_url, f"/library/{document.pk}/"),
                "context": document.context_key,
            }
            for document in panel.documents
        ],
        "answered_questions": [
            {
                "id": question.pk,
                "title": question.title,
                "url": absolute_url(base_url, f"/questions/{question.pk}/"),
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


def with_held_entries(body: str, held: list[FaqItem], base_url: str) -> str:
    """Return the JSON ``body`` with the ``held`` entries put first."""
    panel = json.loads(body)
    held_json = [faq_entry_json(entry, base_url) for entry in held]
    panel["faq_entries"] = [*held_json, *panel["faq_entries"]]
    return _dump(panel)


HELP_PARAMETERS = [
    {
        "in": "query",
        "name": "context",
        "required": True,
        "schema": {"type": "string", "title": "Context"},
        "description": "Help context key of the CRM screen.",
        "example": "reconciliation.order",
    }
]


@router.get(
    "/help",
    response=HelpOut,
    summary="Help for a CRM screen's context",
    auth=[HelpTokenAuth(), session_unless_token],
    # The handler gives ``context`` a default (see below) and hides it from
    # the generated schema, which would call it optional, so it is
    # documented here as required.
    openapi_extra={"parameters": HELP_PARAMETERS},
)
def get_help(
    request: HttpRequest,
    context: str | None = Query(None, include_in_schema=False),
) -> HttpResponse:
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
    # ``context`` has a default only so that leaving it out gets this
    # message in place of the validator's bare "Field required".
    # An empty value is a context key that no screen declares, so it gets
    # the 404 for unknown keys below.
    if context is None:
        raise HttpError(
            422,
            "Missing query parameter 'context': send the help context key of "
            "the screen, e.g. ?context=reconciliation.order.",
        )
    viewer = request_viewer(request)
    audience = viewer_audience(viewer)
    base_url = request_base_url(request)
    try:
        key = require_declared_for(viewer, context)
        version, may_own = read_help_version(viewer)
        body = cached_panel(
            # The base URL is part of the key because, without BASE_URL, it
            # comes from the request's host.
            f"json:{base_url}:{key}",
            audience,
            lambda: panel_json(
                compute_help_panel(viewer=viewer, key=key).focused(), base_url
            ),
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
            body = with_held_entries(body, held, base_url)
    # The body has the shape of HelpOut (see panel_json).
    return HttpResponse(body, content_type="application/json")
