"""PostgreSQL backend: ``vector @@ tsquery`` with ranking and ``ts_headline``.

Words and phrases go through ``phraseto_tsquery``, which parses any text
without raising. A prefix term needs ``to_tsquery``; its words hold only
letters and digits (see ``search.query``), quoted as tsquery lexemes, so no
operator can come from the request.
"""

from typing import Any

from django.contrib.postgres.search import SearchQuery
from django.db import connection

from search.backends.base import (
    PERSON_PROFILE_WEIGHT,
    Matches,
    Order,
    RawHit,
    Where,
    address_columns,
)
from search.query import ParsedQuery, Term
from search.text import HIT_END, HIT_START, SPELLED_OUT_START, spelled_out_hits

# The configuration the trigger indexes with (migration 0011): English, with
# accents folded by ``unaccent``. Queries must use the same one.
CONFIG = "english_unaccent"
SNIPPET_WORDS = 24
# ``ts_headline`` parses all the text it is given: about 5 ms for the 20,000
# characters an entry may index, so a page of 20 long library pages took
# about 100 ms to headline (docs/search.md, "Long items"). A longer body is
# headlined from its first characters (about 0.4 ms), and again whole only
# when no hit is marked there.
HEADLINE_PREFIX_CHARACTERS = 1_000


def compact(sql: str) -> str:
    """Return ``sql`` without the indentation and line breaks of its source.

    psycopg caches the converted form of a statement only when it has at
    most 4,096 characters and 50 parameters. The search statement's
    indentation took it over that length, so psycopg converted it anew on
    every search. Only the ends of lines are trimmed, so spaces inside a
    quoted literal stay.
    """
    return " ".join(line.strip() for line in sql.splitlines() if line.strip())


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


def _term_sql(term: Term) -> tuple[str, str]:
    if not term.prefix:
        return f"phraseto_tsquery('{CONFIG}', %s)", " ".join(term.words)
    lexemes = [f"'{word}'" for word in term.words]
    lexemes[-1] += ":*"
    return f"to_tsquery('{CONFIG}', %s)", " <-> ".join(lexemes)


def tsquery_sql(query: ParsedQuery) -> tuple[str, tuple[str, ...]]:
    """Return the SQL and parameters of the tsquery for a non-empty parsed query.

    The same expression as ``tsquery``, written out so the statement is
    built without compiling a queryset.
    """

    parts: list[str] = []
    params: list[str] = []
    for group in query.groups:
        alternatives = []
        for term in group:
            sql, param = _term_sql(term)
            alternatives.append(sql)
            params.append(param)
        parts.append("(" + " || ".join(alternatives) + ")")
    if not parts:
        raise ValueError("An empty query has no tsquery: check is_empty first.")
    for term in query.excluded:
        sql, param = _term_sql(term)
        parts.append(f"!!{sql}")
        params.append(param)
    return "(" + " && ".join(parts) + ")", tuple(params)


def any_term_sql(query: ParsedQuery) -> tuple[str, tuple[str, ...]]:
    """Return a tsquery that matches any required term of a non-empty parsed query."""
    parts: list[str] = []
    params: list[str] = []
    for term in query.terms():
        sql, param = _term_sql(term)
        parts.append(sql)
        params.append(param)
    return "(" + " || ".join(parts) + ")", tuple(params)


def _fetch_unprepared(sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """Run ``sql`` unprepared, so PostgreSQL plans it for its own values.

    psycopg prepares a statement after five runs, and PostgreSQL may then
    reuse one generic plan for every word. A rare word wants the GIN index
    and a common one the backward scan, and on the medium set the generic
    plan took the search's p95 from 17 ms to 610 ms. An unprepared statement
    is planned with its parameters each time. The connection's threshold is
    put back at once, so other statements are still prepared.

    Parallel workers are off for ``search_entry`` itself (migration 0007):
    the window reads about a thousand rows, and starting workers for a
    common word's backward scan cost about 10 ms on the medium set.
    """
    with connection.cursor() as cursor:
        driver = connection.connection
        threshold = driver.prepare_threshold
        driver.prepare_threshold = None
        try:
            cursor.execute(sql, params)
        finally:
            driver.prepare_threshold = threshold
        return list(cursor.fetchall())


class PostgresBackend:
    """Counts per kind and the page's ids in one statement, then the page's snippets.

    The match uses the GIN index on ``vector``; the visibility rule and the
    filters are plain predicates on the matched rows (``search.selectors``).
    """

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
        match, match_params = tsquery_sql(query)
        # Which context keys contain a term, read for the page's rows only.
        any_term, any_term_params = any_term_sql(query)

        if order == Order.RELEVANCE:
            # Skills share weight A with the name in ``vector``, so a
            # person's name is ranked from ``name_vector``, the title alone.
            # The trigger stores it: parsing the title here cost about
            # 1.7 ms for a common word whose window held 587 people.
            rank = (
                f"CASE kind WHEN 'person' THEN ts_rank(name_vector, {match}) "
                f"+ {PERSON_PROFILE_WEIGHT} * ts_rank(vector, {match}) "
                f"ELSE ts_rank(vector, {match}) END"
            )
            rank_params = (*match_params, *match_params, *match_params)
            order_sql = "rank DESC, id DESC"
        else:
            rank, rank_params, order_sql = "0", (), "created_at DESC, id DESC"

        def window(kind_sql: str) -> str:
            # The newest visible matches first: for a common word PostgreSQL
            # walks the primary key backwards and stops after the window's
            # rows, for a rare one it takes the GIN index and sorts the few
            # matches. The rank is computed here, so the window keeps small
            # rows instead of each match's title and vector. ``newness``
            # numbers the rows newest first. They arrive in that order, so
            # the numbering needs no sort, and the page and the counts pick
            # the newest rows by it instead of sorting them again.
            return f"""
                SELECT *, row_number() OVER (ORDER BY id DESC) AS newness
                FROM (
                    SELECT id, kind, created_at, {rank} AS rank FROM search_entry
                    WHERE vector @@ {match} AND ({where_sql}) {kind_sql}
                    ORDER BY id DESC LIMIT %s
                ) AS newest
            """  # noqa: S608 (no request text is formatted into the statement)

        window_params = (*rank_params, *match_params, *where_params)
        # Without a type filter the page is picked from the matches
        # themselves, so they are not copied into a second table.
        selected_cte, selected_params, selected = "", (), "matched"
        if kinds:
            kinds_sql = ", ".join(["%s"] * len(kinds))
            selected_cte = (
                f"selected AS MATERIALIZED ({window(f'AND kind IN ({kinds_sql})')}),"
            )
            selected_params = (*window_params, *kinds, candidate_limit + 1)
            selected = "selected"

        # One statement, so one round trip: the counts and the page's ids
        # in CTEs, then a row per hit of the page with its headlines and
        # address, or a single row without a hit when the page is empty.
        # Headlines cost the most, so they are built for the page's rows only,
        # from the tsquery computed once in ``terms``. A long body is first
        # headlined from its beginning alone (see HEADLINE_PREFIX_CHARACTERS).
        sql = f"""
            WITH matched AS MATERIALIZED ({window("")}),
            {selected_cte}
            page AS MATERIALIZED (
                SELECT id, row_number() OVER (ORDER BY {order_sql}) AS position
                FROM (
                    SELECT id, created_at, rank FROM {selected}
                    WHERE newness <= %s
                    ORDER BY {order_sql} OFFSET %s LIMIT %s
                ) AS page_rows
            ),
            per_kind AS (
                SELECT array_agg(kind) AS kinds, array_agg(matches) AS matches
                FROM (
                    SELECT kind, count(*) AS matches FROM matched
                    WHERE newness <= %s GROUP BY kind
                ) AS counted
            )
            SELECT (SELECT count(*) FROM matched), (SELECT count(*) FROM {selected}),
                   per_kind.kinds, per_kind.matches, page.position,
                   search_entry.id, search_entry.kind, object_id,
                   ts_headline('{CONFIG}', title, terms.query, %s),
                   CASE WHEN length(parts.shown) <= {HEADLINE_PREFIX_CHARACTERS}
                        THEN ts_headline('{CONFIG}', parts.shown, terms.query, %s)
                        ELSE (
                            SELECT CASE WHEN strpos(early, '{HIT_START}') > 0
                                   THEN early
                                   ELSE ts_headline('{CONFIG}', parts.shown,
                                                    terms.query, %s)
                                   END
                            FROM (SELECT ts_headline('{CONFIG}',
                                      left(parts.shown, {HEADLINE_PREFIX_CHARACTERS}),
                                      terms.query, %s) AS early) AS bounded
                        ) END,
                   created_at, community_id, author_id, heading,
                   {address_columns("postgresql")},
                   ARRAY(
                       SELECT key FROM unnest(string_to_array(contexts, ' ')) AS key
                       WHERE to_tsvector('{CONFIG}', translate(key, '._', '  '))
                             @@ {any_term}
                   ),
                   search_entry.tags,
                   CASE WHEN parts.spelled_out <> ''
                        THEN ts_headline('{CONFIG}', parts.spelled_out, terms.query, %s)
                        END
            FROM per_kind
            CROSS JOIN (SELECT {match} AS query) AS terms
            LEFT JOIN page ON true
            LEFT JOIN search_entry ON search_entry.id = page.id
            LEFT JOIN LATERAL (
                SELECT split_part(body, chr({ord(SPELLED_OUT_START)}), 1) AS shown,
                       split_part(body, chr({ord(SPELLED_OUT_START)}), 2) AS spelled_out
            ) AS parts ON true
            ORDER BY page.position
        """  # noqa: S608 (no request text is formatted into the statement)
        params = (
            *window_params,
            candidate_limit + 1,
            *selected_params,
            candidate_limit,
            offset,
            limit,
            candidate_limit,
            _TITLE_OPTIONS,
            _SNIPPET_OPTIONS,
            _SNIPPET_OPTIONS,
            _SNIPPET_OPTIONS,
            *any_term_params,
            _TITLE_OPTIONS,
            *match_params,
        )
        rows = _fetch_unprepared(compact(sql), params)
        matched_count, selected_count, counted_kinds, kind_counts = rows[0][:4]
        return Matches(
            counts=dict(zip(counted_kinds or (), kind_counts or (), strict=True)),
            counts_complete=matched_count <= candidate_limit,
            total=min(selected_count, candidate_limit),
            total_complete=selected_count <= candidate_limit,
            # The row of an empty page has no entry id.
            hits=[_raw_hit(row[5:]) for row in rows if row[5] is not None],
        )


_TITLE_OPTIONS = f"StartSel={HIT_START}, StopSel={HIT_END}, HighlightAll=true"
_SNIPPET_OPTIONS = (
    f"StartSel={HIT_START}, StopSel={HIT_END}, MaxWords={SNIPPET_WORDS}, "
    f"MinWords={SNIPPET_WORDS // 2}, MaxFragments=2, "
    'FragmentDelimiter=" … "'
)


def _raw_hit(row: tuple[Any, ...]) -> RawHit:
    snippet, spelled_out_words = spelled_out_hits(row[4] or "", row[13] or "")
    title, _words = spelled_out_hits(row[3], row[13] or "")
    return RawHit(
        entry_id=row[0],
        kind=row[1],
        object_id=row[2],
        title=title,
        heading=row[8],
        snippet=snippet,
        created_at=row[5],
        community_id=row[6],
        author_id=row[7],
        parent_id=row[9],
        slug=row[10],
        matched_contexts=tuple(row[11] or ()),
        tags=row[12] or "",
        spelled_out_words=spelled_out_words,
    )
