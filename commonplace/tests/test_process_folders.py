"""Files that tests write stay in the pytest process's own folder, not in var/.

Under pytest-xdist each worker has its own temporary folder, so two workers
never store files under the same name.
"""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

import conftest

VAR = Path(settings.BASE_DIR) / "var"


@pytest.fixture
def process_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.getbasetemp()


@pytest.mark.parametrize("name", ["VAR_DIR", "MEDIA_ROOT", "IMPORT_STAGING_DIR"])
def test_folder_setting_is_per_process(name, process_folder):
    folder = Path(getattr(settings, name))
    assert folder.is_relative_to(process_folder)
    assert not folder.is_relative_to(VAR)


def test_upload_lands_in_process_folder(process_folder):
    name = default_storage.save("probe/upload.txt", ContentFile(b"probe"))
    try:
        stored = Path(default_storage.path(name))
        assert stored.is_relative_to(process_folder)
        assert stored.read_bytes() == b"probe"
    finally:
        default_storage.delete(name)


def test_test_database_is_outside_var():
    name = Path(settings.DATABASES["default"]["TEST"]["NAME"] or "")

    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        assert not name.resolve().is_relative_to(VAR.resolve())


@pytest.mark.parametrize("database_left", [False, True])
def test_side_files_of_test_database_are_deleted(tmp_path, monkeypatch, database_left):
    name = tmp_path / "test-1.sqlite3"
    side_files = [tmp_path / f"test-1.sqlite3{suffix}" for suffix in ("-wal", "-shm")]
    for path in side_files:
        path.write_bytes(b"left behind")
    if database_left:
        name.write_bytes(b"kept by --reuse-db")
    database = settings.DATABASES["default"] | {
        "ENGINE": "django.db.backends.sqlite3",
        "TEST": {"NAME": str(name)},
    }
    monkeypatch.setitem(settings.DATABASES, "default", database)

    conftest._delete_test_database_side_files()

    for path in side_files:
        assert path.exists() == database_left, path.name
    assert name.exists() == database_left
