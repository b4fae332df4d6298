"""Real servers on 127.0.0.1 for the background-work and e-mail tests.

``redis_url`` runs a throwaway redis-server, ``celery_worker`` a Celery worker
process (``celery -A commonplace worker --pool=solo``) that reads the test
database, ``celery_prefork_worker`` one with the default prefork pool, and
``smtp_server`` an aiosmtpd server that keeps what it receives.
Each starts once per test session. A missing redis-server fails the tests
that need it, with the command that installs it.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import redis
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.conf import settings as django_settings
from django.db import connection

from commonplace.celery import app as celery_app

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# Links in e-mail sent by the test worker start with this address, so tests
# that assert e-mail bodies set COMMONPLACE_BASE_URL to it as well.
TEST_BASE_URL = "https://learn.example.com"
# Seconds to wait for a server to start or for a worker to finish a task.
STARTUP_TIMEOUT = 60
TASK_TIMEOUT = 30


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def wait_until(
    condition: Callable[[], bool], *, description: str, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {description}")
        time.sleep(0.05)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(
            "redis-server not found on PATH. The background-work tests run a "
            "real Redis: install it with 'apt-get install redis-server' (as root).",
            pytrace=False,
        )
    folder = tmp_path_factory.mktemp("redis")
    port = free_port()
    log = folder / "redis.log"
    process = subprocess.Popen(  # noqa: S603
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
            "--logfile",
            str(log),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1)

    def replies_to_ping() -> bool:
        if process.poll() is not None:
            pytest.fail(f"redis-server exited with {process.returncode}: {_tail(log)}")
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    try:
        wait_until(replies_to_ping, description="redis-server", timeout=STARTUP_TIMEOUT)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        client.close()
        _stop(process)


@pytest.fixture(scope="session")
def celery_broker(redis_url: str) -> Iterator[str]:
    """Point this process's Celery application at the test Redis."""
    previous = celery_app.conf.broker_url
    celery_app.conf.update(broker_url=redis_url)
    yield redis_url
    celery_app.close()
    celery_app.conf.update(broker_url=previous)


@dataclass
class WorkerProcess:
    hostname: str
    log: Path
    process: "subprocess.Popen[bytes]"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="session")
def celery_worker(
    celery_broker: str,
    smtp_server: "SmtpServer",
    django_db_setup: None,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[WorkerProcess]:
    environment = {
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_server.port),
        "NOTIFICATION_EMAILS": "1",
    }
    with _running_worker(
        celery_broker, tmp_path_factory, ["--pool=solo"], environment
    ) as worker:
        yield worker


# The queue that only the prefork worker reads.
PREFORK_QUEUE = "prefork-tests"


@pytest.fixture(scope="session")
def celery_prefork_worker(
    celery_broker: str,
    django_db_setup: None,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[WorkerProcess]:
    """A worker with Celery's default pool, whose task processes are daemonic.

    It reads only ``PREFORK_QUEUE``, so the solo worker's tasks never reach
    it, and lets a matching pass of five orders or more use two workers.
    """
    environment = {
        "RECONCILIATION_PASS_WORKERS": "2",
        "RECONCILIATION_PASS_WORKER_MIN_ORDERS": "5",
    }
    arguments = ["--pool=prefork", "--concurrency=1", "--queues", PREFORK_QUEUE]
    with _running_worker(
        celery_broker, tmp_path_factory, arguments, environment
    ) as worker:
        yield worker


@contextmanager
def _running_worker(
    broker_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    arguments: list[str],
    environment: dict[str, str],
) -> Iterator[WorkerProcess]:
    """Start a worker process on the test database and stop it afterwards."""
    hostname = f"test-worker-{len(_worker_names)}-{os.getpid()}@127.0.0.1"
    _worker_names.append(hostname)
    log = tmp_path_factory.mktemp("celery") / "worker.log"
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "commonplace.settings_test",
        "DATABASE_URL": _test_database_url(),
        "BACKGROUND_BACKEND": "celery",
        "CELERY_BROKER_URL": broker_url,
        "BASE_URL": TEST_BASE_URL,
        "LOG_LEVEL": "info",
        # The worker stores and reads files where this test process does.
        "MEDIA_ROOT": str(django_settings.MEDIA_ROOT),
        "IMPORT_STAGING_DIR": str(django_settings.IMPORT_STAGING_DIR),
        **environment,
    }
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "commonplace",
                "worker",
                *arguments,
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--hostname",
                hostname,
                # Test tasks live outside any app's tasks module.
                "--include",
                "commonplace.tests.background_tasks",
            ],
            cwd=BASE_DIR,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    worker = WorkerProcess(hostname=hostname, log=log, process=process)

    def replies_to_ping() -> bool:
        if process.poll() is not None:
            pytest.fail(f"celery worker exited with {process.returncode}: {_tail(log)}")
        replies = celery_app.control.ping(destination=[hostname], timeout=0.5)
        return bool(replies)

    try:
        wait_until(
            replies_to_ping, description="the celery worker", timeout=STARTUP_TIMEOUT
        )
        yield worker
    finally:
        _stop(process)


_worker_names: list[str] = []


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Inbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    messages: list[ReceivedMail] = field(default_factory=list)

    async def handle_DATA(
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        content = envelope.original_content or b""
        parsed = message_from_bytes(content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(
            ReceivedMail(
                mail_from=str(envelope.mail_from),
                rcpt_tos=[str(address) for address in envelope.rcpt_tos],
                message=parsed,
            )
        )
        return "250 Message accepted for delivery"


@dataclass(frozen=True)
class SmtpServer:
    port: int
    inbox: Inbox


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer(port=port, inbox=inbox)
    finally:
        controller.stop()


@pytest.fixture
def mailbox(smtp_server: SmtpServer, settings: Any) -> list[ReceivedMail]:
    """Send this test's e-mail to the loopback SMTP server and return what arrives."""
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": smtp_server.port, "timeout": 5},
        }
    }
    settings.COMMONPLACE_BASE_URL = TEST_BASE_URL
    smtp_server.inbox.messages.clear()
    return smtp_server.inbox.messages


def _test_database_url() -> str:
    """Return a DATABASE_URL for the test database that pytest-django created."""
    database = connection.settings_dict
    if database["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(database['NAME']).resolve()}"
    user = quote(database["USER"] or "", safe="")
    password = quote(database["PASSWORD"] or "", safe="")
    credentials = f"{user}:{password}@" if password else f"{user}@"
    host = f"{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}"
    return f"postgres://{credentials}{host}/{quote(database['NAME'], safe='')}"


def _stop(process: "subprocess.Popen[bytes]") -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _tail(log: Path) -> str:
    if not log.exists():
        return "(no log)"
    return log.read_text(errors="replace")[-3000:]
