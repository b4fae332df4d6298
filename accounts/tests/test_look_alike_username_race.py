"""Two look-alike usernames imported at the same instant, on two connections.

Two HR admins each run the people import: one adds Margaret with the
username "margaret", the other adds Rita with "rnargaret" ("rn" reads as
"m"). Neither import sees the other's uncommitted account when it plans
its rows, so only the unique index on ``username_skeleton`` can stop the
second. SQLite lets one writer in at a time, so the race runs on
PostgreSQL only.
"""

import threading
import time

import pytest
from django.db import connection, connections, transaction

from accounts.importing import import_people
from accounts.models import User

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite has one writer at a time"
    ),
]

TIMEOUT = 30
MARGARET_ROW = (
    b"email,username,first_name,role\nmargaret@example.com,margaret,Margaret,it\n"
)
RITA_ROW = b"email,username,first_name,role\nrita@example.com,rnargaret,Rita,it\n"


class RollBack(Exception):
    pass


def race(*, commit: bool) -> dict[str, object]:
    """Import Margaret in an open transaction, then Rita on another connection.

    The first transaction ends only once the second connection waits on a
    lock, so both inserts really overlap. Each outcome is the imported
    row's (action, detail), or the exception the import raised.
    """
    first_imported = threading.Event()
    release_first = threading.Event()
    outcomes: dict[str, object] = {}

    def run_import(source: bytes) -> tuple[str, str]:
        [row] = import_people(source=source).rows
        return str(row.action), row.detail

    def first() -> None:
        try:
            with transaction.atomic():
                outcomes["first"] = run_import(MARGARET_ROW)
                first_imported.set()
                release_first.wait(TIMEOUT)
                if not commit:
                    raise RollBack
        except RollBack:
            pass
        except BaseException as error:  # collected for the assert below
            outcomes["first"] = error
        finally:
            first_imported.set()
            connection.close()

    def second() -> None:
        try:
            first_imported.wait(TIMEOUT)
            outcomes["second"] = run_import(RITA_ROW)
        except BaseException as error:  # collected for the assert below
            outcomes["second"] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for run in (first, second)]
    for thread in threads:
        thread.start()
    assert first_imported.wait(TIMEOUT)
    assert wait_for_lock_waiter(), "the second insert never waited on the first"
    release_first.set()
    for thread in threads:
        thread.join(TIMEOUT)
        assert not thread.is_alive(), f"an import still runs after {TIMEOUT} s"
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


def test_second_look_alike_rejected_by_index():
    outcomes = race(commit=True)

    assert outcomes["first"] == ("created", "username margaret")
    assert outcomes["second"] == (
        "rejected",
        'The username "rnargaret" looks the same as "margaret", which belongs '
        "to margaret@example.com: they differ only in letters that look alike, "
        "in accents or in invisible characters. Choose a username that reads "
        "differently, or leave it empty to derive one from the e-mail.",
    )
    assert list(User.objects.values_list("username", flat=True)) == ["margaret"]


def test_look_alike_imported_after_rollback():
    outcomes = race(commit=False)

    assert outcomes == {
        "first": ("created", "username margaret"),
        "second": ("created", "username rnargaret"),
    }
    assert list(User.objects.values_list("username", flat=True)) == ["rnargaret"]
