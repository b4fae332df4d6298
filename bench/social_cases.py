"""The cases of the social benchmark: the pages, their own SQL, and the floor.

A page's SQL is captured once with an execute wrapper, which keeps each
statement with its parameters (``CaptureQueriesContext`` keeps only the
interpolated text), and is then run through ``connection.cursor()``, the
driver the ORM uses, fetching every row. Publishing writes, so its SQL is
captured and replayed inside transactions that are rolled back.
"""

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Count
from django.http import HttpResponse
from django.test import Client

from accounts.models import User
from bench.common import Case, percentile
from bench.social_data import (
    NEWS_COMMUNITY_ID,
    POPULAR_USERNAME,
    READER_USERNAME,
)
from communities.models import Community
from social.models import Follow, Hashtag, Post

PUBLISH_BODY = (
    "Quarter close reminder: match the open bank lines before Friday, and "
    "ask in the payments community when a residual will not clear. "
    "#reconciliation #QuarterClose"
)
FEED_TARGET_MS = 25.0
FEED_TARGET_RATIO = 3.0
PUBLISH_TARGET_MS = 50.0
# Transaction control of the capture itself; the replay opens its own.
READS = ("SELECT", "WITH")
POST_INSERT = 'INSERT INTO "social_post" '
TRANSACTION_SQL = ("BEGIN", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


@dataclass(frozen=True)
class Statement:
    sql: str
    params: Any
    many: bool


def capture(run: Callable[[], object]) -> list[Statement]:
    """Return every statement ``run`` sends to the database, with parameters."""
    statements: list[Statement] = []

    def record(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        statements.append(Statement(sql, params, many))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        run()
    return statements


def run_statements(statements: list[Statement]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            if statement.many:
                cursor.executemany(statement.sql, statement.params)
                continue
            cursor.execute(statement.sql, statement.params)
            if cursor.description is not None:
                cursor.fetchall()


def _renumbered(params: Any, old: int, new: int) -> Any:
    """Return ``params`` with the post id ``old`` (as a number or text) as ``new``."""
    if isinstance(params, list | tuple):
        return type(params)(_renumbered(value, old, new) for value in params)
    if params == old and isinstance(params, int):
        return new
    if params == str(old):
        return str(new)
    return params


def run_publish_rolled_back(statements: list[Statement], captured_id: int) -> None:
    """Run a publish's statements in a transaction that is rolled back.

    The new post gets a new id, so the statements after its INSERT (tags,
    audit event) are given that id in place of the one captured.
    """
    new_id: int | None = None
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in statements:
            params = statement.params
            if new_id is not None:
                params = _renumbered(params, captured_id, new_id)
            cursor.execute(statement.sql, params)
            rows = cursor.fetchall() if cursor.description is not None else []
            if new_id is None and statement.sql.startswith(POST_INSERT):
                new_id = rows[0][0]
        transaction.set_rollback(True)


def signed_in(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def expect(status: int, request: Callable[[], Any]) -> Callable[[], None]:
    """Wrap ``request`` so a wrong status stops the run instead of being timed."""

    def run() -> None:
        response: HttpResponse = request()
        if response.status_code != status:
            path = response.request["PATH_INFO"]
            raise SystemExit(
                f"{path} returned status {response.status_code}, expected "
                f"{status}: fix the page before timing it."
            )

    return run


def get(client: Client, url: str) -> Callable[[], None]:
    return expect(200, lambda: client.get(url))


def page_cases(label: str, run: Callable[[], None], explain: bool) -> list[Case]:
    """Return the page's case and the case of its own SQL run directly."""
    run()
    statements = capture(run)
    if explain:
        print_plans(label, statements)
    return [
        Case(label, run, queries=len(statements)),
        Case(
            f"{label}: its SQL run directly",
            lambda: run_statements(statements),
            queries=len(statements),
        ),
    ]


def tag_cases(reader: Client, explain: bool) -> list[Case]:
    """Return cases for the most used tag and for one used about 100 times."""
    counted = Hashtag.objects.annotate(uses=Count("posts")).order_by("-uses", "id")
    common = counted.first()
    assert common is not None
    rare = counted.filter(uses__lte=100).first() or common
    cases: list[Case] = []
    for tag in (common, rare):
        label = f"tag page #{tag.name} ({tag.uses:,} posts)"
        cases += page_cases(label, get(reader, f"/tags/{tag.name}/"), explain)
    return cases


def feed_cases(reader: Client, explain: bool) -> list[Case]:
    """Return the home feed cases, or none while ``/`` is not the feed yet."""
    response = reader.get("/")
    if response.status_code != 200:
        print(
            f"note: / returned status {response.status_code}, so the home feed is "
            "not measured.",
            file=sys.stderr,
        )
        return []
    cases = page_cases("home feed, first page", get(reader, "/"), explain)
    cases[0].target = "feed"
    api = page_cases(
        "feed in the API, first page", get(reader, "/api/social/feed"), explain
    )
    api[0].target = "api feed"
    return cases + api


def publish_cases() -> list[Case]:
    """Return the cases of publishing by the author with the most followers."""
    author = signed_in(POPULAR_USERNAME)
    community = Community.objects.get(pk=NEWS_COMMUNITY_ID)
    url = f"/communities/{community.slug}/posts/"
    publish = expect(302, lambda: author.post(url, {"body": PUBLISH_BODY}))
    publish()

    # Captured in a transaction that is rolled back, so the captured post
    # leaves no rows for the replays to collide with.
    with transaction.atomic():
        statements = [
            statement
            for statement in capture(publish)
            if not statement.sql.startswith(TRANSACTION_SQL)
        ]
        captured_id = Post.objects.order_by("-id").values_list("id", flat=True)[0]
        transaction.set_rollback(True)
    if any(statement.many for statement in statements):
        raise SystemExit("Publishing ran executemany; the replay cannot renumber it.")
    followers = Follow.objects.filter(person__username=POPULAR_USERNAME).count()
    label = f"publish a post (author with {followers:,} followers)"
    return [
        Case(label, publish, queries=len(statements), target="publish"),
        Case(
            f"{label}: its SQL run directly, rolled back",
            lambda: run_publish_rolled_back(statements, captured_id),
            queries=len(statements),
        ),
    ]


def build_cases(*, size: str, explain: bool) -> list[Case]:
    if not User.objects.filter(username=READER_USERNAME).exists():
        raise SystemExit(
            f"No generated network here: run bench/generate_social.py --size {size} "
            "with the same DATABASE_URL first."
        )
    reader = signed_in(READER_USERNAME)
    floor = Case(
        "bare signed-in JSON view (floor)",
        get(reader, "/bench/bare"),
        queries=len(capture(lambda: reader.get("/bench/bare"))),
    )
    page_floor = Case(
        "bare signed-in page, the layout around an empty page (page floor)",
        get(reader, "/bench/bare-page"),
        queries=len(capture(lambda: reader.get("/bench/bare-page"))),
    )
    cases = [floor, page_floor]
    cases += feed_cases(reader, explain)
    cases += tag_cases(reader, explain)
    cases += publish_cases()
    return cases


def print_plans(label: str, statements: list[Statement]) -> None:
    """Print the plan of each SELECT the page runs, with actual times on PostgreSQL."""
    prefix = (
        "EXPLAIN (ANALYZE, BUFFERS) "
        if connection.vendor == "postgresql"
        else "EXPLAIN QUERY PLAN "
    )
    print(f"== {label}")
    with connection.cursor() as cursor:
        for statement in statements:
            if statement.many or not statement.sql.lstrip().upper().startswith(
                "SELECT"
            ):
                continue
            print(f"-- {statement.sql[:3000]}\n   params: {statement.params!r}")
            cursor.execute(prefix + statement.sql, statement.params)
            for row in cursor.fetchall():
                print("   ", *row)


def _verdict(met: bool) -> str:
    return "met" if met else "missed"


def verdict(case: Case, p95: float, floor_p95: float, page_floor_p95: float) -> str:
    if case.target == "feed":
        fast = p95 < FEED_TARGET_MS
        json_ratio = p95 / floor_p95 <= FEED_TARGET_RATIO
        page_ratio = p95 / page_floor_p95 <= FEED_TARGET_RATIO
        ratio = f"<= {FEED_TARGET_RATIO:g}x"
        return (
            f"p95 < {FEED_TARGET_MS:g} ms {_verdict(fast)}; "
            f"{ratio} JSON floor {_verdict(json_ratio)}; "
            f"{ratio} page floor {_verdict(page_ratio)}"
        )
    if case.target == "api feed":
        fast = p95 < FEED_TARGET_MS
        json_ratio = p95 / floor_p95 <= FEED_TARGET_RATIO
        return (
            f"p95 < {FEED_TARGET_MS:g} ms {_verdict(fast)}; "
            f"<= {FEED_TARGET_RATIO:g}x JSON floor {_verdict(json_ratio)}"
        )
    if case.target == "publish":
        met = p95 < PUBLISH_TARGET_MS
        goal = f"p95 < {PUBLISH_TARGET_MS:g} ms"
    else:
        return ""
    return f"{_verdict(met)} ({goal})"


def data_summary() -> str:
    return (
        f"{User.objects.count():,} people, {Community.objects.count():,} "
        f"communities, {Post.objects.count():,} posts, "
        f"{Follow.objects.count():,} follows"
    )


def report(cases: list[Case], *, requests: int, warm_up: int, machine: str) -> str:
    floor_p50 = percentile(cases[0].samples, 0.5)
    floor_p95 = percentile(cases[0].samples, 0.95)
    page_floor_p95 = percentile(cases[1].samples, 0.95)
    command = " ".join(["bench/bench_social.py", *sys.argv[1:]])
    if connection.vendor == "postgresql":
        command = f"DATABASE_URL=... .venv/bin/python {command}"
    else:
        command = f".venv/bin/python {command}"
    lines = [
        f"Engine: {connection.vendor}; data: {data_summary()} (at the end of the "
        f"run); {requests} timed requests per case, cases interleaved, after "
        f"{warm_up} warm-up rounds.",
        "",
        f"Machine: {machine}.",
        "",
        f"Command: `{command}`",
        "",
        "| request | queries | p50 ms | p95 ms | p50 / floor | p95 / floor "
        "| p95 / page floor | CPU p50 ms | CPU p95 ms | target |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for case in cases:
        p50 = percentile(case.samples, 0.5)
        p95 = percentile(case.samples, 0.95)
        cpu_p50 = percentile(case.cpu_samples, 0.5)
        cpu_p95 = percentile(case.cpu_samples, 0.95)
        lines.append(
            f"| {case.label} | {case.queries} | {p50:.2f} | {p95:.2f} | "
            f"{p50 / floor_p50:.2f} | {p95 / floor_p95:.2f} | "
            f"{p95 / page_floor_p95:.2f} | {cpu_p50:.2f} | {cpu_p95:.2f} | "
            f"{verdict(case, p95, floor_p95, page_floor_p95)} |"
        )
    return "\n".join(lines)
