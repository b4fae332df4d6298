"""The JSON API and its OpenAPI 3 document at /api/openapi.json."""

from ninja import NinjaAPI, Swagger

from answers.api import router as answers_router
from assist.api import router as assist_router
from assist.tokens import session_unless_token
from communities.api import router as communities_router
from reconciliation.api import router as reconciliation_router
from search.api import router as search_router
from social.api import router as social_router

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
)
api.add_router("/assist", assist_router)
api.add_router("/reconciliation", reconciliation_router)
api.add_router("/answers", answers_router)
api.add_router("/social", social_router)
api.add_router("/communities", communities_router)
api.add_router("/search", search_router)
