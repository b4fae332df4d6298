"""Helpers the benchmark scripts share: database choice, percentiles, results.

Nothing here imports Django models, so a script can call ``setup_django``
before its own model imports.
"""

import gc
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
RESULTS = ROOT / "docs" / "benchmarks.md"


def setup_django(*, sqlite_file: str, fresh: bool) -> None:
    """Point Django at ``DATABASE_URL`` or at ``var/bench/<sqlite_file>``, then set up.

    ``fresh`` deletes the SQLite file (and its WAL files) first. A
    ``DATABASE_URL`` from the environment is used as it is.
    """
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    if "DATABASE_URL" not in os.environ:
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        database = BENCH_DIR / sqlite_file
        if fresh:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{database}{suffix}").unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{database.relative_to(ROOT)}"

    import django

    django.setup()


def percentile(samples: list[float], fraction: float) -> float:
    """Return the sample at ``fraction`` of the sorted list (nearest rank)."""
    ordered = sorted(samples)
    index = min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))
    return ordered[index]


def memory_gib() -> float:
    """Return the machine's memory in GiB, from /proc/meminfo (0 when unknown)."""
    try:
        lines = Path("/proc/meminfo").read_text().splitlines()
    except OSError:
        return 0.0
    for line in lines:
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return 0.0


def machine_description(database_version: str) -> str:
    """Describe the machine and the engine, for the results page."""
    return (
        f"{os.cpu_count()} cores ({platform.machine()}), {memory_gib():.0f} GiB, "
        f"Python {platform.python_version()}, {database_version}"
    )


def write_section(report: str, *, name: str, vendor: str) -> None:
    """Replace the block between ``name``'s markers for ``vendor`` in RESULTS.

    Each engine's results sit between their own markers, so a run on one
    engine replaces only its own block. Missing markers are appended.
    """
    start = f"<!-- {name}:{vendor}:start -->"
    end = f"<!-- {name}:{vendor}:end -->"
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmarks\n"
    block = f"{start}\n{report}\n{end}"
    if start in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip("\n") + f"\n\n{block}\n"
    RESULTS.write_text(text)


@dataclass
class Case:
    """One timed request (or statement list) and its samples, in milliseconds.

    ``samples`` are wall-clock times. ``cpu_samples`` are the CPU time of
    this thread over the same spans, so they leave out time spent waiting
    for another process, such as the PostgreSQL server or other programs.
    """

    label: str
    run: Callable[[], object]
    queries: int | None = None
    target: str = ""
    samples: list[float] = field(default_factory=list)
    cpu_samples: list[float] = field(default_factory=list)


def measure_interleaved(
    cases: list[Case],
    *,
    rounds: int,
    warm_up: int,
    progress: bool = False,
    rotate_order: bool = False,
) -> None:
    """Run every case once per round, in turn, and keep the timed rounds' samples.

    Interleaving puts the floors and the measured cases under the same load
    from anything else running on the machine. Garbage is collected untimed
    before each run, so one case's allocations are not paid in the next.
    Each run records wall-clock time and the CPU time of this thread, which
    leaves out time spent waiting for the PostgreSQL server or for other
    programs. The first ``warm_up`` rounds are not kept. ``progress`` prints
    a line to standard error every 50 rounds.

    With ``rotate_order``, round N starts with case N (modulo the number of
    cases). Cases that take turns on the same input do not cost the same:
    the first reads the input's pages into the caches, and the next ones
    find them there. Rotating gives each case the first turn equally often.
    """
    for round_number in range(rounds + warm_up):
        shift = round_number % len(cases) if rotate_order else 0
        for case in cases[shift:] + cases[:shift]:
            gc.collect()
            cpu_start = time.thread_time()
            start = time.perf_counter()
            case.run()
            elapsed = (time.perf_counter() - start) * 1000
            cpu = (time.thread_time() - cpu_start) * 1000
            if round_number >= warm_up:
                case.samples.append(elapsed)
                case.cpu_samples.append(cpu)
        if progress and round_number % 50 == 0:
            print(f"round {round_number} of {rounds + warm_up}", file=sys.stderr)
