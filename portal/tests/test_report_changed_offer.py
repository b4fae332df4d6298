"""More damaged units reported while a credit note waits for the customer.

Carla (Alfreds Futterkiste) reported 2 of 10 Chai damaged, and sally, the
sales rep, offered a credit note for those 2 units. Before Carla answers,
she reports 2 more damaged units on the same line. The offer no longer
covers the case, so it is withdrawn: its draft credit note is cancelled,
the case goes back in progress, sally is told to propose again, and
neither Carla's page nor a form she loaded before can accept it. A credit
note that still waits for a manager's approval cannot be approved.
"""

from decimal import Decimal

import pytest
from django.test import Client

from accounts.models import Role
from conftest import make_person
from core.models import AuditEvent
from core.testing import messages_of
from notifications.models import Notification
from portal.models import ProblemReport, ResolutionProposal
from portal.services import (
    ProblemInput,
    Repeat,
    accept_proposal,
    reject_proposal,
    report_problem,
)
from reconciliation.approvals import decide_approval
from reconciliation.credit_proposals import propose_credit_note
from reconciliation.models import Approval, Discrepancy, Invoice, ShipmentLine
from reconciliation.tests.factories import (
    create_invoice,
    create_order,
    create_shipment,
)
from reconciliation.work import WorkError

pytestmark = pytest.mark.django_db

Kind = ProblemReport.Kind
Proposal = ResolutionProposal.State


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.SALES_REP_CREDIT_LIMIT = "1000.00"


@pytest.fixture
def order(customer_party, sales_rep):
    order = create_order(
        lines=[("10", "36.36")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    create_shipment(order=order, number="SH-MORE-1")
    create_invoice(order=order, number="INV-MORE-1")
    return order


def line_of(order) -> ShipmentLine:
    return ShipmentLine.objects.get(shipment__order=order)


def report_damaged(customer, order, qty: str, *, repeat: str = "") -> ProblemReport:
    return report_problem(
        customer=customer,
        order=order,
        problem=ProblemInput(
            kind=Kind.DAMAGED,
            message=f"{qty} boxes crushed",
            shipment_line=line_of(order),
            quantity=Decimal(qty),
            repeat=repeat,
        ),
        evidence=[],
    )


def damage_case(order, customer) -> Discrepancy:
    """Report 2 damaged, and name the invoice that billed the line on the case.

    A reported goods case has no invoice of its own yet, and a credit note
    needs one, so the test names it as the case page's data would.
    """
    first = report_damaged(customer, order, "2")
    invoice = Invoice.objects.get(number="INV-MORE-1")
    Discrepancy.objects.filter(pk=first.case_id).update(invoice=invoice)
    return Discrepancy.objects.get(pk=first.case_id)


def offer(order, customer, sales_rep, amount: str = "72.72") -> ResolutionProposal:
    case = damage_case(order, customer)
    return propose_credit_note(
        actor=sales_rep,
        case_id=case.pk,
        amount=Decimal(amount),
        message="A credit for the crushed boxes.",
    )


def test_more_units_withdraw_waiting_offer(order, customer, sales_rep):
    proposal = offer(order, customer, sales_rep)
    assert proposal.state == Proposal.AWAITING_CUSTOMER
    assert Notification.objects.filter(
        recipient=customer, kind=Notification.Kind.RESOLUTION_OFFERED
    ).exists()

    more = report_damaged(customer, order, "2", repeat=Repeat.MORE)

    proposal.refresh_from_db()
    case = Discrepancy.objects.get(pk=proposal.case_id)
    assert proposal.state == Proposal.WITHDRAWN
    assert proposal.withdrawn_by_report == more
    assert case.state == Discrepancy.State.IN_PROGRESS
    assert case.actual_value == Decimal(4)
    assert case.resolution_code == ""
    assert proposal.credit_note is not None
    proposal.credit_note.refresh_from_db()
    assert proposal.credit_note.state == Invoice.State.CANCELLED
    event = AuditEvent.objects.get(
        action="proposal.withdrawn", object_id=str(proposal.pk)
    )
    assert event.actor_id == customer.pk
    assert event.after["withdrawn_by_report"] == more.pk
    assert Decimal(event.after["reported_total"]) == Decimal(4)
    assert event.reason == (
        "Carla Tester reported another 2 units damaged on shipment SH-MORE-1, line 1, after "
        f"{proposal.credit_note.number} was offered, so the offer no longer "
        "covers the 4 units damaged now reported. It was withdrawn: propose "
        "again for the new quantity."
    )
    assert not Notification.objects.filter(
        recipient=customer, kind=Notification.Kind.RESOLUTION_OFFERED
    ).exists()
    notice = Notification.objects.get(
        recipient=sales_rep, subject_key=f"proposal:{proposal.pk}:report_changed"
    )
    assert "Propose again for the new quantity" in notice.message


def test_same_units_keep_waiting_offer(order, customer, sales_rep):
    proposal = offer(order, customer, sales_rep)

    report_problem(
        customer=customer,
        order=order,
        problem=ProblemInput(
            kind=Kind.DAMAGED,
            message="A photo of the pallet",
            shipment_line=line_of(order),
            quantity=Decimal(2),
            repeat=Repeat.SAME,
        ),
        evidence=[],
    )

    proposal.refresh_from_db()
    assert proposal.state == Proposal.AWAITING_CUSTOMER
    assert proposal.withdrawn_by_report is None


def test_stale_accept_and_reject_get_reason(order, customer, sales_rep):
    proposal = offer(order, customer, sales_rep)
    report_damaged(customer, order, "2", repeat=Repeat.MORE)

    for decide in (
        lambda: accept_proposal(customer=customer, proposal_id=proposal.pk),
        lambda: reject_proposal(
            customer=customer, proposal_id=proposal.pk, reason="Too little"
        ),
    ):
        with pytest.raises(WorkError) as error:
            decide()
        assert str(error.value).startswith("We withdrew this offer on ")
        assert "more damaged units were reported on this case" in str(error.value)

    proposal.refresh_from_db()
    assert proposal.state == Proposal.WITHDRAWN
    assert proposal.decided_by is None
    assert not Invoice.objects.filter(
        kind=Invoice.Kind.CREDIT_NOTE, state=Invoice.State.POSTED
    ).exists()


def test_case_page_after_withdrawal(order, customer, sales_rep):
    proposal = offer(order, customer, sales_rep)
    client = Client()
    client.force_login(customer)
    url = f"/reconciliation/portal/cases/{proposal.case_id}/"
    before = client.get(url).content.decode()
    accept_url = f"/reconciliation/portal/proposals/{proposal.pk}/accept/"
    assert accept_url in before

    report_damaged(customer, order, "2", repeat=Repeat.MORE)
    # The form Carla loaded before the report is posted now.
    response = client.post(accept_url, follow=True)

    page = response.content.decode()
    assert accept_url not in page
    assert "because more damaged units were reported on this case" in page
    assert any(
        text.startswith("We withdrew this offer on ") for text in messages_of(response)
    )
    proposal.refresh_from_db()
    assert proposal.state == Proposal.WITHDRAWN


def test_approval_refused_after_more_units(order, customer, sales_rep, settings):
    settings.SALES_REP_CREDIT_LIMIT = "10.00"
    manager = make_person("martha", Role.MANAGER)
    proposal = offer(order, customer, sales_rep)
    assert proposal.state == Proposal.AWAITING_APPROVAL

    report_damaged(customer, order, "2", repeat=Repeat.MORE)
    proposal.refresh_from_db()
    assert proposal.state == Proposal.AWAITING_APPROVAL
    approval = Approval.objects.get(case_id=proposal.case_id)

    with pytest.raises(WorkError) as error:
        decide_approval(
            approval_id=approval.pk, approver=manager, approve=True, reason=""
        )

    assert "after this credit note was requested" in str(error.value)
    assert "reject it with a reason" in str(error.value)
    approval.refresh_from_db()
    proposal.refresh_from_db()
    assert approval.decision == Approval.Decision.PENDING
    assert proposal.state == Proposal.AWAITING_APPROVAL
    decide_approval(
        approval_id=approval.pk,
        approver=manager,
        approve=False,
        reason="The customer reported more units.",
    )
    proposal.refresh_from_db()
    assert proposal.state == Proposal.WITHDRAWN
