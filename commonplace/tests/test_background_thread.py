"""Inline tasks declared with ``inline_thread=True`` run on the background thread."""

import logging
import threading
from pathlib import Path

import pytest
from django.db import transaction

from accounts.models import Role
from commonplace import background_thread
from commonplace.background import enqueue
from commonplace.tests import background_tasks
from commonplace.tests.background_tasks import read_lines
from conftest import make_person

pytestmark = pytest.mark.django_db(transaction=True)

THREAD_NAME = "commonplace-background"


@pytest.fixture
def record(tmp_path: Path) -> Path:
    return tmp_path / "record.txt"


def test_task_runs_on_background_thread(record):
    with transaction.atomic():
        make_person("otto", Role.WAREHOUSE)
        enqueue(background_tasks.record_thread, str(record), "otto")

    assert background_thread.wait_until_idle(timeout=10)
    assert read_lines(record) == [f"{THREAD_NAME} otto found"]
    assert threading.current_thread().name != THREAD_NAME


def test_thread_task_skipped_on_rollback(record):
    class Rollback(Exception):
        pass

    with pytest.raises(Rollback), transaction.atomic():
        enqueue(background_tasks.record_thread, str(record), "otto")
        raise Rollback

    assert background_thread.wait_until_idle(timeout=10)
    assert read_lines(record) == []


def test_jobs_run_in_submitted_order(record):
    for username in ("anna", "bert", "cleo"):
        enqueue(background_tasks.record_thread, str(record), username)

    assert background_thread.wait_until_idle(timeout=10)
    assert read_lines(record) == [
        f"{THREAD_NAME} anna missing",
        f"{THREAD_NAME} bert missing",
        f"{THREAD_NAME} cleo missing",
    ]


def test_wait_times_out_on_blocked_job():
    release = threading.Event()

    def blocked() -> None:
        release.wait(10)

    background_thread.submit(blocked, "blocked")
    try:
        assert background_thread.wait_until_idle(timeout=0.2) is False
    finally:
        release.set()

    assert background_thread.wait_until_idle(timeout=10)


def test_failing_job_logged_thread_goes_on(record, caplog):
    caplog.set_level(logging.ERROR, logger="commonplace.background_thread")

    def failing() -> None:
        raise RuntimeError("the job failed on purpose")

    background_thread.submit(failing, "failing-job")
    enqueue(background_tasks.record_thread, str(record), "anna")

    assert background_thread.wait_until_idle(timeout=10)
    assert "background thread job failed: job=failing-job" in caplog.text
    assert read_lines(record) == [f"{THREAD_NAME} anna missing"]
