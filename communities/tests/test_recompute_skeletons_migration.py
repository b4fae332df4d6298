"""Migration 0005 computes every skeleton again with today's look-alike rule.

Under 0004's rule "Clear desk" and "Dear desk" had different skeletons;
today "cl" reads as "d", so the newer of the two is marked for a rename.
"""

import logging
from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from communities.models import Community

WITH_SKELETON = ("communities", "0004_name_skeleton")


def migrate_to(target: tuple[str, str] | None) -> MigrationExecutor:
    """Migrate to ``target``, or every app to its latest migration for None."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = [target] if target else executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return executor


def add_with_old_skeletons(
    executor: MigrationExecutor, rows: list[tuple[str, str | None]]
) -> None:
    """Insert communities with the skeletons 0004 stored, one day apart."""
    historical = executor.loader.project_state(WITH_SKELETON).apps.get_model(
        "communities", "Community"
    )
    first_day = timezone.now() - timedelta(days=30)
    for number, (name, old_skeleton) in enumerate(rows):
        community = historical.objects.create(
            slug=f"space-{number}",
            name=name,
            name_key=name.casefold(),
            name_skeleton=old_skeleton,
        )
        historical.objects.filter(pk=community.pk).update(
            created_at=first_day + timedelta(days=number)
        )


@pytest.mark.django_db(transaction=True)
def test_recompute_marks_new_look_alike(caplog):
    caplog.set_level(logging.WARNING, logger="communities.migrations")
    try:
        add_with_old_skeletons(
            migrate_to(WITH_SKELETON),
            [("Clear desk", "clear desk"), ("Dear desk", "dear desk")],
        )
        ids = Community.objects.values_list("pk", flat=True)
        older = ids.get(name="Clear desk")
        newer = ids.get(name="Dear desk")
    finally:
        migrate_to(None)

    assert dict(Community.objects.values_list("name", "name_skeleton")) == {
        "Clear desk": "dear desk",
        "Dear desk": None,
    }
    [record] = [
        r for r in caplog.records if r.module == "0005_recompute_name_skeletons"
    ]
    assert record.getMessage() == (
        f"community.look_alike_marked community={newer} name='Dear desk' "
        f"looks_like={older} looks_like_name='Clear desk': rename it to give it "
        "a skeleton"
    )


@pytest.mark.django_db(transaction=True)
def test_recompute_updates_every_skeleton():
    # "5ales" and "Bjørn" kept their own skeletons under 0004's rule. The
    # marked "Quiet room" no longer looks like anything older, so it gets
    # its skeleton back.
    try:
        add_with_old_skeletons(
            migrate_to(WITH_SKELETON),
            [("5ales desk", "5ales desk"), ("Bjørn", "bjørn"), ("Quiet room", None)],
        )
    finally:
        migrate_to(None)

    assert dict(Community.objects.values_list("name", "name_skeleton")) == {
        "5ales desk": "sales desk",
        "Bjørn": "bjom",
        "Quiet room": "qulet room",
    }


@pytest.mark.django_db(transaction=True)
def test_recompute_keeps_oldest_by_creation():
    # "Dear desk" was inserted first but created later, so "Clear desk" wins
    # although the old skeleton "dear desk" was stored on the other row.
    try:
        executor = migrate_to(WITH_SKELETON)
        add_with_old_skeletons(
            executor, [("Dear desk", "dear desk"), ("Clear desk", "clear desk")]
        )
        historical = executor.loader.project_state(WITH_SKELETON).apps.get_model(
            "communities", "Community"
        )
        historical.objects.filter(name="Dear desk").update(created_at=timezone.now())
    finally:
        migrate_to(None)

    assert dict(Community.objects.values_list("name", "name_skeleton")) == {
        "Clear desk": "dear desk",
        "Dear desk": None,
    }
