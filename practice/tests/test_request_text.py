"""Text and numbers typed into the practice pages are cleaned or rejected.

A NUL byte is an error in a PostgreSQL query, and zero-width characters
would make a stored note or a document number differ from the text on the
page, so every page cleans them as the case screens do. Amounts typed on
the work screens are tested in ``test_screens``.
"""

import pytest
from django.test import Client

from core.models import AuditEvent
from practice import services
from practice.models import SandboxSession
from practice.tests.conftest import case_number, only_case, signed_in
from reconciliation.models import Discrepancy

pytestmark = pytest.mark.django_db

# A NUL byte, a zero-width space and a carriage return around the words.
DIRTY = "\x00Checked the\u200b remittance\x00\r\n"
CLEAN = "Checked the remittance"


def case_page(
    learner, scenario_key: str = "short-payment-write-off", *, start: bool = True
) -> tuple[Client, str, Discrepancy]:
    """Start a session of ``scenario_key`` and return its short payment case."""
    session = services.start_session(learner=learner, scenario_key=scenario_key)
    case = only_case(session, "SHORT_PAYMENT")
    if start:
        services.start_case(session=session, case_id=case.pk, learner=learner)
    url = f"/practice/sessions/{session.pk}/cases/{case_number(session, case)}/"
    return signed_in(learner), url, case


def last_reason(case: Discrepancy) -> str:
    return AuditEvent.objects.filter(object_id=str(case.pk)).latest("pk").reason


def resolve(learner) -> str:
    client, url, case = case_page(learner)
    data = {"to": "resolved", "resolution_code": "write_off", "note": DIRTY}
    client.post(url + "move/", data)
    case.refresh_from_db()
    assert case.state == Discrepancy.State.RESOLVED
    return case.resolution_note


def reject(learner) -> str:
    client, url, case = case_page(learner, start=False)
    client.post(url + "move/", {"to": "rejected", "reason": DIRTY})
    case.refresh_from_db()
    assert case.state == Discrepancy.State.REJECTED
    return last_reason(case)


def reopen(learner) -> str:
    client, url, case = case_page(learner, start=False)
    client.post(url + "move/", {"to": "rejected", "reason": "Not a fault."})
    client.post(url + "move/", {"to": "reopened", "reason": DIRTY})
    case.refresh_from_db()
    assert case.state == Discrepancy.State.REOPENED
    return last_reason(case)


def request_write_off(learner) -> str:
    # 180.00 EUR is above the learner's write-off limit, so the scripted
    # manager answers the request.
    client, url, _ = case_page(learner, "short-payment-dispute")
    client.post(url + "write-off/", {"reason": DIRTY})
    (decision,) = SandboxSession.objects.get(learner=learner).manager_decisions
    return str(decision["request_reason"])


def start(learner) -> str:
    signed_in(learner).post("/practice/start/", {"scenario": "unapplied-payment\x00"})
    return SandboxSession.objects.get(learner=learner).scenario_key


@pytest.mark.parametrize(
    ("surface", "expected"),
    [
        (resolve, CLEAN),
        (reject, CLEAN),
        (reopen, CLEAN),
        (request_write_off, CLEAN),
        (start, "unapplied-payment"),
    ],
    ids=["resolve", "reject", "reopen", "request_write_off", "start"],
)
def test_practice_page_stores_cleaned_text(learner, surface, expected):
    assert surface(learner) == expected
