"""The text a learner reads on the practice pages: labels, not stored codes."""

import pytest

from practice import services
from practice.tests.conftest import only_case, signed_in

pytestmark = pytest.mark.django_db


def test_catalogue_shows_role_labels(learner):
    html = signed_in(learner).get("/practice/").content.decode()

    assert "<td>Operations/finance clerk</td>" in html
    assert "<td>Sales representative</td>" in html
    assert "<td>finance_clerk</td>" not in html
    assert "<td>sales_rep</td>" not in html


def test_check_names_state_of_unresolved_case(learner):
    session = services.start_session(
        learner=learner, scenario_key="short-payment-write-off"
    )
    case = only_case(session, "SHORT_PAYMENT")
    services.start_case(session=session, case_id=case.pk, learner=learner)

    results = services.check_session(session_id=session.pk, learner=learner)

    assert (results[0].expected, results[0].found) == (
        "resolved with Write-off, writing off 12.50",
        "the case is in progress",
    )
