"""Values every page's search box needs."""

from django.conf import settings
from django.http import HttpRequest


def search_limits(request: HttpRequest) -> dict[str, int]:
    """Return the query length limit that the top bar's search box enforces."""
    return {"search_max_query_length": settings.SEARCH_MAX_QUERY_LENGTH}
