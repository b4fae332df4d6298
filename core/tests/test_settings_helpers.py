"""Typed settings readers, the JSON log format and the health check."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError
from django.test import Client

from commonplace.env import env_bool, env_choice, env_int, env_list, parse_database_url
from commonplace.logs import JsonLineFormatter

BASE = Path("/srv/commonplace")


class TestEnvReaders:
    def test_bool_words(self, monkeypatch):
        for word, expected in [("1", True), ("Yes", True), ("off", False), ("", False)]:
            monkeypatch.setenv("FLAG", word)
            assert env_bool("FLAG", not expected) is expected

    def test_bool_rejects_other_words(self, monkeypatch):
        monkeypatch.setenv("FLAG", "maybe")
        with pytest.raises(ImproperlyConfigured) as error:
            env_bool("FLAG", False)
        assert str(error.value) == (
            "FLAG='maybe' is not a boolean: use one of 1, true, yes, on, 0, false, no, off."
        )

    def test_bool_default_when_unset(self, monkeypatch):
        monkeypatch.delenv("FLAG", raising=False)
        assert env_bool("FLAG", True) is True

    def test_int_rejects_text(self, monkeypatch):
        monkeypatch.setenv("PANEL", "five")
        with pytest.raises(ImproperlyConfigured) as error:
            env_int("PANEL", 5)
        assert str(error.value) == (
            "PANEL='five' is not a whole number: set it to digits only, for example "
            "5 (the default), or unset it."
        )

    def test_int_minimum(self, monkeypatch):
        monkeypatch.setenv("PANEL", "0")
        with pytest.raises(ImproperlyConfigured) as error:
            env_int("PANEL", 5, minimum=1)
        assert str(error.value) == (
            "PANEL=0 is below the minimum 1: set it to 1 or more, or unset it to "
            "use the default 5."
        )

    def test_list_splits_and_trims(self, monkeypatch):
        monkeypatch.setenv("HOSTS", " a.example , b.example,,")
        assert env_list("HOSTS", []) == ["a.example", "b.example"]

    def test_choice_names_the_options(self, monkeypatch):
        monkeypatch.setenv("LOG_FORMAT", "xml")
        with pytest.raises(ImproperlyConfigured) as error:
            env_choice("LOG_FORMAT", "text", ("text", "json"))
        assert (
            str(error.value) == "LOG_FORMAT='xml' is not valid: use one of text, json."
        )


class TestDatabaseUrl:
    def test_relative_sqlite_path(self):
        parsed = parse_database_url(
            "DATABASE_URL", "sqlite:///var/db.sqlite3", base_dir=BASE
        )
        assert parsed.engine == "django.db.backends.sqlite3"
        assert parsed.name == "/srv/commonplace/var/db.sqlite3"

    def test_absolute_sqlite_path(self):
        parsed = parse_database_url(
            "DATABASE_URL", "sqlite:////tmp/x.sqlite3", base_dir=BASE
        )
        assert parsed.name == "/tmp/x.sqlite3"

    def test_postgres_url(self):
        parsed = parse_database_url(
            "DATABASE_URL",
            "postgres://app:s%40cret@127.0.0.1:5433/commonplace?sslmode=disable",
            base_dir=BASE,
        )
        assert parsed.engine == "django.db.backends.postgresql"
        assert (parsed.name, parsed.user, parsed.password) == (
            "commonplace",
            "app",
            "s@cret",
        )
        assert (parsed.host, parsed.port) == ("127.0.0.1", "5433")
        assert parsed.options == {"sslmode": "disable"}

    def test_postgres_without_database(self):
        with pytest.raises(ImproperlyConfigured, match="names no database"):
            parse_database_url(
                "DATABASE_URL", "postgres://app@127.0.0.1:5432", base_dir=BASE
            )

    def test_bad_port(self):
        with pytest.raises(ImproperlyConfigured, match="has an invalid port"):
            parse_database_url("DATABASE_URL", "postgres://h:99999/db", base_dir=BASE)

    def test_unknown_scheme(self):
        with pytest.raises(ImproperlyConfigured) as error:
            parse_database_url("DATABASE_URL", "mysql://h/db", base_dir=BASE)
        assert str(error.value) == (
            "DATABASE_URL='mysql://h/db' uses an unsupported scheme 'mysql': "
            "use sqlite:/// or postgres://."
        )

    def test_sqlite_without_path(self):
        with pytest.raises(ImproperlyConfigured, match="has no file path"):
            parse_database_url("DATABASE_URL", "sqlite:///", base_dir=BASE)


def test_json_formatter_keeps_extra_fields():
    record = logging.LogRecord(
        "reconciliation.matching",
        logging.INFO,
        __file__,
        1,
        "run %s done",
        ("7",),
        None,
    )
    record.orders = 830
    line = json.loads(JsonLineFormatter().format(record))
    assert line["level"] == "INFO"
    assert line["logger"] == "reconciliation.matching"
    assert line["message"] == "run 7 done"
    assert line["orders"] == 830
    assert line["time"].endswith("+00:00")


@pytest.mark.django_db
class TestHealthz:
    def test_reports_database_ok(self):
        from django.db import connection

        response = Client().get("/healthz")
        assert response.status_code == 200
        assert response.json() == {
            "status": "ok",
            "database": {"status": "ok", "vendor": connection.vendor},
        }
        assert "no-cache" in response["Cache-Control"]

    def test_reports_database_error_as_503(self, monkeypatch):
        from django.db.backends.utils import CursorWrapper

        def fail(*args, **kwargs):
            raise DatabaseError("connection refused")

        monkeypatch.setattr(CursorWrapper, "execute", fail)
        response = Client().get("/healthz")
        assert response.status_code == 503
        assert response.json()["database"]["status"] == "error"

    def test_rejects_post(self):
        assert Client().post("/healthz").status_code == 405


def test_sqlite_file_database_runs_in_wal_mode(tmp_path, settings, django_db_blocker):
    from django.db.backends.sqlite3.base import DatabaseWrapper

    wrapper = DatabaseWrapper(
        {
            **settings.DATABASES["default"],
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(tmp_path / "wal.sqlite3"),
            "OPTIONS": dict(settings.SQLITE_OPTIONS),
            "TEST": {},
            "TIME_ZONE": None,
            "CONN_MAX_AGE": 0,
            "CONN_HEALTH_CHECKS": False,
            "AUTOCOMMIT": True,
            "ATOMIC_REQUESTS": False,
            "USER": "",
            "PASSWORD": "",
            "HOST": "",
            "PORT": "",
        },
        alias="wal-check",
    )
    # A separate file database outside the test database, so the blocker
    # that guards the test database is lifted for this connection only.
    try:
        with django_db_blocker.unblock(), wrapper.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"
            cursor.execute("PRAGMA foreign_keys")
            assert cursor.fetchone()[0] == 1
            cursor.execute("PRAGMA synchronous")
            assert cursor.fetchone()[0] == 1  # NORMAL
            cursor.execute("PRAGMA cache_size")
            assert cursor.fetchone()[0] == -16000  # KiB
    finally:
        wrapper.close()


def _database_options(**environment: str) -> dict[str, object]:
    """Return the default database's OPTIONS as settings.py builds them."""
    script = (
        "import json; from django.conf import settings; "
        "print(json.dumps(settings.DATABASES['default']['OPTIONS']))"
    )
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "commonplace.settings",
        "DEBUG": "on",
        **environment,
    }
    done = subprocess.run(  # noqa: S603 - runs this interpreter on fixed code
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    options: dict[str, object] = json.loads(done.stdout)
    return options


class TestPostgresStatementOptions:
    URL = "postgres://learn@127.0.0.1:5432/commonplace"

    def test_postgres_binds_and_prepares(self):
        options = _database_options(DATABASE_URL=self.URL)
        assert options["server_side_binding"] is True
        assert options["prepare_threshold"] == 5

    def test_preparing_can_be_turned_off(self):
        options = _database_options(
            DATABASE_URL=self.URL, DATABASE_PREPARED_STATEMENTS="off"
        )
        assert options["server_side_binding"] is True
        assert options["prepare_threshold"] is None

    def test_sqlite_gets_neither(self):
        options = _database_options(DATABASE_URL="sqlite:///var/options.sqlite3")
        assert "server_side_binding" not in options
        assert "prepare_threshold" not in options


@pytest.mark.django_db
def test_statement_run_repeatedly_is_prepared():
    from django.db import connection

    from accounts.models import User

    if connection.vendor != "postgresql":
        assert "prepare_threshold" not in connection.settings_dict["OPTIONS"]
        return
    for _ in range(6):
        User.objects.filter(username="nobody-prepared").exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        statements = [row[0] for row in cursor.fetchall()]
    assert any("nobody-prepared" not in s and "accounts_user" in s for s in statements)
