"""Usernames and e-mail addresses are one name ignoring case, on every engine.

SQLite's ``lower()`` and ``LIKE`` fold ASCII letters only, so before the
keys "JÜRGEN" did not sign in as "jürgen" there, and both could be
accounts. The keys (``core.text.fold_case``) are computed in Python.
"""

from pathlib import Path

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.models import F
from django.test import Client

from accounts.importing import import_people
from accounts.models import Role, User
from accounts.password_reset import reset_recipients
from accounts.usernames import UsernameClashError
from conftest import PASSWORD, make_person
from core.testing import signed_in
from social.services.mentions import resolve_mentions

BEFORE_KEYS = ("accounts", "0004_add_skills_and_endorsements")
WITH_KEYS = ("accounts", "0005_username_and_email_keys")


@pytest.fixture
def jurgen(db) -> User:
    return make_person("jürgen", Role.SALES_REP)


@pytest.mark.parametrize("typed", ["JÜRGEN", "Jürgen", "ｊüｒｇｅｎ"])
def test_sign_in_matches_the_username_ignoring_case(jurgen, typed):
    response = Client().post(
        "/accounts/login/", {"username": typed, "password": PASSWORD}
    )

    assert response.status_code == 302
    assert response.wsgi_request.user == jurgen


def test_database_keeps_usernames_unique_ignoring_case(jurgen):
    taken = 'The username "{}" already belongs to jürgen@example.com'
    with pytest.raises(UsernameClashError, match=taken.format("JÜRGEN")):
        User.objects.create_user(username="JÜRGEN", role=Role.IT)
    with pytest.raises(UsernameClashError, match=taken.format("Jürgen")):
        User.objects.bulk_create([User(username="Jürgen", role=Role.IT)])
    other = User.objects.create_user(username="kim", role=Role.IT)
    with pytest.raises(UsernameClashError, match=taken.format("JüRGEN")):
        User.objects.filter(pk=other.pk).update(username="JüRGEN")

    assert sorted(User.objects.values_list("username_key", flat=True)) == [
        "jürgen",
        "kim",
    ]


def test_database_keeps_addresses_unique_ignoring_case(jurgen):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(
            username="j2", email="JÜRGEN@EXAMPLE.COM", role=Role.IT
        )
    # Accounts without an address are many.
    User.objects.create_user(username="a1", role=Role.IT)
    User.objects.create_user(username="a2", role=Role.IT)

    assert User.objects.filter(email_key="").count() == 2


def test_keys_follow_changes_that_skip_or_narrow_save(jurgen):
    jurgen.username = "Straße"
    jurgen.email = "Straße@Example.com"
    jurgen.save(update_fields=["username", "email"])
    User.objects.filter(pk=jurgen.pk).update(email="NEU@example.com")

    assert User.objects.values_list("username_key", "email_key").get(pk=jurgen.pk) == (
        "strasse",
        "neu@example.com",
    )


def test_update_rejects_username_expression(jurgen):
    with pytest.raises(TypeError) as excinfo:
        User.objects.filter(pk=jurgen.pk).update(username=F("email"))

    assert str(excinfo.value) == (
        "A person's username can only be set to a string, because its "
        "username_key is computed in Python."
    )


def test_password_reset_finds_the_address_ignoring_case(jurgen):
    assert list(reset_recipients("JÜRGEN@EXAMPLE.COM")) == [jurgen]
    assert list(reset_recipients("")) == []


def test_mention_and_profile_find_the_username_ignoring_case(jurgen, sales_rep):
    assert resolve_mentions(["JÜRGEN"]) == [jurgen]

    response = signed_in(sales_rep).get("/people/JÜRGEN/")

    assert response.status_code == 200
    assert response.context["profile"].card.username == "jürgen"


def test_import_rejects_a_username_taken_ignoring_case(tmp_path: Path, jurgen):
    source = (
        "username,email,first_name,last_name,role\n"
        "JÜRGEN,j.neu@example.com,Jürgen,Neu,it\n"
    ).encode()

    report = import_people(source=source)

    assert [(row.line, row.action) for row in report.rows] == [(2, "rejected")]
    assert 'The username "JÜRGEN" already belongs to' in report.rows[0].detail
    assert User.objects.count() == 1


def migrate_to(target: tuple[str, str] | None) -> MigrationExecutor:
    """Migrate to ``target``, or every app to its latest migration for None."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = [target] if target else executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return executor


def add_before_keys(executor: MigrationExecutor, *people: tuple[str, str]) -> None:
    """Insert accounts as migration 0004 left the table, without the keys."""
    state = executor.loader.project_state(BEFORE_KEYS)
    historical = state.apps.get_model("accounts", "User")
    for username, email in people:
        historical.objects.create(username=username, email=email, role="it")


@pytest.mark.django_db(transaction=True)
def test_migration_fills_the_keys():
    try:
        add_before_keys(
            migrate_to(BEFORE_KEYS), ("Jürgen", "Jürgen@Example.com"), ("kim", "")
        )
    finally:
        migrate_to(None)

    assert sorted(
        User.objects.values_list("username", "username_key", "email_key")
    ) == [
        ("Jürgen", "jürgen", "jürgen@example.com"),
        ("kim", "kim", ""),
    ]


@pytest.mark.django_db(transaction=True)
def test_migration_names_two_accounts_equal_ignoring_case():
    # lower() keeps these apart on both engines, and the key joins them.
    try:
        add_before_keys(migrate_to(BEFORE_KEYS), ("Straße", ""), ("STRASSE", ""))
        with pytest.raises(RuntimeError) as excinfo:
            migrate_to(WITH_KEYS)
        assert str(excinfo.value) == (
            "Accounts 'Straße' and 'STRASSE' have the same username ignoring case: "
            "rename one of them, then run the migration again."
        )
        state = MigrationExecutor(connection).loader.project_state(BEFORE_KEYS)
        historical = state.apps.get_model("accounts", "User")
        historical.objects.filter(username="STRASSE").update(username="strasse2")
    finally:
        migrate_to(None)

    assert sorted(User.objects.values_list("username_key", flat=True)) == [
        "strasse",
        "strasse2",
    ]
