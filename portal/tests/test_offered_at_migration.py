"""Migration 0003 fills ``offered_at`` of existing proposals from the audit trail.

Named people: sally (sales rep on the orders) and mona (manager). One
proposal was offered to the customer and withdrawn. The other was turned
down by mona before the customer saw it.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.models import Role
from conftest import make_person
from core.testing import signed_in
from portal.models import ResolutionProposal
from reconciliation.matching import match_order
from reconciliation.models import Approval, Discrepancy
from reconciliation.tests.factories import (
    create_invoice,
    create_order,
    create_shipment,
)

BEFORE_OFFERED_AT = ("portal", "0002_widen_evidence_file_name")
CREDIT = {"amount": "184.87", "message": "We billed the list price by mistake."}


def price_case(customer_party, sales_rep) -> Discrepancy:
    order = create_order(
        lines=[("15", "49.30", "unit", "25")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    create_shipment(order=order)
    create_invoice(order=order, unit_prices={1: "49.30"})
    match_order(order)
    return Discrepancy.objects.get(order=order, code="PRICE_MISMATCH")


def migrate_to(target: tuple[str, str] | None) -> None:
    """Migrate to ``target``, or every app to its latest migration for None."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = [target] if target else executor.loader.graph.leaf_nodes()
    executor.migrate(targets)


@pytest.mark.django_db(transaction=True)
def test_migration_fills_offered_at(customer_party, sales_rep, settings):
    manager = make_person("mona", Role.MANAGER)
    rep = signed_in(sales_rep)
    withdrawn_case = price_case(customer_party, sales_rep)
    rep.post(f"/reconciliation/work/cases/{withdrawn_case.pk}/credit-note/", CREDIT)
    rep.post(
        f"/reconciliation/work/cases/{withdrawn_case.pk}/withdraw/",
        {"reason": "Wrong line."},
    )
    settings.SALES_REP_CREDIT_LIMIT = "100.00"
    turned_down_case = price_case(customer_party, sales_rep)
    rep.post(f"/reconciliation/work/cases/{turned_down_case.pk}/credit-note/", CREDIT)
    approval = Approval.objects.get(case=turned_down_case)
    signed_in(manager).post(
        f"/reconciliation/work/approvals/{approval.pk}/decide/",
        {"decision": "reject", "reason": "Too much for this customer."},
    )
    withdrawn = ResolutionProposal.objects.get(case=withdrawn_case)
    turned_down = ResolutionProposal.objects.get(case=turned_down_case)
    offered_at = withdrawn.offered_at
    assert offered_at is not None

    try:
        migrate_to(BEFORE_OFFERED_AT)
    finally:
        migrate_to(None)

    withdrawn.refresh_from_db()
    turned_down.refresh_from_db()
    assert withdrawn.state == turned_down.state == "withdrawn"
    # The fill takes the time of the case's move to proposed_resolution,
    # recorded in the same request as the time the service stored.
    assert withdrawn.offered_at is not None
    assert withdrawn.offered_at >= withdrawn.proposed_at
    assert abs(withdrawn.offered_at - offered_at) < timedelta(seconds=1)
    assert turned_down.offered_at is None
