"""On PostgreSQL each search is planned for its own words, never generically.

Collected only on PostgreSQL (see conftest.py).

psycopg prepares a statement after five runs, and PostgreSQL may then reuse
one generic plan for every word, which took the medium benchmark's p95 from
17 ms to 610 ms. The search statement is therefore never prepared.
"""

import pytest
from django.db import connection

from communities.models import Community
from search.selectors import search

pytestmark = pytest.mark.django_db


def _prepared_window_statements() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%WITH matched AS%"],
        )
        (count,) = cursor.fetchone()
    return int(count)


def test_search_statement_is_never_prepared(content, outsider):
    words = ["otterconfirm", "walruscredit", "credit", "payment", "shipment"]
    for _ in range(3):
        for word in words:
            search(outsider, word)

    assert _prepared_window_statements() == 0


def test_other_statements_are_still_prepared_after_a_search(content, outsider):
    threshold = connection.connection.prepare_threshold

    search(outsider, "credit")

    assert threshold == 5
    assert connection.connection.prepare_threshold == threshold


def test_search_entry_is_never_scanned_in_parallel():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reloptions FROM pg_class WHERE oid = 'search_entry'::regclass"
        )
        (options,) = cursor.fetchone()

    assert "parallel_workers=0" in (options or [])


def test_search_parameters_stay_few(content, outsider):
    # psycopg parses a statement with more than 50 parameters anew each time,
    # so the community ids go as one array (core.lookups).
    Community.objects.bulk_create(
        Community(slug=f"open-{index}", name=f"Open {index}", visibility="open")
        for index in range(150)
    )
    sent = []

    def record(execute, sql, params, many, context):
        if "WITH matched AS" in sql:
            sent.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        results = search(outsider, "remittance")

    assert [hit.kind for hit in results.hits] == ["post"]
    ((sql, params),) = sent
    assert len(params) <= 50
    assert "= ANY(" in sql
