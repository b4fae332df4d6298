"""The pick and ship form sent twice records one shipment.

Two partial shipments of the same quantities can be real, so a duplicate
window would reject a true second one. Each load of the page carries a new
one-time token instead: the same form sent again returns the first
shipment, and a form from a second load records a second one. A form
without a token is rejected, because nothing could tell its resend from a
new shipment. The race
test starts its writers together on a barrier, each on its own database
connection: the order's row lock makes the later ones wait for the first
commit and then find its shipment.
"""

import re
from decimal import Decimal

import pytest
from django.test import Client

from core.models import AuditEvent
from core.testing import messages_of, signed_in
from portal.models import PickedQuantity
from reconciliation.models import Shipment, ShipmentLine
from reconciliation.tests.factories import create_order
from social.tests.test_duplicate_posts import run_together


def ship_url(order) -> str:
    return f"/reconciliation/work/orders/{order.number}/shipments/"


def page_url(order) -> str:
    return f"/reconciliation/work/orders/{order.number}/fulfilment/"


@pytest.fixture
def order(customer_party, sales_rep):
    return create_order(
        lines=[("10", "4.00")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )


def form_token(client: Client, order) -> str:
    html = client.get(page_url(order)).content.decode()
    found = re.search(r'name="form_token" value="([^"]+)"', html)
    assert found is not None, "the pick and ship form carries no token"
    return found.group(1)


def shipped(order) -> list[tuple[str, str, Decimal]]:
    rows = ShipmentLine.objects.filter(shipment__order=order).order_by("pk")
    return [(row.shipment.number, row.shipment.state, row.qty_shipped) for row in rows]


@pytest.mark.django_db
def test_each_load_has_a_new_token(order, warehouse):
    client = signed_in(warehouse)

    assert form_token(client, order) != form_token(client, order)


@pytest.mark.django_db
def test_same_form_twice_ships_once(order, warehouse):
    client = signed_in(warehouse)
    form = {"shipped_1": "1", "ship": "1", "form_token": form_token(client, order)}

    answers = [client.post(ship_url(order), form) for _ in range(2)]

    assert [answer.status_code for answer in answers] == [302, 302]
    assert shipped(order) == [(f"{order.number}-S1", "shipped", Decimal(1))]
    assert AuditEvent.objects.filter(action="shipment.recorded").count() == 1


@pytest.mark.django_db
def test_second_load_ships_again(order, warehouse):
    client = signed_in(warehouse)

    for _ in range(2):
        form = {"shipped_1": "1", "ship": "1", "form_token": form_token(client, order)}
        assert client.post(ship_url(order), form).status_code == 302

    assert shipped(order) == [
        (f"{order.number}-S1", "shipped", Decimal(1)),
        (f"{order.number}-S2", "shipped", Decimal(1)),
    ]


@pytest.mark.django_db
def test_save_picked_twice_makes_one_draft(order, warehouse):
    client = signed_in(warehouse)
    form = {"picked_1": "4", "ship": "0", "form_token": form_token(client, order)}

    for _ in range(2):
        assert client.post(ship_url(order), form).status_code == 302

    assert list(
        Shipment.objects.filter(order=order).values_list("number", "state")
    ) == [(f"{order.number}-S1", "draft")]
    assert PickedQuantity.objects.get().qty_picked == Decimal(4)


@pytest.mark.django_db
def test_shipping_a_draft_twice_is_no_error(order, warehouse):
    client = signed_in(warehouse)
    draft = {"picked_1": "4", "ship": "0", "form_token": form_token(client, order)}
    client.post(ship_url(order), draft)
    form = {
        "shipped_1": "4",
        "shipment": f"{order.number}-S1",
        "ship": "1",
        "form_token": form_token(client, order),
    }

    answers = [client.post(ship_url(order), form) for _ in range(2)]

    assert [answer.status_code for answer in answers] == [302, 302]
    assert messages_of(client.get(answers[1]["Location"])) == [
        f"Recorded the shipment of order {order.number}.",
        f"Recorded the shipment of order {order.number}.",
    ]
    assert shipped(order) == [(f"{order.number}-S1", "shipped", Decimal(4))]


@pytest.mark.django_db
def test_forged_token_is_rejected(order, warehouse):
    client = signed_in(warehouse)
    form = {"shipped_1": "1", "ship": "1", "form_token": "S1 or 1=1"}

    response = client.post(ship_url(order), form)

    assert response.status_code == 422
    assert messages_of(response) == [
        "The form token 'S1 or 1=1' is not one this page made: reload the page "
        "and enter the quantities again."
    ]
    assert not Shipment.objects.filter(order=order).exists()


@pytest.mark.django_db
def test_form_without_token_is_rejected(order, warehouse):
    # An old page or a script that sends no token would record a shipment
    # on every resend, so the screen records nothing and offers a new form.
    client = signed_in(warehouse)
    form = {"shipped_1": "1", "carrier": "DHL", "ship": "1"}

    answers = [client.post(ship_url(order), form) for _ in range(2)]

    assert [answer.status_code for answer in answers] == [422, 422]
    assert messages_of(answers[0]) == [
        "Nothing was recorded: this pick and ship form is missing its form token, "
        "so it may come from a page opened before an update. The quantities you "
        "typed are kept on a new form below: check them and send it again."
    ]
    assert shipped(order) == []
    assert not AuditEvent.objects.filter(action="shipment.recorded").exists()
    html = answers[0].content.decode()
    assert 'name="shipped_1" value="1"' in html
    assert 'name="carrier" value="DHL"' in html


@pytest.mark.django_db
def test_rejected_form_carries_new_token(order, warehouse):
    client = signed_in(warehouse)
    rejected = client.post(ship_url(order), {"shipped_1": "1", "ship": "1"})
    found = re.search(r'name="form_token" value="([^"]+)"', rejected.content.decode())
    assert found is not None

    resent = {"shipped_1": "1", "ship": "1", "form_token": found.group(1)}
    response = client.post(ship_url(order), resent)

    assert response.status_code == 302
    assert shipped(order) == [(f"{order.number}-S1", "shipped", Decimal(1))]


@pytest.mark.django_db
def test_empty_token_is_rejected(order, warehouse):
    form = {"shipped_1": "1", "ship": "1", "form_token": ""}

    response = signed_in(warehouse).post(ship_url(order), form)

    assert response.status_code == 422
    assert not Shipment.objects.filter(order=order).exists()


@pytest.mark.django_db(transaction=True)
def test_parallel_drafts_make_one(order, warehouse):
    token = form_token(signed_in(warehouse), order)
    form = {"picked_1": "1", "ship": "0", "form_token": token}

    def submit() -> int:
        return signed_in(warehouse).post(ship_url(order), form).status_code

    statuses = run_together(5, submit)

    assert statuses == [302] * 5
    assert Shipment.objects.filter(order=order).count() == 1
