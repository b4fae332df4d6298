"""A sandbox case's history names the case by the session's number, as its page does."""

import pytest

from practice.tests.conftest import only_case
from practice.tests.test_screens import begin

pytestmark = pytest.mark.django_db


def test_history_names_the_session_number(learner):
    # An earlier session takes the first case ids, so ids and numbers differ.
    begin(learner, "duplicate-invoice")
    session, client = begin(learner, "unshipped-backorder")
    case = only_case(session, "NOT_SHIPPED")
    assert case.pk != 1
    case_page = f"/practice/sessions/{session.pk}/cases/1/"
    client.post(f"{case_page}move/", {"to": "in_progress"})

    page = client.get(case_page).content.decode()

    history = page.split(">History<", 1)[1]
    assert "Case #1 " in history
    assert f"Case #{case.pk} " not in history
