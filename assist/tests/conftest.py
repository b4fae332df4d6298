"""Collection rules for the help panel tests."""

from pathlib import Path

import pytest
from django.db import connection


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Collect the SQLite plan tests only when the suite runs on SQLite."""
    if collection_path.name == "test_sqlite_panel_plan.py":
        return connection.vendor != "sqlite"
    return None
