"""Writes of the search app: counting queries that found nothing."""

import logging

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from accounts.permissions import Viewer
from search.models import MissedSearch
from search.params import SearchParams
from search.selectors import SearchFilters, SearchResults, search
from search.text import normalize_logged_query

logger = logging.getLogger(__name__)


def record_missed_search(
    *,
    text: str,
    context_key: str = "",
    audience: str = MissedSearch.Audience.EMPLOYEE,
) -> None:
    """Count one search for ``text`` that found nothing, under ``context_key``.

    Only the normalized text, the context and the audience (employee or
    customer) are stored, never who searched.
    """
    query = normalize_logged_query(text)
    if not query:
        return
    now = timezone.now()
    context_key = context_key[:120]
    same_row = MissedSearch.objects.filter(
        query=query, context_key=context_key, audience=audience
    )
    with transaction.atomic():
        updated = same_row.update(count=F("count") + 1, last_searched_at=now)
        if updated:
            return
        try:
            with transaction.atomic():
                MissedSearch.objects.create(
                    query=query,
                    context_key=context_key,
                    audience=audience,
                    last_searched_at=now,
                )
        except IntegrityError:
            # Another request created the row first; count on it.
            same_row.update(count=F("count") + 1, last_searched_at=now)
    logger.info("search.missed context=%s audience=%s", context_key or "-", audience)


def audience_of(viewer: Viewer) -> str:
    """Return the missed-search audience of ``viewer``: customer or employee."""
    if isinstance(viewer, User) and viewer.is_external:
        return MissedSearch.Audience.CUSTOMER
    return MissedSearch.Audience.EMPLOYEE


def words_find_nothing(viewer: Viewer, params: SearchParams) -> bool:
    """Check whether the words of ``params`` alone find nothing ``viewer`` may see."""
    if params.filters == SearchFilters():
        return True
    return search(viewer, params.text, page_size=1).total == 0


def run_search(
    viewer: Viewer, params: SearchParams, *, record_miss: bool = True
) -> SearchResults:
    """Search for ``viewer``, and count the query when it found nothing.

    A search with filters is counted only when its words find nothing
    without the filters either, so a filter that was too narrow is not
    shown as a gap in the content. ``record_miss=False`` counts nothing,
    for the requests the search page sends while the person types.
    """
    results = search(
        viewer,
        params.text,
        filters=params.filters,
        order=params.order,
        page=params.page,
    )
    missed = results.total == 0 and not results.query.is_empty
    if record_miss and missed and words_find_nothing(viewer, params):
        record_missed_search(
            text=params.text,
            context_key=params.filters.context,
            audience=audience_of(viewer),
        )
    return results
