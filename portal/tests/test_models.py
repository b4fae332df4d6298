"""Database constraints of the portal's records."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from accounts.models import Role
from conftest import make_person
from portal.models import PickedQuantity, ResolutionProposal
from reconciliation.tests.conftest import make_case
from reconciliation.tests.factories import create_order, create_shipment

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(customer_party):
    order = create_order(company=customer_party.company, customer=customer_party)
    return make_case(order)


def proposal(case, person, state):
    return ResolutionProposal.objects.create(
        case=case,
        resolution_code="credit_note",
        amount=Decimal("1.00"),
        currency="USD",
        message="Offer",
        proposed_by=person,
        state=state,
    )


def test_one_open_proposal_per_case(case, sales_rep):
    proposal(case, sales_rep, ResolutionProposal.State.AWAITING_CUSTOMER)

    with pytest.raises(IntegrityError), transaction.atomic():
        proposal(case, sales_rep, ResolutionProposal.State.AWAITING_APPROVAL)


def test_decided_proposals_do_not_block_a_new_one(case, sales_rep):
    proposal(case, sales_rep, ResolutionProposal.State.REJECTED)
    proposal(case, sales_rep, ResolutionProposal.State.WITHDRAWN)

    proposal(case, sales_rep, ResolutionProposal.State.AWAITING_CUSTOMER)

    assert ResolutionProposal.objects.filter(case=case).count() == 3


def test_picked_quantity_is_not_negative(customer_party):
    warehouse = make_person("wanda", Role.WAREHOUSE)
    order = create_order(company=customer_party.company, customer=customer_party)
    line = create_shipment(order=order).lines.get()

    with pytest.raises(IntegrityError), transaction.atomic():
        PickedQuantity.objects.create(
            shipment_line=line, qty_picked=Decimal("-1"), picked_by=warehouse
        )
