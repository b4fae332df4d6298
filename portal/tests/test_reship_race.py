"""Races on a replacement offer: Carla accepts while Dora reports more units,
and Sally offers a replacement twice at once.

Each writer runs on its own database connection, started together on a
barrier (``race`` from the concurrency tests). The acceptance and the
report lock the order before the case, so on PostgreSQL one waits for the
other and neither deadlocks. Named people: sally (sales rep on the order),
carla and her colleague dora (the customer).
"""

from decimal import Decimal

import pytest
from django.db import OperationalError, connection

from accounts.models import Role
from conftest import make_person
from portal.models import ProblemReport, ResolutionProposal
from portal.services import ProblemInput, Repeat, report_problem
from reconciliation.models import Discrepancy, ReplacementOffer, Shipment, ShipmentLine
from reconciliation.reships import accept_reship, propose_reship
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


@pytest.fixture
def order(customer_party, sales_rep):
    order = create_order(
        lines=[("10", "36.36")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    create_shipment(order=order, number="SH-RACE-1")
    create_invoice(order=order, number="INV-RACE-1")
    return order


def report(person, order, qty: str, *, repeat: str = "") -> ProblemReport:
    return report_problem(
        customer=person,
        order=order,
        problem=ProblemInput(
            kind=ProblemReport.Kind.DAMAGED,
            message=f"{qty} boxes crushed",
            shipment_line=ShipmentLine.objects.get(shipment__number="SH-RACE-1"),
            quantity=Decimal(qty),
            repeat=repeat,
        ),
        evidence=[],
    )


@pytest.mark.parametrize("round_number", range(ROUNDS))
def test_accept_and_more_units_one_decides(
    order, customer, customer_party, sales_rep, round_number
):
    dora = make_person("dora", Role.CUSTOMER, customer=customer_party)
    case = report(customer, order, "3").case
    proposal = propose_reship(
        actor=sales_rep, case_id=case.pk, qty=Decimal(3), message="Again"
    )

    errors = race(
        lambda: accept_reship(customer=customer, proposal_id=proposal.pk),
        lambda: report(dora, order, "2", repeat=Repeat.MORE),
    )

    proposal.refresh_from_db()
    case = Discrepancy.objects.get(pk=case.pk)
    locked = [e for e in errors if isinstance(e, OperationalError)]
    if connection.vendor == "postgresql":
        assert locked == []
    shipments = Shipment.objects.filter(replaces_case=case)
    reports = ProblemReport.objects.filter(case=case).count()
    if locked and reports == 1:
        # SQLite: the report found the database locked and wrote nothing.
        assert proposal.state == Proposal.ACCEPTED
        assert shipments.count() == 1
        return
    assert reports == 2
    assert case.actual_value == Decimal(5)
    if proposal.state == Proposal.ACCEPTED:
        # The acceptance came first: the replacement of 3 waits to ship,
        # and the case still records 5 damaged, so 2 are left to decide.
        assert errors == []
        [shipment] = shipments
        assert shipment.replacement_qty == Decimal(3)
        assert shipment.state == Shipment.State.DRAFT
        assert ReplacementOffer.objects.get(proposal=proposal).shipment == shipment
        return
    # The report came first and withdrew the offer: nothing was drafted.
    assert proposal.state == Proposal.WITHDRAWN
    assert proposal.withdrawn_by_report is not None
    assert not shipments.exists()
    assert len(errors) == 1
    if not locked:
        assert isinstance(errors[0], WorkError)
        assert "more damaged units were reported" in str(errors[0])
    assert case.state == Discrepancy.State.IN_PROGRESS


@pytest.mark.parametrize("round_number", range(ROUNDS))
def test_two_offers_at_once_one_wins(order, customer, sales_rep, round_number):
    case = report(customer, order, "3").case

    def offer() -> object:
        return propose_reship(
            actor=sales_rep, case_id=case.pk, qty=Decimal(2), message="Again"
        )

    errors = race(offer, offer)

    proposals = list(ResolutionProposal.objects.filter(case=case))
    assert len(proposals) == 1
    assert ReplacementOffer.objects.filter(proposal__case=case).count() == 1
    assert len(errors) == 1
    if connection.vendor == "postgresql" or not isinstance(errors[0], OperationalError):
        assert isinstance(errors[0], WorkError)
        assert f"proposal {proposals[0].pk}" in str(errors[0])
