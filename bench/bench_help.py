"""Benchmark the help endpoint and the order list against a bare JSON view.

Run: ``.venv/bin/python bench/bench_help.py [--requests 500] [--write]``.
Set ``DATABASE_URL`` to benchmark on PostgreSQL; the default is a fresh SQLite
file under ``var/bench/``. Every request goes through Django's full middleware
stack in this process (``django.test.Client``), so the numbers are server
time without network. The bare view measures that stack alone, and each
result is reported as a ratio to it, measured in the same run.
"""

import argparse
import gc
import os
import platform
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import setup_django  # noqa: E402

KNOWLEDGE_SIZES = ("tiny", "small", "medium", "large")


def parse_options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--requests", type=int, default=500, help="timed requests per URL"
    )
    parser.add_argument(
        "--knowledge",
        choices=KNOWLEDGE_SIZES,
        help="read a generated knowledge data set (bench/generate_knowledge.py) "
        "instead of the demo company",
    )
    parser.add_argument("--write", action="store_true", help="update the results")
    return parser.parse_args()


OPTIONS = parse_options()
if OPTIONS.knowledge:
    setup_django(sqlite_file=f"knowledge-{OPTIONS.knowledge}.sqlite3", fresh=False)
else:
    setup_django(sqlite_file="bench.sqlite3", fresh=True)

from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402

from bench import urls as bench_urls  # noqa: E402

RESULTS = ROOT / "docs" / "benchmarks.md"
WARM_UP = 50


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))
    return ordered[index]


@dataclass(frozen=True)
class Case:
    label: str
    url: str
    # Runs untimed before each timed request, e.g. to empty the cache.
    before: Callable[[], object] | None = None


def measure(client: Client, cases: list[Case], count: int) -> dict[str, list[float]]:
    """Time ``count`` requests per case, taking the cases in turn.

    Interleaving puts the floor and the measured views under the same load
    from anything else running on the machine.
    """
    samples: dict[str, list[float]] = {case.label: [] for case in cases}
    for round_number in range(count + WARM_UP):
        for case in cases:
            if case.before is not None:
                case.before()
            # Collect garbage untimed, so one case's allocations are not
            # paid for inside the next case's timing.
            gc.collect()
            start = time.perf_counter()
            client.get(case.url)
            elapsed = (time.perf_counter() - start) * 1000
            if round_number >= WARM_UP:
                samples[case.label].append(elapsed)
    return samples


def prepare() -> Client:
    from demo.accounts import featured_short_payment_order
    from demo.knowledge import seed_knowledge
    from demo.northwind import load_company_x

    call_command("migrate", verbosity=0)
    load_company_x()
    seed_knowledge()
    order = featured_short_payment_order()
    assert order is not None and order.sales_rep is not None
    client = Client()
    client.force_login(order.sales_rep)
    return client


def check(client: Client, url: str) -> None:
    response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(
            f"{url} returned status {response.status_code}: fix it before timing."
        )


def prepare_knowledge() -> tuple[Client, str, str]:
    """Sign in an employee of the generated data set; pick the busiest and
    the quietest context."""
    from accounts.models import Role, User
    from answers.models import FaqEntry
    from assist.models import HelpContext
    from library.models import Document

    call_command("migrate", verbosity=0)
    reader = (
        User.objects.filter(role=Role.SALES_REP, learner_group__isnull=False)
        .order_by("pk")
        .first()
    )
    if reader is None:
        raise SystemExit("The data set has no sales representative to sign in as.")
    # Counted per link table: joining both at once would multiply the rows
    # of a busy context.
    items: Counter[int] = Counter()
    for through in (FaqEntry.contexts.through, Document.contexts.through):
        counts = through.objects.values("helpcontext_id").annotate(n=Count("id"))
        items.update({row["helpcontext_id"]: row["n"] for row in counts})
    keys = dict(HelpContext.objects.values_list("pk", "key"))
    busiest = keys[min(keys, key=lambda pk: (-items[pk], keys[pk]))]
    quietest = keys[min(keys, key=lambda pk: (items[pk], keys[pk]))]
    client = Client()
    client.force_login(reader)
    return client, str(busiest), str(quietest)


def main() -> None:
    options = OPTIONS
    quietest = None
    if options.knowledge:
        client, context_key, quietest = prepare_knowledge()
    else:
        client, context_key = prepare(), "reconciliation.order.short_payment"
    help_url = f"/api/assist/help?context={context_key}"
    # The in-memory floor returns this same JSON body without any query.
    bench_urls.MEMORY_BODY = client.get(help_url).content
    cases = [
        Case("bare signed-in JSON view (floor)", "/bench/bare"),
        Case("the same help JSON from memory (floor)", "/bench/help-memory"),
    ]
    if quietest is not None:
        # The panel reads a small context whole and a large one by its rank
        # index, so both ends are timed.
        cases.append(
            Case(
                f"help endpoint, cache emptied, quietest context {quietest}",
                f"/api/assist/help?context={quietest}",
                before=cache.clear,
            )
        )
    # The cached case comes right after the case that fills its cache entry.
    cases += [
        Case(
            "help endpoint, cache emptied before each request",
            help_url,
            before=cache.clear,
        ),
        Case(f"help endpoint, {context_key}", help_url),
    ]
    if not options.knowledge:
        cases.append(
            Case(
                "order list page, exceptions filter",
                "/reconciliation/orders/?status=exception",
            )
        )
    for case in cases:
        check(client, case.url)
    samples = measure(client, cases, options.requests)
    rows = [
        (label, percentile(values, 0.5), percentile(values, 0.95))
        for label, values in samples.items()
    ]

    memory_p50, memory_p95 = rows[1][1], rows[1][2]
    data_set = (
        f"generated knowledge data set, size {options.knowledge}"
        if options.knowledge
        else "the demo company"
    )
    lines = [
        f"Engine: {connection.vendor}; {data_set}; {options.requests} timed "
        f"requests per case, cases interleaved, after {WARM_UP} warm-up rounds; "
        f"Python {platform.python_version()} on {platform.machine()}, "
        f"{os.cpu_count()} cores. Ratios are to the in-memory floor.",
        "",
        "| request | p50 ms | p95 ms | p50 / memory floor | p95 / memory floor |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for label, p50, p95 in rows:
        lines.append(
            f"| {label} | {p50:.2f} | {p95:.2f} | {p50 / memory_p50:.2f} | "
            f"{p95 / memory_p95:.2f} |"
        )
    report = "\n".join(lines)
    print(report)
    if options.write:
        marker = connection.vendor
        if options.knowledge:
            marker = f"{connection.vendor}-knowledge-{options.knowledge}"
        write_results(report, vendor=marker)


def write_results(report: str, *, vendor: str) -> None:
    # Each engine's results sit between their own markers, so a run on one
    # engine replaces only its own table.
    start = f"<!-- bench_help:{vendor}:start -->"
    end = f"<!-- bench_help:{vendor}:end -->"
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmarks\n"
    block = f"{start}\n{report}\n{end}"
    if start in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip("\n") + f"\n\n{block}\n"
    RESULTS.write_text(text)


if __name__ == "__main__":
    main()
