"""Numbers typed into the staff work screens follow ``core.numbers.parse_decimal``.

A comma is a thousands separator only where it cannot be a decimal comma,
a quantity keeps at most the four decimal places its column stores, and an
amount keeps at most its currency's minor units. Rejected text writes
nothing. Named people: wanda (warehouse), sally (sales rep of the order),
fiona (finance clerk).
"""

from datetime import date
from decimal import Decimal

import pytest

from core.models import AuditEvent
from core.testing import messages_of, signed_in
from portal.models import PickedQuantity, ResolutionProposal
from reconciliation.models import (
    Allocation,
    Discrepancy,
    GoodsReceipt,
    Party,
    PurchaseOrder,
    PurchaseOrderLine,
    Shipment,
)
from reconciliation.tests.factories import (
    PaymentFactory,
    ProductFactory,
    create_invoice,
    create_order,
    currency,
)
from reconciliation.tests.shipment_forms import with_form_token

pytestmark = pytest.mark.django_db


def line_errors_of(response) -> dict[int, str]:
    """Return the messages shown beside the lines of a rejected pick and ship form."""
    assert response.status_code == 422
    return dict(response.context["line_errors"])


def comma_message(label: str, raw: str) -> str:
    """Return the message for ``raw``, a number whose comma may be a decimal comma."""
    if raw == "1,500":
        return (
            f"{label} '1,500' is ambiguous, because a comma can separate thousands "
            "or decimals: write 1500 or 1.500."
        )
    return f"{label} {raw!r} uses a decimal comma: write it with a point, as 1.5."


def places_message(label: str, raw: str, places: int, limit: int, step: str) -> str:
    unit = "place" if places == 1 else "places"
    return (
        f"{label} {raw!r} has {places} decimal {unit}; the limit is {limit}, "
        f"so enter a multiple of {step}."
    )


# Warehouse: picking and shipping, shortages


def ship_url(order) -> str:
    return f"/reconciliation/work/orders/{order.number}/shipments/"


@pytest.mark.parametrize(
    ("picked", "message"),
    [
        # "1,5" on a product counted in units: test_work_forms.py.
        ("1,500", comma_message("Line 1 picked", "1,500")),
        ("0.00001", places_message("Line 1 picked", "0.00001", 5, 4, "0.0001")),
        (
            "1" * 13,
            f"Line 1 picked {'1' * 13!r} is too large: enter at most 12 digits "
            "before the decimal point.",
        ),
        ("1e3", "Line 1 picked '1e3' is not a number: enter digits such as 12.5."),
        (
            "\u0661",
            "Line 1 picked '\u0661' has digits other than 0 to 9: type the number "
            "with the digits 0 to 9, such as 12.5.",
        ),
    ],
)
def test_picked_quantity_is_rejected_not_misread(
    shipped_order, warehouse, picked, message
):
    shipments_before = Shipment.objects.count()

    response = signed_in(warehouse).post(
        ship_url(shipped_order),
        with_form_token({"picked_1": picked, "shipped_1": "0"}),
        follow=True,
    )

    assert line_errors_of(response) == {1: message}
    assert Shipment.objects.count() == shipments_before
    assert not PickedQuantity.objects.exists()
    assert not AuditEvent.objects.filter(action="shipment.recorded").exists()


def test_picked_quantity_reads_thousands_separators(
    customer_party, sales_rep, warehouse
):
    # Sold by the kilogram, so a fraction of 1,500 ordered can be picked.
    order = create_order(
        lines=[("1500", "2.00", "kg")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    response = signed_in(warehouse).post(
        ship_url(order),
        with_form_token({"picked_1": "1,000.25", "shipped_1": "0"}),
        follow=True,
    )

    assert messages_of(response)[0].startswith("Saved the picked quantities")
    assert PickedQuantity.objects.get().qty_picked == Decimal("1000.25")


@pytest.mark.parametrize(
    ("qty", "message"),
    [
        ("1,5", comma_message("Short quantity", "1,5")),
        ("0.00001", places_message("Short quantity", "0.00001", 5, 4, "0.0001")),
    ],
)
def test_shortage_quantity_is_rejected_not_misread(
    shipped_order, warehouse, qty, message
):
    response = signed_in(warehouse).post(
        f"/reconciliation/work/orders/{shipped_order.number}/shortage/",
        {"line": "1", "qty": qty, "note": "gone"},
        follow=True,
    )

    assert messages_of(response) == [message]
    assert not Discrepancy.objects.exists()


# Sales rep: credit notes


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("1,5", comma_message("Credit note amount in USD", "1,5")),
        (
            "0.001",
            places_message("Credit note amount in USD", "0.001", 3, 2, "0.01"),
        ),
    ],
)
def test_credit_note_amount_is_rejected_not_misread(
    short_payment_case, sales_rep, amount, message
):
    response = signed_in(sales_rep).post(
        f"/reconciliation/work/cases/{short_payment_case.pk}/credit-note/",
        {"amount": amount, "message": "For the damaged box"},
        follow=True,
    )

    assert messages_of(response) == [message]
    assert not ResolutionProposal.objects.exists()


# Finance clerk: cash application


@pytest.fixture
def open_invoice(shipped_order):
    return create_invoice(order=shipped_order)


def apply(person, payment, invoice, amount: str):
    return signed_in(person).post(
        "/reconciliation/work/cash/apply/",
        {"payment": payment.pk, "invoice": invoice.pk, "amount": amount},
        follow=True,
    )


def cash_label(payment, invoice, code: str) -> str:
    """Return the cash screen's label of a typed amount, naming both documents."""
    return f"Amount from payment {payment.number} to invoice {invoice.number} in {code}"


@pytest.mark.parametrize("amount", ["1,5", "1,500", "0.001", "0.00001"])
def test_cash_amount_is_rejected_not_misread(clerk, open_invoice, amount):
    payment = PaymentFactory.create(
        company=open_invoice.company,
        party=open_invoice.customer,
        amount=Decimal("300.00"),
    )
    label = cash_label(payment, open_invoice, "USD")
    message = {
        "1,5": comma_message(label, "1,5"),
        "1,500": comma_message(label, "1,500"),
        "0.001": places_message(label, "0.001", 3, 2, "0.01"),
        "0.00001": places_message(label, "0.00001", 5, 2, "0.01"),
    }[amount]

    response = apply(clerk, payment, open_invoice, amount)

    assert messages_of(response) == [message]
    assert not Allocation.objects.exists()


def test_cash_amount_in_yen_rejects_decimals(clerk, open_invoice):
    payment = PaymentFactory.create(
        company=open_invoice.company,
        party=open_invoice.customer,
        currency=currency("JPY"),
        amount=Decimal("5000"),
    )

    response = apply(clerk, payment, open_invoice, "1.5")

    label = cash_label(payment, open_invoice, "JPY")
    assert messages_of(response) == [places_message(label, "1.5", 1, 0, "1")]
    assert not Allocation.objects.exists()


# Finance clerk: payments from an unknown payer


@pytest.mark.parametrize("field", ["payment", "party"])
@pytest.mark.parametrize("value", ["\u00b2", "\u0661", "99999999999999999999", "x"])
def test_assign_payer_bad_id_shows_message(clerk, open_invoice, field, value):
    payment = PaymentFactory.create(
        company=open_invoice.company, party=None, amount=Decimal("42.42")
    )
    data = {"payment": str(payment.pk), "party": str(open_invoice.customer_id)}
    data[field] = value

    response = signed_in(clerk).post("/reconciliation/work/cash/", data, follow=True)

    assert response.redirect_chain == [("/reconciliation/work/cash/", 302)]
    expected = {
        "payment": f"Payment {value!r} was not found among the open payments: "
        "reload the cash screen and pick a payment from the list.",
        "party": f"Customer {value!r} was not found: choose the payment's "
        "customer from the list.",
    }
    assert messages_of(response) == [expected[field]]
    payment.refresh_from_db()
    assert payment.party is None


# Warehouse: goods receipts


@pytest.fixture
def purchase_order(company):
    vendor = Party.objects.create(
        company=company, code="EXOTL", name="Exotic Liquids", currency_id="USD"
    )
    order = PurchaseOrder.objects.create(
        company=company,
        number="PO-1001",
        vendor=vendor,
        currency_id="USD",
        order_date=date(2024, 3, 1),
        promised_date=date(2099, 12, 31),
    )
    PurchaseOrderLine.objects.create(
        order=order,
        line_no=1,
        product=ProductFactory.create(company=company, sku="CHAI", name="Chai"),
        qty_ordered=Decimal(10),
        unit_price=Decimal("18.00"),
    )
    return order


@pytest.mark.parametrize(
    ("field", "raw", "message"),
    [
        ("received_1", "1,5", comma_message("Line 1 received", "1,5")),
        ("rejected_1", "1,5", comma_message("Line 1 rejected", "1,5")),
        (
            "received_1",
            "0.00001",
            places_message("Line 1 received", "0.00001", 5, 4, "0.0001"),
        ),
    ],
)
def test_receipt_quantity_is_rejected_not_misread(
    purchase_order, warehouse, field, raw, message
):
    data = {"received_1": "2", field: raw}

    response = signed_in(warehouse).post(
        "/reconciliation/work/purchasing/orders/PO-1001/receipt/", data
    )

    assert messages_of(response) == [message]
    assert not GoodsReceipt.objects.exists()
