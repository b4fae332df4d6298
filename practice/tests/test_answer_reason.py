"""A customer's reason that is too long is refused whole, never cut short."""

import pytest

from portal.models import ResolutionProposal
from practice.tests.test_screens import base, begin, messages_of

pytestmark = pytest.mark.django_db


def _waiting_proposal(learner):
    session, client = begin(learner, "short-payment-dispute")
    client.post(
        f"{base(session)}cases/1/credit-note/",
        {"amount": "180.00", "message": "We credit the broken olive oil."},
        follow=True,
    )
    return (
        session,
        client,
        ResolutionProposal.objects.get(case__company=session.company),
    )


def test_too_long_reason_is_refused_and_nothing_answered(learner):
    session, client, proposal = _waiting_proposal(learner)
    reason = "Too late. " * 201

    response = client.post(
        f"/practice/sessions/{session.pk}/proposals/{proposal.pk}/answer/",
        {"decision": "reject", "reason": reason},
        follow=True,
    )

    assert messages_of(response) == [
        "The reason has 2009 characters; shorten it to 2000 or fewer."
    ]
    proposal.refresh_from_db()
    assert proposal.state == ResolutionProposal.State.AWAITING_CUSTOMER


def test_reason_at_the_limit_is_kept_whole(learner):
    session, client, proposal = _waiting_proposal(learner)
    reason = "R" * 2000

    client.post(
        f"/practice/sessions/{session.pk}/proposals/{proposal.pk}/answer/",
        {"decision": "reject", "reason": reason},
    )

    proposal.refresh_from_db()
    assert proposal.state == ResolutionProposal.State.REJECTED
    assert proposal.customer_reason == reason
