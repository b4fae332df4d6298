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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
if "DATABASE_URL" not in os.environ:
    bench_dir = ROOT / "var" / "bench"
    bench_dir.mkdir(parents=True, exist_ok=True)
    database = bench_dir / "bench.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{database.relative_to(ROOT)}"

import django  # noqa: E402

django.setup()

from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--requests", type=int, default=500, help="timed requests per URL"
    )
    parser.add_argument("--write", action="store_true", help=f"update {RESULTS.name}")
    options = parser.parse_args()

    client = prepare()
    help_url = "/api/assist/help?context=reconciliation.order.short_payment"
    cases = [
        Case("bare signed-in JSON view (floor)", "/bench/bare"),
        Case("help endpoint, reconciliation.order.short_payment", help_url),
        Case(
            "help endpoint, cache emptied before each request",
            help_url,
            before=cache.clear,
        ),
        Case(
            "order list page, exceptions filter",
            "/reconciliation/orders/?status=exception",
        ),
    ]
    for case in cases:
        check(client, case.url)
    samples = measure(client, cases, options.requests)
    rows = [
        (label, percentile(values, 0.5), percentile(values, 0.95))
        for label, values in samples.items()
    ]

    floor_p50, floor_p95 = rows[0][1], rows[0][2]
    lines = [
        f"Engine: {connection.vendor}; {options.requests} timed requests per case, "
        f"cases interleaved, after {WARM_UP} warm-up rounds; Python "
        f"{platform.python_version()} on "
        f"{platform.machine()}, {os.cpu_count()} cores.",
        "",
        "| request | p50 ms | p95 ms | p50 / floor | p95 / floor |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for label, p50, p95 in rows:
        lines.append(
            f"| {label} | {p50:.2f} | {p95:.2f} | {p50 / floor_p50:.2f} | "
            f"{p95 / floor_p95:.2f} |"
        )
    report = "\n".join(lines)
    print(report)
    if options.write:
        write_results(report, vendor=connection.vendor)


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
