"""Two look-alike communities created at the same instant, on two connections.

``outsider`` (Otto) and ``sales_rep`` (Sally) each create an open community.
Neither sees the other's uncommitted row when the service checks the name,
so only the unique index on ``name_skeleton`` can stop the second. SQLite
lets one writer in at a time, so the race runs on PostgreSQL only.
"""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction

from communities.models import Community
from communities.services import create_community

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite has one writer at a time"
    ),
]

TIMEOUT = 30


class RollBack(Exception):
    pass


def race(first_creator, second_creator, *, commit: bool) -> dict[str, object]:
    """Create "Customer corner" in an open transaction, then "Customer comer".

    The first transaction ends only once the second connection waits on a
    lock, so both inserts really overlap.
    """
    first_created = threading.Event()
    release_first = threading.Event()
    outcomes: dict[str, object] = {}

    def create(creator, name: str) -> Community:
        return create_community(
            creator=creator,
            name=name,
            purpose="Questions from customers.",
            visibility=Community.Visibility.OPEN,
        )

    def first() -> None:
        try:
            with transaction.atomic():
                outcomes["first"] = create(first_creator, "Customer corner").name
                first_created.set()
                release_first.wait(TIMEOUT)
                if not commit:
                    raise RollBack
        except RollBack:
            pass
        except BaseException as error:  # collected for the assert below
            outcomes["first"] = error
        finally:
            first_created.set()
            connection.close()

    def second() -> None:
        try:
            first_created.wait(TIMEOUT)
            outcomes["second"] = create(second_creator, "Customer comer").name
        except BaseException as error:  # collected for the assert below
            outcomes["second"] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for run in (first, second)]
    for thread in threads:
        thread.start()
    assert first_created.wait(TIMEOUT)
    assert wait_for_lock_waiter(), "the second insert never waited on the first"
    release_first.set()
    for thread in threads:
        thread.join(TIMEOUT)
        assert not thread.is_alive(), f"a creation still runs after {TIMEOUT} s"
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


def test_second_look_alike_rejected_by_index(outsider, sales_rep):
    outcomes = race(outsider, sales_rep, commit=True)

    assert outcomes["first"] == "Customer corner"
    error = outcomes["second"]
    assert isinstance(error, ValidationError)
    assert error.message_dict == {
        "name": [
            "The name 'Customer comer' looks the same as the existing community "
            "'Customer corner': they differ only in letters that look alike, in "
            "accents or in invisible characters. Pick a name that reads "
            "differently, or join that one."
        ]
    }
    assert list(Community.objects.values_list("name", flat=True)) == ["Customer corner"]


def test_look_alike_created_after_rollback(outsider, sales_rep):
    outcomes = race(outsider, sales_rep, commit=False)

    assert outcomes == {"first": "Customer corner", "second": "Customer comer"}
    assert list(Community.objects.values_list("name", flat=True)) == ["Customer comer"]
