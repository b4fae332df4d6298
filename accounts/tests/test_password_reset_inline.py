"""The reset e-mail with the inline backend: sent after the response, not in it.

A gated SMTP server on 127.0.0.1 accepts a message only once the test opens
the gate. A request that waited for the SMTP exchange would therefore return
only after the gate's timeout, and after the message was accepted.
"""

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.test import Client

from commonplace import background_thread
from commonplace.tests.fixtures import TASK_TIMEOUT, free_port, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

# Seconds the server delays a message when the gate is never opened.
GATE_TIMEOUT = 3


@dataclass
class GatedInbox:
    """An aiosmtpd handler that accepts a message only once the gate opens."""

    gate: threading.Event = field(default_factory=threading.Event)
    events: list[str] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    bodies: list[str] = field(default_factory=list)

    async def handle_DATA(
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        await asyncio.to_thread(self.gate.wait, GATE_TIMEOUT)
        message = message_from_bytes(
            envelope.original_content or b"", policy=policy.default
        )
        self.recipients.append([str(address) for address in envelope.rcpt_tos])
        self.bodies.append(str(message.get_body().get_content()))
        self.events.append("message accepted")
        return "250 Message accepted for delivery"


@pytest.fixture
def gated_inbox(settings: Any) -> Iterator[GatedInbox]:
    inbox = GatedInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            # Longer than the gate, so a held message is not a failed send.
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 10},
        }
    }
    settings.BACKGROUND_BACKEND = "inline"
    try:
        yield inbox
    finally:
        inbox.gate.set()
        background_thread.wait_until_idle(timeout=TASK_TIMEOUT)
        controller.stop()


def request_reset(email: str):
    return Client().post("/accounts/password-reset/", {"email": email})


def test_response_comes_before_smtp(gated_inbox, sales_rep):
    response = request_reset(sales_rep.email)
    gated_inbox.events.append("response")
    gated_inbox.gate.set()

    wait_until(
        lambda: len(gated_inbox.recipients) == 1,
        description="the reset e-mail",
        timeout=TASK_TIMEOUT,
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password-reset/sent/"
    assert gated_inbox.events == ["response", "message accepted"]
    assert gated_inbox.recipients == [[sales_rep.email]]
    assert "/accounts/password-reset/" in gated_inbox.bodies[0]


def test_known_and_unknown_answer_alike(gated_inbox, sales_rep):
    known = request_reset(sales_rep.email)
    unknown = request_reset("nobody@example.com")
    gated_inbox.events.append("responses")
    gated_inbox.gate.set()

    assert background_thread.wait_until_idle(timeout=TASK_TIMEOUT)
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert known.content == unknown.content
    assert gated_inbox.events == ["responses", "message accepted"]
    assert gated_inbox.recipients == [[sales_rep.email]]
