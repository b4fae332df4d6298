"""Named people and a short-payment case for the case tests.

``clerk`` works finance cases, ``manager`` and ``second_manager`` decide
approvals, ``warehouse`` works shipment cases.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Role
from conftest import make_person
from reconciliation.models import Discrepancy
from reconciliation.services import refresh_order
from reconciliation.tests.factories import (
    create_invoice,
    create_order,
    create_payment,
    create_shipment,
)


@pytest.fixture
def clerk(db):
    return make_person("fiona", Role.FINANCE_CLERK, group="operations")


@pytest.fixture
def manager(db):
    return make_person("mona", Role.MANAGER)


@pytest.fixture
def second_manager(db):
    return make_person("max", Role.MANAGER)


@pytest.fixture
def warehouse(db):
    return make_person("wanda", Role.WAREHOUSE, group="warehouse")


def make_case(
    order,
    *,
    code: str = "SHORT_PAYMENT",
    owner_role: str = Role.FINANCE_CLERK,
    severity: str = "medium",
    difference: str | None = "-83.63",
    invoice=None,
    **fields,
) -> Discrepancy:
    return Discrepancy.objects.create(
        company=order.company,
        order=order,
        invoice=invoice,
        code=code,
        severity=severity,
        owner_role=owner_role,
        expected_value=Decimal("363.60"),
        actual_value=Decimal("279.97"),
        difference=None if difference is None else Decimal(difference),
        unit="USD",
        explanation="Invoice INV-1 was paid 279.97 of 363.60 USD; 83.63 is still open.",
        rule="payment.short@1",
        fingerprint=f"{order.number}:{code}:{Discrepancy.objects.count()}",
        **{"due_at": timezone.now() + timedelta(days=3), **fields},
    )


@pytest.fixture
def shipped_order(db, customer_party, sales_rep):
    order = create_order(
        lines=[("10", "36.36")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    create_shipment(order=order)
    return order


@pytest.fixture
def short_payment_case(shipped_order):
    """Return the case of invoice 363.60 that the customer paid 279.97 of."""
    invoice = create_invoice(order=shipped_order)
    create_payment(invoice=invoice, amount="279.97")
    refresh_order(order=shipped_order)
    return make_case(shipped_order, invoice=invoice)
