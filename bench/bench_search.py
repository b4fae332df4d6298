"""Benchmark search against the raw full-text query and a bare JSON view.

Run: ``.venv/bin/python bench/bench_search.py [--size small] [--requests 300]
[--write]``. Without ``DATABASE_URL`` it builds ``var/bench/search-<size>.sqlite3``
from scratch; with it, it fills that PostgreSQL database (which must be
empty). The data set is generated here: communities (open, private and
customer-visible), people, posts, questions, answers, FAQ entries and
library items whose text mixes common and rare words, then indexed with
``reindex_all``.

Each round runs every case once, in turn, with a query taken from a
rotating mix of rare words, common words, phrases and prefixes. Round N
starts with case N, so no case is always the first to read a query's
pages, and the warm-up rounds run every query of the mix through every
case before the timed rounds start:

- the search API (``GET /api/search``) through Django's full middleware
  stack in this process (``django.test.Client``), so network time is left out;
- ``search.selectors.search`` called directly, with visibility, facets,
  snippets and the page;
- the raw full-text query for the same text through the same driver: the
  20 best entry ids, with no visibility, facets or snippets;
- a bare signed-in JSON view, the floor of the middleware stack.
- a view returning the API's JSON for the same query from memory.
- the search's own statements, captured once per query and replayed through
  the same driver: the floor of the SQL the search sends.
"""

import argparse
import functools
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    Case,
    machine_description,
    measure_interleaved,
    percentile,
    setup_django,
)

WARM_UP = 20
SEED = 20261204


@dataclass(frozen=True)
class Size:
    communities: int
    people: int
    posts: int
    questions: int
    answers_per_question: int
    faq_entries: int
    documents: int


SIZES = {
    "tiny": Size(10, 50, 1_000, 300, 2, 200, 200),
    "small": Size(40, 500, 20_000, 5_000, 2, 2_000, 3_000),
    "medium": Size(200, 5_000, 200_000, 100_000, 2, 50_000, 50_000),
}
COMMON_WORDS = [
    "payment",
    "invoice",
    "order",
    "shipment",
    "credit",
    "note",
    "customer",
    "remittance",
    "reconciliation",
    "bank",
    "line",
    "discrepancy",
    "refund",
    "warehouse",
    "backorder",
    "statement",
    "tolerance",
    "approval",
    "dispute",
    "confirmation",
    "delivery",
]
FILLER_WORDS = [
    "the",
    "a",
    "to",
    "of",
    "and",
    "check",
    "before",
    "after",
    "when",
    "each",
    "every",
    "first",
    "then",
    "please",
    "team",
    "review",
    "screen",
    "field",
    "value",
    "total",
    "amount",
    "date",
    "status",
    "case",
    "owner",
]
PHRASES = ["credit note", "bank line", "short payment", "partial shipment"]
PREFIXES = ["reconcil*", "ship*", "disput*", "remit*"]
RARE_WORD_COUNT = 2_000
YEAR_SECONDS = 365 * 24 * 3600


def rare_word(number: int) -> str:
    return f"zq{number:05d}"


def sentence(rng: random.Random, words: int) -> str:
    parts = []
    for _ in range(words):
        roll = rng.random()
        if roll < 0.02:
            parts.append(rare_word(rng.randrange(RARE_WORD_COUNT)))
        elif roll < 0.35:
            parts.append(rng.choice(COMMON_WORDS))
        elif roll < 0.40:
            parts.append(rng.choice(PHRASES))
        else:
            parts.append(rng.choice(FILLER_WORDS))
    return " ".join(parts).capitalize() + "."


def generate(size: Size, rng: random.Random) -> None:
    """Write the data set with bulk inserts, then build the index."""
    from accounts.models import Role, User
    from answers.models import Answer, FaqEntry, Question
    from communities.models import Community, Membership
    from library.models import Document
    from reconciliation.models import Company, Currency, Party
    from search.indexing import reindex_all
    from social.models import Post

    company = Company.objects.create(
        name="Bench Company", base_currency=Currency.objects.get(code="USD")
    )
    party = Party.objects.create(
        company=company, code="BENCH", name="Bench Customer", currency_id="USD"
    )
    people = User.objects.bulk_create(
        User(
            username=f"person{number}",
            first_name=f"Person{number}",
            last_name=rng.choice(COMMON_WORDS).capitalize(),
            role=Role.SALES_REP,
            title=sentence(rng, 3),
        )
        for number in range(size.people)
    )
    visibilities = ["open"] * 6 + ["private"] * 3 + ["customer"]
    communities = Community.objects.bulk_create(
        Community(
            slug=f"community-{number}",
            name=f"Community {number}",
            purpose=sentence(rng, 12),
            visibility=visibilities[number % len(visibilities)],
        )
        for number in range(size.communities)
    )
    viewer = people[0]
    Membership.objects.bulk_create(
        Membership(community=community, person=viewer)
        for community in communities[:: len(visibilities) * 2]
    )

    def text(words: int) -> tuple[str, str]:
        body = " ".join(sentence(rng, 12) for _ in range(max(1, words // 12)))
        return body, f"<p>{body}</p>"

    def bulk(model, build, count: int) -> list[Any]:
        created = []
        for start in range(0, count, 5_000):
            batch = [build() for _ in range(min(5_000, count - start))]
            created += model.objects.bulk_create(batch)
        return created

    def post() -> Post:
        body, html = text(40)
        author = rng.choice(people)
        return Post(
            community=rng.choice(communities),
            author=author,
            author_name=author.username,
            body=body,
            body_html=html,
        )

    def question() -> Question:
        body, html = text(30)
        return Question(
            community=rng.choice(communities),
            author=rng.choice(people),
            author_name="bench",
            title=sentence(rng, 8),
            body=body,
            body_html=html,
        )

    bulk(Post, post, size.posts)
    questions = bulk(Question, question, size.questions)
    answer_questions = iter(
        [item for item in questions for _ in range(size.answers_per_question)]
    )

    def answer() -> Answer:
        body, html = text(30)
        return Answer(
            question=next(answer_questions),
            author_name="bench",
            body=body,
            body_html=html,
        )

    def faq_entry() -> FaqEntry:
        body, html = text(40)
        return FaqEntry(
            question=sentence(rng, 8),
            answer=body,
            answer_html=html,
            customer_visible=rng.random() < 0.3,
        )

    def document() -> Document:
        body, html = text(60)
        return Document(
            title=sentence(rng, 5),
            summary=sentence(rng, 10),
            body=body,
            body_html=html,
            customer_visible=rng.random() < 0.3,
        )

    bulk(Answer, answer, size.questions * size.answers_per_question)
    bulk(FaqEntry, faq_entry, size.faq_entries)
    bulk(Document, document, size.documents)
    User.objects.create(username="bench-customer", role=Role.CUSTOMER, customer=party)
    spread_creation_times([Post, Question, Answer, FaqEntry, Document])
    counts = reindex_all()
    print(f"indexed {counts}", file=sys.stderr)


def spread_creation_times(models: list[Any]) -> None:
    """Spread ``created_at`` over the year before the data set's end date.

    ``auto_now_add`` gives every bulk-created row the moment it was
    written, so without this the kinds would be ordered by generation step
    and the newest matches would all be library items. The spread is a
    fixed function of the row id, so every run gets the same data.
    """
    from django.db import connection

    for model in models:
        table = model._meta.db_table
        if connection.vendor == "postgresql":
            moment = (
                "timestamptz '2026-12-01 00:00:00+00' "
                f"- ((id * 7919) % {YEAR_SECONDS}) * interval '1 second'"
            )
        else:
            moment = (
                "strftime('%Y-%m-%d %H:%M:%f', '2026-12-01', "
                f"'-' || ((id * 7919) % {YEAR_SECONDS}) || ' seconds')"
            )
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET created_at = {moment}")  # noqa: S608


def query_mix(rng: random.Random) -> list[str]:
    """Return a shuffled list of rare, common, phrase and prefix queries."""
    queries = [rare_word(rng.randrange(RARE_WORD_COUNT)) for _ in range(20)]
    queries += [rng.choice(COMMON_WORDS) for _ in range(10)]
    queries += [f"{rng.choice(COMMON_WORDS)} {rng.choice(COMMON_WORDS)}"]
    queries += [f'"{phrase}"' for phrase in PHRASES]
    queries += PREFIXES
    queries += [f"{rng.choice(COMMON_WORDS)} -{rng.choice(COMMON_WORDS)}"]
    rng.shuffle(queries)
    return queries


def sqlite_window_runner(parsed, expressions, turn, window: int):
    """Return the SQLite floor: the window's ids, then the window ranked.

    The same full-text work as the search (``search.backends.sqlite``): the
    ``window + 1`` newest matches without a rank, then bm25 over their rowid
    range when the window contains every match, or the columns that hold a
    term when it is cut. The 20 best ids are picked in Python, as the
    search does; no visibility, facets or snippets.
    """
    from django.db import connection

    from search.backends.sqlite import column_expression, column_score

    ids_sql = f"""
        SELECT rowid FROM search_entry_fts WHERE search_entry_fts MATCH %s
        ORDER BY rowid DESC LIMIT {window + 1}
    """  # noqa: S608 (no request text is formatted into the statement)
    bm25_sql = """
        SELECT rowid, bm25(search_entry_fts, 10.0, 1.0, 6.0, 3.0)
        FROM search_entry_fts
        WHERE search_entry_fts MATCH %s AND rowid BETWEEN %s AND %s
    """
    columns_sql = " UNION ALL ".join(
        "SELECT rowid, %s FROM search_entry_fts "
        "WHERE search_entry_fts MATCH %s AND rowid BETWEEN %s AND %s"
        for _column in ("title", "tags", "contexts")
    )

    def run_sqlite() -> None:
        number = next(turn) % len(expressions)
        with connection.cursor() as cursor:
            cursor.execute(ids_sql, [expressions[number]])
            ids = [row[0] for row in cursor.fetchall()]
            if not ids:
                return
            kept = ids[:window]
            low, high = min(kept), max(kept)
            if len(ids) <= window:
                cursor.execute(bm25_sql, [expressions[number], low, high])
                ranks = dict(cursor.fetchall())
                keys = sorted(
                    (ranks.get(entry_id, 0.0), -entry_id) for entry_id in kept
                )
            else:
                params: list[Any] = []
                for column in ("title", "tags", "contexts"):
                    params += [
                        column,
                        column_expression(parsed[number], column),
                        low,
                        high,
                    ]
                cursor.execute(columns_sql, params)
                columns: dict[int, set[str]] = {}
                for entry_id, column in cursor.fetchall():
                    columns.setdefault(entry_id, set()).add(column)
                keys = sorted(
                    (-column_score("content", columns.get(entry_id, set())), -entry_id)
                    for entry_id in kept
                )
            del keys[20:]

    return run_sqlite


def raw_query_runner(
    queries: list[str], *, window: int | None, bm25_window: bool = False
):
    """Return a callable running the bare full-text query for the next query.

    With ``window``, the query ranks only the ``window + 1`` newest matches
    (highest entry ids), the same full-text work as the search's candidate
    window (``search.selectors.search``) without visibility, facets or
    snippets; on SQLite that is ``sqlite_window_runner``. With
    ``window=None`` it ranks every match by bm25 or ``ts_rank``. On SQLite,
    ``bm25_window`` ranks every window by bm25, as the search did before a
    full window was ranked by its columns (a reference).
    """
    from django.db import connection

    from search.backends.postgresql import tsquery_sql
    from search.backends.sqlite import match_expression
    from search.query import parse_query

    parsed = [parse_query(text) for text in queries]
    turn = iter(range(10**9))
    rank_sqlite = "bm25(search_entry_fts, 10.0, 1.0, 6.0, 3.0)"

    if connection.vendor == "sqlite":
        expressions = [match_expression(query) for query in parsed]
        if window is None:
            sql = f"""
                SELECT rowid FROM search_entry_fts WHERE search_entry_fts MATCH %s
                ORDER BY {rank_sqlite} LIMIT 20
            """  # noqa: S608 (no request text is formatted into the statement)

            def run_sqlite() -> None:
                with connection.cursor() as cursor:
                    cursor.execute(sql, [expressions[next(turn) % len(expressions)]])
                    cursor.fetchall()

            return run_sqlite
        if not bm25_window:
            return sqlite_window_runner(parsed, expressions, turn, window)
        sql = f"""
            SELECT id FROM (
                SELECT rowid AS id, {rank_sqlite} AS rank FROM search_entry_fts
                WHERE search_entry_fts MATCH %s
                ORDER BY rowid DESC LIMIT {window + 1}
            ) ORDER BY rank LIMIT 20
        """  # noqa: S608 (no request text is formatted into the statement)

        def run_bm25_window() -> None:
            with connection.cursor() as cursor:
                cursor.execute(sql, [expressions[next(turn) % len(expressions)]])
                cursor.fetchall()

        return run_bm25_window

    statements = []
    for query in parsed:
        match, params = tsquery_sql(query)
        if window is None:
            sql = f"""
                SELECT id FROM search_entry WHERE vector @@ {match}
                ORDER BY ts_rank(vector, {match}) DESC LIMIT 20
            """  # noqa: S608 (no request text is formatted into the statement)
        else:
            sql = f"""
                SELECT id FROM (
                    SELECT id, vector FROM search_entry WHERE vector @@ {match}
                    ORDER BY id DESC LIMIT {window + 1}
                ) AS newest ORDER BY ts_rank(vector, {match}) DESC LIMIT 20
            """  # noqa: S608 (no request text is formatted into the statement)
        statements.append((sql, (*params, *params)))

    def run_postgres() -> None:
        sql, params = statements[next(turn) % len(statements)]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            cursor.fetchall()

    return run_postgres


def own_statements_runner(viewer: Any, queries: list[str]):
    """Return a callable replaying the search's own statements for the next query.

    Each query's statements are captured once from ``search.selectors.search``
    for the benchmark's viewer, with their parameters, and then run through
    ``connection.cursor()``, fetching every row. The feed benchmark measures
    its floor the same way. The gap between this floor and the selector is
    the Python around the SQL, and the API adds the HTTP stack. On PostgreSQL
    the statements run unprepared, as the search sends them.
    """
    from django.db import connection

    from bench.social_cases import capture
    from search.selectors import search

    captured = [capture(functools.partial(search, viewer, text)) for text in queries]
    reads = [
        [s for s in statements if s.sql.lstrip().upper().startswith(("SELECT", "WITH"))]
        for statements in captured
    ]
    turn = iter(range(10**9))

    def replay() -> None:
        statements = reads[next(turn) % len(reads)]
        with connection.cursor() as cursor:
            driver = connection.connection
            threshold = getattr(driver, "prepare_threshold", None)
            if connection.vendor == "postgresql":
                driver.prepare_threshold = None
            try:
                for statement in statements:
                    cursor.execute(statement.sql, statement.params)
                    cursor.fetchall()
            finally:
                if connection.vendor == "postgresql":
                    driver.prepare_threshold = threshold

    return replay


def build_cases(queries: list[str], *, with_unbounded: bool) -> list[Case]:
    from django.db import connection
    from django.test import Client

    from accounts.models import User
    from search.selectors import search

    viewer = User.objects.get(username="person0")
    client = Client()
    client.force_login(viewer)
    api_turn = iter(range(10**9))
    selector_turn = iter(range(10**9))

    def call_api() -> None:
        text = queries[next(api_turn) % len(queries)]
        response = client.get("/api/search", {"q": text})
        if response.status_code != 200:
            raise SystemExit(f"/api/search?q={text} returned {response.status_code}.")

    def call_selector() -> None:
        search(viewer, queries[next(selector_turn) % len(queries)])

    def call_bare() -> None:
        client.get("/bench/bare")

    from bench import urls as bench_urls

    bench_urls.SEARCH_BODIES.update(
        (text, client.get("/api/search", {"q": text}).content) for text in queries
    )
    memory_turn = iter(range(10**9))

    def call_memory() -> None:
        text = queries[next(memory_turn) % len(queries)]
        client.get("/bench/search-memory", {"q": text})

    window = search_candidate_limit()
    cases = [
        Case("search API, GET /api/search", call_api),
        Case("search() selector, no HTTP", call_selector),
        Case(
            f"raw full-text query, {window + 1} newest matches ranked, 20 best ids",
            raw_query_runner(queries, window=window),
        ),
        Case("bare signed-in JSON view (floor)", call_bare),
        Case("the same search JSON from memory", call_memory),
        Case(
            "the search's own statements, replayed raw",
            own_statements_runner(viewer, queries),
        ),
    ]
    if connection.vendor == "sqlite":
        cases.append(
            Case(
                f"reference: {window + 1} newest matches always ranked by bm25",
                raw_query_runner(queries, window=window, bm25_window=True),
            )
        )
    if with_unbounded:
        cases.append(
            Case(
                "raw full-text query, every match ranked (reference)",
                raw_query_runner(queries, window=None),
            )
        )
    return cases


def _statement_label(sql: str) -> str:
    """Name a statement of the API request by what it reads."""
    text = " ".join(sql.split())
    # The search's own statements come first, because they also read the
    # person and community tables for the hits' addresses.
    for needle, label in (
        ("WITH matched", "window, counts and page"),
        ("UNION ALL SELECT rowid", "columns of a cut window"),
        ("bm25(", "bm25 of a complete window"),
        ("highlight(", "highlights of the page"),
        ("search_page_fts", "page table (prefix queries)"),
        ("django_session", "session"),
        ('FROM "accounts_user"', "signed-in person"),
        ("communities_community", "visible communities"),
        ("answers_faqentry", "held FAQ entries hidden from the viewer"),
    ):
        if needle in text:
            return label
    return text[:40]


def step_table(queries: list[str], rounds: int) -> str:
    """Time every statement and Python step of one API search, per query in turn.

    Each statement of ``GET /api/search`` is timed through Django's execute
    wrapper: the wall time of ``cursor.execute``, which on SQLite leaves
    out stepping through the rows after the first (``fetchall``). The
    backend step includes every fetch. The Python steps
    are timed alone on the same inputs. Returns a Markdown table of p50
    and p95 in milliseconds, and statements per request.
    """
    from django.db import connection
    from django.http import QueryDict
    from django.test import Client

    from accounts.models import User
    from search.api import results_json
    from search.backends import Order
    from search.params import parse_search_params
    from search.query import parse_query
    from search.selectors import (
        SearchFilters,
        _run_backend,
        _to_hits,
        search,
        search_where,
    )

    viewer = User.objects.get(username="person0")
    client = Client()
    client.force_login(viewer)
    limit = search_candidate_limit()
    samples: dict[str, list[float]] = {}
    counts: list[int] = []

    def add(label: str, started: float) -> None:
        samples.setdefault(label, []).append((time.perf_counter() - started) * 1000)

    def record(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            add(f"statement: {_statement_label(sql)}", started)
            counts[-1] += 1

    for _round in range(rounds):
        for text in queries:
            counts.append(0)
            started = time.perf_counter()
            with connection.execute_wrapper(record):
                client.get("/api/search", {"q": text})
            add("whole API request", started)
            started = time.perf_counter()
            client.get("/bench/bare")
            add("bare signed-in view (session and person included)", started)
            started = time.perf_counter()
            parse_search_params(viewer, QueryDict(f"q={text}"))
            add("python: read the query string", started)
            started = time.perf_counter()
            query = parse_query(text)
            add("python: parse the query", started)
            started = time.perf_counter()
            where = search_where(viewer, SearchFilters())
            add("visibility rule (its statements included)", started)
            assert where is not None
            started = time.perf_counter()
            matches = _run_backend(
                where, query, SearchFilters(), Order.RELEVANCE, 1, 20, limit
            )
            add("backend: statements and their Python", started)
            started = time.perf_counter()
            _to_hits(matches.hits, external=False)
            add("python: hits (addresses, escaped HTML)", started)
            results = search(viewer, text)
            started = time.perf_counter()
            results_json(results)
            add("python: JSON body", started)
    lines = [
        f"Statements per API request: {min(counts)} to {max(counts)}.",
        "",
        "| step | p50 ms | p95 ms |",
        "| --- | ---: | ---: |",
    ]
    for label, values in samples.items():
        p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
        lines.append(f"| {label} | {p50:.2f} | {p95:.2f} |")
    return "\n".join(lines)


def search_candidate_limit() -> int:
    from django.conf import settings

    from search.selectors import DEFAULT_CANDIDATE_LIMIT

    return int(getattr(settings, "SEARCH_CANDIDATE_LIMIT", DEFAULT_CANDIDATE_LIMIT))


def report(
    cases: list[Case], *, size: str, requests: int, queries: int, warm_up: int
) -> str:
    from django.db import connection

    from search.models import SearchEntry

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            (version,) = cursor.fetchone()
        engine = f"PostgreSQL {version.split()[0]}"
    else:
        import sqlite3

        engine = f"SQLite {sqlite3.sqlite_version}"
    raw = next(case for case in cases if case.label.startswith("raw"))
    raw_p95 = percentile(raw.samples, 0.95)
    own = next(case for case in cases if case.label.startswith("the search's own"))
    own_p95 = percentile(own.samples, 0.95)
    load = " / ".join(f"{value:.2f}" for value in os.getloadavg())
    lines = [
        f"Size {size}: {SearchEntry.objects.count():,} index entries. "
        f"{requests} timed runs per case after {warm_up} warm-up rounds, cases "
        f"interleaved with the first case rotating each round, {queries} "
        "queries in rotation. "
        f"{machine_description(engine)}. Load average at the end (1, 5, 15 "
        f"minutes): {load}.",
        "",
        "| case | p50 ms | p95 ms | p95 / windowed raw p95 "
        "| p95 / own statements p95 | CPU p50 ms | CPU p95 ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for case in cases:
        p50 = percentile(case.samples, 0.5)
        p95 = percentile(case.samples, 0.95)
        cpu50 = percentile(case.cpu_samples, 0.5)
        cpu95 = percentile(case.cpu_samples, 0.95)
        lines.append(
            f"| {case.label} | {p50:.2f} | {p95:.2f} | {p95 / raw_p95:.1f} | "
            f"{p95 / own_p95:.1f} | {cpu50:.2f} | {cpu95:.2f} |"
        )
    return "\n".join(lines)


def has_data() -> bool:
    """Tell whether the database already holds a generated data set."""
    from django.db import connection

    from accounts.models import User

    tables = connection.introspection.table_names()
    if "search_entry" not in tables:
        return False
    return User.objects.filter(username="bench-customer").exists()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="time the data set a previous run generated (migrated first); "
        "generate it when it is missing",
    )
    parser.add_argument(
        "--unbounded",
        action="store_true",
        help="also time the raw query that ranks every match, for reference",
    )
    parser.add_argument("--write", action="store_true", help="update the results")
    parser.add_argument(
        "--steps",
        action="store_true",
        help="also time every statement and Python step of one API search",
    )
    options = parser.parse_args()

    setup_django(sqlite_file=f"search-{options.size}.sqlite3", fresh=not options.reuse)
    from django.core.management import call_command
    from django.db import connection

    from bench.common import write_section

    reuse = options.reuse and has_data()
    call_command("migrate", verbosity=0)
    rng = random.Random(SEED)
    if reuse:
        print("reusing the generated data set", file=sys.stderr)
    else:
        started = time.perf_counter()
        generate(SIZES[options.size], rng)
        print(f"generated in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
            if connection.vendor == "sqlite":
                cursor.execute(
                    "INSERT INTO search_entry_fts(search_entry_fts) VALUES ('optimize')"
                )

    # The same queries whether the data was generated now or reused.
    queries = query_mix(random.Random(SEED + 1))
    cases = build_cases(queries, with_unbounded=options.unbounded)
    warm_up = max(WARM_UP, len(queries))
    measure_interleaved(
        cases, rounds=options.requests, warm_up=warm_up, rotate_order=True
    )
    text = report(
        cases,
        size=options.size,
        requests=options.requests,
        queries=len(queries),
        warm_up=warm_up,
    )
    print(text)
    if options.steps:
        print(f"\nLoad average before the steps: {os.getloadavg()}")
        print(step_table(queries, rounds=3))
        print(f"Load average after the steps: {os.getloadavg()}")
    if options.write:
        write_section(text, name="bench_search", vendor=connection.vendor)


if __name__ == "__main__":
    main()
