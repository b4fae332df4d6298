"""Migration 0004 stores skeletons and marks names that already look alike."""

import logging
from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from communities.models import Community

WITH_KEY = ("communities", "0003_name_key")


def migrate_to(target: tuple[str, str] | None) -> MigrationExecutor:
    """Migrate to ``target``, or every app to its latest migration for None."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = [target] if target else executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return executor


def add_before_skeleton(executor: MigrationExecutor, *names: str) -> None:
    """Insert communities as 0003 left the table, one day apart in that order."""
    state = executor.loader.project_state(WITH_KEY)
    historical = state.apps.get_model("communities", "Community")
    first_day = timezone.now() - timedelta(days=30)
    for number, name in enumerate(names):
        community = historical.objects.create(
            slug=f"space-{number}", name=name, name_key=name.casefold()
        )
        # auto_now_add ignores a given value, so set the day afterwards.
        historical.objects.filter(pk=community.pk).update(
            created_at=first_day + timedelta(days=number)
        )


@pytest.mark.django_db(transaction=True)
def test_migration_keeps_older_look_alike(caplog):
    caplog.set_level(logging.WARNING, logger="communities.migrations")
    try:
        add_before_skeleton(
            migrate_to(WITH_KEY), "Customer corner", "Customer comer", "Payments"
        )
        # The model already has name_skeleton, so read only the ids.
        ids = Community.objects.values_list("pk", flat=True)
        older = ids.get(name="Customer corner")
        newer = ids.get(name="Customer comer")
    finally:
        migrate_to(None)

    assert dict(Community.objects.values_list("name", "name_skeleton")) == {
        "Customer corner": "customer comer",
        "Customer comer": None,
        "Payments": "payments",
    }
    # Migration 0005 marks the same community again with today's rule.
    [record] = [r for r in caplog.records if r.module == "0004_name_skeleton"]
    assert record.getMessage() == (
        f"community.look_alike_marked community={newer} name='Customer comer' "
        f"looks_like={older} looks_like_name='Customer corner': rename it to "
        "give it a skeleton"
    )


@pytest.mark.django_db(transaction=True)
def test_migration_orders_by_creation_time():
    # The row inserted first was created later, so the other one keeps the skeleton.
    try:
        executor = migrate_to(WITH_KEY)
        add_before_skeleton(executor, "Cust0mer corner", "Customer corner")
        historical = executor.loader.project_state(WITH_KEY).apps.get_model(
            "communities", "Community"
        )
        historical.objects.filter(name="Cust0mer corner").update(
            created_at=timezone.now()
        )
    finally:
        migrate_to(None)

    assert dict(Community.objects.values_list("name", "name_skeleton")) == {
        "Customer corner": "customer comer",
        "Cust0mer corner": None,
    }
