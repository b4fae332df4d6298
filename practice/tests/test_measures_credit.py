"""Who a resolution is credited to: the employee whose decision resolved it.

Named people: sally (sales rep on the order), carla (customer of the order's
company, in the "customers" learner group), fiona (finance clerk), mona
(manager). The invoice is 10 Chai at 36.36, 363.60 USD, of which the
customer paid 279.97, so 83.63 is open: the trial's case 8.
"""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from accounts.models import Role, User
from conftest import make_person
from core.audit import record_event
from core.models import AuditEvent
from portal.services import accept_proposal
from practice.measures import productivity_report
from reconciliation import approvals, cases
from reconciliation.credit_proposals import propose_credit_note
from reconciliation.models import Discrepancy
from reconciliation.services import refresh_order
from reconciliation.tests.conftest import make_case
from reconciliation.tests.factories import (
    create_invoice,
    create_order,
    create_payment,
    create_shipment,
)

pytestmark = pytest.mark.django_db

State = Discrepancy.State


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.RECONCILIATION_WRITE_OFF_LIMIT = "50.00"
    settings.SALES_REP_CREDIT_LIMIT = "250.00"


@pytest.fixture
def order(customer_party, sales_rep):
    order = create_order(
        lines=[("10", "36.36")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    create_shipment(order=order)
    return order


@pytest.fixture
def invoice(order):
    invoice = create_invoice(order=order)
    create_payment(invoice=invoice, amount="279.97")
    refresh_order(order=order)
    return invoice


@pytest.fixture
def clerk(db):
    return make_person("fiona", Role.FINANCE_CLERK, group="operations")


@pytest.fixture
def manager(db):
    return make_person("mona", Role.MANAGER)


def todays_report(company):
    today = datetime.now(ZoneInfo(company.timezone)).date()
    return productivity_report(company=company, start=today, end=today)


def people_and_groups(report):
    return (
        [(row.label, row.resolutions) for row in report.people],
        [(row.label, row.resolutions) for row in report.groups],
    )


def test_accepted_proposal_credits_sales_rep(order, invoice, sales_rep, customer):
    case = make_case(order, code="PRICE_MISMATCH", invoice=invoice, difference=None)
    proposal = propose_credit_note(
        actor=sales_rep, case_id=case.pk, amount=Decimal("83.63"), message="Sorry"
    )

    accept_proposal(customer=customer, proposal_id=proposal.pk)

    event = AuditEvent.objects.filter(action="case.state_changed").latest("pk")
    assert event.actor == customer
    assert event.after["state"] == State.RESOLVED
    assert people_and_groups(todays_report(order.company)) == (
        [(sales_rep.display_name, 1)],
        [("Sales", 1)],
    )


def test_approved_write_off_credits_requester(order, invoice, clerk, manager):
    case = make_case(order, invoice=invoice)
    cases.start_case(case_id=case.pk, actor=clerk)
    approval = approvals.request_write_off(
        case_id=case.pk, actor=clerk, reason="Bank fee."
    )

    approvals.decide_approval(
        approval_id=approval.pk, approver=manager, approve=True, reason=""
    )

    case.refresh_from_db()
    assert case.state == State.RESOLVED
    event = AuditEvent.objects.filter(action="case.state_changed").latest("pk")
    assert event.actor == manager
    assert people_and_groups(todays_report(order.company)) == (
        [("Fiona Tester", 1)],
        [("Operations", 1)],
    )


def test_customer_and_scripted_never_credited(order, invoice, clerk, customer):
    # An event written before the resolver was in its snapshot names only
    # its actor; a customer as actor is still not credited.
    by_customer = make_case(order, invoice=invoice)
    record_event(
        actor=customer,
        action="case.state_changed",
        target=by_customer,
        source=AuditEvent.Source.SCREEN,
        before={"state": State.IN_PROGRESS},
        after={"state": State.RESOLVED, "resolution_seconds": 60},
    )
    scripted = make_person("otto", Role.MANAGER, group="operations")
    User.objects.filter(pk=scripted.pk).update(is_scripted=True)
    by_script = make_case(order, invoice=invoice)
    cases.start_case(case_id=by_script.pk, actor=scripted)
    cases.resolve_case(
        case_id=by_script.pk, actor=scripted, resolution_code="refund", note="Done."
    )
    by_clerk = make_case(order, invoice=invoice)
    cases.start_case(case_id=by_clerk.pk, actor=clerk)
    cases.resolve_case(
        case_id=by_clerk.pk, actor=clerk, resolution_code="refund", note="Done."
    )

    assert (
        AuditEvent.objects.filter(
            action="case.state_changed", after__state=State.RESOLVED
        ).count()
        == 3
    )
    assert people_and_groups(todays_report(order.company)) == (
        [("Fiona Tester", 1)],
        [("Operations", 1)],
    )
