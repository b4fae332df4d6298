"""Every scenario of the catalogue, worked through the pages as a learner would.

Each scenario gets one wrong path first. The learner must then be shown a
way on (the check's feedback, the scripted manager's answer), and reach
100 % by the expected path, after a reset where the wrong step changed the
documents for good.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client

from portal.models import ResolutionProposal
from practice import services
from practice.models import SandboxSession
from practice.scenarios import SCENARIOS
from practice.tests.test_screens import base, begin, messages_of, next_week, score
from reconciliation.models import Invoice, Party, Payment, Shipment
from reconciliation.tests.shipment_forms import with_form_token

pytestmark = pytest.mark.django_db

Step = Callable[[SandboxSession, Client], list[str]]


def _case_page(session: SandboxSession, number: int = 1) -> str:
    return f"/practice/sessions/{session.pk}/cases/{number}/"


def _resolve(session, client, code: str, number: int = 1) -> list[str]:
    url = _case_page(session, number)
    client.post(f"{url}move/", {"to": "in_progress"})
    done = client.post(
        f"{url}move/",
        {"to": "resolved", "resolution_code": code, "note": "Checked."},
        follow=True,
    )
    return messages_of(done)


def _request_write_off(session, client, number: int = 1) -> list[str]:
    done = client.post(
        f"{_case_page(session, number)}write-off/",
        {"reason": "The customer will not pay."},
        follow=True,
    )
    return messages_of(done)


def _credit_and_accept(session, client, amount: str) -> list[str]:
    client.post(
        f"{base(session)}cases/1/credit-note/",
        {"amount": amount, "message": "We credit what was broken."},
    )
    proposal = ResolutionProposal.objects.get(
        case__company=session.company,
        state=ResolutionProposal.State.AWAITING_CUSTOMER,
    )
    done = client.post(
        f"/practice/sessions/{session.pk}/proposals/{proposal.pk}/answer/",
        {"decision": "accept"},
        follow=True,
    )
    return messages_of(done)


def _backorder(session, client, decision: str) -> list[str]:
    form = {"decision": decision, "reason": "As the customer asked."}
    if decision == "ship_later":
        # Shipping the rest later needs the day it is expected.
        form["expected_on"] = next_week()
    done = client.post(f"{base(session)}cases/1/backorder/", form, follow=True)
    return messages_of(done)


def _apply_cash(session, client) -> list[str]:
    company = session.company
    payment = Payment.objects.get(company=company, number="PR-PAY-5001")
    party = Party.objects.get(company=company, code="ALPEN")
    invoice = Invoice.objects.get(company=company, number="PR-INV-5001")
    client.post(f"{base(session)}cash/", {"payment": payment.pk, "party": party.pk})
    done = client.post(
        f"{base(session)}cash/apply/",
        {"payment": payment.pk, "invoice": invoice.pk, "amount": "208.50"},
        follow=True,
    )
    return messages_of(done)


REOPEN = "Reopen the case on its case page to settle it again."
RESET = "If your step changed the documents, reset the sandbox"
MANAGER = "Nothing was booked, and the case stays with you."
SETTLED = (
    "The documents now agree, but the matching pass leaves a case that you "
    "took to you: resolve it on its case page."
)


@dataclass(frozen=True)
class Path:
    """One wrong step, the text that shows the way on, and the expected work."""

    wrong: Step
    way_on: tuple[str, ...]
    expected: Step
    # Whether the wrong step changed the documents so that only a reset helps.
    reset: bool = False


PATHS: dict[str, Path] = {
    "short-payment-write-off": Path(
        wrong=lambda session, client: _resolve(session, client, "accepted_as_is"),
        way_on=(REOPEN,),
        expected=lambda session, client: _reopen_and_resolve(
            session, client, "write_off"
        ),
    ),
    "short-payment-dispute": Path(
        wrong=_request_write_off,
        way_on=(MANAGER,),
        expected=lambda session, client: _credit_and_accept(session, client, "180.00"),
    ),
    "unshipped-backorder": Path(
        wrong=lambda session, client: _backorder(session, client, "cancel_rest"),
        way_on=(REOPEN, RESET),
        expected=lambda session, client: _backorder(session, client, "ship_later"),
        reset=True,
    ),
    "duplicate-invoice": Path(
        wrong=lambda session, client: _propose_credit(session, client, "320.00"),
        way_on=(MANAGER,),
        expected=lambda session, client: _resolve(
            session, client, "duplicate_cancelled"
        ),
    ),
    "broken-goods-credit": Path(
        # The manager rejects the write-off, then approves the credit note
        # above the credit limit, and the learner accepts it as the customer.
        wrong=_request_write_off,
        way_on=(MANAGER,),
        expected=lambda session, client: _credit_and_accept(session, client, "292.50"),
    ),
    "unapplied-payment": Path(
        # Case 1 is the invoice's missing payment, 208.50 EUR. The request
        # gives the case to the learner, so the pass leaves it to them.
        wrong=_request_write_off,
        way_on=(MANAGER,),
        expected=lambda session, client: [
            *_apply_cash(session, client),
            *_settled_case_feedback(session),
            *_resolve(session, client, "accepted_as_is"),
        ],
    ),
    "damaged-goods-replacement": Path(
        # Accepting the damage as it is settles nothing for the customer.
        wrong=lambda session, client: _resolve(session, client, "accepted_as_is"),
        way_on=(REOPEN, RESET),
        expected=lambda session, client: _replace_and_ship(session, client),
        reset=True,
    ),
}


def _replace_and_ship(session, client) -> list[str]:
    said = client.post(
        f"{base(session)}cases/1/reship/",
        {"qty": "3", "message": "We send the dented tins again."},
        follow=True,
    )
    draft = Shipment.objects.get(company=session.company, state=Shipment.State.DRAFT)
    done = client.post(
        f"{base(session)}orders/PR-SO-7001/shipments/",
        with_form_token(
            {"picked_1": "3", "shipped_1": "3", "ship": "1", "shipment": draft.number}
        ),
        follow=True,
    )
    return [*messages_of(said), *messages_of(done)]


def _settled_case_feedback(session) -> list[str]:
    results = services.check_session(session_id=session.pk, learner=session.learner)
    feedback = [result.feedback for result in results if not result.passed]
    assert feedback == [SETTLED], feedback
    return feedback


def _reopen_and_resolve(session, client, code: str) -> list[str]:
    client.post(
        f"{_case_page(session)}move/", {"to": "reopened", "reason": "Wrong code."}
    )
    return _resolve(session, client, code)


def _propose_credit(session, client, amount: str) -> list[str]:
    done = client.post(
        f"{base(session)}cases/1/credit-note/",
        {"amount": amount, "message": "We credit the second invoice."},
        follow=True,
    )
    return messages_of(done)


def test_paths_cover_catalogue():
    assert sorted(PATHS) == sorted(SCENARIOS)


@pytest.mark.parametrize("key", sorted(PATHS))
def test_wrong_path_then_expected(learner, key):
    path = PATHS[key]
    session, client = begin(learner, key)

    answer = path.wrong(session, client)
    results = services.check_session(session_id=session.pk, learner=learner)

    assert score(session) == 0, key
    shown = " ".join([*answer, *(result.feedback for result in results)])
    for text in path.way_on:
        assert text in shown, (key, text, shown)
    if path.reset:
        services.reset_session(session_id=session.pk, learner=learner)
    path.expected(session, client)
    assert score(session) == 100, key
