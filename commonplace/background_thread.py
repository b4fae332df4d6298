"""One worker thread per process that runs inline tasks after the response.

With the inline backend, a task declared with ``@task(inline_thread=True)``
is handed to this thread after the commit instead of running in the request.
The response then does not wait for the task, and the task's duration cannot
be measured from the response time. The password reset e-mail uses it,
because otherwise the response to a request for an address with an
account would come later, by one SMTP exchange, than the response for an
address without one.

Jobs run one at a time, in the order they were submitted. The thread is
started on the first job, and again in a forked child (a web server's
worker process), which does not inherit it. At interpreter exit, jobs still
queued get up to ``EXIT_WAIT_SECONDS`` to finish. Jobs still queued when
the process is killed are lost, as a Celery task is when its broker loses
the message.
"""

import atexit
import logging
import os
import queue
import threading
import time
from collections.abc import Callable

from django.db import connections

logger = logging.getLogger(__name__)

EXIT_WAIT_SECONDS = 30.0

Job = Callable[[], None]


class _Runner:
    """A queue of jobs and the daemon thread that runs them."""

    def __init__(self) -> None:
        # Each job comes with a name for the logs, which never show its arguments.
        self.jobs: queue.Queue[tuple[Job, str]] = queue.Queue()
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()

    def submit(self, job: Job, name: str) -> None:
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(
                    target=self._run, name="commonplace-background", daemon=True
                )
                self.thread.start()
            self.jobs.put((job, name))

    def _run(self) -> None:
        while True:
            job, name = self.jobs.get()
            try:
                job()
            except Exception:
                # run_inline logs a task's own failures, so this is a bug in
                # the job wrapper. The thread goes on with the next job.
                logger.exception("background thread job failed: job=%s", name)
            finally:
                # Django keeps one connection per thread. Closing this
                # thread's after each job keeps none open while it is idle.
                connections.close_all()
                self.jobs.task_done()

    def wait_until_idle(self, timeout: float) -> bool:
        """Wait until every submitted job has finished. Return False on timeout."""
        deadline = time.monotonic() + timeout
        while self.jobs.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True


_runner = _Runner()


def submit(job: Job, name: str) -> None:
    """Run ``job`` on this process's background thread, after earlier jobs.

    ``name`` identifies the job in log lines.
    """
    _runner.submit(job, name)


def wait_until_idle(timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for submitted jobs. Return False on timeout."""
    return _runner.wait_until_idle(timeout)


def _start_afresh_in_child() -> None:
    # A forked child has no copy of the parent's thread, and jobs the parent
    # queued belong to the parent.
    global _runner
    _runner = _Runner()


def _finish_at_exit() -> None:
    if not wait_until_idle(EXIT_WAIT_SECONDS):
        logger.error(
            "background thread jobs lost at exit: pending=%d waited=%ss",
            _runner.jobs.unfinished_tasks,
            EXIT_WAIT_SECONDS,
        )


os.register_at_fork(after_in_child=_start_afresh_in_child)
atexit.register(_finish_at_exit)
