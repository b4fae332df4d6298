"""A case whose offer was withdrawn stays on the customer's pages.

Named people: sally (sales rep on the order), mona (manager), carla (the
customer's contact, offered the credit note) and bruno (another customer's
contact).
"""

import pytest
from django.test import Client

from accounts.models import Role
from conftest import make_person
from core.models import AuditEvent
from core.testing import signed_in
from portal.models import ResolutionProposal
from reconciliation.matching import match_order
from reconciliation.models import Approval, Discrepancy
from reconciliation.tests.factories import (
    create_invoice,
    create_order,
    create_shipment,
)

pytestmark = pytest.mark.django_db

WITHDRAW_REASON = "Internal: the amount was computed on the wrong line."


@pytest.fixture
def manager(db):
    return make_person("mona", Role.MANAGER)


@pytest.fixture
def other_customer(other_party):
    return make_person("bruno", Role.CUSTOMER, customer=other_party)


@pytest.fixture
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


def offer_and_withdraw(rep: Client, case: Discrepancy) -> None:
    rep.post(
        f"/reconciliation/work/cases/{case.pk}/credit-note/",
        {"amount": "184.87", "message": "We billed the list price by mistake."},
    )
    assert ResolutionProposal.objects.get(case=case).state == "awaiting_customer"
    rep.post(
        f"/reconciliation/work/cases/{case.pk}/withdraw/", {"reason": WITHDRAW_REASON}
    )
    assert ResolutionProposal.objects.get(case=case).state == "withdrawn"


def test_customer_keeps_case_after_withdrawal(price_case, sales_rep, customer):
    offer_and_withdraw(signed_in(sales_rep), price_case)
    portal = signed_in(customer)

    page = portal.get(f"/reconciliation/portal/cases/{price_case.pk}/")
    home = portal.get("/reconciliation/portal/")

    assert page.status_code == 200
    text = page.content.decode()
    assert page.context["status"] == "We are looking into it"
    assert [p.state for p in page.context["proposals"]] == ["withdrawn"]
    assert "We withdrew this offer" in text
    assert "portal/proposals/" not in text
    assert WITHDRAW_REASON not in text
    assert home.context["cases"] == [(price_case, "We are looking into it")]


def test_other_customer_gets_404_on_withdrawn_case(
    price_case, sales_rep, other_customer
):
    offer_and_withdraw(signed_in(sales_rep), price_case)
    portal = signed_in(other_customer)

    page = portal.get(f"/reconciliation/portal/cases/{price_case.pk}/")
    home = portal.get("/reconciliation/portal/")

    assert page.status_code == 404
    assert home.context["cases"] == []


def test_case_never_offered_stays_out(price_case, customer):
    page = signed_in(customer).get(f"/reconciliation/portal/cases/{price_case.pk}/")

    assert page.status_code == 404


def test_offer_turned_down_internally_stays_out(
    price_case, sales_rep, manager, customer, settings
):
    """A manager's rejection withdraws a proposal the customer never saw."""
    settings.SALES_REP_CREDIT_LIMIT = "100.00"
    signed_in(sales_rep).post(
        f"/reconciliation/work/cases/{price_case.pk}/credit-note/",
        {"amount": "184.87", "message": "We billed the list price by mistake."},
    )
    approval = Approval.objects.get(case=price_case)
    signed_in(manager).post(
        f"/reconciliation/work/approvals/{approval.pk}/decide/",
        {"decision": "reject", "reason": "Too much for this customer."},
    )
    assert ResolutionProposal.objects.get(case=price_case).state == "withdrawn"

    page = signed_in(customer).get(f"/reconciliation/portal/cases/{price_case.pk}/")

    assert page.status_code == 404


def test_offered_at_decides_withdrawn_visibility(price_case, sales_rep, customer):
    """The stored offer time decides, not the audit trail.

    With its offer time cleared, the withdrawn proposal leaves the
    customer's pages although its withdrawal event stays. With the time
    back and the event deleted, it shows again.
    """
    offer_and_withdraw(signed_in(sales_rep), price_case)
    offered = ResolutionProposal.objects.get(case=price_case)
    assert offered.offered_at is not None
    assert AuditEvent.objects.filter(
        action="proposal.withdrawn", object_id=str(offered.pk)
    ).exists()
    portal = signed_in(customer)
    case_url = f"/reconciliation/portal/cases/{price_case.pk}/"
    assert portal.get(case_url).status_code == 200

    ResolutionProposal.objects.filter(pk=offered.pk).update(offered_at=None)

    assert portal.get(case_url).status_code == 404
    assert portal.get("/reconciliation/portal/").context["cases"] == []

    ResolutionProposal.objects.filter(pk=offered.pk).update(
        offered_at=offered.offered_at
    )
    AuditEvent.objects.filter(object_id=str(offered.pk)).filter(
        action="proposal.withdrawn"
    ).delete()

    assert portal.get(case_url).status_code == 200


def test_manager_rejection_leaves_offered_at_empty(
    price_case, sales_rep, manager, settings
):
    settings.SALES_REP_CREDIT_LIMIT = "100.00"
    signed_in(sales_rep).post(
        f"/reconciliation/work/cases/{price_case.pk}/credit-note/",
        {"amount": "184.87", "message": "We billed the list price by mistake."},
    )
    approval = Approval.objects.get(case=price_case)
    signed_in(manager).post(
        f"/reconciliation/work/approvals/{approval.pk}/decide/",
        {"decision": "reject", "reason": "Too much for this customer."},
    )

    proposal = ResolutionProposal.objects.get(case=price_case)
    assert proposal.state == "withdrawn"
    assert proposal.offered_at is None


def test_manager_approval_sets_offered_at(price_case, sales_rep, manager, settings):
    settings.SALES_REP_CREDIT_LIMIT = "100.00"
    signed_in(sales_rep).post(
        f"/reconciliation/work/cases/{price_case.pk}/credit-note/",
        {"amount": "184.87", "message": "We billed the list price by mistake."},
    )
    assert ResolutionProposal.objects.get(case=price_case).offered_at is None
    approval = Approval.objects.get(case=price_case)

    signed_in(manager).post(
        f"/reconciliation/work/approvals/{approval.pk}/decide/",
        {"decision": "approve", "reason": "Fine."},
    )

    proposal = ResolutionProposal.objects.get(case=price_case)
    assert proposal.state == "awaiting_customer"
    assert proposal.offered_at is not None
    assert proposal.offered_at >= proposal.proposed_at
