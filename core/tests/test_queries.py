"""Statements run together: rows per statement, in order, on either engine."""

import pytest
from django.db import DatabaseError, connection

from core.queries import fetch_together

pytestmark = pytest.mark.django_db


def test_rows_come_back_per_statement():
    results = fetch_together(
        [
            ("SELECT %s, %s", [1, "one"]),
            ("SELECT 2 UNION ALL SELECT 3", []),
            ("SELECT 1 WHERE 1 = 0", []),
        ]
    )
    assert results[0] == [(1, "one")]
    assert sorted(results[1]) == [(2,), (3,)]
    assert results[2] == []


def test_each_statement_is_one_query(django_assert_num_queries):
    with django_assert_num_queries(2):
        fetch_together([("SELECT 1", []), ("SELECT 2", [])])


def test_failed_statement_raises_database_error():
    with pytest.raises(DatabaseError):
        fetch_together([("SELECT 1", []), ("SELECT * FROM no_such_table", [])])


def test_connection_usable_after_error():
    # Inside the test's transaction PostgreSQL needs a savepoint to go on
    # after an error, as it does after any failed statement.
    with connection.cursor() as cursor:
        cursor.execute("SAVEPOINT probe")
    with pytest.raises(DatabaseError):
        fetch_together([("SELECT 1", []), ("SELECT * FROM no_such_table", [])])
    with connection.cursor() as cursor:
        cursor.execute("ROLLBACK TO SAVEPOINT probe")
    assert fetch_together([("SELECT 5", []), ("SELECT 6", [])]) == [[(5,)], [(6,)]]
