"""SQLite reads the held FAQ entries through their index, whatever ANALYZE recorded.

``outsider`` is an employee who owns no FAQ, so search reads the held
entries hidden from them on every query.
"""

import pytest
from django.db import connection

from answers.selectors import held_faq_ids_hidden_from, held_faq_ids_hidden_from_sql
from answers.tests.test_browsing import make_entry

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "sqlite", reason="the plan of SQLite's statement"
    ),
]


def test_held_lookup_reads_index(outsider):
    held = make_entry("Held one")
    held.owners_only = True
    held.save(update_fields=["owners_only"])
    for number in range(30):
        make_entry(f"Published {number}")
    with connection.cursor() as cursor:
        # Statistics that count one value of owners_only over every row,
        # which made the planner scan the table.
        cursor.execute("ANALYZE")
        statement = held_faq_ids_hidden_from_sql(outsider)
        assert statement is not None
        sql, params = statement
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())

    assert "INDEX faq_held_for_owners" in plan
    assert "SCAN answers_faqentry" not in plan
    assert held_faq_ids_hidden_from(outsider) == (held.pk,)
