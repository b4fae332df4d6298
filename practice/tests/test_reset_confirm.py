"""Reset asks first: only the confirmation page's button resets the sandbox.

The confirmation is a page of its own, so it works without JavaScript, and
a POST without the confirmation (an old form, a repeated request) shows the
question again.
"""

import pytest

from practice import services
from practice.models import SandboxSession
from practice.tests.conftest import only_case, signed_in, work
from reconciliation.models import Discrepancy

pytestmark = pytest.mark.django_db

SCENARIO = "short-payment-write-off"


@pytest.fixture
def worked(learner) -> SandboxSession:
    """A session whose short-payment case the learner has resolved."""
    session = services.start_session(learner=learner, scenario_key=SCENARIO)
    work(session, learner, "SHORT_PAYMENT", "credit_note")
    return session


def _state(session: SandboxSession) -> str:
    return only_case(session, "SHORT_PAYMENT").state


def test_session_page_button_opens_confirmation(learner, worked):
    page = signed_in(learner).get(f"/practice/sessions/{worked.pk}/")

    html = page.content.decode()
    assert f'<form method="get" action="/practice/sessions/{worked.pk}/reset/">' in html
    assert 'data-testid="reset">Reset the sandbox…</button>' in html


def test_confirmation_page_warns_and_keeps_work(learner, worked):
    response = signed_in(learner).get(f"/practice/sessions/{worked.pk}/reset/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Reset the sandbox?</h1>" in html
    assert "This cannot be undone." in html
    assert 'name="confirm" value="yes"' in html
    assert f'href="/practice/sessions/{worked.pk}/" data-testid="keep-work"' in html
    assert _state(worked) == Discrepancy.State.RESOLVED


@pytest.mark.parametrize("data", [{}, {"confirm": ""}, {"confirm": "no"}])
def test_post_without_confirmation_only_asks(learner, worked, data):
    response = signed_in(learner).post(f"/practice/sessions/{worked.pk}/reset/", data)

    assert response.status_code == 200
    assert "<h1>Reset the sandbox?</h1>" in response.content.decode()
    assert _state(worked) == Discrepancy.State.RESOLVED


def test_confirmed_reset_restores_the_start(learner, worked):
    response = signed_in(learner).post(
        f"/practice/sessions/{worked.pk}/reset/", {"confirm": "yes"}, follow=True
    )

    assert [str(item) for item in response.context["messages"]] == [
        "The sandbox is back to the scenario's start."
    ]
    assert _state(worked) == Discrepancy.State.OPEN


def test_finished_session_offers_no_reset(learner, worked):
    SandboxSession.objects.filter(pk=worked.pk).update(
        status=SandboxSession.Status.FINISHED
    )
    client = signed_in(learner)

    asked = client.get(f"/practice/sessions/{worked.pk}/reset/", follow=True)
    confirmed = client.post(
        f"/practice/sessions/{worked.pk}/reset/", {"confirm": "yes"}, follow=True
    )

    for response in (asked, confirmed):
        assert [str(item) for item in response.context["messages"]] == [
            f"Session {worked.pk} is finished, so it cannot be reset: start a "
            "new session of the scenario to practise again."
        ]
    assert _state(worked) == Discrepancy.State.RESOLVED


def test_another_persons_reset_page_is_404(learner, other_learner, worked):
    client = signed_in(other_learner)

    assert client.get(f"/practice/sessions/{worked.pk}/reset/").status_code == 404
    assert (
        client.post(
            f"/practice/sessions/{worked.pk}/reset/", {"confirm": "yes"}
        ).status_code
        == 404
    )
    assert _state(worked) == Discrepancy.State.RESOLVED
