"""On SQLite a busy context's FAQ entries are read in helpful order, by index.

Collected only on SQLite (see conftest.py). A context with more than
``SMALL_SET`` links is read by walking ``faq_most_helpful`` until enough
entries of the context are found. Written as ``owners_only = false``, the
condition let SQLite pick ``faq_held_for_owners`` instead, which returns
every published entry to be sorted: 45 ms a panel with 50,000 entries on the
medium benchmark set, against 3 ms with the ordered walk.
"""

from typing import Any

import pytest
from django.db import connection

from answers.models import FaqEntry
from assist.models import HelpContext
from assist.ranking import SMALL_SET
from assist.selectors import compute_help_panel

pytestmark = pytest.mark.django_db

KEY = "reconciliation.order.short_payment"


def panel_statement_plan(viewer) -> str:
    """Return SQLite's plan of the panel's statement that reads the FAQ entries."""
    statements: list[tuple[str, Any]] = []

    def keep(execute, sql, params, many, context):
        statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        compute_help_panel(viewer=viewer, key=KEY)
    sql, params = next((sql, params) for sql, params in statements if " AS part" in sql)
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(row[3] for row in cursor.fetchall())


@pytest.fixture
def busy_context():
    context = HelpContext.objects.get(key=KEY)
    entries = FaqEntry.objects.bulk_create(
        FaqEntry(question=f"Entry {number}", answer="Text.", answer_html="<p>Text.</p>")
        for number in range(SMALL_SET + 5)
    )
    FaqEntry.contexts.through.objects.bulk_create(
        FaqEntry.contexts.through(faqentry=entry, helpcontext=context)
        for entry in entries
    )
    return context


def test_busy_context_walks_most_helpful_index(busy_context, sales_rep):
    plan = panel_statement_plan(sales_rep)

    assert "faq_held_for_owners" not in plan
    assert "SCAN answers_faqentry USING INDEX faq_most_helpful" in plan


def test_busy_context_plan_for_customer(busy_context, customer):
    plan = panel_statement_plan(customer)

    assert "faq_held_for_owners" not in plan


def census_plan(viewer) -> str:
    """Return SQLite's plan of the panel's census statement."""
    statements: list[tuple[str, Any]] = []

    def keep(execute, sql, params, many, context):
        statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        compute_help_panel(viewer=viewer, key=KEY)
    sql, params = next(
        (sql, params) for sql, params in statements if "first_links" in sql
    )
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(row[3] for row in cursor.fetchall())


def test_census_stops_at_enough_visible_items(busy_context, sales_rep):
    # Materialized, the first SMALL_SET links of every level were read
    # before the LIMIT applied: 1.1 ms of a 1.3 ms census on the medium set.
    plan = census_plan(sales_rep)

    assert "CO-ROUTINE first_links" in plan
    assert "MATERIALIZE first_links" not in plan


def test_document_rank_index_holds_withdrawn_at():
    # The panel's rule for items is ``withdrawn_at IS NULL``: with the column
    # in the index, a walk checks it without reading each item's row.
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pragma_index_info('document_most_helpful')")
        columns = [row[0] for row in cursor.fetchall()]

    assert columns == ["helpful_count", "updated_at", "id", "withdrawn_at"]
