"""Who hears about each approval and customer-resolution step of a case.

Named people: fiona (finance clerk who asks), mona and max (managers),
sally (sales rep on the order), carla (contact at the order's customer).
The short-payment case is on an invoice of 363.60 paid 279.97.
"""

from decimal import Decimal

import pytest

from accounts.models import Role
from conftest import make_person
from notifications.models import Notification
from portal.services import accept_proposal, reject_proposal
from practice import services as practice
from reconciliation import approvals
from reconciliation.credit_proposals import propose_credit_note
from reconciliation.models import Discrepancy

pytestmark = pytest.mark.django_db

State = Discrepancy.State


@pytest.fixture
def worked_case(short_payment_case, clerk):
    Discrepancy.objects.filter(pk=short_payment_case.pk).update(
        state=State.IN_PROGRESS, assignee=clerk
    )
    return short_payment_case


def received(person) -> list[tuple[str, str, str]]:
    return list(
        Notification.objects.filter(recipient=person)
        .order_by("pk")
        .values_list("kind", "message", "url")
    )


def test_managers_hear_of_a_write_off_request(
    worked_case, clerk, manager, second_manager
):
    approval = approvals.request_write_off(
        case_id=worked_case.pk, actor=clerk, reason="Bank fee."
    )

    expected = [
        (
            "approval_requested",
            f"Fiona Tester asks you to approve a write-off of 83.63 USD on case "
            f"{worked_case.pk}.",
            "/reconciliation/work/approvals/",
        )
    ]
    assert received(manager) == expected
    assert received(second_manager) == expected
    assert received(clerk) == []
    assert approval.amount == Decimal("83.63")


def test_requester_hears_the_decision(worked_case, clerk, manager):
    approval = approvals.request_write_off(
        case_id=worked_case.pk, actor=clerk, reason="Bank fee."
    )

    approvals.decide_approval(
        approval_id=approval.pk, approver=manager, approve=True, reason="Agreed."
    )

    assert received(clerk) == [
        (
            "approval_decided",
            f"Mona Tester approved your request on case {worked_case.pk}. "
            "The write-off is booked and the case is resolved: nothing is left "
            "to do.",
            f"/reconciliation/cases/{worked_case.pk}/",
        )
    ]


def test_customer_hears_of_an_offer_and_the_rep_of_the_answer(
    short_payment_case, sales_rep, customer
):
    other_contact = make_person("cora", Role.CUSTOMER, customer=customer.customer)
    proposal = propose_credit_note(
        actor=sales_rep,
        case_id=short_payment_case.pk,
        amount=Decimal("20.00"),
        message="Sorry",
    )
    number = short_payment_case.order.number
    offer = (
        "resolution_offered",
        f"We propose a resolution for order {number}: accept or reject it.",
        f"/reconciliation/portal/cases/{short_payment_case.pk}/",
    )
    assert received(customer) == [offer]
    assert received(other_contact) == [offer]

    accept_proposal(customer=customer, proposal_id=proposal.pk)

    assert received(sales_rep)[-1] == (
        "resolution_decided",
        f"Carla Tester accepted the resolution you proposed on case "
        f"{short_payment_case.pk}.",
        f"/reconciliation/cases/{short_payment_case.pk}/",
    )


def test_rep_hears_of_a_rejection(short_payment_case, sales_rep, customer):
    proposal = propose_credit_note(
        actor=sales_rep,
        case_id=short_payment_case.pk,
        amount=Decimal("20.00"),
        message="Sorry",
    )

    reject_proposal(customer=customer, proposal_id=proposal.pk, reason="Too little.")

    assert received(sales_rep)[-1][:2] == (
        "resolution_decided",
        f"Carla Tester rejected the resolution you proposed on case "
        f"{short_payment_case.pk}.",
    )


def test_sandbox_requests_tell_nobody(manager):
    learner = make_person("lara", Role.FINANCE_CLERK, group="operations")
    session = practice.start_session(
        learner=learner, scenario_key="short-payment-dispute"
    )
    case = Discrepancy.objects.get(company=session.company, code="SHORT_PAYMENT")
    practice.start_case(session=session, case_id=case.pk, learner=learner)

    practice.request_write_off(
        session=session, case_id=case.pk, learner=learner, reason="Too small."
    )

    assert received(manager) == []
