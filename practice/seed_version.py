"""The version of the code that seeds a sandbox, stored with each practice session.

A session's seed digest (``services.seed_digest``) can be rebuilt later in
a discarded copy, but only the code that seeded the sandbox seeds it the
same way. That code is more than the scenario catalogue: the seed itself,
the matching pass that opens the scenario's cases, and the models whose
rows the digest covers. So the version is a SHA-256 over the source of the
packages that take part (``SEED_PACKAGES``), without their tests and
management commands. Any change to that source gives a new version, also
one that leaves the seed as it was. A rebuild is then rejected and the
learner is asked to reset. That is safe, because a rebuild from changed
code could take an untouched sandbox for worked or the other way round.
"""

import functools
import hashlib
import importlib
from pathlib import Path

# The packages whose code shapes a seeded sandbox's rows.
SEED_PACKAGES = ("practice", "reconciliation", "portal")
# Sub-folders that never run when a sandbox is seeded.
SKIPPED_FOLDERS = frozenset({"tests", "management"})


@functools.cache
def seed_code_version() -> str:
    """Return the SHA-256 of the seeding code's source, the same in every process."""
    digest = hashlib.sha256()
    for package in SEED_PACKAGES:
        # A regular package's __path__ contains its one folder.
        root = Path(next(iter(importlib.import_module(package).__path__)))
        for path in sorted(root.rglob("*.py")):
            relative = path.relative_to(root)
            if relative.parts[0] in SKIPPED_FOLDERS:
                continue
            digest.update(f"{package}/{relative.as_posix()}\0".encode())
            digest.update(path.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()
