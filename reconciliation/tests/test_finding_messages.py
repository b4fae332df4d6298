"""Messages after a rejected step point to the next step, and stale notices go.

Named people: fiona (finance clerk) writes off above the limit, sally
(sales rep) offers credit notes, and carla (customer) accepts or rejects them.
"""

from decimal import Decimal

import pytest

from core.testing import signed_in
from notifications.models import Notification
from portal.services import accept_proposal, reject_proposal
from reconciliation import cases
from reconciliation.credit_proposals import (
    propose_credit_note,
    withdraw_credit_proposal,
)

pytestmark = pytest.mark.django_db


def test_write_off_above_limit_links_request_form(short_payment_case, clerk):
    client = signed_in(clerk)
    cases.start_case(case_id=short_payment_case.pk, actor=clerk)

    page = client.post(
        f"/reconciliation/cases/{short_payment_case.pk}/move/",
        {"to": "resolved", "resolution_code": "write_off", "note": "Bank fee."},
        follow=True,
    )

    text = page.content.decode()
    assert "request an approval and wait for a manager to approve it." in text
    assert 'data-testid="write-off-request-hint"' in text
    assert (
        'Use the <a href="#request-write-off">Request write-off approval</a> form'
    ) in text
    assert 'id="request-write-off"' in text


def test_page_without_error_has_no_hint(short_payment_case, clerk):
    text = (
        signed_in(clerk)
        .get(f"/reconciliation/cases/{short_payment_case.pk}/")
        .content.decode()
    )
    assert 'id="request-write-off"' in text
    assert 'data-testid="write-off-request-hint"' not in text


def offer(case, sales_rep, amount="40.00"):
    return propose_credit_note(
        actor=sales_rep, case_id=case.pk, amount=Decimal(amount), message="Sorry"
    )


def offered_notices(customer):
    return Notification.objects.filter(
        recipient=customer, kind=Notification.Kind.RESOLUTION_OFFERED
    )


def test_rejected_offer_notice_is_removed(short_payment_case, sales_rep, customer):
    first = offer(short_payment_case, sales_rep)
    assert offered_notices(customer).count() == 1

    reject_proposal(customer=customer, proposal_id=first.pk, reason="Too little")
    assert offered_notices(customer).count() == 0

    second = offer(short_payment_case, sales_rep, "83.63")
    assert list(offered_notices(customer).values_list("subject_key", flat=True)) == [
        f"proposal:{second.pk}:offered"
    ]
    accept_proposal(customer=customer, proposal_id=second.pk)
    assert offered_notices(customer).count() == 0
    # Sally is still notified of both decisions.
    assert (
        Notification.objects.filter(
            recipient=sales_rep, kind=Notification.Kind.RESOLUTION_DECIDED
        ).count()
        == 2
    )


def test_withdrawn_offer_notice_is_removed(short_payment_case, sales_rep, customer):
    proposal = offer(short_payment_case, sales_rep)
    assert offered_notices(customer).count() == 1

    withdraw_credit_proposal(
        actor=sales_rep, case_id=short_payment_case.pk, reason="Wrong amount."
    )

    proposal.refresh_from_db()
    assert proposal.state == proposal.State.WITHDRAWN
    assert offered_notices(customer).count() == 0
