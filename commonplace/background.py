"""Run work outside the request through one interface, with two backends.

A function decorated with ``@task`` is registered under its dotted name, and
``enqueue(task, *args, **kwargs)`` schedules it for after the current
transaction commits (at once when no transaction is open), so a rolled-back
write starts nothing. ``BACKGROUND_BACKEND`` picks where it runs:

- ``inline`` (the default): in the same process, right after the commit. A
  failure is logged with the task name and arguments and never reaches the
  code that enqueued it. A task declared with ``inline_thread=True`` runs
  on the process's background thread instead (``commonplace.background_thread``),
  so the request that enqueued it does not wait for it.
- ``celery``: the task is sent to the Redis broker and a Celery worker
  (``celery -A commonplace worker``) runs it.

Arguments must be JSON values in both backends, so code that works inline
also works on a worker. A task that declares ``retry_on`` is retried on those
exceptions, waiting ``retry_backoff * 2**n`` seconds (capped by
``retry_backoff_max``) before retry ``n + 1``. docs/background.md has the
details.
"""

import inspect
import json
import logging
import time
from collections.abc import Callable
from functools import partial
from typing import Any, overload

from celery import Task, shared_task
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from kombu.exceptions import OperationalError

from commonplace import background_thread

logger = logging.getLogger(__name__)

BACKENDS = ("inline", "celery")
# Logged in place of the value of an argument a task declares hidden.
HIDDEN = "<hidden>"
_JSON_SCALARS = (str, int, float, bool, type(None))


class BackgroundTask[**P]:
    """A function that runs in the background, registered under its dotted name."""

    def __init__(
        self,
        func: Callable[P, None],
        *,
        retry_on: tuple[type[Exception], ...],
        max_retries: int,
        retry_backoff: int,
        retry_backoff_max: int,
        hidden_arguments: tuple[str, ...] = (),
        inline_thread: bool = False,
    ) -> None:
        if retry_on and max_retries < 1:
            raise ValueError(
                f"max_retries={max_retries} for a task with retry_on: set it to "
                "1 or more, or leave retry_on out."
            )
        self.func = func
        self.name = f"{func.__module__}.{func.__qualname__}"
        self.retry_on = retry_on
        self.max_retries = max_retries if retry_on else 0
        self.retry_backoff = retry_backoff
        self.retry_backoff_max = retry_backoff_max
        parameters = list(inspect.signature(func).parameters)
        unknown = [name for name in hidden_arguments if name not in parameters]
        if unknown:
            raise ValueError(
                f"hidden_arguments {unknown} are not parameters of {self.name}: "
                f"use names from {parameters}."
            )
        self.hidden_arguments = hidden_arguments
        self.inline_thread = inline_thread
        self._parameters = parameters

    def shown_arguments(
        self, args: Any, kwargs: dict[str, Any]
    ) -> tuple[list[Any], dict[str, Any]]:
        """Return the arguments as logs may show them, hidden ones replaced."""
        shown_args = [
            HIDDEN
            if index < len(self._parameters)
            and self._parameters[index] in self.hidden_arguments
            else value
            for index, value in enumerate(args)
        ]
        shown_kwargs = {
            name: HIDDEN if name in self.hidden_arguments else value
            for name, value in kwargs.items()
        }
        return shown_args, shown_kwargs

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> None:
        """Run the task now, in the caller's process and transaction."""
        self.func(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<BackgroundTask {self.name}>"

    def retry_delay(self, retries_done: int) -> int:
        """Return the seconds to wait before the next retry."""
        return min(self.retry_backoff * int(2**retries_done), self.retry_backoff_max)


_registry: dict[str, BackgroundTask[...]] = {}


@overload
def task[**P](func: Callable[P, None], /) -> BackgroundTask[P]: ...


@overload
def task[**P](
    *,
    retry_on: tuple[type[Exception], ...] = (),
    max_retries: int = 3,
    retry_backoff: int = 2,
    retry_backoff_max: int = 600,
    hidden_arguments: tuple[str, ...] = (),
    inline_thread: bool = False,
) -> Callable[[Callable[P, None]], BackgroundTask[P]]: ...


def task[**P](
    func: Callable[P, None] | None = None,
    /,
    *,
    retry_on: tuple[type[Exception], ...] = (),
    max_retries: int = 3,
    retry_backoff: int = 2,
    retry_backoff_max: int = 600,
    hidden_arguments: tuple[str, ...] = (),
    inline_thread: bool = False,
) -> BackgroundTask[P] | Callable[[Callable[P, None]], BackgroundTask[P]]:
    """Register a function as a background task, with or without retry options.

    ``retry_on`` lists the exceptions worth retrying (a refused SMTP
    connection, say). Other exceptions fail the task at once. Delays are in
    seconds. ``hidden_arguments`` names parameters whose values logs and the
    Celery worker's task listings never show, such as an e-mail address.
    ``inline_thread`` makes the inline backend run the task on the process's
    background thread after the commit, so the response does not wait for
    it. Celery workers run such a task like any other.
    """

    def register(function: Callable[P, None]) -> BackgroundTask[P]:
        background_task = BackgroundTask(
            function,
            retry_on=retry_on,
            max_retries=max_retries,
            retry_backoff=retry_backoff,
            retry_backoff_max=retry_backoff_max,
            hidden_arguments=hidden_arguments,
            inline_thread=inline_thread,
        )
        existing = _registry.get(background_task.name)
        if existing is not None and existing.func is not function:
            raise ValueError(
                f"Background task {background_task.name!r} is registered twice: "
                "give one of the functions another name."
            )
        _registry[background_task.name] = background_task
        _register_with_celery(background_task)
        return background_task

    if func is not None:
        return register(func)
    return register


def registered_task(name: str) -> BackgroundTask[...]:
    """Return the task registered under ``name``, or raise ``LookupError``."""
    try:
        return _registry[name]
    except KeyError:
        raise LookupError(
            f"No background task is registered as {name!r}: check the name and "
            "that its module has been imported."
        ) from None


def enqueue[**P](task: BackgroundTask[P], *args: P.args, **kwargs: P.kwargs) -> None:
    """Schedule ``task`` to run after the current transaction commits.

    Outside a transaction it is scheduled at once. Raises ``TypeError`` for an
    unregistered task or an argument that is not a JSON value, before
    anything is scheduled.
    """
    if _registry.get(getattr(task, "name", "")) is not task:
        raise TypeError(
            f"{task!r} is not a registered background task: decorate the "
            "function with @commonplace.background.task."
        )
    _check_json_arguments(task.name, args, kwargs)
    # A JSON round trip gives the inline backend exactly the values a worker
    # would receive and detaches them from later changes by the caller.
    call_args: list[Any] = json.loads(json.dumps(args))
    call_kwargs: dict[str, Any] = json.loads(json.dumps(kwargs))

    backend = _backend()
    if backend == "celery":
        transaction.on_commit(partial(_send_to_celery, task, call_args, call_kwargs))
    elif task.inline_thread:
        transaction.on_commit(
            partial(
                background_thread.submit,
                partial(run_inline, task, call_args, call_kwargs),
                task.name,
            )
        )
    else:
        transaction.on_commit(partial(run_inline, task, call_args, call_kwargs))


def run_inline(
    task: BackgroundTask[...], args: list[Any], kwargs: dict[str, Any]
) -> None:
    """Run ``task`` in this process with its retries. Log a failure, never raise."""
    retries_done = 0
    while True:
        try:
            task.func(*args, **kwargs)
            return
        except task.retry_on as error:
            if retries_done >= task.max_retries:
                _log_failure(task, args, kwargs, attempts=retries_done + 1)
                return
            # The request that enqueued the task waits for inline retries, so
            # the wait is capped well below what a worker would wait.
            delay = min(
                task.retry_delay(retries_done),
                settings.BACKGROUND_INLINE_MAX_RETRY_DELAY,
            )
            _log_retry(task, args, kwargs, error, retries_done + 1, delay)
            time.sleep(delay)
            retries_done += 1
        except Exception:
            _log_failure(task, args, kwargs, attempts=retries_done + 1)
            return


def _backend() -> str:
    backend: str = settings.BACKGROUND_BACKEND
    if backend not in BACKENDS:
        raise ImproperlyConfigured(
            f"BACKGROUND_BACKEND={backend!r} is not valid: use inline or celery."
        )
    return backend


def _send_to_celery(
    task: BackgroundTask[...], args: list[Any], kwargs: dict[str, Any]
) -> None:
    # Imported here so that processes using the inline backend never build
    # the Celery application or read its settings.
    from commonplace.celery import app

    shown_args, shown_kwargs = task.shown_arguments(args, kwargs)
    try:
        # Celery's own logs and events show the arguments as these texts.
        app.send_task(
            task.name,
            args=args,
            kwargs=kwargs,
            argsrepr=repr(shown_args),
            kwargsrepr=repr(shown_kwargs),
        )
    except OperationalError:
        # The write that enqueued the task has committed, so failing the
        # request now would report an error for work that was saved.
        logger.exception(
            "background task not sent to the broker: task=%s args=%r kwargs=%r",
            task.name,
            shown_args,
            shown_kwargs,
        )


def _register_with_celery(background_task: BackgroundTask[...]) -> None:
    """Declare the Celery task a worker runs for ``background_task``.

    ``shared_task`` binds it lazily to the Celery application when a worker
    loads it, so importing a tasks module costs no broker connection.
    """

    def run_on_worker(celery_task: Task[Any, None], *args: Any, **kwargs: Any) -> None:
        retries_done = celery_task.request.retries
        try:
            background_task.func(*args, **kwargs)
        except background_task.retry_on as error:
            if retries_done >= background_task.max_retries:
                _log_failure(background_task, args, kwargs, attempts=retries_done + 1)
                raise
            delay = background_task.retry_delay(retries_done)
            _log_retry(background_task, args, kwargs, error, retries_done + 1, delay)
            raise celery_task.retry(
                exc=error, countdown=delay, max_retries=background_task.max_retries
            ) from error
        except Exception:
            _log_failure(background_task, args, kwargs, attempts=retries_done + 1)
            raise

    shared_task(name=background_task.name, bind=True, ignore_result=True)(run_on_worker)


def _log_retry(
    task: BackgroundTask[...],
    args: Any,
    kwargs: dict[str, Any],
    error: Exception,
    retry_number: int,
    delay: int,
) -> None:
    shown_args, shown_kwargs = task.shown_arguments(args, kwargs)
    logger.warning(
        "background task retrying: task=%s retry=%d/%d delay=%ds error=%r "
        "args=%r kwargs=%r",
        task.name,
        retry_number,
        task.max_retries,
        delay,
        error,
        shown_args,
        shown_kwargs,
    )


def _log_failure(
    task: BackgroundTask[...], args: Any, kwargs: dict[str, Any], *, attempts: int
) -> None:
    shown_args, shown_kwargs = task.shown_arguments(args, kwargs)
    logger.exception(
        "background task failed: task=%s attempts=%d args=%r kwargs=%r",
        task.name,
        attempts,
        shown_args,
        shown_kwargs,
    )


def _check_json_arguments(
    name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    for index, value in enumerate(args):
        _check_json_value(name, f"args[{index}]", value)
    for key, value in kwargs.items():
        _check_json_value(name, f"kwargs[{key!r}]", value)


def _check_json_value(name: str, path: str, value: object) -> None:
    if isinstance(value, _JSON_SCALARS):
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_json_value(name, f"{path}[{index}]", item)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(
                    f"Background task {name!r} got {path} with the key {key!r} "
                    f"of type {type(key).__name__}: dictionary keys must be strings."
                )
            _check_json_value(name, f"{path}[{key!r}]", item)
        return
    raise TypeError(
        f"Background task {name!r} got {path} of type {type(value).__name__}: "
        "arguments must be JSON values (str, int, float, bool, None, or lists "
        "and dicts of them). Pass an id instead of a model instance."
    )
