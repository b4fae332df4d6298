"""Taken and look-alike usernames outside the people import.

Every way to create or rename an account (``create_user``, ``save``,
``bulk_create``, ``update``, ``full_clean`` in a form, ``createsuperuser``
and ``load_demo``) rejects a username that looks like an existing one with
a message naming both accounts, and writes nothing. ``margaret`` has the
username "margaret"; "rnargaret" reads the same because "rn" looks like "m".
"""

from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from accounts.models import Role, User
from accounts.usernames import UsernameClashError
from conftest import make_person
from reconciliation.models import Company

pytestmark = pytest.mark.django_db

LOOKS_LIKE_MARGARET = (
    'The username "rnargaret" looks the same as "margaret", which belongs to '
    "margaret@example.com: they differ only in letters that look alike, in "
    "accents or in invisible characters. Choose a username that reads "
    "differently."
)


@pytest.fixture
def margaret(db) -> User:
    return make_person("margaret", Role.MANAGER)


def usernames() -> list[str]:
    return sorted(User.objects.values_list("username", flat=True))


def test_create_user_names_look_alike(margaret):
    with pytest.raises(UsernameClashError) as raised:
        User.objects.create_user(username="rnargaret", role=Role.IT)
    assert raised.value.reason == LOOKS_LIKE_MARGARET
    assert raised.value.message_dict == {"username": [LOOKS_LIKE_MARGARET]}
    assert usernames() == ["margaret"]


def test_rename_to_look_alike_rejected(margaret):
    kim = make_person("kim", Role.IT)
    kim.username = "rnargaret"
    with pytest.raises(UsernameClashError, match="looks the same as"):
        kim.save()
    assert usernames() == ["kim", "margaret"]


def test_bulk_create_writes_none_on_clash(margaret):
    batch = [User(username="kim", role=Role.IT), User(username="rnargaret")]
    with pytest.raises(UsernameClashError) as raised:
        User.objects.bulk_create(batch)
    assert raised.value.reason == LOOKS_LIKE_MARGARET
    assert usernames() == ["margaret"]


def test_bulk_create_batch_look_alikes(db):
    batch = [User(username="mia", role=Role.IT), User(username="rnia", role=Role.IT)]
    with pytest.raises(UsernameClashError) as raised:
        User.objects.bulk_create(batch)
    assert raised.value.username == "rnia"
    assert '"rnia" looks the same as "mia"' in raised.value.reason
    assert "in the same batch" in raised.value.reason
    assert usernames() == []


def test_full_clean_reports_username_field(margaret):
    person = User(username="rnargaret", role=Role.IT)
    with pytest.raises(ValidationError) as raised:
        person.full_clean(exclude=["password"])
    assert raised.value.message_dict["username"] == [LOOKS_LIKE_MARGARET]


def test_full_clean_accepts_own_username(margaret):
    margaret.full_clean(exclude=["password"])


def test_createsuperuser_names_look_alike(margaret, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-test-password")
    with pytest.raises(CommandError) as raised:
        call_command(
            "createsuperuser",
            "--noinput",
            "--username=rnargaret",
            "--email=rita@example.com",
            stdout=StringIO(),
        )
    assert str(raised.value) == LOOKS_LIKE_MARGARET
    assert usernames() == ["margaret"]


def test_load_demo_names_look_alike(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    make_person("rnargaret", Role.IT)
    with pytest.raises(CommandError) as raised:
        call_command("load_demo", "--allow-production", stdout=StringIO())
    message = str(raised.value)
    assert message.startswith(
        'The username "margaret" looks the same as "rnargaret", which belongs '
        "to rnargaret@example.com"
    )
    assert message.endswith(
        "The demo needs that username, so nothing was loaded: rename the "
        "existing account and load again."
    )
    assert usernames() == ["rnargaret"]
    assert not Company.objects.exists()
