"""The pick and ship screen ships an accepted replacement; reports mark the order.

Carla (customer) reports 3 boxes of Chai damaged and accepts Sally's
replacement. Wanda (warehouse) ships the draft replacement from the pick
and ship screen, whose line checks leave the replacement's units out of
the over-shipment limit, as the service does. A reported case makes the
order an exception at once. Named people: carla (customer), sally (sales
rep), wanda (warehouse).
"""

from decimal import Decimal

import pytest
from django.test import Client

from accounts.models import Role
from conftest import make_person
from notifications.models import Notification
from portal.models import PickedQuantity
from reconciliation.cases import CaseError, assign_case
from reconciliation.matching import match_order
from reconciliation.models import (
    Discrepancy,
    ReconStatus,
    ResolutionCode,
    SalesOrder,
    Shipment,
)
from reconciliation.selectors import list_assignable_people
from reconciliation.tests.shipment_forms import with_form_token
from reconciliation.tests.test_reship import accepted, report
from reconciliation.tests.test_reship import order as order  # the fixture
from reconciliation.warehouse_work import LineQuantities, record_shipment

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.SALES_REP_CREDIT_LIMIT = "1000.00"


def _signed_in(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def _ship_form(shipment: Shipment, qty: str, *, ship: str = "1") -> dict[str, str]:
    fields = {"shipment": shipment.number, "picked_1": qty, "ship": ship}
    if ship == "1":
        fields["shipped_1"] = qty
    return with_form_token(fields)


def test_screen_ships_the_replacement(order, customer, sales_rep, warehouse):
    case, shipment = accepted(order, customer, sales_rep)

    response = _signed_in(warehouse).post(
        f"/reconciliation/work/orders/{order.number}/shipments/",
        _ship_form(shipment, "3"),
    )

    assert response.status_code == 302
    shipment.refresh_from_db()
    assert shipment.state == Shipment.State.SHIPPED
    case.refresh_from_db()
    assert case.state == Discrepancy.State.RESOLVED
    assert case.resolution_code == ResolutionCode.RESHIP


def test_screen_saves_the_replacement_picked(order, customer, sales_rep, warehouse):
    _case, shipment = accepted(order, customer, sales_rep)

    response = _signed_in(warehouse).post(
        f"/reconciliation/work/orders/{order.number}/shipments/",
        _ship_form(shipment, "3", ship="0"),
    )

    assert response.status_code == 302
    shipment.refresh_from_db()
    assert shipment.state == Shipment.State.DRAFT
    picked = PickedQuantity.objects.get(shipment_line__shipment=shipment)
    assert picked.qty_picked == Decimal(3)


def test_screen_rejects_units_past_the_replacement(
    order, customer, sales_rep, warehouse
):
    _case, shipment = accepted(order, customer, sales_rep)

    response = _signed_in(warehouse).post(
        f"/reconciliation/work/orders/{order.number}/shipments/",
        _ship_form(shipment, "4"),
    )

    assert response.status_code == 422
    assert response.context["rows"][0]["error"] == (
        "Line 1: 10 units ordered and 10 units already shipped, so shipping "
        "1 unit now makes 11 units, more than was ordered: nothing is left to "
        "ship on this line, so leave its Shipped box empty."
    )
    shipment.refresh_from_db()
    assert shipment.state == Shipment.State.DRAFT


def test_customer_report_makes_the_order_an_exception(order, customer):
    assert order.recon_status == ReconStatus.CLEAN

    report(customer, order, "1")

    order.refresh_from_db()
    assert order.recon_status == ReconStatus.EXCEPTION


def test_pass_keeps_a_reported_order_an_exception(order, customer):
    report(customer, order, "1")
    match_order(order)

    order.refresh_from_db()
    assert order.recon_status == ReconStatus.EXCEPTION
    assert SalesOrder.objects.filter(recon_status=ReconStatus.EXCEPTION).count() == 1


@pytest.mark.parametrize(
    ("typed", "choices"), [("2.5", "2 or 3"), ("0.5", "1"), ("1.25", "1 or 2")]
)
def test_shortage_of_a_fraction_is_rejected(order, warehouse, typed, choices):
    response = _signed_in(warehouse).post(
        f"/reconciliation/work/orders/{order.number}/shortage/",
        {"line": "1", "qty": typed, "note": "Broken in the rack"},
    )

    assert response.status_code == 422
    name = order.lines.get().product.name
    assert [str(message) for message in response.context["messages"]] == [
        f"Line 1: a shortage of {typed} is not a whole number, but {name} is "
        f"counted in units: enter {choices}."
    ]
    assert not Discrepancy.objects.filter(order=order).exists()


def test_warehouse_told_replacement_waits(order, customer, sales_rep, warehouse):
    _case, shipment = accepted(order, customer, sales_rep)

    notice = Notification.objects.get(kind=Notification.Kind.REPLACEMENT_TO_SHIP)
    assert notice.recipient == warehouse
    assert notice.message == (
        f"The customer accepted a replacement for order {order.number}: draft "
        f"shipment {shipment.number} waits in pick and ship."
    )
    assert notice.url == f"/reconciliation/work/orders/{order.number}/fulfilment/"
    page = _signed_in(warehouse).get(notice.url)
    assert f'data-testid="draft-{shipment.number}"' in page.content.decode()


def test_shipped_notice_names_carrier_apart(order, customer, sales_rep, warehouse):
    _case, shipment = accepted(order, customer, sales_rep)

    record_shipment(
        actor=warehouse,
        order=order,
        quantities={1: LineQuantities(picked=Decimal(3), shipped=Decimal(3))},
        shipment_number=shipment.number,
        carrier="DHL Express",
        tracking_no="JD01460001",
    )

    notice = Notification.objects.get(kind=Notification.Kind.REPLACEMENT_SHIPPED)
    assert notice.message == (
        f"Replacement shipment {shipment.number} for order {order.number} has "
        "shipped with DHL Express, tracking number JD01460001."
    )


def test_goods_case_page_names_its_choices(order, customer, sales_rep):
    case = report(customer, order, "3")

    page = _signed_in(sales_rep).get(f"/reconciliation/cases/{case.pk}/")

    text = page.content.decode()
    assert (
        'data-testid="decision-link">Decide this case: credit note or replacement<'
    ) in text


def test_order_rep_may_take_the_goods_case(order, customer, sales_rep):
    case = report(customer, order, "3")
    other_rep = make_person("otto", Role.SALES_REP)

    assignable = set(list_assignable_people(case))

    assert sales_rep in assignable
    assert other_rep not in assignable
    assigned = assign_case(case_id=case.pk, actor=sales_rep, assignee=sales_rep)
    assert assigned.assignee == sales_rep
    with pytest.raises(CaseError, match="otto cannot be assigned"):
        assign_case(case_id=case.pk, actor=sales_rep, assignee=other_rep)
