"""Case numbers in the errors that sandbox screens show.

The services' errors carry the case as a field (``case_id``), and a sandbox
request names it by the session's number. Typed text and amounts in the
same message are shown as typed, even when they read "case N".
"""

import ast
import inspect
from collections.abc import Iterator
from itertools import pairwise
from types import ModuleType

import pytest

from portal import services as portal_services
from portal.models import ResolutionProposal
from practice.screens import SessionScope
from practice.selectors import session_cases
from practice.tests.conftest import only_case
from practice.tests.test_screens import base, begin, messages_of
from reconciliation import (
    approvals,
    case_credit,
    cases,
    credit_notes,
    work,
    work_views,
)
from reconciliation import services as reconciliation_services
from reconciliation.cases import CaseError, CaseMessage, numbering_cases
from reconciliation.models import Allocation
from reconciliation.work import WorkError

pytestmark = pytest.mark.django_db

# The service modules whose errors the sandbox's screens show.
SERVICE_MODULES = (
    approvals,
    case_credit,
    cases,
    credit_notes,
    work,
    reconciliation_services,
    portal_services,
)


def _error_texts(module: ModuleType) -> Iterator[ast.AST]:
    """Yield each raised expression of ``module`` and each ``*_message`` helper.

    The helpers build messages that the services raise and pages show.
    """
    for node in ast.walk(ast.parse(inspect.getsource(module))):
        if isinstance(node, ast.FunctionDef) and node.name.endswith("_message"):
            yield node
        if not isinstance(node, ast.Raise) or node.exc is None:
            continue
        # A 403 page shows no message of the service's.
        if "PermissionDenied" in ast.unparse(node.exc):
            continue
        yield node.exc


def _raise_texts_naming_a_case(module: ModuleType) -> list[str]:
    """Return each error f-string of ``module`` that puts a value after "case "."""
    found = []
    for node in _error_texts(module):
        for text in ast.walk(node):
            if not isinstance(text, ast.JoinedStr):
                continue
            parts = text.values
            for before, after in pairwise(parts):
                if (
                    isinstance(before, ast.Constant)
                    and str(before.value).lower().endswith("case ")
                    and isinstance(after, ast.FormattedValue)
                ):
                    found.append(f"{module.__name__}:{text.lineno}")
    return found


def test_service_errors_carry_case_as_field():
    unstructured = [
        place
        for module in SERVICE_MODULES
        for place in _raise_texts_naming_a_case(module)
    ]

    assert unstructured == []


def test_error_names_case_id_outside_sandbox():
    error = WorkError("Case {case} is {state}.", case_id=41, state="resolved")

    assert str(error) == "Case 41 is resolved."
    assert error.case_id == 41


def test_error_names_given_number_inside_block():
    error = CaseError("Resolving case {case} needs a note.", case_id=41)

    with numbering_cases(lambda case_id: "1"):
        inside = str(error)

    assert inside == "Resolving case 1 needs a note."
    assert str(error) == "Resolving case 41 needs a note."


def test_typed_values_are_never_renumbered():
    error = WorkError(
        "A credit note of {requested} is more than case {case} leaves open.",
        case_id=41,
        requested="41.00 EUR, case 41, {case}",
    )

    with numbering_cases(lambda case_id: "1"):
        text = str(error)

    assert text == (
        "A credit note of 41.00 EUR, case 41, {case} is more than case 1 leaves open."
    )


def test_error_without_case_keeps_braces():
    error = WorkError("Shipment '{case}' was not found.")

    with numbering_cases(lambda case_id: "1"):
        text = str(error)

    assert text == "Shipment '{case}' was not found."
    assert error.case_id is None


def test_typed_case_id_in_shipment_kept(learner):
    session, client = begin(learner, "unshipped-backorder")
    case = only_case(session, "NOT_SHIPPED")
    typed = f"case {case.pk}"

    response = client.post(
        f"{base(session)}orders/PR-SO-3001/drafts/discard/",
        {"shipment": typed},
        follow=True,
    )

    assert messages_of(response) == [
        f"Shipment {typed!r} was not found on order PR-SO-3001: pick a draft "
        "from the list."
    ]


def test_credit_error_names_session_number(learner):
    begin(learner, "duplicate-invoice")
    session, client = begin(learner, "short-payment-dispute")
    case = only_case(session, "SHORT_PAYMENT")

    response = client.post(
        f"{base(session)}cases/1/credit-note/",
        {"amount": "200.00", "message": "Broken oil."},
        follow=True,
    )

    assert case.pk != 1
    assert messages_of(response) == [
        "A credit note of 200.00 EUR is more than the 180.00 EUR that case 1 "
        "leaves open: credit at most 180.00 EUR. If the customer is owed more, "
        "record the rest on a case of its own first."
    ]


def test_second_case_error_names_its_number(learner):
    begin(learner, "duplicate-invoice")
    session, client = begin(learner, "unapplied-payment")
    second = session_cases(session)[1]
    client.post(
        f"/practice/sessions/{session.pk}/cases/2/move/",
        {"to": "in_progress"},
        follow=True,
    )

    response = client.post(
        f"/practice/sessions/{session.pk}/cases/2/move/",
        {"to": "resolved", "resolution_code": "refund", "note": ""},
        follow=True,
    )

    assert second.pk != 2
    assert messages_of(response) == ["Resolving case 2 needs a resolution note."]


def test_case_message_names_number_inside_block():
    message = CaseMessage(
        "Case {case} has {offer} waiting.", case_id=41, offer="case 41 {case}"
    )

    with numbering_cases(lambda case_id: "1"):
        inside = str(message)
        raised = str(CaseError(message))

    assert inside == "Case 1 has case 41 {case} waiting."
    assert raised == "Case 1 has case 41 {case} waiting."
    assert str(message) == "Case 41 has case 41 {case} waiting."


def test_case_message_takes_no_more_values():
    message = CaseMessage("Case {case} is open.", case_id=41)

    with pytest.raises(TypeError, match="already carries"):
        WorkError(message, case_id=42)


def _propose_credit_note(session, client):
    return client.post(
        f"{base(session)}cases/1/credit-note/",
        {"amount": "180.00", "message": "We credit the broken olive oil."},
        follow=True,
    )


def test_waiting_proposal_error_names_number(learner):
    begin(learner, "duplicate-invoice")
    session, client = begin(learner, "short-payment-dispute")
    case = only_case(session, "SHORT_PAYMENT")
    _propose_credit_note(session, client)
    credit_note = ResolutionProposal.objects.get(case=case).credit_note

    again = _propose_credit_note(session, client)

    assert case.pk != 1
    assert messages_of(again) == [
        f"Case 1 already has credit note {credit_note.number} of 180.00 EUR "
        "waiting for the customer's answer, so no second credit note can be "
        f"proposed: withdraw it with the “Withdraw credit note {credit_note.number}” "
        "button on this screen, or wait for the customer."
    ]


def test_case_page_names_waiting_by_number(learner):
    begin(learner, "duplicate-invoice")
    session, client = begin(learner, "short-payment-dispute")
    case = only_case(session, "SHORT_PAYMENT")
    _propose_credit_note(session, client)

    page = client.get(f"/practice/sessions/{session.pk}/cases/1/").content.decode()

    assert case.pk != 1
    assert 'data-testid="waiting-proposal">Case 1 has credit note' in page
    assert f"Case {case.pk} has" not in page


def test_cash_link_names_session_number(learner):
    begin(learner, "duplicate-invoice")
    session, _client = begin(learner, "short-payment-dispute")
    case = only_case(session, "SHORT_PAYMENT")
    allocation = Allocation.objects.get(
        payment__company=session.company, payment__number="PR-PAY-2001"
    )

    text = work_views._applied_message(allocation, SessionScope(session))

    assert case.pk != 1
    assert text.endswith(
        f'see <a href="/practice/sessions/{session.pk}/cases/1/">case 1 '
        "(Short payment)</a>."
    )
