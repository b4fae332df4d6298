"""Writes of the search app: counting queries that found nothing."""

import logging

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.permissions import Viewer
from search.models import MissedSearch
from search.params import SearchParams
from search.selectors import SearchResults, search
from search.text import normalize_logged_query

logger = logging.getLogger(__name__)


def record_missed_search(*, text: str, context_key: str = "") -> None:
    """Count one search for ``text`` that found nothing, under ``context_key``.

    Only the normalized text and the context are stored, never who searched.
    """
    query = normalize_logged_query(text)
    if not query:
        return
    now = timezone.now()
    context_key = context_key[:120]
    with transaction.atomic():
        updated = MissedSearch.objects.filter(
            query=query, context_key=context_key
        ).update(count=F("count") + 1, last_searched_at=now)
        if updated:
            return
        try:
            with transaction.atomic():
                MissedSearch.objects.create(
                    query=query, context_key=context_key, last_searched_at=now
                )
        except IntegrityError:
            # Another request created the row first; count on it.
            MissedSearch.objects.filter(query=query, context_key=context_key).update(
                count=F("count") + 1, last_searched_at=now
            )
    logger.info("search.missed context=%s", context_key or "-")


def run_search(viewer: Viewer, params: SearchParams) -> SearchResults:
    """Search for ``viewer``, and count the query when it found nothing."""
    results = search(
        viewer,
        params.text,
        filters=params.filters,
        order=params.order,
        page=params.page,
    )
    if results.total == 0 and not results.query.is_empty:
        record_missed_search(text=params.text, context_key=params.filters.context)
    return results
