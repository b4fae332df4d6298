"""The background-work interface with the celery backend.

A real redis-server and a real worker process (``celery -A commonplace
worker --pool=solo``) run on 127.0.0.1; see fixtures.py. The worker reads the
test database through its own connection, so it reads committed rows only.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import transaction

from accounts.models import Role
from commonplace.background import enqueue
from commonplace.tests import background_tasks
from commonplace.tests.background_tasks import read_lines
from commonplace.tests.fixtures import (
    BASE_DIR,
    TASK_TIMEOUT,
    WorkerProcess,
    free_port,
    wait_until,
)
from conftest import make_person

TASKS = "commonplace.tests.background_tasks"

pytestmark = pytest.mark.django_db(transaction=True)


class Rollback(Exception):
    pass


@pytest.fixture
def on_celery(settings, celery_worker: WorkerProcess) -> WorkerProcess:
    settings.BACKGROUND_BACKEND = "celery"
    return celery_worker


def wait_for_lines(path: Path, count: int) -> list[str]:
    wait_until(
        lambda: len(read_lines(path)) >= count,
        description=f"{count} lines in {path.name}",
        timeout=TASK_TIMEOUT,
    )
    return read_lines(path)


def test_worker_runs_task_after_commit(on_celery, tmp_path):
    record = tmp_path / "record.txt"

    with transaction.atomic():
        make_person("otto", Role.WAREHOUSE)
        enqueue(background_tasks.record_person, str(record), "otto")

    assert wait_for_lines(record, 1) == ["otto found"]


def test_worker_gets_nothing_on_rollback(on_celery, tmp_path):
    skipped = tmp_path / "skipped.txt"
    marker = tmp_path / "marker.txt"

    with pytest.raises(Rollback), transaction.atomic():
        make_person("otto", Role.WAREHOUSE)
        enqueue(background_tasks.record_person, str(skipped), "otto")
        raise Rollback
    enqueue(background_tasks.append_line, str(marker), "after the rollback")

    # The solo pool runs tasks in order, so once the marker task has run,
    # a task sent before it would have run too.
    assert wait_for_lines(marker, 1) == ["after the rollback"]
    assert read_lines(skipped) == []


def test_worker_retries_with_backoff(on_celery, tmp_path):
    record = tmp_path / "record.txt"

    enqueue(background_tasks.fail_then_succeed, str(record), 2)

    assert wait_for_lines(record, 3) == ["attempt 1", "attempt 2", "attempt 3"]
    log = on_celery.log_text()
    assert (
        f"background task retrying: task={TASKS}.fail_then_succeed retry=1/2 "
        "delay=1s error=ConnectionError('attempt 1 failed on purpose') "
        f"args=[{str(record)!r}, 2] kwargs={{}}"
    ) in log
    assert (
        f"background task retrying: task={TASKS}.fail_then_succeed retry=2/2 "
        "delay=2s error=ConnectionError('attempt 2 failed on purpose') "
        f"args=[{str(record)!r}, 2] kwargs={{}}"
    ) in log


def test_worker_logs_failure_and_goes_on(on_celery, tmp_path):
    failing = tmp_path / "failing.txt"
    marker = tmp_path / "marker.txt"

    enqueue(background_tasks.fail_always, str(failing))
    enqueue(background_tasks.append_line, str(marker), "still running")

    assert wait_for_lines(marker, 1) == ["still running"]
    assert read_lines(failing) == ["attempt"]
    assert (
        f"background task failed: task={TASKS}.fail_always attempts=1 "
        f"args=[{str(failing)!r}] kwargs={{}}"
    ) in on_celery.log_text()


def test_worker_receives_json_arguments(on_celery, tmp_path):
    record = tmp_path / "record.txt"

    enqueue(background_tasks.append_line, path=str(record), line="keyword é ✓")

    assert wait_for_lines(record, 1) == ["keyword é ✓"]


ENQUEUE_SCRIPT = """
import django

django.setup()

from commonplace.background import enqueue
from commonplace.tests.background_tasks import append_line

enqueue(append_line, "unsent.txt", "never written")
print("enqueue returned")
"""


def test_broker_down_is_logged_not_raised(tmp_path):
    # The script runs in its own process because this process's Celery
    # application keeps a connection pool to the test Redis. Its database is
    # a new file in tmp_path, not the default var/commonplace.sqlite3.
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "commonplace.settings_test",
        "DATABASE_URL": f"sqlite:///{tmp_path}/enqueue.sqlite3",
        "BACKGROUND_BACKEND": "celery",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{free_port()}/0",
        "LOG_FORMAT": "text",
    }

    finished = subprocess.run(  # noqa: S603
        [sys.executable, "-c", ENQUEUE_SCRIPT],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert finished.returncode == 0, finished.stderr
    assert finished.stdout == "enqueue returned\n"
    assert (
        "ERROR   commonplace.background: background task not sent to the broker: "
        f"task={TASKS}.append_line args=['unsent.txt', 'never written'] kwargs={{}}"
    ) in finished.stderr
    assert "kombu.exceptions.OperationalError" in finished.stderr
