"""Migration 0003 fills ``name_key`` and stops at names equal ignoring case."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from communities.models import Community

BEFORE_KEY = ("communities", "0002_add_requests_invitations_pins_and_starters")
WITH_KEY = ("communities", "0003_name_key")


def migrate_to(target: tuple[str, str] | None) -> MigrationExecutor:
    """Migrate to ``target``, or every app to its latest migration for None."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = [target] if target else executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return executor


def add_before_key(executor: MigrationExecutor, *names: str) -> None:
    """Insert communities as migration 0002 left the table, without name_key."""
    state = executor.loader.project_state(BEFORE_KEY)
    historical = state.apps.get_model("communities", "Community")
    for number, name in enumerate(names):
        historical.objects.create(slug=f"space-{number}", name=name)


@pytest.mark.django_db(transaction=True)
def test_migration_fills_the_keys():
    try:
        add_before_key(migrate_to(BEFORE_KEY), "Ärger im Lager", "Payments")
    finally:
        migrate_to(None)

    assert dict(Community.objects.values_list("name", "name_key")) == {
        "Ärger im Lager": "ärger im lager",
        "Payments": "payments",
    }


@pytest.mark.django_db(transaction=True)
def test_migration_names_two_communities_equal_ignoring_case():
    # lower() keeps these apart on both engines, and case folding joins them.
    try:
        add_before_key(migrate_to(BEFORE_KEY), "Straße", "STRASSE")
        with pytest.raises(RuntimeError) as excinfo:
            migrate_to(WITH_KEY)
        assert str(excinfo.value) == (
            "Communities 'Straße' and 'STRASSE' have the same name ignoring case: "
            "rename one of them, then run the migration again."
        )
        # Renaming one of them lets the migration run, as the message advises.
        executor = MigrationExecutor(connection)
        state = executor.loader.project_state(BEFORE_KEY)
        historical = state.apps.get_model("communities", "Community")
        historical.objects.filter(name="STRASSE").update(name="Strasse Nord")
    finally:
        migrate_to(None)

    assert dict(Community.objects.values_list("name", "name_key")) == {
        "Straße": "strasse",
        "Strasse Nord": "strasse nord",
    }
