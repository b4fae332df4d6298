"""Background tasks that the tests enqueue. Each records what it did in a file.

The test Celery worker imports this module with ``--include``, and a file is
what both the worker process and the test process can read.
"""

from datetime import date
from pathlib import Path

import billiard

from accounts.models import User
from commonplace.background import task
from reconciliation import matching
from reconciliation.models import Company


def _append(path: str, line: str) -> None:
    with Path(path).open("a", encoding="utf-8") as output:
        output.write(line + "\n")


def read_lines(path: Path) -> list[str]:
    if not path.exists():
        return []
    return path.read_text(encoding="utf-8").splitlines()


@task
def append_line(path: str, line: str) -> None:
    _append(path, line)


@task
def record_person(path: str, username: str) -> None:
    """Record whether the person is in the database as this task sees it."""
    found = User.objects.filter(username=username).exists()
    _append(path, f"{username} {'found' if found else 'missing'}")


@task
def fail_always(path: str) -> None:
    _append(path, "attempt")
    raise RuntimeError("the task failed on purpose")


@task(retry_on=(ConnectionError,), max_retries=2, retry_backoff=1)
def fail_then_succeed(path: str, failures: int) -> None:
    """Fail with ``ConnectionError`` on the first ``failures`` attempts."""
    attempt = len(read_lines(Path(path))) + 1
    _append(path, f"attempt {attempt}")
    if attempt <= failures:
        raise ConnectionError(f"attempt {attempt} failed on purpose")


@task
def match_in_small_chunks(path: str, company_id: int, as_of: str) -> None:
    """Run a matching pass in chunks of four orders and record where it ran.

    Small chunks let a company of a few orders fill two workers. The line
    records whether this task's process is daemonic, as a prefork worker's are.
    """
    company = Company.objects.select_related("base_currency").get(pk=company_id)
    chunk_size = matching.CHUNK_SIZE
    matching.CHUNK_SIZE = 4
    try:
        summary = matching.run_matching(
            company=company, as_of=date.fromisoformat(as_of)
        )
    finally:
        matching.CHUNK_SIZE = chunk_size
    daemonic = billiard.current_process().daemon
    _append(path, f"checked {summary.orders_checked} daemonic {daemonic}")


@task(hidden_arguments=("address",))
def fail_with_address(path: str, address: str) -> None:
    """Record the attempt, then fail. The value of ``address`` must never be logged."""
    _append(path, "attempt")
    raise RuntimeError("the task failed on purpose")


@task(inline_thread=True)
def record_thread(path: str, username: str) -> None:
    """Record the thread the task ran on and whether it found the person."""
    import threading

    found = User.objects.filter(username=username).exists()
    state = "found" if found else "missing"
    _append(path, f"{threading.current_thread().name} {username} {state}")
