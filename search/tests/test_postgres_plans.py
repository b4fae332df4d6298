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
    # so the statement reads the visible communities itself instead of
    # taking their ids as parameters.
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
    assert '"community_id" IN (SELECT id FROM' in sql


def test_search_sends_one_statement(content, outsider):
    # The visible communities, the hidden held FAQ entries, the counts, the
    # page and its headlines, in one round trip.
    sent = []

    def record(execute, sql, params, many, context):
        sent.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        results = search(outsider, "remittance")

    assert [hit.kind for hit in results.hits] == ["post"]
    assert len(sent) == 1
    assert "WITH matched AS" in sent[0]
    assert "ts_headline" in sent[0]


def test_search_without_matches_counts_nothing(content, outsider):
    results = search(outsider, "nosuchwordanywhere")

    assert results.total == 0
    assert results.facets == {}
    assert results.hits == []
    assert results.total_complete
    assert results.facets_complete


def _person_name_vectors(
    config: str = "english_unaccent",
) -> list[tuple[str, bool, bool]]:
    # (kind, stored name vector present, equal to the title parsed now with
    # ``config``, the configuration of the migrations applied)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT kind, name_vector IS NOT NULL,
                   name_vector = setweight(to_tsvector(%s::regconfig,
                       translate(title, './-_@:<>&', '         ')), 'A')
            FROM search_entry WHERE kind IN ('person', 'post') ORDER BY kind, id
            """,
            [config],
        )
        return [(kind, present, bool(equal)) for kind, present, equal in cursor]


def test_person_rank_reads_stored_name_vector(content, outsider):
    kinds = {kind for kind, _present, _equal in _person_name_vectors()}
    assert kinds == {"person", "post"}
    for kind, present, equal in _person_name_vectors():
        assert present == (kind == "person")
        assert equal == (kind == "person")

    sent = []

    def record(execute, sql, params, many, context):
        sent.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        search(outsider, "remittance")

    # Nothing is parsed per match: the name was parsed when it was indexed.
    # Only the page's rows parse their context keys, after the window.
    window = sent[-1].split("page AS MATERIALIZED")[0]
    assert "to_tsvector" not in window
    assert "name_vector" in window


@pytest.mark.django_db(transaction=True)
def test_name_vector_migration_fills_people():
    from django.db.migrations.executor import MigrationExecutor

    before = ("search", "0008_missed_search_audience")
    after = ("search", "0009_person_name_vector")

    def migrate_to(target):
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate([target] if target else executor.loader.graph.leaf_nodes())
        return executor

    try:
        executor = migrate_to(before)
        entries = executor.loader.project_state(before).apps.get_model(
            "search", "SearchEntry"
        )
        for kind, title in (("person", "Quintessa Moor"), ("post", "Moor notes")):
            entries.objects.create(
                kind=kind, object_id=1, title=title, created_at="2026-12-01T10:00Z"
            )
        migrate_to(after)
        assert _person_name_vectors("pg_catalog.english") == [
            ("person", True, True),
            ("post", False, False),
        ]
        # Back and forth: the old trigger is put back, then the new one again.
        migrate_to(before)
        migrate_to(after)
        entries = MigrationExecutor(connection).loader.project_state(after).apps
        entries.get_model("search", "SearchEntry").objects.create(
            kind="person",
            object_id=2,
            title="Rita Tester",
            created_at="2026-12-01T10:00Z",
        )
        assert _person_name_vectors("pg_catalog.english") == [
            ("person", True, True),
            ("person", True, True),
            ("post", False, False),
        ]
    finally:
        migrate_to(None)
