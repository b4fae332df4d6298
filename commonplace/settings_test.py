"""Settings for the test suite and type checks: the real settings plus test keys."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-any-deployment")

from commonplace.settings import *  # noqa: F403

# Hashing with the default PBKDF2 rounds dominates the runtime of tests that
# create people; tests do not measure password strength.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The repeated-post check stays on at its production default, whatever the
# environment sets, so tests publish as production does.
SOCIAL_DUPLICATE_POST_SECONDS = 30
STORAGES["staticfiles"]["BACKEND"] = (  # noqa: F405
    "django.contrib.staticfiles.storage.StaticFilesStorage"
)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# The SQLite test database is a file, not shared-cache memory, so tests run
# on the same WAL and busy-timeout behaviour as the product: shared-cache
# memory databases fail concurrent writers at once with "table is locked".
# The process id keeps parallel test runs on one machine apart. The file is
# in the system's temporary folder, not var/, so a test run leaves var/ as
# it found it. The root conftest.py deletes the -wal and -shm files that a
# connection still open at the end leaves beside it.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    TEST_DATABASE_DIR = Path(tempfile.gettempdir()) / "commonplace-tests"
    TEST_DATABASE_DIR.mkdir(exist_ok=True)
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": str(TEST_DATABASE_DIR / f"test-{os.getpid()}.sqlite3")
    }
