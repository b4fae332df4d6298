"""A rejected work form keeps what was typed and names every fault at once.

Through the views, as the people who use them: wanda (warehouse) picks and
ships and reports shortages, fiona (finance clerk) applies cash, sally is
the sales rep of the orders and carla their customer.
"""

from decimal import Decimal

import pytest

from core.models import AuditEvent
from core.testing import messages_of, signed_in
from portal.models import PickedQuantity
from reconciliation.models import (
    ACTIVE_CASE_STATES,
    Allocation,
    Discrepancy,
    Shipment,
)
from reconciliation.tests.factories import (
    PaymentFactory,
    create_invoice,
    create_order,
    create_shipment,
)
from reconciliation.tests.shipment_forms import with_form_token

pytestmark = pytest.mark.django_db


def ship_url(order) -> str:
    return f"/reconciliation/work/orders/{order.number}/shipments/"


def shortage_url(order) -> str:
    return f"/reconciliation/work/orders/{order.number}/shortage/"


@pytest.fixture
def order(customer_party, sales_rep):
    """Three lines: 10 units, 20 units and 5 kg."""
    return create_order(
        lines=[("10", "4.00"), ("20", "2.50"), ("5", "12.00", "kg")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )


@pytest.fixture
def media_root(settings, tmp_path):
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


def nothing_written(order) -> bool:
    return (
        not Shipment.objects.filter(order=order).exists()
        and not PickedQuantity.objects.exists()
        and not AuditEvent.objects.filter(action="shipment.recorded").exists()
    )


# Pick and ship: every line's error, every typed value kept


def test_rejected_ship_form_keeps_every_value(order, warehouse):
    form = {
        "picked_1": "12",
        "shipped_1": "12",
        "picked_2": "ten",
        "shipped_2": "",
        "picked_3": "2.5",
        "shipped_3": "2.5",
        "carrier": "DHL Freight",
        "tracking_no": "JD0146 0000 1234",
        "ship": "1",
    }

    response = signed_in(warehouse).post(ship_url(order), with_form_token(form))

    assert response.status_code == 422
    assert messages_of(response) == [
        f"Nothing was saved: check lines 1 and 2 of order {order.number}. Each "
        "message is beside its line, and what you typed is kept."
    ]
    errors = response.context["line_errors"]
    assert set(errors) == {1, 2}
    assert errors[1].startswith("Line 1: 10 units ordered and 0 units already")
    assert errors[2] == (
        "Line 2 picked 'ten' is not a number: enter digits such as 12.5."
    )
    html = response.content.decode()
    for name, value in form.items():
        if name != "ship":
            assert f'name="{name}" value="{value}"' in html, name
    assert 'data-testid="line-error-1"' in html
    assert 'data-testid="line-error-2"' in html
    assert 'data-testid="line-error-3"' not in html
    assert nothing_written(order)


def test_rejected_draft_keeps_its_choice(order, warehouse):
    draft = create_shipment(
        order=order, quantities={1: "0"}, state=Shipment.State.DRAFT, number="D-1"
    )

    response = signed_in(warehouse).post(
        ship_url(order),
        with_form_token(
            {"picked_1": "1,5", "shipped_1": "", "shipment": draft.number, "ship": "0"}
        ),
    )

    assert response.status_code == 422
    assert f'<option value="{draft.number}" selected>' in response.content.decode()


# Picked left empty reads as picked what ships


def test_empty_picked_reads_as_shipped(order, warehouse):
    response = signed_in(warehouse).post(
        ship_url(order), with_form_token({"shipped_1": "4", "ship": "1"}), follow=True
    )

    assert messages_of(response) == [f"Recorded the shipment of order {order.number}."]
    pick = PickedQuantity.objects.get()
    assert (pick.qty_picked, pick.shipment_line.qty_shipped) == (
        Decimal(4),
        Decimal(4),
    )


def test_empty_picked_keeps_other_checks(order, warehouse):
    response = signed_in(warehouse).post(
        ship_url(order),
        with_form_token({"shipped_1": "11", "shipped_2": "1.5", "ship": "1"}),
    )

    errors = response.context["line_errors"]
    assert errors[1] == (
        "Line 1: 10 units ordered and 0 units already shipped, so shipping 11 "
        "units now makes 11 units, more than was ordered: ship at most 10 units."
    )
    product = order.lines.get(line_no=2).product
    assert errors[2] == (
        f"Line 2: picked 1.5 is not a whole number, but {product.name} is "
        "counted in units: enter a whole number."
    )
    assert nothing_written(order)


def test_shipped_over_picked_still_rejected(order, warehouse):
    response = signed_in(warehouse).post(
        ship_url(order),
        with_form_token({"picked_1": "3", "shipped_1": "4", "ship": "1"}),
    )

    assert response.context["line_errors"] == {
        1: "Line 1: shipped 4 is more than the 3 picked; pick the goods before "
        "shipping them."
    }
    assert nothing_written(order)


def test_hint_explains_empty_picked(order, warehouse):
    page = signed_in(warehouse).get(
        f"/reconciliation/work/orders/{order.number}/fulfilment/"
    )

    assert "Leave Picked empty when you pick what ships" in page.content.decode()


# A decimal comma on a product counted in units: both faults at once


def test_comma_fraction_of_unit_names_both(order, warehouse):
    product = order.lines.get(line_no=1).product

    response = signed_in(warehouse).post(
        ship_url(order),
        with_form_token({"picked_1": "1,5", "shipped_1": "", "ship": "0"}),
    )

    assert response.context["line_errors"] == {
        1: f"Line 1 picked '1,5': write numbers with a point; {product.name} "
        "ships in whole units, so enter 1 or 2."
    }
    assert nothing_written(order)


def test_comma_whole_number_asks_for_point(order, warehouse):
    response = signed_in(warehouse).post(
        ship_url(order),
        with_form_token({"picked_1": "2,0", "shipped_1": "", "ship": "0"}),
    )

    assert response.context["line_errors"] == {
        1: "Line 1 picked '2,0' uses a decimal comma: write it with a point, as 2."
    }


def test_comma_in_kilograms_asks_for_point(order, warehouse):
    response = signed_in(warehouse).post(
        ship_url(order),
        with_form_token({"picked_3": "1,5", "shipped_3": "", "ship": "0"}),
    )

    assert response.context["line_errors"] == {
        3: "Line 3 picked '1,5' uses a decimal comma: write it with a point, as 1.5."
    }


# Reporting a shortage again


def report(client, order, qty: str, note: str = "Stock-out at the shelf"):
    return client.post(
        shortage_url(order), {"line": "1", "qty": qty, "note": note}, follow=True
    )


def test_same_shortage_twice_writes_nothing(order, warehouse):
    client = signed_in(warehouse)
    report(client, order, "3")
    case = Discrepancy.objects.get(order=order)
    events = AuditEvent.objects.count()

    again = report(client, order, "3")

    assert again.status_code == 200
    [message] = messages_of(again)
    assert message.startswith(
        "Line 1: 3 units short was already reported by Wanda Tester on "
    )
    assert message.endswith(f"(case {case.pk}), so nothing new was written.")
    assert 'name="qty" inputmode="decimal" size="8" value="3"' in (
        again.content.decode()
    )
    assert AuditEvent.objects.count() == events
    case.refresh_from_db()
    assert case.difference == Decimal(-3)


def test_smaller_second_shortage_writes_nothing(order, warehouse):
    client = signed_in(warehouse)
    report(client, order, "3")
    case = Discrepancy.objects.get(order=order)

    smaller = report(client, order, "2")

    [message] = messages_of(smaller)
    assert message.endswith(
        f"Enter the line's whole shortage: more than 3 units to report more, "
        f"or ask the sales rep on case {case.pk} to correct a smaller one."
    )
    case.refresh_from_db()
    assert case.difference == Decimal(-3)


def test_larger_second_shortage_raises_total(order, warehouse):
    client = signed_in(warehouse)
    report(client, order, "3")

    larger = client.post(
        shortage_url(order),
        {"line": "1", "qty": "5", "note": "Two more broken"},
        follow=True,
    )

    case = Discrepancy.objects.get(order=order)
    assert messages_of(larger) == [
        f"Reported line 1 of order {order.number} as 5 units short (case "
        f"{case.pk}); the sales rep decides next."
    ]
    assert case.difference == Decimal(-5)
    assert AuditEvent.objects.filter(action="case.report_added").count() == 1


def test_rejected_shortage_keeps_typed_text(order, warehouse):
    response = signed_in(warehouse).post(
        shortage_url(order), {"line": "2", "qty": "1,5", "note": "Dropped a box"}
    )

    assert response.status_code == 422
    html = response.content.decode()
    assert '<option value="2" selected>' in html
    assert 'value="1,5"' in html
    assert 'value="Dropped a box"' in html
    assert not Discrepancy.objects.exists()


# Cash application: what stays open after the payment is spent


@pytest.fixture
def invoice(customer_party, sales_rep):
    shipped = create_order(
        lines=[("10", "36.36")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    create_shipment(order=shipped)
    return create_invoice(order=shipped)


@pytest.fixture
def payment_less_bank_charge(invoice):
    """The customer paid the invoice's 363.60 less a bank charge of 10.00."""
    return PaymentFactory.create(
        company=invoice.company,
        party=invoice.customer,
        amount=Decimal("353.60"),
        amount_unallocated=Decimal("353.60"),
        reference=invoice.number,
    )


def test_spent_payment_links_open_case(clerk, invoice, payment_less_bank_charge):
    payment = payment_less_bank_charge

    response = signed_in(clerk).post(
        "/reconciliation/work/cash/apply/",
        {"payment": payment.pk, "invoice": invoice.pk, "amount": "353.60"},
        follow=True,
    )

    case = Discrepancy.objects.get(invoice=invoice, state__in=ACTIVE_CASE_STATES)
    assert messages_of(response) == [
        f"Applied 353.60 USD of payment {payment.number} to invoice "
        f"{invoice.number}. Invoice {invoice.number} still has 10.00 USD open: "
        f'see <a href="/reconciliation/cases/{case.pk}/">case {case.pk} '
        f"({case.get_code_display()})</a>."
    ]
    html = response.content.decode()
    assert f'<a href="/reconciliation/cases/{case.pk}/">case {case.pk}' in html
    assert Allocation.objects.get().amount == Decimal("353.60")


def test_amount_box_starts_at_maximum(
    clerk, invoice, payment_less_bank_charge, customer_party, sales_rep
):
    small = create_order(
        lines=[("1", "20.00")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    create_shipment(order=small)
    small_invoice = create_invoice(order=small)

    page = signed_in(clerk).get(
        "/reconciliation/work/cash/", {"payment": payment_less_bank_charge.pk}
    )

    suggested = {item.number: amount for item, amount in page.context["invoices"]}
    # The payment's 353.60 for the 363.60 invoice, the invoice's 20.00 for
    # the small one.
    assert suggested == {
        invoice.number: Decimal("353.60"),
        small_invoice.number: Decimal("20.00"),
    }
    html = page.content.decode()
    assert 'value="353.60" aria-label="Amount for' in html
    assert 'value="20.00" aria-label="Amount for' in html


# Quantities read as words: "5 units short", "3 units damaged"


def test_sales_decision_shows_units_short(order, warehouse, sales_rep):
    signed_in(warehouse).post(
        shortage_url(order), {"line": "1", "qty": "5", "note": "Stock-out"}
    )
    case = Discrepancy.objects.get(order=order)

    page = signed_in(sales_rep).get(f"/reconciliation/work/cases/{case.pk}/")

    html = page.content.decode()
    assert "Ordered 10 · can ship 5 · 5 units short" in html
    assert "-5 unit" not in html


def test_damage_report_pluralizes_units(customer, order, media_root):
    shipment = create_shipment(order=order, quantities={1: "10"}, number="SH-W-1")
    line = shipment.lines.get()

    signed_in(customer).post(
        f"/reconciliation/portal/orders/{order.number}/problem/",
        {
            "kind": "damaged",
            "line": str(line.pk),
            "quantity": "3",
            "message": "Crushed at the dock",
        },
    )

    case = Discrepancy.objects.get(order=order)
    assert case.explanation.startswith(
        f"{customer.display_name} reported 3 units damaged from shipment SH-W-1"
    )
