"""Writes of the search app: counting queries that found nothing."""

import logging

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts.models import User
from accounts.permissions import Viewer
from search.models import MissedSearch
from search.params import SearchParams
from search.selectors import SearchFilters, SearchResults, search
from search.text import normalize_logged_query

logger = logging.getLogger(__name__)

# A person's miss of the same query in the same context and audience is
# counted once within this many seconds. One typed search can reach the
# server more than once: the page's submit and the as-you-type request's
# deferred count when Enter is pressed within 400 ms of the last key, or a
# script calling the API again.
MISSED_SEARCH_REPEAT_SECONDS = 60


def record_missed_search(
    *,
    text: str,
    context_key: str = "",
    audience: str = MissedSearch.Audience.EMPLOYEE,
    searcher_id: int | None = None,
) -> bool:
    """Count one search for ``text`` that found nothing, under ``context_key``.

    Only the normalized text, the context and the audience (employee or
    customer) are stored, never who searched. With ``searcher_id``, a
    repeat of the same miss by that person within
    ``MISSED_SEARCH_REPEAT_SECONDS`` is not counted again. Returns whether
    the search was counted.
    """
    query = normalize_logged_query(text)
    if not query:
        return False
    context_key = context_key[:120]
    if searcher_id is not None and not _first_in_window(
        searcher_id=searcher_id, query=query, context_key=context_key, audience=audience
    ):
        logger.info(
            "search.missed_repeat context=%s audience=%s", context_key or "-", audience
        )
        return False
    _count_miss(query=query, context_key=context_key, audience=audience)
    logger.info("search.missed context=%s audience=%s", context_key or "-", audience)
    return True


def _first_in_window(
    *, searcher_id: int, query: str, context_key: str, audience: str
) -> bool:
    """Mark this person's miss as seen, and return whether it was not seen recently.

    The cache key is an HMAC of the person's id and the search, so the cache
    contains neither in readable form. ``cache.add`` is atomic on Redis (set
    by ``CACHE_URL``), so two concurrent repeats count once.
    NOTE: without ``CACHE_URL`` each process has its own memory cache, so
    repeats that reach different worker processes are each counted.
    """
    digest = salted_hmac(
        "search.missed_repeat",
        f"{searcher_id}\n{audience}\n{context_key}\n{query}",
        algorithm="sha256",
    ).hexdigest()
    return cache.add(
        f"search:missed-repeat:{digest}", 1, timeout=MISSED_SEARCH_REPEAT_SECONDS
    )


def _count_miss(*, query: str, context_key: str, audience: str) -> None:
    now = timezone.now()
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
    shown as a gap in the content. One person's repeat of the same miss is
    counted once (``MISSED_SEARCH_REPEAT_SECONDS``), whether it comes from
    the page or the API. ``record_miss=False`` counts nothing, for the
    requests the search page sends while the person types.
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
            searcher_id=viewer.pk if isinstance(viewer, User) else None,
        )
    return results
