"""Inputs of the work and portal screens that used to pass without a word.

Named people: wanda (warehouse), sally (sales rep on the order), fiona
(finance clerk), mona (manager) and carla (customer of the order's company).
"""

from decimal import Decimal

import pytest

from accounts.models import Role
from core.models import AuditEvent
from core.testing import messages_of, signed_in
from portal.models import PickedQuantity, ResolutionProposal
from reconciliation.models import Approval, Discrepancy, Shipment
from reconciliation.tests.conftest import make_case
from reconciliation.tests.factories import (
    create_invoice,
    create_order,
    create_payment,
    create_shipment,
)
from reconciliation.tests.shipment_forms import with_form_token

pytestmark = pytest.mark.django_db


def line_errors_of(response) -> dict[int, str]:
    """Return the messages shown beside the lines of a rejected pick and ship form."""
    assert response.status_code == 422
    return dict(response.context["line_errors"])


@pytest.fixture
def order(customer_party, sales_rep):
    return create_order(
        lines=[("70", "36.36")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )


def save_picked(client, order, picked: str):
    return client.post(
        f"/reconciliation/work/orders/{order.number}/shipments/",
        with_form_token({"picked_1": picked, "shipped_1": "", "ship": "0"}),
        follow=True,
    )


# Approvals


@pytest.fixture
def pending_approval(short_payment_case, sales_rep, settings) -> Approval:
    settings.SALES_REP_CREDIT_LIMIT = "50.00"
    signed_in(sales_rep).post(
        f"/reconciliation/work/cases/{short_payment_case.pk}/credit-note/",
        {"amount": "80.00", "message": "For the short payment"},
    )
    return Approval.objects.get()


@pytest.mark.parametrize(
    "url",
    [
        "/reconciliation/work/approvals/{pk}/decide/",
        "/reconciliation/approvals/{pk}/decide/",
    ],
    ids=["approvals-screen", "case-page"],
)
def test_unknown_decision_is_rejected(pending_approval, manager, url):
    response = signed_in(manager).post(
        url.format(pk=pending_approval.pk),
        {"decision": "maybe", "reason": "Not sure"},
        follow=True,
    )

    assert messages_of(response) == [
        "Decision 'maybe' is invalid: choose approve or reject."
    ]
    pending_approval.refresh_from_db()
    assert pending_approval.decision == Approval.Decision.PENDING
    proposal = ResolutionProposal.objects.get()
    assert proposal.state == ResolutionProposal.State.AWAITING_APPROVAL


# Pick and ship


def test_picked_above_ordered_is_rejected(order, warehouse):
    response = save_picked(signed_in(warehouse), order, "700")

    assert line_errors_of(response) == {
        1: "Line 1: 70 units ordered and 0 units already shipped, so picking 700 "
        "units now makes 700 units, more than was ordered: pick at most 70 units."
    }
    assert not Shipment.objects.exists()
    assert not PickedQuantity.objects.exists()


@pytest.mark.parametrize("ship", ["0", "1"])
def test_half_a_unit_is_rejected(order, warehouse, ship):
    response = signed_in(warehouse).post(
        f"/reconciliation/work/orders/{order.number}/shipments/",
        with_form_token(
            {"picked_1": "0.5", "shipped_1": "0.5" if ship == "1" else "", "ship": ship}
        ),
        follow=True,
    )

    product = order.lines.get().product
    assert line_errors_of(response) == {
        1: f"Line 1: picked 0.5 is not a whole number, but {product.name} is "
        "counted in units: enter a whole number."
    }
    assert not Shipment.objects.exists()


def test_drafts_list_shows_picked(order, warehouse):
    client = signed_in(warehouse)
    save_picked(client, order, "12")

    page = client.get(f"/reconciliation/work/orders/{order.number}/fulfilment/")

    html = page.content.decode()
    assert f'data-testid="draft-{order.number}-S1"' in html
    assert (
        '<td class="num" data-label="Picked" data-testid="draft-picked">12</td>'
    ) in html


def test_draft_is_discarded(order, warehouse):
    client = signed_in(warehouse)
    save_picked(client, order, "12")
    url = f"/reconciliation/work/orders/{order.number}/drafts/discard/"

    response = client.post(url, {"shipment": f"{order.number}-S1"}, follow=True)

    assert messages_of(response) == [
        f"Discarded draft shipment {order.number}-S1: nothing of it ships."
    ]
    shipment = Shipment.objects.get()
    assert shipment.state == Shipment.State.CANCELLED
    event = AuditEvent.objects.get(action="shipment.discarded")
    assert event.after == {"state": "cancelled", "order": order.number}
    assert "draft-picked" not in response.content.decode()


def test_shipped_shipment_is_not_discarded(order, warehouse):
    shipment = create_shipment(order=order)
    url = f"/reconciliation/work/orders/{order.number}/drafts/discard/"

    response = signed_in(warehouse).post(
        url, {"shipment": shipment.number}, follow=True
    )

    assert messages_of(response) == [
        f"Shipment {shipment.number} is shipped, not a draft: only a draft can "
        "be discarded."
    ]
    shipment.refresh_from_db()
    assert shipment.state == Shipment.State.SHIPPED


def test_not_shipped_case_links_pick_and_ship(order, warehouse, sales_rep):
    case = make_case(
        order, code="NOT_SHIPPED", owner_role=Role.WAREHOUSE, difference=None
    )
    link = f'href="/reconciliation/work/orders/{order.number}/fulfilment/"'

    warehouse_page = signed_in(warehouse).get(f"/reconciliation/cases/{case.pk}/")
    rep_page = signed_in(sales_rep).get(f"/reconciliation/cases/{case.pk}/")

    assert link in warehouse_page.content.decode()
    assert rep_page.status_code == 200
    assert link not in rep_page.content.decode()


# Messages


def test_negative_credit_says_positive(short_payment_case, sales_rep):
    response = signed_in(sales_rep).post(
        f"/reconciliation/work/cases/{short_payment_case.pk}/credit-note/",
        {"amount": "-5.00", "message": "Sorry"},
        follow=True,
    )

    assert messages_of(response) == [
        "Credit note amount -5.00 is invalid: it must be positive, so enter the "
        "amount to credit the customer, more than 0."
    ]


# Portal


def report_damage(
    client, order, line, quantity: str, message: str = "Dent", repeat: str = ""
):
    form = {"kind": "damaged", "line": line.pk, "quantity": quantity}
    return client.post(
        f"/reconciliation/portal/orders/{order.number}/problem/",
        {**form, "message": message, "repeat": repeat},
    )


def test_damage_reports_add_up(order, customer):
    shipment = create_shipment(order=order)
    line = shipment.lines.get()
    client = signed_in(customer)

    report_damage(client, order, line, "1")
    report_damage(client, order, line, "2", "Two more dents", repeat="more")

    case = Discrepancy.objects.get(code="DAMAGED")
    assert (case.expected_value, case.actual_value, case.difference) == (
        Decimal(0),
        Decimal(3),
        Decimal(3),
    )
    assert case.explanation.endswith(
        "With the earlier reports, 3 units of this shipment line are damaged."
    )
    event = AuditEvent.objects.get(action="case.report_added")
    assert event.before["actual_value"] == "1.0000"
    assert event.after["actual_value"] == "3.0000"


def test_credit_balance_reads_as_owed_to_customer(order, customer):
    create_shipment(order=order)
    invoice = create_invoice(order=order)
    # The invoice is 2,545.20 USD; the customer paid 54.80 USD more.
    create_payment(invoice=invoice, amount="2600.00")

    page = signed_in(customer).get("/reconciliation/portal/statement/")

    (statement,) = page.context["statements"]
    html = page.content.decode()
    assert statement.balance < 0
    assert "Credit balance: we owe you" in html
    assert "You owe" not in html
    assert statement.balance == Decimal("-54.80")
    assert '<th class="num" data-testid="balance">54.80 USD</th>' in html
