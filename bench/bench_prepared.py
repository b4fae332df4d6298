"""Compare PostgreSQL requests with prepared statements and without.

Run: ``DATABASE_URL=postgres://... .venv/bin/python bench/bench_prepared.py
[--rounds 150]`` after ``bench/generate_social.py --size medium`` with the
same ``DATABASE_URL``. Both modes bind parameters on the server; they differ
only in whether psycopg prepares a statement (on its first run here). Rounds
alternate between the modes on one connection, and which mode goes first
alternates too, so a change of load on the machine falls on both alike.
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine_description, percentile, setup_django

WARM_UP = 20
MODES = ("not prepared", "prepared")
PAGES = {
    "bare signed-in JSON view": "/bench/bare",
    "bare signed-in page (page floor)": "/bench/bare-page",
    "home feed, first page": "/",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=150, help="timed rounds")
    options = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to the PostgreSQL database to measure.")
    setup_django(sqlite_file="unused.sqlite3", fresh=False)
    from django.db import connection

    from bench import social_cases

    reader = social_cases.signed_in(social_cases.READER_USERNAME)
    samples: dict[tuple[str, str], list[float]] = {
        (page, mode): [] for page in PAGES for mode in MODES
    }
    load_at_start = os.getloadavg()[0]
    for round_number in range(WARM_UP + options.rounds):
        order = MODES if round_number % 2 else tuple(reversed(MODES))
        for mode in order:
            connection.ensure_connection()
            connection.connection.prepare_threshold = 0 if mode == "prepared" else None
            for page, url in PAGES.items():
                started = time.perf_counter()
                response = reader.get(url)
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code != 200:
                    raise SystemExit(
                        f"{url} returned status {response.status_code}, "
                        "expected 200: check that the social data set is loaded."
                    )
                if round_number >= WARM_UP:
                    samples[(page, mode)].append(elapsed)
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0].split(" on ")[0]
    print(
        f"Machine: {machine_description(version)}; load average "
        f"{load_at_start:.1f} at the start and {os.getloadavg()[0]:.1f} at the end; "
        f"{options.rounds} rounds after {WARM_UP} warm-up rounds.\n"
    )
    print("| request | mode | p50 ms | p95 ms |")
    print("| --- | --- | ---: | ---: |")
    for (page, mode), values in samples.items():
        print(
            f"| {page} | {mode} | {percentile(values, 0.5):.2f} "
            f"| {percentile(values, 0.95):.2f} |"
        )


if __name__ == "__main__":
    main()
