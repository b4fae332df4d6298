"""Writes of the search app: counting queries that found nothing."""

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts.models import User
from accounts.permissions import Viewer
from search.models import MissedSearch, MissedSearchRepeat
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
# Each counted miss deletes at most this many expired repeat windows, so the
# table stays about as large as the number of misses in one window.
EXPIRED_WINDOWS_PER_CLEANUP = 500


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
    # One transaction, so a count that fails leaves no window that would
    # keep the person's next repeat from being counted.
    with transaction.atomic():
        if searcher_id is not None and not _first_in_window(
            searcher_id=searcher_id,
            query=query,
            context_key=context_key,
            audience=audience,
        ):
            logger.info(
                "search.missed_repeat context=%s audience=%s",
                context_key or "-",
                audience,
            )
            return False
        _count_miss(query=query, context_key=context_key, audience=audience)
    logger.info("search.missed context=%s audience=%s", context_key or "-", audience)
    return True


def _first_in_window(
    *, searcher_id: int, query: str, context_key: str, audience: str
) -> bool:
    """Open this person's repeat window for the miss, or return False if one is open.

    The window is a ``MissedSearchRepeat`` row keyed by an HMAC of the
    person's id and the search, so the table contains neither in readable
    form. Every process shares the database, so a repeat that reaches
    another worker or the API is not counted again. The primary key lets
    one of two concurrent inserts through, and an expired row is reopened
    by an UPDATE that checks the expiry again on the row it locks.
    """
    key = salted_hmac(
        "search.missed_repeat",
        f"{searcher_id}\n{audience}\n{context_key}\n{query}",
        algorithm="sha256",
    ).hexdigest()
    now = timezone.now()
    expires_at = now + timedelta(seconds=MISSED_SEARCH_REPEAT_SECONDS)
    windows = MissedSearchRepeat.objects.filter(key=key)
    # A second pass runs only when the cleanup of another request deleted
    # the expired row between this insert and the reopening UPDATE.
    for _attempt in range(2):
        try:
            with transaction.atomic():
                MissedSearchRepeat.objects.create(key=key, expires_at=expires_at)
        except IntegrityError:
            reopened = windows.filter(expires_at__lte=now).update(expires_at=expires_at)
            if reopened:
                return True
            if windows.exists():
                return False
            continue
        _delete_expired_windows(now)
        return True
    return False


def _delete_expired_windows(now: datetime) -> None:
    """Delete up to ``EXPIRED_WINDOWS_PER_CLEANUP`` windows that ended by ``now``.

    PostgreSQL skips rows that another cleanup or reopening has locked, so
    concurrent cleanups neither wait for nor deadlock with each other. SQLite
    has one writer at a time and ignores the row locks.
    """
    with transaction.atomic():
        expired = (
            MissedSearchRepeat.objects.filter(expires_at__lte=now)
            .order_by("expires_at")
            .select_for_update(skip_locked=True)
            .values("key")[:EXPIRED_WINDOWS_PER_CLEANUP]
        )
        MissedSearchRepeat.objects.filter(key__in=expired).delete()


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
