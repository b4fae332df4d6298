"""The JSON API and its OpenAPI 3 document at /api/openapi.json.

The document and its Swagger UI page (/api/docs) are for employees and for
the tools that hold an API token: they list every endpoint, the staff-only
ones too, so a customer account and a request without a session are turned
away (see docs/public-surface.md).
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI, Swagger

from answers.api import router as answers_router
from assist.api import router as assist_router
from assist.models import ApiToken
from assist.tokens import authenticate_token, session_unless_token
from communities.api import router as communities_router
from reconciliation.api import router as reconciliation_router
from search.api import router as search_router
from social.api import router as social_router

DOCS_FOR_CUSTOMERS = (
    "The API documentation is for Company X's employees and for tools with an "
    "API token: ask your contact at Company X what you need from the API."
)
DOCS_WITHOUT_SESSION = (
    "The API documentation needs a signed-in employee or an API token: sign "
    "in at /accounts/login/, or send the token as 'Authorization: Bearer cph_...'."
)
DOCS_INVALID_CREDENTIAL = (
    "The API token in the Authorization header is invalid, expired or revoked: "
    "make a new one at /assist/tokens/, or send no Authorization header and "
    "sign in."
)


def _bearer_token(request: HttpRequest) -> str:
    scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return token if scheme.lower() == "bearer" else ""


def may_read_docs(request: HttpRequest) -> bool:
    """Return whether ``request`` may read the API's schema and docs page.

    A request with an ``Authorization`` header is judged by it alone, as the
    endpoints judge it: a live token of any scope may read the schema. A
    request without one may read it when an employee (not a customer
    account) is signed in.
    """
    if "HTTP_AUTHORIZATION" in request.META:
        token = _bearer_token(request)
        return any(
            authenticate_token(token, scope=scope) is not None
            for scope in ApiToken.Scope.values
        )
    user = request.user
    return bool(user.is_authenticated and not getattr(user, "is_external", True))


def docs_for_employees(view: Callable[..., HttpResponse]) -> Callable[..., Any]:
    """Let only employees and API token holders open the wrapped docs view.

    A browser without a session goes to the sign-in page for the docs page;
    the JSON document returns 401. A customer account gets 403 on both.
    """

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if may_read_docs(request):
            return view(request, *args, **kwargs)
        if "HTTP_AUTHORIZATION" in request.META:
            return JsonResponse({"detail": DOCS_INVALID_CREDENTIAL}, status=401)
        # Employees passed above, so a signed-in account here is a customer's.
        customer = request.user.is_authenticated
        if request.path.endswith(".json"):
            if customer:
                return JsonResponse({"detail": DOCS_FOR_CUSTOMERS}, status=403)
            return JsonResponse({"detail": DOCS_WITHOUT_SESSION}, status=401)
        if customer:
            raise PermissionDenied(DOCS_FOR_CUSTOMERS)
        return redirect_to_login(request.get_full_path())

    return guarded


api = NinjaAPI(
    title="Commonplace API",
    version="1",
    description=(
        "Help for CRM screens, orders, questions, the social network "
        "(feed, posts, comments, reactions, follows), communities and search. "
        "Every endpoint applies the same visibility rules as the pages. Sign "
        "in through /accounts/login/ and send the session cookie; the help "
        "endpoint also takes an API token (see /assist/tokens/)."
    ),
    # A request with an Authorization header is judged by it alone.
    auth=session_unless_token,
    urls_namespace="api",
    # Swagger UI would otherwise send the schema's address to
    # validator.swagger.io to draw a validity badge.
    docs=Swagger(settings={"validatorUrl": None}),
    docs_decorator=docs_for_employees,
)
api.add_router("/assist", assist_router)
api.add_router("/reconciliation", reconciliation_router)
api.add_router("/answers", answers_router)
api.add_router("/social", social_router)
api.add_router("/communities", communities_router)
api.add_router("/search", search_router)
