"""Browser tests: Debian's Chromium driven by Playwright against a live server."""

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread, and Django
# rejects ORM calls from such a thread unless this variable marks them safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def new_context(browser, live_server):
    """Open browser contexts on the live server, closed when the test ends.

    Closing them inside the test makes Chromium drop its keep-alive
    connections while the live server still shares the test's database
    connection with its request threads.
    """
    contexts = []

    def open_context():
        context = browser.new_context(base_url=live_server.url)
        contexts.append(context)
        return context

    yield open_context
    for context in contexts:
        context.close()
