"""Generate the knowledge data set on top of a social one, from a fixed seed.

Run: ``.venv/bin/python bench/generate_knowledge.py --size medium`` after
``bench/generate_social.py --size medium``. Without ``DATABASE_URL`` it
copies ``var/bench/social-<size>.sqlite3`` to
``var/bench/knowledge-<size>.sqlite3`` and adds the knowledge there, so the
social benchmarks keep their own file. With ``DATABASE_URL`` (PostgreSQL)
it adds to that database, which must hold the social data set.
"""

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BENCH_DIR, setup_django

SIZE_NAMES = ("tiny", "small", "medium", "large")


def knowledge_file(size: str) -> str:
    return f"knowledge-{size}.sqlite3"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=SIZE_NAMES, default="small")
    options = parser.parse_args()

    if "DATABASE_URL" not in os.environ:
        social = BENCH_DIR / f"social-{options.size}.sqlite3"
        if not social.exists():
            raise SystemExit(
                f"{social} is missing: run bench/generate_social.py --size "
                f"{options.size} first."
            )
        target = BENCH_DIR / knowledge_file(options.size)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(social, target)
    setup_django(sqlite_file=knowledge_file(options.size), fresh=False)

    from django.core.management import call_command
    from django.db import connection

    from bench.knowledge_data import KNOWLEDGE_SIZES, SEED, generate_knowledge

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    counts = generate_knowledge(KNOWLEDGE_SIZES[options.size], seed=SEED)
    print(
        f"Generated knowledge {options.size} (seed {SEED}) on {connection.vendor} "
        f"in {time.perf_counter() - started:.1f} s: {counts}."
    )


if __name__ == "__main__":
    main()
