"""Benchmark the home feed, a hashtag page and publishing on generated data.

Run: ``.venv/bin/python bench/bench_social.py --size medium [--requests 300]
[--write] [--explain]`` after ``bench/generate_social.py --size medium``.
Without ``DATABASE_URL`` it reads ``var/bench/social-<size>.sqlite3``; with it,
the PostgreSQL database the generator wrote. Every request goes through
Django's full middleware stack in this process (``django.test.Client``), so
the numbers are server time without the network. Each page is reported
beside two floors measured in the same run, case by case in turn. One is a
bare signed-in JSON view (middleware, session and user lookup). The other
is the page's own SQL, captured once and run directly through the driver.
"""

import argparse
import os
import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    machine_description,
    measure_interleaved,
    setup_django,
    write_section,
)
from bench.generate_social import sqlite_file

WARM_UP = 20


def parse_options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="medium")
    parser.add_argument(
        "--requests", type=int, default=300, help="timed requests per case"
    )
    parser.add_argument("--write", action="store_true", help="update the results")
    parser.add_argument(
        "--explain", action="store_true", help="print the plans of the captured SQL"
    )
    return parser.parse_args()


def main() -> None:
    options = parse_options()
    setup_django(sqlite_file=sqlite_file(options.size), fresh=False)
    from bench import social_cases

    migrate_and_analyze()
    cases = social_cases.build_cases(size=options.size, explain=options.explain)
    load_at_start = os.getloadavg()[0]
    measure_interleaved(cases, rounds=options.requests, warm_up=WARM_UP, progress=True)
    machine = describe_machine(load_at_start)
    report = social_cases.report(
        cases, requests=options.requests, warm_up=WARM_UP, machine=machine
    )
    print(report)
    if options.write:
        from django.db import connection

        write_section(report, name="bench_social", vendor=connection.vendor)


def migrate_and_analyze() -> None:
    """Apply migrations newer than the data, then refresh planner statistics.

    SQLite plans with the statistics ANALYZE left in ``sqlite_stat1``. An
    index created after them has no row there, so the planner's default
    guess can prefer it to an analyzed index that is far better for the query.
    """
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from bench.bulk_load import analyze
    from bench.social_data import LOADED_MODELS

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        call_command("migrate", verbosity=0)
        analyze(LOADED_MODELS)


def describe_machine(load_at_start: float) -> str:
    """Name the machine, the engine and the load at the start and end of the run."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            (version,) = cursor.fetchone()
        engine = f"PostgreSQL {version.split()[0]}"
    else:
        engine = f"SQLite {sqlite3.sqlite_version}"
    load_at_end = os.getloadavg()[0]
    return (
        f"{machine_description(engine)}; load average {load_at_start:.1f} at the "
        f"start and {load_at_end:.1f} at the end"
    )


if __name__ == "__main__":
    main()
