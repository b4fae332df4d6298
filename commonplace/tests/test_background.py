"""The background-work interface with the inline backend, and its checks."""

import datetime
import logging
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from accounts.models import Role
from commonplace import background
from commonplace.background import BackgroundTask, enqueue, registered_task, task
from commonplace.tests import background_tasks
from commonplace.tests.background_tasks import read_lines
from conftest import make_person

TASKS = "commonplace.tests.background_tasks"


class Rollback(Exception):
    pass


@pytest.fixture
def record(tmp_path: Path) -> Path:
    return tmp_path / "record.txt"


@pytest.mark.django_db(transaction=True)
def test_inline_runs_after_commit(record):
    with transaction.atomic():
        make_person("otto", Role.WAREHOUSE)
        enqueue(background_tasks.record_person, str(record), "otto")
        assert read_lines(record) == []

    assert read_lines(record) == ["otto found"]


@pytest.mark.django_db(transaction=True)
def test_inline_skipped_on_rollback(record):
    with pytest.raises(Rollback), transaction.atomic():
        make_person("otto", Role.WAREHOUSE)
        enqueue(background_tasks.record_person, str(record), "otto")
        raise Rollback

    assert read_lines(record) == []


@pytest.mark.django_db(transaction=True)
def test_inline_runs_at_once_outside_transaction(record):
    enqueue(background_tasks.append_line, str(record), "now")

    assert read_lines(record) == ["now"]


@pytest.mark.django_db(transaction=True)
def test_failing_task_logged_not_raised(record, caplog):
    caplog.set_level(logging.ERROR, logger="commonplace.background")

    with transaction.atomic():
        person = make_person("otto", Role.WAREHOUSE)
        enqueue(background_tasks.fail_always, str(record))

    assert read_lines(record) == ["attempt"]
    person.refresh_from_db()
    [entry] = caplog.records
    assert entry.getMessage() == (
        f"background task failed: task={TASKS}.fail_always attempts=1 "
        f"args=[{str(record)!r}] kwargs={{}}"
    )
    assert entry.exc_info is not None
    assert str(entry.exc_info[1]) == "the task failed on purpose"


@pytest.mark.django_db(transaction=True)
def test_inline_retries_then_succeeds(record, caplog, settings):
    settings.BACKGROUND_INLINE_MAX_RETRY_DELAY = 0
    caplog.set_level(logging.WARNING, logger="commonplace.background")

    enqueue(background_tasks.fail_then_succeed, str(record), 2)

    assert read_lines(record) == ["attempt 1", "attempt 2", "attempt 3"]
    assert [entry.getMessage() for entry in caplog.records] == [
        f"background task retrying: task={TASKS}.fail_then_succeed retry=1/2 "
        "delay=0s error=ConnectionError('attempt 1 failed on purpose') "
        f"args=[{str(record)!r}, 2] kwargs={{}}",
        f"background task retrying: task={TASKS}.fail_then_succeed retry=2/2 "
        "delay=0s error=ConnectionError('attempt 2 failed on purpose') "
        f"args=[{str(record)!r}, 2] kwargs={{}}",
    ]


@pytest.mark.django_db(transaction=True)
def test_inline_retries_run_out(record, caplog, settings):
    settings.BACKGROUND_INLINE_MAX_RETRY_DELAY = 0
    caplog.set_level(logging.ERROR, logger="commonplace.background")

    enqueue(background_tasks.fail_then_succeed, path=str(record), failures=5)

    assert read_lines(record) == ["attempt 1", "attempt 2", "attempt 3"]
    [entry] = caplog.records
    assert entry.getMessage() == (
        f"background task failed: task={TASKS}.fail_then_succeed attempts=3 "
        f"args=[] kwargs={{'path': {str(record)!r}, 'failures': 5}}"
    )


def test_retry_delay_doubles_up_to_maximum():
    def noop() -> None:
        pass

    spec = BackgroundTask(
        noop,
        retry_on=(OSError,),
        max_retries=7,
        retry_backoff=30,
        retry_backoff_max=600,
    )

    assert [spec.retry_delay(done) for done in range(7)] == [
        30,
        60,
        120,
        240,
        480,
        600,
        600,
    ]


def test_retry_on_needs_max_retries():
    def noop() -> None:
        pass

    with pytest.raises(ValueError) as raised:
        BackgroundTask(
            noop,
            retry_on=(OSError,),
            max_retries=0,
            retry_backoff=1,
            retry_backoff_max=1,
        )

    assert str(raised.value) == (
        "max_retries=0 for a task with retry_on: set it to 1 or more, or leave "
        "retry_on out."
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (
            (datetime.date(2026, 1, 2),),
            {},
            f"Background task '{TASKS}.append_line' got args[0] of type date: "
            "arguments must be JSON values (str, int, float, bool, None, or "
            "lists and dicts of them). Pass an id instead of a model instance.",
        ),
        (
            ("x",),
            {"line": {"ids": [1, {2, 3}]}},
            f"Background task '{TASKS}.append_line' got kwargs['line']['ids'][1] "
            "of type set: arguments must be JSON values (str, int, float, bool, "
            "None, or lists and dicts of them). Pass an id instead of a model "
            "instance.",
        ),
        (
            ("x", {1: "one"}),
            {},
            f"Background task '{TASKS}.append_line' got args[1] with the key 1 "
            "of type int: dictionary keys must be strings.",
        ),
    ],
)
def test_enqueue_rejects_non_json_arguments(
    args, kwargs, message, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(TypeError) as raised,
    ):
        enqueue(background_tasks.append_line, *args, **kwargs)

    assert str(raised.value) == message
    assert callbacks == []


@pytest.mark.django_db
def test_enqueue_rejects_model_instance(outsider, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(TypeError) as raised,
    ):
        enqueue(background_tasks.record_person, "x", outsider)

    assert str(raised.value) == (
        f"Background task '{TASKS}.record_person' got args[1] of type User: "
        "arguments must be JSON values (str, int, float, bool, None, or lists "
        "and dicts of them). Pass an id instead of a model instance."
    )
    assert callbacks == []


def test_enqueue_rejects_plain_function():
    def not_a_task() -> None:
        pass

    with pytest.raises(TypeError) as raised:
        enqueue(not_a_task)  # type: ignore[arg-type]

    assert str(raised.value).endswith(
        "is not a registered background task: decorate the function with "
        "@commonplace.background.task."
    )


@pytest.mark.django_db
def test_unknown_backend_is_rejected(settings):
    settings.BACKGROUND_BACKEND = "threads"

    with pytest.raises(ImproperlyConfigured) as raised:
        enqueue(background_tasks.append_line, "x", "y")

    assert str(raised.value) == (
        "BACKGROUND_BACKEND='threads' is not valid: use inline or celery."
    )


def test_registered_task_found_by_name():
    found = registered_task(f"{TASKS}.append_line")

    assert found is background_tasks.append_line


def test_registered_task_unknown_name():
    with pytest.raises(LookupError) as raised:
        registered_task(f"{TASKS}.missing")

    assert str(raised.value) == (
        f"No background task is registered as '{TASKS}.missing': check the "
        "name and that its module has been imported."
    )


def test_same_name_registered_twice_is_rejected():
    def append_line(path: str, line: str) -> None:
        pass

    append_line.__module__ = TASKS
    append_line.__qualname__ = "append_line"

    with pytest.raises(ValueError) as raised:
        task(append_line)

    assert str(raised.value) == (
        f"Background task '{TASKS}.append_line' is registered twice: give one "
        "of the functions another name."
    )
    assert background._registry[f"{TASKS}.append_line"] is (
        background_tasks.append_line
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("by_keyword", [True, False])
def test_failure_log_hides_hidden_arguments(record, caplog, by_keyword):
    caplog.set_level(logging.ERROR, logger="commonplace.background")
    address = "carla@example.com"

    if by_keyword:
        enqueue(background_tasks.fail_with_address, str(record), address=address)
    else:
        enqueue(background_tasks.fail_with_address, str(record), address)

    [entry] = caplog.records
    assert address not in entry.getMessage()
    assert "'<hidden>'" in entry.getMessage()
    assert repr(str(record)) in entry.getMessage()


def test_hidden_argument_must_be_a_parameter():
    def send(path: str) -> None:
        pass

    with pytest.raises(ValueError, match=r"\['address'\] are not parameters"):
        BackgroundTask(
            send,
            retry_on=(),
            max_retries=0,
            retry_backoff=1,
            retry_backoff_max=1,
            hidden_arguments=("address",),
        )
