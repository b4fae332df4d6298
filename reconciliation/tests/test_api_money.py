"""The orders API gives amounts in the currency's minor units."""

from decimal import Decimal

from django.test import Client

from reconciliation.models import Currency, SalesOrder


def test_amounts_have_currency_decimals(db, customer, customer_party, make_order):
    make_order("10643", customer_party)
    Currency.objects.update_or_create(
        code="JPY", defaults={"name": "Yen", "minor_units": 0}
    )
    yen = make_order("10644", customer_party)
    # Stored with four decimals, as the money fields keep them.
    SalesOrder.objects.filter(pk=yen.pk).update(
        currency_id="JPY", amount_total=Decimal("1200.0000")
    )
    client = Client()
    client.force_login(customer)

    listed = {
        order["number"]: order["amount_total"]
        for order in client.get("/api/reconciliation/orders").json()
    }
    detail = client.get("/api/reconciliation/orders/10643").json()

    assert listed == {"10643": "180.00", "10644": "1200"}
    assert detail["amount_total"] == "180.00"
    assert detail["lines"][0]["amount_invoiced"] == "0.00"
