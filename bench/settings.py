"""Settings for benchmarks: the test settings plus a bare view to compare with."""

import os

os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-any-deployment")

from commonplace.settings_test import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
DEBUG = False
ALLOWED_HOSTS = ["testserver"]
LOGGING["loggers"]["django.request"] = {"level": "ERROR"}  # noqa: F405

# The floor for pages renders bench/templates/bench/bare_page.html.
TEMPLATES = [
    {**TEMPLATES[0], "DIRS": [BASE_DIR / "templates", BASE_DIR / "bench" / "templates"]}  # noqa: F405
]
