"""Two sales reps propose a credit note on one damaged goods case at once.

Each writer runs on its own database connection, started together on a
barrier (``race`` from the concurrency tests). Both lock the case first, so
on PostgreSQL the second waits for the first and then finds its proposal
waiting: it gets the message that names that credit note and writes
nothing. Named people: carla (customer), sally (the order's sales rep)
and sam (a sales rep the case is assigned to).
"""

from decimal import Decimal

import pytest

from accounts.models import Role
from conftest import make_person
from core.models import AuditEvent
from portal.models import ProblemReport, ResolutionProposal
from portal.services import ProblemInput, report_problem
from reconciliation.credit_proposals import propose_credit_note
from reconciliation.models import Discrepancy, Invoice, ShipmentLine
from reconciliation.tests.factories import (
    create_invoice,
    create_order,
    create_shipment,
)
from reconciliation.tests.test_concurrency import race
from reconciliation.work import WorkError

pytestmark = pytest.mark.django_db(transaction=True)

# Races: either rep may win the case lock, so each round can order them anew.
ROUNDS = 3


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.SALES_REP_CREDIT_LIMIT = "1000.00"


def test_two_reps_propose_on_one_damaged_case(customer_party, customer, sales_rep):
    sam = make_person("sam", Role.SALES_REP, group="sales")
    for round_no in range(ROUNDS):
        order = create_order(
            lines=[("10", "36.36")],
            company=customer_party.company,
            customer=customer_party,
            sales_rep=sales_rep,
            number=f"SO-RACE-{round_no}",
        )
        create_shipment(order=order, number=f"SH-RACE-{round_no}")
        invoice = create_invoice(order=order, number=f"INV-RACE-{round_no}")
        problem = report_problem(
            customer=customer,
            order=order,
            problem=ProblemInput(
                kind=ProblemReport.Kind.DAMAGED,
                message="2 boxes crushed",
                shipment_line=ShipmentLine.objects.get(shipment__order=order),
                quantity=Decimal(2),
            ),
            evidence=[],
        )
        case_id = problem.case_id
        assert case_id is not None
        # sam covers the case for sally, who is still the order's rep.
        Discrepancy.objects.filter(pk=case_id).update(assignee=sam)

        def proposer(rep, amount, case_id=case_id):
            return lambda: propose_credit_note(
                actor=rep, case_id=case_id, amount=Decimal(amount), message="Sorry"
            )

        errors = race(proposer(sales_rep, "72.72"), proposer(sam, "36.36"))

        assert len(errors) == 1, errors
        assert isinstance(errors[0], WorkError)
        [proposal] = ResolutionProposal.objects.filter(case_id=case_id)
        assert proposal.credit_note is not None
        assert proposal.credit_note.number in str(errors[0])
        drafts = Invoice.objects.filter(
            kind=Invoice.Kind.CREDIT_NOTE, origin_invoice=invoice
        )
        assert list(drafts) == [proposal.credit_note]
        assert (
            AuditEvent.objects.filter(
                action="credit_note.proposed", after__case_id=case_id
            ).count()
            == 1
        )
