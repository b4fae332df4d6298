"""SQLite FTS5 backend: ``search_entry_fts`` joined to the visible entries.

The MATCH expression is built from the parsed query, never from the raw
text: every term is a double-quoted FTS5 string of letters and digits, and
the only operators are the AND, OR and NOT this module writes.

The visibility rule and the filters arrive as a compiled WHERE clause,
applied to the ``search_entry`` rows joined to the FTS5 matches, so only
matching entries are checked, in the same statement.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.utils.dateparse import parse_datetime
from django.utils.timezone import make_aware

from search.backends.base import (
    PERSON_PROFILE_WEIGHT,
    Matches,
    Order,
    RawHit,
    Where,
    address_columns,
    fetch_rows,
)
from search.query import ParsedQuery, Term
from search.text import (
    HIT_END,
    HIT_START,
    SPELLED_OUT_START,
    marked_keys,
    marked_snippet,
    spelled_out_hits,
)

# bm25 weights per FTS5 column: title, body, tags, contexts. bm25 is
# negative and lower is better. A person scores the name (the title column)
# alone, plus PERSON_PROFILE_WEIGHT of the score over every column.
_WEIGHTS = "10.0, 1.0, 6.0, 3.0"
_MATCHES = """
    FROM search_entry_fts
    JOIN search_entry ON search_entry.id = search_entry_fts.rowid
    WHERE search_entry_fts MATCH %s AND ({where})
"""

# When the window is cut, a match is ranked by the columns that hold a term
# of the query, with these weights, and then newest first (docs/search.md,
# "Ranking a full window"). Every match scores 1 for being found, so
# content found in its body alone scores 1. A person scores for the name
# only, as much as content with the term in its title. A profile found
# through a skill or a job title alone ranks below every content match.
COLUMN_WEIGHTS = {"title": 10.0, "tags": 6.0, "contexts": 3.0}
_PERSON_PROFILE_SCORE = 0.5


def column_score(kind: str, columns: set[str]) -> float:
    """Return the score of a match found in ``columns`` (higher is better)."""
    if kind == "person":
        if "title" in columns:
            return 1.0 + COLUMN_WEIGHTS["title"]
        return _PERSON_PROFILE_SCORE
    return 1.0 + sum(COLUMN_WEIGHTS[column] for column in columns)


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


def column_expression(query: ParsedQuery, column: str) -> str:
    """Return a MATCH expression for any wanted term of ``query`` in ``column``."""
    terms = " OR ".join(_fts_term(term) for group in query.groups for term in group)
    return f"{column} : ({terms})"


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    parsed = parse_datetime(str(value))
    if parsed is None:
        raise ValueError(f"search_entry.created_at holds {value!r}, not a datetime.")
    return parsed if parsed.tzinfo else make_aware(parsed)


@dataclass(frozen=True)
class _WindowResult:
    counts: dict[str, int]
    counts_complete: bool
    total: int
    total_complete: bool
    page: list[int]


def _bm25_ranks(expression: str, low: int, high: int) -> dict[int, tuple[float, float]]:
    """Return the bm25 of every match with an id from ``low`` to ``high``.

    Each id maps to the name's score and the score over every column, so
    ``_ranked_page`` can rank a person by the name. The rowid range keeps
    FTS5 to the window's part of the index, but bm25 still counts each
    term's rows over the whole index, once per statement.
    """
    sql = f"""
        SELECT rowid, bm25(search_entry_fts, 10.0, 0.0, 0.0, 0.0),
               bm25(search_entry_fts, {_WEIGHTS})
        FROM search_entry_fts
        WHERE search_entry_fts MATCH %s AND rowid BETWEEN %s AND %s
    """  # noqa: S608 (no request text is formatted into the statement)
    return {
        row[0]: (row[1], row[2]) for row in fetch_rows(sql, (expression, low, high))
    }


def _column_hits(query: ParsedQuery, low: int, high: int) -> dict[int, set[str]]:
    """Return, per id from ``low`` to ``high``, the weighted columns with a term."""
    parts = []
    params: list[Any] = []
    for column in COLUMN_WEIGHTS:
        parts.append(
            "SELECT rowid, %s FROM search_entry_fts "
            "WHERE search_entry_fts MATCH %s AND rowid BETWEEN %s AND %s"
        )
        params += [column, column_expression(query, column), low, high]
    hits: dict[int, set[str]] = {}
    for entry_id, column in fetch_rows(" UNION ALL ".join(parts), tuple(params)):
        hits.setdefault(entry_id, set()).add(column)
    return hits


def _ranked_page(
    window: list[tuple[int, str]],
    query: ParsedQuery,
    *,
    cut: bool,
    offset: int,
    limit: int,
) -> list[int]:
    """Rank the window's ``(id, kind)`` rows by relevance and return one page.

    A window that contains every visible match is ranked by bm25, as the whole
    index would rank it. A cut window is ranked by ``column_score``: bm25
    would first count the rows of each term over the whole index, which
    for a common phrase costs more than the rest of the search.
    """
    if not window:
        return []
    # The window arrives newest first, so each score's ids stay in that order.
    low = window[-1][0]
    high = window[0][0]
    if cut:
        hits = _column_hits(query, low, high)
        by_score: dict[float, list[int]] = {}
        for entry_id, kind in window:
            columns = hits.get(entry_id)
            if columns is None:
                score = _PERSON_PROFILE_SCORE if kind == "person" else 1.0
            else:
                score = column_score(kind, columns)
            by_score.setdefault(score, []).append(entry_id)
        ranked = [
            entry_id
            for score in sorted(by_score, reverse=True)
            for entry_id in by_score[score]
        ]
        return ranked[offset : offset + limit]
    ranks = _bm25_ranks(match_expression(query), low, high)
    keys: list[tuple[float, int, int]] = []
    for entry_id, kind in window:
        name, whole = ranks.get(entry_id, (0.0, 0.0))
        rank = name + PERSON_PROFILE_WEIGHT * whole if kind == "person" else whole
        keys.append((rank, -entry_id, entry_id))
    keys.sort()
    return [entry_id for _rank, _newest, entry_id in keys[offset : offset + limit]]


@dataclass(frozen=True)
class _Window:
    """The newest visible matches, at most ``size`` of them, in one statement.

    FTS5 walks the match's rowids from the highest down and the statement
    stops after ``size + 1`` visible matches. The extra row shows whether
    the window was cut. So a common word costs about as much as a rare one.
    The window is ranked afterwards, by ``_ranked_page``.
    """

    where: str
    params: tuple[Any, ...]
    size: int

    def _sql(self, kinds: tuple[str, ...]) -> tuple[str, tuple[Any, ...]]:
        kind_sql = ""
        if kinds:
            kind_sql = f"AND search_entry.kind IN ({', '.join(['%s'] * len(kinds))})"
        sql = f"""
            SELECT search_entry.id AS id, search_entry.kind AS kind,
                   search_entry.created_at AS created_at
            {_MATCHES.format(where=self.where)} {kind_sql}
            ORDER BY search_entry_fts.rowid DESC LIMIT %s
        """
        return sql, (*self.params, *kinds, self.size + 1)

    def counts_and_page(
        self,
        query: ParsedQuery,
        kinds: tuple[str, ...],
        order: Order,
        offset: int,
        limit: int,
    ) -> _WindowResult:
        """Count the window per kind and pick one page of it.

        The counts cover every kind. With a kind filter the page comes from
        a second window of those kinds' newest matches, so a kind whose
        matches are all older than the first window still has a page. In
        date order the statement picks the page; by relevance it returns
        the window's ids and kinds for ``_ranked_page``.
        """
        matched_sql, matched_params = self._sql(())
        selected_sql, selected_params = "SELECT * FROM matched", ()
        if kinds:
            selected_sql, selected_params = self._sql(kinds)
        if order == Order.RELEVANCE:
            rows_sql = "SELECT 'window', kind, id, NULL FROM ("
            rows_sql += "SELECT id, kind FROM selected ORDER BY id DESC LIMIT %s)"
            rows_params: tuple[Any, ...] = (self.size,)
        else:
            rows_sql = """
                SELECT 'page', NULL, id, position FROM (
                    SELECT id, row_number() OVER (
                        ORDER BY created_at DESC, id DESC
                    ) AS position
                    FROM (
                        SELECT id, created_at FROM (
                            SELECT * FROM selected ORDER BY id DESC LIMIT %s
                        )
                        ORDER BY created_at DESC, id DESC LIMIT %s OFFSET %s
                    )
                )
            """
            rows_params = (self.size, limit, offset)
        sql = f"""
            WITH matched AS MATERIALIZED ({matched_sql}),
            selected AS MATERIALIZED ({selected_sql})
            SELECT 'all', NULL, count(*), NULL FROM matched
            UNION ALL
            SELECT 'selected', NULL, count(*), NULL FROM selected
            UNION ALL
            SELECT 'kind', kind, count(*), NULL FROM (
                SELECT kind FROM matched ORDER BY id DESC LIMIT %s
            ) GROUP BY kind
            UNION ALL
            {rows_sql}
        """  # noqa: S608 (no request text is formatted into the statement)
        params = (*matched_params, *selected_params, self.size, *rows_params)
        rows = fetch_rows(sql, params)
        sizes = {row[0]: row[2] for row in rows if row[0] in ("all", "selected")}
        total_complete = sizes["selected"] <= self.size
        if order == Order.RELEVANCE:
            window = [(row[2], row[1]) for row in rows if row[0] == "window"]
            # A compound statement promises no row order, so newest first here.
            window.sort(reverse=True)
            page = _ranked_page(
                window, query, cut=not total_complete, offset=offset, limit=limit
            )
        else:
            page_rows = sorted(
                (row for row in rows if row[0] == "page"), key=lambda row: row[3]
            )
            page = [row[2] for row in page_rows]
        return _WindowResult(
            counts={row[1]: row[2] for row in rows if row[0] == "kind"},
            counts_complete=sizes["all"] <= self.size,
            total=min(sizes["selected"], self.size),
            total_complete=total_complete,
            page=page,
        )


# The body is marked whole and cut in Python (``marked_snippet``), because
# FTS5's ``snippet()`` costs the square of the row's hits.
_DETAIL_COLUMNS = """
    search_entry.id, search_entry.kind, search_entry.object_id,
    highlight({table}, 0, %s, %s), highlight({table}, 1, %s, %s),
    search_entry.created_at, search_entry.community_id,
    search_entry.author_id, search_entry.heading, {addresses},
    highlight({table}, 3, %s, %s), search_entry.tags
"""


def _detail_columns(table: str) -> str:
    return _DETAIL_COLUMNS.format(table=table, addresses=address_columns("sqlite"))


# Must match the tokenizer of search_entry_fts (migration 0011), so that the
# page table marks the same words.
TOKENIZER = "porter unicode61 remove_diacritics 2"


def _page_rows(
    page: list[int], expression: str, marks: tuple[str, ...]
) -> list[tuple[Any, ...]]:
    """Highlight the page's rows with one scan of the match over their rowid range.

    A rowid list would run the match once per row.
    """
    placeholders = ", ".join(["%s"] * len(page))
    sql = f"""
        SELECT {_detail_columns("search_entry_fts")}
        FROM search_entry_fts
        CROSS JOIN search_entry ON search_entry.id = search_entry_fts.rowid
        WHERE search_entry_fts MATCH %s
          AND search_entry_fts.rowid BETWEEN %s AND %s
          AND +search_entry_fts.rowid IN ({placeholders})
    """  # noqa: S608 (only placeholders are formatted into the statement)
    return fetch_rows(sql, (*marks, expression, min(page), max(page), *page))


def _page_rows_with_prefix(
    page: list[int], expression: str, marks: tuple[str, ...]
) -> list[tuple[Any, ...]]:
    """Highlight the page's rows by matching them in a temporary FTS5 table.

    A prefix term makes FTS5 merge the rows of every word with that prefix
    over the whole index, which costs as much as the search itself. The page
    table holds only the page's rows, with the same tokenizer, and
    ``highlight`` and ``snippet`` read nothing but the row they mark, so the
    result is the same. The table is per connection (``temp``).
    """
    placeholders = ", ".join(["%s"] * len(page))
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_page_fts "
            f"USING fts5(title, body, tags, contexts, tokenize='{TOKENIZER}')"
        )
        cursor.execute("DELETE FROM temp.search_page_fts")
        cursor.execute(
            f"""
            INSERT INTO temp.search_page_fts (rowid, title, body, tags, contexts)
            SELECT id, title, body, tags, contexts FROM search_entry
            WHERE id IN ({placeholders})
            """,  # noqa: S608 (only placeholders are formatted into the statement)
            page,
        )
    sql = f"""
        SELECT {_detail_columns("search_page_fts")}
        FROM temp.search_page_fts
        CROSS JOIN search_entry ON search_entry.id = search_page_fts.rowid
        WHERE search_page_fts MATCH %s
    """  # noqa: S608 (no request text is formatted into the statement)
    return fetch_rows(sql, (*marks, expression))


class Fts5Backend:
    def run(
        self,
        where: Where,
        query: ParsedQuery,
        *,
        kinds: tuple[str, ...],
        order: Order,
        offset: int,
        limit: int,
        candidate_limit: int,
    ) -> Matches:
        where_sql, where_params = where
        expression = match_expression(query)
        window = _Window(where_sql, (expression, *where_params), candidate_limit)
        matches = window.counts_and_page(query, kinds, order, offset, limit)
        return Matches(
            counts=matches.counts,
            counts_complete=matches.counts_complete,
            total=matches.total,
            total_complete=matches.total_complete,
            hits=self._hits(matches.page, query),
        )

    def _hits(self, page: list[int], query: ParsedQuery) -> list[RawHit]:
        if not page:
            return []
        # Snippets cost the most, so they are built for the page's rows only.
        expression = match_expression(query)
        marks = (HIT_START, HIT_END) * 3
        if any(term.prefix for group in query.groups for term in group):
            rows = _page_rows_with_prefix(page, expression, marks)
        else:
            rows = _page_rows(page, expression, marks)
        by_id = {row[0]: row for row in rows}
        return [_raw_hit(by_id[entry_id]) for entry_id in page if entry_id in by_id]


def _raw_hit(row: tuple[Any, ...]) -> RawHit:
    # The marked body ends with its marked spelled-out words, if it has any.
    body, _start, spelled_out = (row[4] or "").partition(SPELLED_OUT_START)
    body, spelled_out_words = spelled_out_hits(body, spelled_out)
    title, _words = spelled_out_hits(row[3], spelled_out)
    return RawHit(
        entry_id=row[0],
        kind=row[1],
        object_id=row[2],
        title=title,
        heading=row[8],
        snippet=marked_snippet(body),
        created_at=_as_datetime(row[5]),
        community_id=row[6],
        author_id=row[7],
        parent_id=row[9],
        slug=row[10],
        matched_contexts=marked_keys(row[11] or ""),
        tags=row[12] or "",
        spelled_out_words=spelled_out_words,
    )
