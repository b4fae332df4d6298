"""A resolved case labels its detection text and shows the invoice as it is now.

Named people: fiona (finance clerk) writes off the 83.63 that
``short_payment_case`` leaves open on its invoice of 363.60, sally (sales
rep on the order) and carla (the order's customer) then read the case.
"""

from decimal import Decimal

import pytest

from core.testing import signed_in
from portal.services import accept_proposal
from reconciliation import cases
from reconciliation.credit_proposals import propose_credit_note

pytestmark = pytest.mark.django_db

DETECTED = "83.63 is still open."


@pytest.fixture
def written_off_case(short_payment_case, clerk, settings):
    settings.RECONCILIATION_WRITE_OFF_LIMIT = "100.00"
    cases.start_case(case_id=short_payment_case.pk, actor=clerk)
    cases.resolve_case(
        case_id=short_payment_case.pk,
        actor=clerk,
        resolution_code="write_off",
        note="Bank fee.",
    )
    return short_payment_case


def now_sentence(case):
    return (
        f"<strong>Now:</strong> invoice {case.invoice.number}: paid 279.97, "
        "written off 83.63, open 0.00 USD"
    )


def test_clerk_fiona_sees_detection_and_now(written_off_case, clerk):
    text = (
        signed_in(clerk)
        .get(f"/reconciliation/cases/{written_off_case.pk}/")
        .content.decode()
    )
    assert '<span class="muted">When detected:</span>' in text
    assert DETECTED in text
    assert now_sentence(written_off_case) in text


def test_sales_rep_sally_sees_now(written_off_case, sales_rep):
    text = (
        signed_in(sales_rep)
        .get(f"/reconciliation/work/cases/{written_off_case.pk}/")
        .content.decode()
    )
    assert '<span class="muted">When detected:</span>' in text
    assert now_sentence(written_off_case) in text


def test_customer_carla_sees_now(short_payment_case, sales_rep, customer):
    # carla sees only cases offered to her, so sally offers the 83.63.
    proposal = propose_credit_note(
        actor=sales_rep,
        case_id=short_payment_case.pk,
        amount=Decimal("83.63"),
        message="Sorry",
    )
    accept_proposal(customer=customer, proposal_id=proposal.pk)
    page = signed_in(customer).get(
        f"/reconciliation/portal/cases/{short_payment_case.pk}/"
    )
    assert page.status_code == 200
    assert (
        f"<strong>Now:</strong> invoice {short_payment_case.invoice.number}: "
        "paid 279.97, credited 83.63, open 0.00 USD"
    ) in page.content.decode()


def test_open_case_shows_open_amount(short_payment_case, clerk):
    text = (
        signed_in(clerk)
        .get(f"/reconciliation/cases/{short_payment_case.pk}/")
        .content.decode()
    )
    assert (
        f"invoice {short_payment_case.invoice.number}: paid 279.97, open 83.63 USD"
    ) in text


def test_quantity_case_has_no_now_line(shipped_order, clerk):
    from reconciliation.tests.conftest import make_case

    case = make_case(shipped_order, code="SHORT_SHIP")
    case.unit = "units"
    case.save(update_fields=["unit"])
    text = signed_in(clerk).get(f"/reconciliation/cases/{case.pk}/").content.decode()
    assert 'data-testid="case-detected"' in text
    assert 'data-testid="case-now"' not in text
