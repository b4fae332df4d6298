"""The people import rejects usernames that look like another one.

Named people: ``pat_lee`` (an existing account, username "plee") and
``margaret`` (an existing account). ``CYRILLIC_MARGARET`` has a Cyrillic
small a (U+0430) as its second letter.
"""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from accounts.importing import import_people
from accounts.models import Role, User

pytestmark = pytest.mark.django_db

CYRILLIC_MARGARET = "m\u0430rgaret"


@pytest.fixture
def margaret() -> User:
    return User.objects.create_user(
        username="margaret",
        email="margaret@example.com",
        first_name="Margaret",
        role=Role.MANAGER,
    )


def run(tmp_path: Path, content: str) -> list[tuple[int, str, str]]:
    path = tmp_path / "people.csv"
    path.write_text(content, encoding="utf-8", newline="")
    report = import_people(source=path.read_bytes())
    return [(row.line, row.action, row.detail) for row in report.rows]


def test_look_alike_of_existing_username_rejected(tmp_path, margaret):
    rows = run(
        tmp_path,
        f"email,username,first_name,role\ncyr@example.com,{CYRILLIC_MARGARET},M,it\n",
    )

    assert rows == [
        (
            2,
            "rejected",
            f'The username "{CYRILLIC_MARGARET}" looks the same as "margaret", '
            "which belongs to margaret@example.com: they differ only in letters "
            "that look alike, in accents or in invisible characters. Choose a "
            "username that reads differently, or leave it empty to derive one "
            "from the e-mail.",
        )
    ]
    assert not User.objects.filter(email="cyr@example.com").exists()


def test_look_alike_of_earlier_row_rejected(tmp_path):
    rows = run(
        tmp_path,
        "email,username,first_name,role\n"
        "ma@example.com,margaret,M,it\n"
        f"cyr@example.com,{CYRILLIC_MARGARET},M,it\n",
    )

    assert rows[0] == (2, "created", "username margaret")
    assert rows[1] == (
        3,
        "rejected",
        f'The username "{CYRILLIC_MARGARET}" looks the same as the username on '
        "line 2: they differ only in letters that look alike, in accents or in "
        "invisible characters. Choose a username that reads differently, or "
        "leave it empty to derive one.",
    )


def test_mixed_alphabet_username_rejected_alone(tmp_path):
    rows = run(
        tmp_path,
        f"email,username,first_name,role\ncyr@example.com,{CYRILLIC_MARGARET},M,it\n",
    )

    assert rows == [
        (
            2,
            "rejected",
            f"The username {CYRILLIC_MARGARET!r} mixes Latin and Cyrillic letters "
            f"in the word {CYRILLIC_MARGARET!r}, so it can look like another "
            "username: type each word in one alphabet.",
        )
    ]


def test_one_alphabet_username_created(tmp_path, margaret):
    rows = run(
        tmp_path,
        "email,username,first_name,role\nol@example.com,\u043e\u043b\u044f,O,it\n",
    )

    assert rows == [(2, "created", "username \u043e\u043b\u044f")]


def test_existing_person_keeps_own_username(tmp_path, margaret):
    rows = run(
        tmp_path,
        "email,username,first_name,role\nmargaret@example.com,Margaret,Maggie,\n",
    )

    assert [(line, action) for line, action, _detail in rows] == [(2, "updated")]


@pytest.mark.parametrize("username", ["rnargaret", "margarét", "MARGARÉT", "rnargarét"])
def test_latin_look_alike_of_existing_rejected(tmp_path, margaret, username):
    rows = run(
        tmp_path,
        f"email,username,first_name,role\nnew@example.com,{username},M,it\n",
    )

    assert rows == [
        (
            2,
            "rejected",
            f'The username "{username}" looks the same as "margaret", which '
            "belongs to margaret@example.com: they differ only in letters that "
            "look alike, in accents or in invisible characters. Choose a "
            "username that reads differently, or leave it empty to derive one "
            "from the e-mail.",
        )
    ]
    assert not User.objects.filter(email="new@example.com").exists()


def test_latin_look_alike_of_earlier_row_rejected(tmp_path):
    rows = run(
        tmp_path,
        "email,username,first_name,role\n"
        "pl@example.com,pat.lee,P,it\n"
        "p1@example.com,pat.1ee,P,it\n",
    )

    assert rows[1] == (
        3,
        "rejected",
        'The username "pat.1ee" looks the same as the username on line 2: they '
        "differ only in letters that look alike, in accents or in invisible "
        "characters. Choose a username that reads differently, or leave it "
        "empty to derive one.",
    )
    assert not User.objects.filter(email="p1@example.com").exists()


def test_command_output_names_line_and_user(tmp_path, margaret):
    path = tmp_path / "people.csv"
    path.write_text(
        "email,username,first_name,role\nnew@example.com,rnargaret,M,it\n",
        encoding="utf-8",
    )
    out = StringIO()

    with pytest.raises(SystemExit) as exit_info:
        call_command("import_people", str(path), stdout=out)

    assert exit_info.value.code == 1
    output = out.getvalue()
    assert "line 2" in output.lower()
    assert '"rnargaret" looks the same as "margaret"' in output
    assert "margaret@example.com" in output
