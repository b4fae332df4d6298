"""A replacement shipment (reship) resolves a damaged or missing goods case.

Carla (Alfreds Futterkiste) reports boxes of Chai damaged. Sally, the sales
rep, offers to ship them again; Carla accepts or rejects in the portal. On
acceptance a draft replacement shipment waits in the warehouse's pick and
ship list. When Wanda (warehouse) ships it, the case is resolved with the
``reship`` code, credited to Sally. The matching pass counts the
replacement's units against the units reported, not as an over-shipment,
and bills nothing again. Named people: carla (customer), sally (sales rep
on the order), wanda (warehouse).
"""

from decimal import Decimal

import pytest
from django.test import Client

from core.models import AuditEvent
from notifications.models import Notification
from portal.models import ProblemReport, ResolutionProposal
from portal.services import (
    ProblemInput,
    Repeat,
    reject_proposal,
    report_problem,
)
from reconciliation.credit_proposals import (
    propose_credit_note,
    withdraw_credit_proposal,
)
from reconciliation.matching import match_order
from reconciliation.models import (
    Discrepancy,
    ReplacementOffer,
    ResolutionCode,
    SalesOrder,
    SalesOrderLine,
    Shipment,
    ShipmentLine,
)
from reconciliation.reships import accept_reship, propose_reship
from reconciliation.tests.factories import (
    create_invoice,
    create_order,
    create_shipment,
    open_codes,
    report_damaged,
)
from reconciliation.warehouse_work import (
    LineQuantities,
    discard_draft_shipment,
    record_shipment,
)
from reconciliation.work import WorkError

pytestmark = pytest.mark.django_db

Proposal = ResolutionProposal.State
State = Discrepancy.State


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.SALES_REP_CREDIT_LIMIT = "1000.00"


@pytest.fixture
def order(customer_party, sales_rep) -> SalesOrder:
    order = create_order(
        lines=[("10", "36.36")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
        number="SO-RESHIP",
    )
    create_shipment(order=order, number="SH-RESHIP-1")
    create_invoice(order=order, number="INV-RESHIP-1")
    return order


def line_of(order: SalesOrder) -> ShipmentLine:
    return ShipmentLine.objects.get(shipment__number="SH-RESHIP-1")


def report(customer, order, qty: str, *, repeat: str = "") -> Discrepancy:
    return report_damaged(
        customer, order, qty, shipment_number="SH-RESHIP-1", repeat=repeat
    )


def offer(sales_rep, case: Discrepancy, qty: str = "3") -> ResolutionProposal:
    return propose_reship(
        actor=sales_rep,
        case_id=case.pk,
        qty=Decimal(qty),
        message="We send the crushed boxes again.",
    )


def ship(warehouse, order: SalesOrder, shipment: Shipment, qty: str) -> Shipment:
    return record_shipment(
        actor=warehouse,
        order=order,
        quantities={1: LineQuantities(picked=Decimal(qty), shipped=Decimal(qty))},
        shipment_number=shipment.number,
    )


def accepted(
    order, customer, sales_rep, qty: str = "3"
) -> tuple[Discrepancy, Shipment]:
    case = report(customer, order, "3")
    proposal = offer(sales_rep, case, qty)
    accept_reship(customer=customer, proposal_id=proposal.pk)
    return case, Shipment.objects.get(replaces_case=case)


# The offer


def test_offer_waits_for_the_customer(order, customer, sales_rep):
    case = report(customer, order, "3")

    proposal = offer(sales_rep, case, "2")

    assert proposal.state == Proposal.AWAITING_CUSTOMER
    assert proposal.resolution_code == ResolutionCode.RESHIP
    assert proposal.credit_note is None
    replacement = ReplacementOffer.objects.get(proposal=proposal)
    assert (replacement.qty, replacement.shipment_line) == (Decimal(2), line_of(order))
    assert replacement.shipment is None
    case.refresh_from_db()
    assert case.state == State.PROPOSED_RESOLUTION
    assert case.resolution_code == ResolutionCode.RESHIP
    event = AuditEvent.objects.get(action="reship.proposed")
    assert event.after["qty"] == "2"
    assert event.after["case_id"] == case.pk


@pytest.mark.parametrize(
    ("qty", "words"),
    [
        ("0", "Replacement quantity 0 is invalid"),
        ("-1", "Replacement quantity -1 is invalid"),
        ("4", "Replacement quantity 4 is more than the 3 units case"),
        ("1.5", "Replacement quantity 1.5 is not a whole number"),
    ],
)
def test_bad_quantity_names_the_value(order, customer, sales_rep, qty, words):
    case = report(customer, order, "3")

    with pytest.raises(WorkError, match=words):
        offer(sales_rep, case, qty)

    assert not ResolutionProposal.objects.filter(case=case).exists()
    assert not ReplacementOffer.objects.exists()
    case.refresh_from_db()
    assert case.state != State.PROPOSED_RESOLUTION


def test_offer_needs_a_message(order, customer, sales_rep):
    case = report(customer, order, "3")

    with pytest.raises(WorkError, match="Write the customer a message"):
        propose_reship(actor=sales_rep, case_id=case.pk, qty=Decimal(1), message=" ")

    assert not ResolutionProposal.objects.filter(case=case).exists()


def test_only_goods_cases_ship_again(order, customer, sales_rep):
    problem = report_problem(
        customer=customer,
        order=order,
        problem=ProblemInput(
            kind=ProblemReport.Kind.WRONG_PRICE,
            message="Too dear",
            invoice=order.invoices.get(),
        ),
        evidence=[],
    )

    with pytest.raises(WorkError, match="only damaged or missing goods"):
        offer(sales_rep, problem.case, "1")


def test_second_offer_names_the_waiting_one(order, customer, sales_rep):
    case = report(customer, order, "3")
    first = offer(sales_rep, case, "1")

    with pytest.raises(WorkError, match=f"proposal {first.pk}"):
        offer(sales_rep, case, "1")
    with pytest.raises(WorkError, match=f"proposal {first.pk}"):
        propose_credit_note(
            actor=sales_rep, case_id=case.pk, amount=Decimal(1), message="Credit"
        )

    assert ResolutionProposal.objects.filter(case=case).count() == 1


def test_decision_screen_offers_the_reported_units(order, customer, sales_rep):
    case = report(customer, order, "3")
    client = Client()
    client.force_login(sales_rep)

    page = client.get(f"/reconciliation/work/cases/{case.pk}/").content.decode()

    assert 'data-testid="reship-form"' in page
    assert "Units to ship again (at most 3 units)" in page
    response = client.post(
        f"/reconciliation/work/cases/{case.pk}/reship/",
        {"qty": "2", "message": "Two boxes again"},
    )
    assert response.status_code == 302
    assert ReplacementOffer.objects.get().qty == Decimal(2)


def test_screen_rejects_a_typed_quantity_by_name(order, customer, sales_rep):
    case = report(customer, order, "3")
    client = Client()
    client.force_login(sales_rep)

    response = client.post(
        f"/reconciliation/work/cases/{case.pk}/reship/",
        {"qty": "three", "message": "Boxes again"},
        follow=True,
    )

    assert "three" in response.content.decode()
    assert not ReplacementOffer.objects.exists()


def test_rep_withdraws_the_offer(order, customer, sales_rep):
    case = report(customer, order, "3")
    proposal = offer(sales_rep, case)

    withdraw_credit_proposal(actor=sales_rep, case_id=case.pk, reason="Out of stock")

    proposal.refresh_from_db()
    case.refresh_from_db()
    assert proposal.state == Proposal.WITHDRAWN
    assert case.state == State.IN_PROGRESS
    assert AuditEvent.objects.filter(action="proposal.withdrawn").exists()
    with pytest.raises(WorkError, match="is withdrawn"):
        accept_reship(customer=customer, proposal_id=proposal.pk)
    assert not Shipment.objects.filter(replaces_case=case).exists()


# The customer's decision


def test_acceptance_drafts_the_replacement(order, customer, sales_rep, warehouse):
    case, shipment = accepted(order, customer, sales_rep, "2")

    assert shipment.state == Shipment.State.DRAFT
    assert (shipment.replacement_line, shipment.replacement_qty) == (
        SalesOrderLine.objects.get(order=order),
        Decimal(2),
    )
    [row] = shipment.lines.all()
    assert row.qty_shipped == Decimal(2)
    assert ReplacementOffer.objects.get().shipment == shipment
    case.refresh_from_db()
    assert case.state == State.WAITING_INTERNAL
    assert case.resolution_code == ResolutionCode.RESHIP
    proposal = ResolutionProposal.objects.get(case=case)
    assert (proposal.state, proposal.decided_by) == (Proposal.ACCEPTED, customer)
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"proposal.accepted", "reship.accepted"} <= actions
    # The draft is listed in the warehouse's pick and ship list.
    client = Client()
    client.force_login(warehouse)
    page = client.get(
        f"/reconciliation/work/orders/{order.number}/fulfilment/"
    ).content.decode()
    assert f'data-testid="draft-{shipment.number}"' in page


def test_waiting_replacement_blocks_a_credit_note(order, customer, sales_rep):
    case, shipment = accepted(order, customer, sales_rep)

    with pytest.raises(WorkError, match=f"replacement shipment {shipment.number}"):
        propose_credit_note(
            actor=sales_rep, case_id=case.pk, amount=Decimal(1), message="Credit"
        )


def test_rejection_sends_the_case_back(order, customer, sales_rep):
    case = report(customer, order, "3")
    proposal = offer(sales_rep, case)

    reject_proposal(customer=customer, proposal_id=proposal.pk, reason="Want money")

    proposal.refresh_from_db()
    case.refresh_from_db()
    assert proposal.state == Proposal.REJECTED
    assert case.state == State.IN_PROGRESS
    assert case.resolution_code == ""
    assert not Shipment.objects.filter(replaces_case=case).exists()
    assert AuditEvent.objects.filter(action="proposal.rejected").exists()


def test_more_units_withdraw_the_offer(order, customer, sales_rep):
    case = report(customer, order, "3")
    proposal = offer(sales_rep, case)

    report(customer, order, "2", repeat=Repeat.MORE)

    proposal.refresh_from_db()
    assert proposal.state == Proposal.WITHDRAWN
    assert proposal.withdrawn_by_report is not None
    with pytest.raises(WorkError, match="more damaged units were reported"):
        accept_reship(customer=customer, proposal_id=proposal.pk)
    assert not Shipment.objects.filter(replaces_case=case).exists()


# Shipping the replacement


def test_shipping_resolves_the_case(order, customer, sales_rep, warehouse):
    case, shipment = accepted(order, customer, sales_rep)

    ship(warehouse, order, shipment, "3")

    case.refresh_from_db()
    assert case.state == State.RESOLVED
    assert case.resolution_code == ResolutionCode.RESHIP
    assert case.resolved_by == sales_rep
    event = AuditEvent.objects.get(action="reship.shipped")
    assert (event.after["offered"], event.after["shipped"]) == ("3.0000", "3.0000")
    # The replacement is neither shipped again for the order nor to invoice.
    line = SalesOrderLine.objects.get(order=order)
    assert line.qty_shipped == Decimal(10)
    order.refresh_from_db()
    assert order.invoice_status == SalesOrder.InvoiceStatus.INVOICED
    assert "OVER_SHIP" not in open_codes(order.company)
    assert "UNINVOICED_DELIVERY" not in open_codes(order.company)


def test_customer_told_replacement_shipped(order, customer, sales_rep, warehouse):
    case, shipment = accepted(order, customer, sales_rep)

    ship(warehouse, order, shipment, "3")

    notice = Notification.objects.get(kind=Notification.Kind.REPLACEMENT_SHIPPED)
    assert notice.recipient == customer
    assert notice.message == (
        f"Replacement shipment {shipment.number} for order {order.number} has shipped."
    )
    assert notice.url == f"/reconciliation/portal/cases/{case.pk}/"
    assert not Notification.objects.filter(
        kind=Notification.Kind.REPLACEMENT_SHIPPED
    ).exclude(recipient=customer)


def test_pass_keeps_the_resolved_case(order, customer, sales_rep, warehouse):
    case, shipment = accepted(order, customer, sales_rep)
    ship(warehouse, order, shipment, "3")

    match_order(order)
    match_order(order)

    case.refresh_from_db()
    assert case.state == State.RESOLVED
    assert case.reopen_count == 0
    # The invoice is unpaid, which is the only case left open.
    assert open_codes(order.company) == ["MISSING_PAYMENT"]


def test_shipping_fewer_sends_the_case_back(order, customer, sales_rep, warehouse):
    case, shipment = accepted(order, customer, sales_rep)

    ship(warehouse, order, shipment, "1")

    case.refresh_from_db()
    assert case.state == State.IN_PROGRESS
    assert "shipped 1 unit of the 3 units offered" in case.resolution_note


def test_warehouse_cannot_ship_over_the_replacement(
    order, customer, sales_rep, warehouse
):
    _case, shipment = accepted(order, customer, sales_rep)

    with pytest.raises(WorkError, match="already shipped"):
        ship(warehouse, order, shipment, "4")

    shipment.refresh_from_db()
    assert shipment.state == Shipment.State.DRAFT


def test_units_over_the_replacement_are_an_over_shipment(
    order, customer, sales_rep, warehouse
):
    _case, shipment = accepted(order, customer, sales_rep)
    # Four units left in the replacement box, one more than offered: the
    # form refuses that, so the row is written as an import would.
    ShipmentLine.objects.filter(shipment=shipment).update(qty_shipped=Decimal(4))
    Shipment.objects.filter(pk=shipment.pk).update(state=Shipment.State.SHIPPED)

    match_order(order)

    over = Discrepancy.objects.get(order=order, code="OVER_SHIP")
    assert (over.expected_value, over.actual_value) == (Decimal(10), Decimal(11))
    assert "1 unit too many" in over.explanation


def test_replacement_is_not_a_late_shipment(order, customer, sales_rep, warehouse):
    SalesOrderLine.objects.filter(order=order).update(promised_date="2020-01-01")
    _case, shipment = accepted(order, customer, sales_rep)

    ship(warehouse, order, shipment, "3")
    match_order(order)

    assert not Discrepancy.objects.filter(shipment=shipment, code="LATE_SHIP").exists()


def test_more_units_after_acceptance_keep_the_case_open(
    order, customer, sales_rep, warehouse
):
    case, shipment = accepted(order, customer, sales_rep)
    report(customer, order, "2", repeat=Repeat.MORE)

    ship(warehouse, order, shipment, "3")

    case.refresh_from_db()
    assert case.state == State.IN_PROGRESS
    assert "2 units more were reported" in case.resolution_note
    # The rest can be shipped again too.
    with pytest.raises(WorkError, match="Replacement quantity 3 is more than the 2"):
        offer(sales_rep, case, "3")
    second = offer(sales_rep, case, "2")
    assert second.state == Proposal.AWAITING_CUSTOMER


# The customer's page


def test_portal_shows_the_replacement_only(order, customer, sales_rep, warehouse):
    case, shipment = accepted(order, customer, sales_rep)
    ship(warehouse, order, shipment, "3")
    client = Client()
    client.force_login(customer)

    page = client.get(f"/reconciliation/portal/cases/{case.pk}/").content.decode()

    product = shipment.replacement_line.product.name
    assert f"Replacement shipment of 3 × {product}" in page
    assert f"Replacement shipment {shipment.number}: shipped on" in page
    assert "Nothing is invoiced for them." in page
    # The internal resolution note is not shown to the customer.
    case.refresh_from_db()
    assert case.resolution_note
    assert case.resolution_note not in page


def test_discarded_replacement_returns_the_case(order, customer, sales_rep, warehouse):
    case, shipment = accepted(order, customer, sales_rep)

    discard_draft_shipment(
        actor=warehouse, order=order, shipment_number=shipment.number
    )

    case.refresh_from_db()
    assert case.state == State.IN_PROGRESS
    assert f"discarded replacement shipment {shipment.number}" in case.resolution_note
    assert AuditEvent.objects.filter(action="reship.discarded").exists()
    # Its units are not replaced, so all 3 can be offered again.
    assert offer(sales_rep, case, "3").state == Proposal.AWAITING_CUSTOMER
