"""Named people, a company with customers and products, and import sources.

``clerk`` imports files; ``orders_source`` reads the semicolon CSV export in
``files/orders_bom_semicolon.csv`` (German dates, decimal comma).
"""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from accounts.models import Role
from conftest import make_person
from imports.models import ColumnMapping, ImportSource
from reconciliation.models import Product, SalesOrder, SalesOrderLine

FILES = Path(__file__).parent / "files"


@pytest.fixture(autouse=True)
def staging_dir(settings, tmp_path):
    settings.IMPORT_STAGING_DIR = tmp_path / "staging"
    settings.IMPORT_RUN_MATCHING = False
    return settings.IMPORT_STAGING_DIR


@pytest.fixture
def clerk(db):
    return make_person("fiona", Role.FINANCE_CLERK, group="operations")


@pytest.fixture
def products(company):
    return {
        sku: Product.objects.create(
            company=company, sku=sku, name=name, list_price=price
        )
        for sku, name, price in (("CHAI", "Chai", "18.00"), ("CHANG", "Chang", "19.00"))
    }


@pytest.fixture
def order(company, customer_party, products):
    order = SalesOrder.objects.create(
        company=company,
        number="SO-1",
        customer=customer_party,
        currency_id="USD",
        order_date=date(2024, 3, 1),
        promised_date=date(2024, 3, 15),
    )
    for line_no, sku, qty, price in (
        (1, "CHAI", 10, "18.00"),
        (2, "CHANG", 1, "19.00"),
    ):
        SalesOrderLine.objects.create(
            order=order,
            line_no=line_no,
            product=products[sku],
            description=products[sku].name,
            qty_ordered=Decimal(qty),
            unit_price=Decimal(price),
            subtotal=Decimal(qty) * Decimal(price),
            promised_date=order.promised_date,
        )
    return order


@pytest.fixture
def parties(customer_party, other_party):
    return {"ALFKI": customer_party, "BONAP": other_party}


def make_source(company, clerk, kind, file_format="csv", mapping=None, **options):
    source = ImportSource.objects.create(
        name=f"{kind} {file_format}",
        company=company,
        kind=kind,
        file_format=file_format,
        created_by=clerk,
    )
    for target, column in (mapping or {}).items():
        ColumnMapping.objects.create(
            source=source,
            target_field=target,
            column=column,
            date_format=options.get("date_format", "") if "date" in target else "",
            decimal_separator=options.get("decimal_separator", "."),
        )
    return source


ORDER_MAPPING = {
    "number": "order number",
    "customer": "Customer",
    "order_date": "Order Date",
    "promised_date": "Promised",
    "line_no": "Line",
    "product": "SKU",
    "qty_ordered": "Qty",
    "unit_price": "Price",
}


@pytest.fixture
def orders_source(company, clerk, parties, products):
    return make_source(
        company,
        clerk,
        "orders",
        mapping=ORDER_MAPPING,
        date_format="%d.%m.%Y",
        decimal_separator=",",
    )


PAYMENT_MAPPING = {
    "number": "Payment",
    "party": "Customer",
    "value_date": "Date",
    "currency": "Currency",
    "amount": "Amount",
    "reference": "Reference",
}


@pytest.fixture
def payments_source(company, clerk, parties):
    return make_source(company, clerk, "payments", mapping=PAYMENT_MAPPING)


@pytest.fixture
def bank_source(company, clerk):
    return make_source(company, clerk, "payments", file_format="camt053")
