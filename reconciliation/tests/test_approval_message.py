"""The approvals screen shows why a sales rep offers a credit above the limit.

Named people: sally (sales rep) proposes a credit note above her limit with
a message to the customer, mona (manager) reads it before she decides, and
fiona (finance clerk) asks for a write-off, which has no such message.
"""

from decimal import Decimal

import pytest

from core.testing import signed_in
from reconciliation import approvals, cases
from reconciliation.credit_proposals import propose_credit_note

pytestmark = pytest.mark.django_db

MESSAGE = "Partial credit for the late delivery"


def test_manager_mona_reads_sally_message(
    short_payment_case, sales_rep, manager, settings
):
    settings.SALES_REP_CREDIT_LIMIT = "50.00"
    propose_credit_note(
        actor=sales_rep,
        case_id=short_payment_case.pk,
        amount=Decimal("83.63"),
        message=MESSAGE,
    )
    text = signed_in(manager).get("/reconciliation/work/approvals/").content.decode()
    assert 'data-testid="credit-message"' in text
    assert (
        f"{sales_rep.display_name}'s message to the customer:</strong> {MESSAGE}"
        in text
    )
    assert f'href="/reconciliation/work/cases/{short_payment_case.pk}/"' in text


def test_write_off_row_has_no_credit_message(short_payment_case, clerk, manager):
    cases.start_case(case_id=short_payment_case.pk, actor=clerk)
    approvals.request_write_off(
        case_id=short_payment_case.pk, actor=clerk, reason="Bank charge"
    )
    text = signed_in(manager).get("/reconciliation/work/approvals/").content.decode()
    assert "Bank charge" in text
    assert 'data-testid="credit-message"' not in text
