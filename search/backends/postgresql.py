"""PostgreSQL backend: ``vector @@ tsquery`` with ranking and ``ts_headline``.

Words and phrases go through ``phraseto_tsquery``, which parses any text
without raising. A prefix term needs ``to_tsquery``; its words hold only
letters and digits (see ``search.query``), quoted as tsquery lexemes, so no
operator can come from the request.
"""

from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    SearchRank,
)
from django.db.models import Count, F, QuerySet

from search.backends.base import Order, RawHit
from search.models import SearchEntry
from search.query import ParsedQuery, Term
from search.text import HIT_END, HIT_START

# Must match the configuration the trigger in migration 0002 indexes with.
CONFIG = "pg_catalog.english"
SNIPPET_WORDS = 24


def _tsquery(term: Term) -> SearchQuery:
    if not term.prefix:
        return SearchQuery(" ".join(term.words), config=CONFIG, search_type="phrase")
    lexemes = [f"'{word}'" for word in term.words]
    lexemes[-1] += ":*"
    return SearchQuery(" <-> ".join(lexemes), config=CONFIG, search_type="raw")


def tsquery(query: ParsedQuery) -> SearchQuery:
    """Return the tsquery expression for a non-empty parsed query."""
    combined: SearchQuery | None = None
    for group in query.groups:
        alternatives = _tsquery(group[0])
        for term in group[1:]:
            alternatives = alternatives | _tsquery(term)
        combined = alternatives if combined is None else combined & alternatives
    if combined is None:
        raise ValueError("An empty query has no tsquery: check is_empty first.")
    for term in query.excluded:
        combined = combined & ~_tsquery(term)
    return combined


class PostgresBackend:
    # NOTE: the counts and the page are two passes over every matching row,
    # and each builds the visible ids of every kind; a common word on the
    # small benchmark data set takes seconds (see docs/benchmarks.md).
    def run(
        self,
        entries: QuerySet[SearchEntry],
        query: ParsedQuery,
        *,
        kinds: tuple[str, ...],
        order: Order,
        offset: int,
        limit: int,
    ) -> tuple[dict[str, int], list[RawHit]]:
        expression = tsquery(query)
        matching = entries.filter(vector=expression)
        rows = matching.order_by().values_list("kind").annotate(total=Count("id"))
        counts = {kind: total for kind, total in rows}
        if not sum(counts.get(kind, 0) for kind in kinds or counts):
            return counts, []
        if kinds:
            matching = matching.filter(kind__in=kinds)
        return counts, self._page(matching, expression, order, offset, limit)

    def _page(
        self,
        matching: QuerySet[SearchEntry],
        expression: SearchQuery,
        order: Order,
        offset: int,
        limit: int,
    ) -> list[RawHit]:
        found = matching.annotate(
            rank=SearchRank(F("vector"), expression),
            title_marked=SearchHeadline(
                "title",
                expression,
                config=CONFIG,
                start_sel=HIT_START,
                stop_sel=HIT_END,
                highlight_all=True,
            ),
            snippet=SearchHeadline(
                "body",
                expression,
                max_words=SNIPPET_WORDS,
                min_words=SNIPPET_WORDS // 2,
                max_fragments=2,
                fragment_delimiter=" … ",
                config=CONFIG,
                start_sel=HIT_START,
                stop_sel=HIT_END,
            ),
        )
        if order == Order.RELEVANCE:
            found = found.order_by("-rank", "-id")
        else:
            found = found.order_by("-created_at", "-id")
        rows = found.values_list(
            "id",
            "kind",
            "object_id",
            "title_marked",
            "snippet",
            "created_at",
            "community_id",
            "author_id",
        )[offset : offset + limit]
        return [
            RawHit(
                entry_id=row[0],
                kind=row[1],
                object_id=row[2],
                title=row[3],
                snippet=row[4] or "",
                created_at=row[5],
                community_id=row[6],
                author_id=row[7],
            )
            for row in rows
        ]
