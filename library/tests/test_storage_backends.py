"""Library files go through Django's storage API, whatever the backend.

Django's in-memory storage stands in for a bucket: it has no local paths,
so any code that assumed files on disk would fail here. S3 itself cannot
run on this machine; the settings for it are checked without a network.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.storage import InMemoryStorage, default_storage

from library.models import Kind
from library.tests.conftest import MP4_BYTES, signed_in
from library.tests.test_serving import add_item, file_url, get

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def memory_storage(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    # Django's setting_changed handler drops the cached default storage.


def test_upload_and_range_work_without_local_paths(member, memory_storage):
    document, version = add_item(
        member, kind=Kind.VIDEO, name="seek.mp4", content=MP4_BYTES
    )
    assert isinstance(default_storage._wrapped, InMemoryStorage)
    assert default_storage.exists(version.file.name)

    client = signed_in(member)
    response = get(client, file_url(document, version), HTTP_RANGE="bytes=100-199")

    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 100-199/{len(MP4_BYTES)}"
    assert response.body == MP4_BYTES[100:200]


def settings_in_subprocess(**environment: str) -> subprocess.CompletedProcess[str]:
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='commonplace.settings';"
        "from django.conf import settings;"
        "print(settings.STORAGES['default']['BACKEND'])"
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("S3_", "FILE_STORAGE"))
    }
    env.update({"DEBUG": "1", **environment})
    return subprocess.run(  # noqa: S603 - runs this interpreter on fixed code
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_s3_storage_needs_a_bucket():
    result = settings_in_subprocess(FILE_STORAGE="s3")
    assert result.returncode == 1
    assert "FILE_STORAGE=s3 needs S3_BUCKET" in result.stderr


def test_s3_storage_is_chosen_with_a_bucket():
    result = settings_in_subprocess(FILE_STORAGE="s3", S3_BUCKET="commonplace-files")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "storages.backends.s3.S3Storage"


def test_an_unknown_storage_is_named():
    result = settings_in_subprocess(FILE_STORAGE="ftp")
    assert result.returncode == 1
    assert (
        "FILE_STORAGE='ftp' is not valid: use one of filesystem, s3." in result.stderr
    )


def test_s3_options_build_a_private_bucket_storage(settings):
    from storages.backends.s3 import S3Storage

    storage = S3Storage(
        bucket_name="commonplace-files",
        endpoint_url="http://127.0.0.1:9000",
        access_key="local",
        secret_key="local-secret",
        default_acl="private",
        querystring_auth=True,
        file_overwrite=False,
    )
    assert storage.bucket_name == "commonplace-files"
    assert storage.default_acl == "private"
    # Unique names: a second upload with the same name never replaces the first.
    assert storage.file_overwrite is False
