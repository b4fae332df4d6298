"""Generate the social network the social benchmarks read, from a fixed seed.

Run: ``.venv/bin/python bench/generate_social.py --size medium``.
Without ``DATABASE_URL`` it writes a fresh SQLite file,
``var/bench/social-<size>.sqlite3``, replacing an earlier one. With
``DATABASE_URL`` (PostgreSQL) it migrates that database and writes into it;
the database must hold no people, communities or posts yet. Sizes are in
``bench/social_data.py``; ``docs/benchmarks.md`` describes them.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import setup_django

SIZE_NAMES = ("tiny", "small", "medium", "large")


def sqlite_file(size: str) -> str:
    return f"social-{size}.sqlite3"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=SIZE_NAMES, default="small")
    parser.add_argument(
        "--seed", type=int, default=None, help="default: the fixed seed"
    )
    options = parser.parse_args()

    setup_django(sqlite_file=sqlite_file(options.size), fresh=True)

    from django.core.management import call_command
    from django.db import connection

    from bench.social_data import SEED, SIZES, generate

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrate: {time.perf_counter() - started:.1f} s")
    seed = SEED if options.seed is None else options.seed
    counts = generate(SIZES[options.size], seed=seed)
    print(
        f"Generated size {options.size} (seed {seed}) on {connection.vendor} "
        f"in {time.perf_counter() - started:.1f} s: {sum(counts.values()):,} rows."
    )


if __name__ == "__main__":
    main()
