"""Usernames that look alike are kept apart by the database, not only in Python.

Named people: ``margaret`` (Margaret, a manager with the username
"margaret") and ``rnia`` (an IT person with the username "rnia", which
reads as "mia"). ``CYRILLIC_MARGARET`` has a Cyrillic small a (U+0430) as
its second letter.
"""

import logging
from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import QuerySet
from django.utils import timezone

from accounts.importing import import_people, services
from accounts.models import Role, User
from accounts.usernames import UsernameClashError
from conftest import make_person

CYRILLIC_MARGARET = "m\u0430rgaret"
LOOK_ALIKE_OF_MARGARET = (
    'The username "rnargaret" looks the same as "margaret", which '
    "belongs to margaret@example.com: they differ only in letters that look "
    "alike, in accents or in invisible characters. Choose a username that "
    "reads differently, or leave it empty to derive one from the e-mail."
)

BEFORE_SKELETON = ("accounts", "0006_user_is_scripted")


@pytest.fixture
def margaret(db) -> User:
    return make_person("margaret", Role.MANAGER)


@pytest.fixture
def rnia(db) -> User:
    return make_person("rnia", Role.IT)


def test_created_person_stores_skeleton(margaret):
    assert User.objects.get(pk=margaret.pk).username_skeleton == "margaret"


@pytest.mark.django_db
def test_bulk_create_and_update_store_skeleton():
    [kim] = User.objects.bulk_create([User(username="Kim", role=Role.IT)])
    assert User.objects.get(pk=kim.pk).username_skeleton == "klm"

    User.objects.filter(pk=kim.pk).update(username="Corner")
    assert User.objects.get(pk=kim.pk).username_skeleton == "comer"


def test_rename_with_update_fields_stores_skeleton(margaret):
    margaret.username = "maggie"
    margaret.save(update_fields=["username"])

    assert User.objects.get(pk=margaret.pk).username_skeleton == "maggle"


@pytest.mark.parametrize(
    "look_alike", [CYRILLIC_MARGARET, "rnargaret", "MARGARÉT", "margar\u200bet"]
)
def test_database_rejects_look_alike_username(margaret, look_alike):
    looks_alike = f'"{look_alike}" looks the same as "margaret", which belongs to'
    with pytest.raises(UsernameClashError) as created:
        User.objects.create_user(username=look_alike, role=Role.IT)
    assert looks_alike in created.value.reason
    with pytest.raises(UsernameClashError) as bulk_created:
        User.objects.bulk_create([User(username=look_alike, role=Role.IT)])
    assert looks_alike in bulk_created.value.reason
    other = User.objects.create_user(username="kim", role=Role.IT)
    with pytest.raises(UsernameClashError) as updated:
        User.objects.filter(pk=other.pk).update(username=look_alike)
    assert looks_alike in updated.value.reason

    assert sorted(User.objects.values_list("username", flat=True)) == [
        "kim",
        "margaret",
    ]


def test_marked_person_stays_marked_until_renamed(margaret):
    # As migration 0007 leaves a newer look-alike: same skeleton, stored NULL.
    marked = User.objects.create_user(username="kim", role=Role.IT)
    # The plain QuerySet.update, because PersonQuerySet.update stores a skeleton.
    QuerySet.update(
        User.objects.filter(pk=marked.pk),
        username="rnargaret",
        username_key="rnargaret",
        username_skeleton=None,
    )

    marked = User.objects.get(pk=marked.pk)
    marked.title = "Helpdesk"
    marked.save()
    assert User.objects.get(pk=marked.pk).username_skeleton is None

    marked.username = "margaret2"
    marked.save()
    assert User.objects.get(pk=marked.pk).username_skeleton == "margaret2"


def test_marked_person_renamed_to_look_alike_rejected(margaret):
    marked = User.objects.create_user(username="kim", role=Role.IT)
    User.objects.filter(pk=marked.pk).update(username_skeleton=None)

    marked = User.objects.get(pk=marked.pk)
    marked.username = "rnargaret"
    with pytest.raises(UsernameClashError, match="looks the same as"):
        marked.save()


def test_import_names_person_committed_meanwhile(monkeypatch, db):
    # Margaret's account is committed after the import planned its rows, as
    # by a second import or admin at the same instant, so only the unique
    # index on username_skeleton rejects the row.
    load_references = services._load_references

    def load_then_add_margaret(records):
        references = load_references(records)
        make_person("margaret", Role.MANAGER)
        return references

    monkeypatch.setattr(services, "_load_references", load_then_add_margaret)

    report = import_people(
        source=b"email,username,first_name,role\nrn@example.com,rnargaret,M,it\n"
    )

    assert [(row.line, row.action, row.detail) for row in report.rows] == [
        (2, "rejected", LOOK_ALIKE_OF_MARGARET)
    ]
    assert not User.objects.filter(email="rn@example.com").exists()


def test_import_names_username_taken_meanwhile(monkeypatch, db):
    load_references = services._load_references

    def load_then_add_margaret(records):
        references = load_references(records)
        make_person("margaret", Role.MANAGER)
        return references

    monkeypatch.setattr(services, "_load_references", load_then_add_margaret)

    report = import_people(
        source=b"email,username,first_name,role\nnew@example.com,Margaret,M,it\n"
    )

    assert [(row.line, row.action, row.detail) for row in report.rows] == [
        (
            2,
            "rejected",
            'The username "Margaret" already belongs to margaret@example.com: '
            "choose another username, or leave it empty to derive one from the "
            "e-mail.",
        )
    ]


def test_derived_username_skips_look_alike(rnia):
    report = import_people(
        source=b"email,first_name,role\nmia@example.com,Mia,it\n"
        b"rnia@other.example,R,it\n"
    )

    assert [(row.line, row.action, row.detail) for row in report.rows] == [
        (2, "created", "username mia2"),
        # "rnia2" would look like "mia2", derived from the row before.
        (3, "created", "username rnia3"),
    ]


def migrate_to(target: tuple[str, str] | None) -> MigrationExecutor:
    """Migrate to ``target``, or every app to its latest migration for None."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = [target] if target else executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return executor


def add_before_skeleton(executor: MigrationExecutor, *usernames: str) -> None:
    """Insert accounts as 0006 left the table, one day apart in that order."""
    historical = executor.loader.project_state(BEFORE_SKELETON).apps.get_model(
        "accounts", "User"
    )
    first_day = timezone.now() - timedelta(days=30)
    for number, username in enumerate(usernames):
        historical.objects.create(
            username=username,
            username_key=username.casefold(),
            email=f"person{number}@example.com",
            email_key=f"person{number}@example.com",
            role="it",
            date_joined=first_day + timedelta(days=number),
        )


@pytest.mark.django_db(transaction=True)
def test_migration_keeps_older_look_alike(caplog):
    caplog.set_level(logging.WARNING, logger="accounts.migrations")
    try:
        add_before_skeleton(
            migrate_to(BEFORE_SKELETON), "margaret", CYRILLIC_MARGARET, "kim"
        )
        ids = User.objects.values_list("pk", flat=True)
        older = ids.get(username="margaret")
        newer = ids.get(username=CYRILLIC_MARGARET)
    finally:
        migrate_to(None)

    assert dict(User.objects.values_list("username", "username_skeleton")) == {
        "margaret": "margaret",
        CYRILLIC_MARGARET: None,
        "kim": "klm",
    }
    [record] = [r for r in caplog.records if r.module == "0007_username_skeleton"]
    assert record.getMessage() == (
        f"person.look_alike_marked person={newer} username={CYRILLIC_MARGARET!r} "
        f"looks_like={older} looks_like_username='margaret': rename it to give "
        "it a skeleton"
    )


@pytest.mark.django_db(transaction=True)
def test_migration_orders_by_date_joined():
    # "rnargaret" was inserted first but joined later, so "margaret" keeps it.
    try:
        executor = migrate_to(BEFORE_SKELETON)
        add_before_skeleton(executor, "rnargaret", "margaret")
        historical = executor.loader.project_state(BEFORE_SKELETON).apps.get_model(
            "accounts", "User"
        )
        historical.objects.filter(username="rnargaret").update(
            date_joined=timezone.now()
        )
    finally:
        migrate_to(None)

    assert dict(User.objects.values_list("username", "username_skeleton")) == {
        "margaret": "margaret",
        "rnargaret": None,
    }


@pytest.mark.django_db(transaction=True)
def test_migration_0008_stores_unicode_skeletons(caplog):
    # "john" with an Armenian small oh (U+0585) had its own skeleton before
    # Unicode's table.
    caplog.set_level(logging.WARNING, logger="accounts.migrations")
    armenian_john = "j\u0585hn"
    try:
        migrate_to(("accounts", "0007_username_skeleton"))
        john = make_person("john", Role.IT)
        look_alike = make_person("kim", Role.IT)
        # As 0007 stored it: the username's skeleton without the new table.
        QuerySet.update(
            User.objects.filter(pk=look_alike.pk),
            username=armenian_john,
            username_key=armenian_john,
            username_skeleton=armenian_john,
        )
        migrate_to(None)
    finally:
        migrate_to(None)

    assert dict(User.objects.values_list("username", "username_skeleton")) == {
        "john": "john",
        armenian_john: None,
    }
    [record] = [
        r for r in caplog.records if r.module == "0008_recompute_username_skeletons"
    ]
    assert f"person={look_alike.pk} username={armenian_john!r}" in record.getMessage()
    assert f"looks_like={john.pk} looks_like_username='john'" in record.getMessage()
