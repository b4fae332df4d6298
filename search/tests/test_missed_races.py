"""Repeats of one missed search that arrive at the same time, on separate connections.

Each thread has its own database connection, as each worker process has.
``outsider`` (Otto) repeats one search that finds nothing.
"""

import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from search.models import MissedSearch, MissedSearchRepeat
from search.services import record_missed_search

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 30
needs_row_locks = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite has no row locks"
)


def counts() -> list[int]:
    return list(MissedSearch.objects.values_list("count", flat=True))


def test_concurrent_repeats_count_once(outsider):
    # The SQLite test database is a file, so writers queue on the busy
    # timeout as they do in the product.
    if connection.vendor == "sqlite":
        assert not connection.is_in_memory_db()
    barrier = threading.Barrier(6)
    outcomes: list[bool] = []
    errors: list[BaseException] = []

    def search_again() -> None:
        try:
            barrier.wait(TIMEOUT)
            outcomes.append(
                record_missed_search(text="zebracodeword", searcher_id=outsider.pk)
            )
        except BaseException as error:  # collected for the assert below
            errors.append(error)
        finally:
            connection.close()

    run_all([search_again] * 6)

    assert errors == []
    assert sorted(outcomes) == [False] * 5 + [True]
    assert counts() == [1]
    assert MissedSearchRepeat.objects.count() == 1


@needs_row_locks
def test_second_insert_waits_for_first(outsider):
    """The second connection blocks on the key until the first commits, then counts nothing."""
    outcomes = hold_first_then_race(outsider)

    assert outcomes == {"first": True, "second": False}
    assert counts() == [1]


@needs_row_locks
def test_racing_reopenings_count_once(outsider):
    """Two connections reopen one expired window: the second waits and counts nothing."""
    assert record_missed_search(text="zebracodeword", searcher_id=outsider.pk)
    MissedSearchRepeat.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    outcomes = hold_first_then_race(outsider)

    assert outcomes == {"first": True, "second": False}
    assert counts() == [2]


@needs_row_locks
def test_rolled_back_window_lets_second_count(outsider):
    """A window whose transaction rolls back leaves the waiting repeat to count."""
    outcomes = hold_first_then_race(outsider, commit=False)

    assert outcomes == {"first": True, "second": True}
    assert counts() == [1]


def hold_first_then_race(outsider, *, commit: bool = True) -> dict[str, bool]:
    """Count a miss in an open transaction, start a repeat, then end the first.

    The first transaction commits or rolls back only once the repeat's
    connection waits on a lock, so the two writes really overlap.
    """
    first_counted = threading.Event()
    release_first = threading.Event()
    outcomes: dict[str, bool] = {}
    errors: list[BaseException] = []

    class RollBack(Exception):
        pass

    def first() -> None:
        try:
            with transaction.atomic():
                outcomes["first"] = record_missed_search(
                    text="zebracodeword", searcher_id=outsider.pk
                )
                first_counted.set()
                release_first.wait(TIMEOUT)
                if not commit:
                    raise RollBack
        except RollBack:
            pass
        except BaseException as error:  # collected for the assert below
            errors.append(error)
        finally:
            first_counted.set()
            connection.close()

    def second() -> None:
        try:
            first_counted.wait(TIMEOUT)
            outcomes["second"] = record_missed_search(
                text="zebracodeword", searcher_id=outsider.pk
            )
        except BaseException as error:  # collected for the assert below
            errors.append(error)
        finally:
            connection.close()

    threads = start_all([first, second])
    assert first_counted.wait(TIMEOUT)
    assert wait_for_lock_waiter(), "the repeat never waited on the first's lock"
    release_first.set()
    join_all(threads)

    assert errors == []
    return outcomes


def wait_for_lock_waiter() -> bool:
    """Poll until a connection of this test database waits on a lock."""
    deadline = time.monotonic() + TIMEOUT
    with connections["default"].cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.05)
    return False


def start_all(targets: list[Callable[[], None]]) -> list[threading.Thread]:
    threads = [threading.Thread(target=target) for target in targets]
    for thread in threads:
        thread.start()
    return threads


def join_all(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.join(TIMEOUT)
        assert not thread.is_alive(), f"a search still runs after {TIMEOUT} s"


def run_all(targets: list[Callable[[], None]]) -> None:
    join_all(start_all(targets))
