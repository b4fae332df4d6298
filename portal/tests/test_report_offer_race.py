"""Carla accepts a credit note while a colleague reports more damaged units.

Each writer runs on its own database connection, started together on a
barrier (``race`` from the concurrency tests). Both lock the order before
the case, so on PostgreSQL one waits for the other and neither deadlocks.
Exactly one of them decides the offer. Either the acceptance posts the
credit note, and the report then reopens the resolved case for the new
units. Or the report withdraws the offer, and the acceptance gets the
customer's message and writes nothing. Named people: sally (sales rep on
the order), carla and her colleague dora (the customer).
"""

from decimal import Decimal

import pytest
from django.db import OperationalError, connection

from accounts.models import Role
from conftest import make_person
from portal.models import ProblemReport, ResolutionProposal
from portal.services import ProblemInput, Repeat, accept_proposal, report_problem
from portal.tests.test_report_changed_offer import line_of, offer
from reconciliation.models import Discrepancy, Invoice
from reconciliation.tests.factories import (
    create_invoice,
    create_order,
    create_shipment,
)
from reconciliation.tests.test_concurrency import race
from reconciliation.work import WorkError

pytestmark = pytest.mark.django_db(transaction=True)

# Races per test: each ordering of the two locks needs its own run.
ROUNDS = 3
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


@pytest.mark.parametrize("round_number", range(ROUNDS))
def test_accept_and_more_units_one_decides(
    order, customer, customer_party, sales_rep, round_number
):
    dora = make_person("dora", Role.CUSTOMER, customer=customer_party)
    proposal = offer(order, customer, sales_rep)
    line = line_of(order)

    def accept() -> object:
        return accept_proposal(customer=customer, proposal_id=proposal.pk)

    def report_more() -> object:
        return report_problem(
            customer=dora,
            order=order,
            problem=ProblemInput(
                kind=ProblemReport.Kind.DAMAGED,
                message="Two more boxes crushed",
                shipment_line=line,
                quantity=Decimal(2),
                repeat=Repeat.MORE,
            ),
            evidence=[],
        )

    errors = race(accept, report_more)

    proposal.refresh_from_db()
    assert proposal.credit_note is not None
    credit_note = Invoice.objects.get(pk=proposal.credit_note.pk)
    case = Discrepancy.objects.get(pk=proposal.case_id)
    line.refresh_from_db()
    locked = [e for e in errors if isinstance(e, OperationalError)]
    if connection.vendor == "postgresql":
        assert locked == []
    # SQLite lets one writer in at a time, so the other may find the
    # database locked, and then its transaction wrote nothing.
    reports = ProblemReport.objects.filter(case=case).count()
    if locked and reports == 1:
        # The report lost: the acceptance alone decided the offer.
        assert len(errors) == 1
        assert proposal.state == Proposal.ACCEPTED
        assert credit_note.state == Invoice.State.POSTED
        assert line.qty_damaged == Decimal(2)
        assert case.state == Discrepancy.State.RESOLVED
        return
    assert reports == 2
    assert line.qty_damaged == Decimal(4)
    assert case.actual_value == Decimal(4)
    if proposal.state == Proposal.ACCEPTED:
        # The acceptance came first: the credit for 2 units is posted, and
        # the report reopened the resolved case for the other 2.
        assert errors == []
        assert credit_note.state == Invoice.State.POSTED
        assert proposal.withdrawn_by_report is None
        assert case.state == Discrepancy.State.REOPENED
        return
    # The report came first and withdrew the offer. The acceptance got the
    # customer's message (or, on SQLite, a locked database) and posted
    # nothing.
    assert proposal.state == Proposal.WITHDRAWN
    assert proposal.withdrawn_by_report is not None
    assert len(errors) == 1
    if not locked:
        assert isinstance(errors[0], WorkError)
        assert "more damaged units were reported" in str(errors[0])
    assert credit_note.state == Invoice.State.CANCELLED
    assert proposal.decided_by is None
    assert case.state == Discrepancy.State.IN_PROGRESS
