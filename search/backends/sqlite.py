"""SQLite FTS5 backend: ``search_entry_fts`` joined to the visible entries.

The MATCH expression is built from the parsed query, never from the raw
text: every term is a double-quoted FTS5 string of letters and digits, and
the only operators are the AND, OR and NOT this module writes.
"""

from datetime import datetime
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet
from django.utils.dateparse import parse_datetime
from django.utils.timezone import make_aware

from search.backends.base import Order, RawHit
from search.models import SearchEntry
from search.query import ParsedQuery, Term
from search.text import HIT_END, HIT_START

# bm25 weights per FTS5 column: title, body, tags, contexts.
_RANK = "bm25(search_entry_fts, 10.0, 1.0, 6.0, 3.0)"
SNIPPET_TOKENS = 24


def _fts_term(term: Term) -> str:
    # Words hold only letters and digits, so they need no escaping inside quotes.
    phrase = '"' + " ".join(term.words) + '"'
    return f"{phrase} *" if term.prefix else phrase


def match_expression(query: ParsedQuery) -> str:
    """Return the FTS5 MATCH expression for a non-empty parsed query."""
    groups = []
    for group in query.groups:
        alternatives = " OR ".join(_fts_term(term) for term in group)
        groups.append(f"({alternatives})")
    expression = " AND ".join(groups)
    if query.excluded:
        excluded = " OR ".join(_fts_term(term) for term in query.excluded)
        expression = f"({expression}) NOT ({excluded})"
    return expression


def _entry_ids_sql(
    entries: QuerySet[SearchEntry],
) -> tuple[str, tuple[Any, ...]] | None:
    """Return the SQL selecting the ids of ``entries``, or None when it is empty."""
    try:
        sql, params = entries.order_by().values("id").query.sql_with_params()
    except EmptyResultSet:
        return None
    return sql, tuple(params)


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    parsed = parse_datetime(str(value))
    if parsed is None:
        raise ValueError(f"search_entry.created_at holds {value!r}, not a datetime.")
    return parsed if parsed.tzinfo else make_aware(parsed)


class Fts5Backend:
    def matches(
        self,
        entries: QuerySet[SearchEntry],
        query: ParsedQuery,
        *,
        order: Order,
        offset: int,
        limit: int,
    ) -> list[RawHit]:
        compiled = _entry_ids_sql(entries)
        if compiled is None:
            return []
        ids_sql, ids_params = compiled
        order_sql = (
            "rank, e.id DESC"
            if order == Order.RELEVANCE
            else "e.created_at DESC, e.id DESC"
        )
        sql = f"""
            SELECT e.id, e.kind, e.object_id,
                   highlight(search_entry_fts, 0, %s, %s),
                   snippet(search_entry_fts, 1, %s, %s, '…', {SNIPPET_TOKENS}),
                   e.created_at, e.community_id, e.author_id,
                   {_RANK} AS rank
            FROM search_entry_fts
            JOIN search_entry e ON e.id = search_entry_fts.rowid
            WHERE search_entry_fts MATCH %s AND e.id IN ({ids_sql})
            ORDER BY {order_sql}
            LIMIT %s OFFSET %s
        """  # noqa: S608 (no request text is formatted into the statement)
        params = (
            HIT_START,
            HIT_END,
            HIT_START,
            HIT_END,
            match_expression(query),
            *ids_params,
            limit,
            offset,
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        return [
            RawHit(
                entry_id=row[0],
                kind=row[1],
                object_id=row[2],
                title=row[3],
                snippet=row[4] or "",
                created_at=_as_datetime(row[5]),
                community_id=row[6],
                author_id=row[7],
            )
            for row in rows
        ]

    def counts_by_kind(
        self, entries: QuerySet[SearchEntry], query: ParsedQuery
    ) -> dict[str, int]:
        compiled = _entry_ids_sql(entries)
        if compiled is None:
            return {}
        ids_sql, ids_params = compiled
        sql = f"""
            SELECT e.kind, count(*)
            FROM search_entry_fts
            JOIN search_entry e ON e.id = search_entry_fts.rowid
            WHERE search_entry_fts MATCH %s AND e.id IN ({ids_sql})
            GROUP BY e.kind
        """  # noqa: S608 (no request text is formatted into the statement)
        with connection.cursor() as cursor:
            cursor.execute(sql, (match_expression(query), *ids_params))
            return {kind: count for kind, count in cursor.fetchall()}
