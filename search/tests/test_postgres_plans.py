"""On PostgreSQL each search is planned for its own words, never generically.

Collected only on PostgreSQL (see conftest.py).

psycopg prepares a statement after five runs. Without the setting, PostgreSQL
may then reuse one generic plan for every word, which took the medium
benchmark's p95 from 17 ms to 610 ms.
"""

import pytest
from django.db import connection

from search.selectors import search

pytestmark = pytest.mark.django_db


def _window_plans() -> list[tuple[int, int]]:
    """Return (generic, custom) plan counts of the prepared window statements."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
            "WHERE statement LIKE %s",
            ["%WITH matched AS%"],
        )
        return list(cursor.fetchall())


def test_search_statement_gets_no_generic_plan(content, outsider):
    words = ["otterconfirm", "walruscredit", "credit", "payment", "shipment"]
    for _ in range(3):
        for word in words:
            search(outsider, word)

    plans = _window_plans()
    assert plans, "the window statement was never prepared"
    for generic, custom in plans:
        assert generic == 0
        assert custom > 0
