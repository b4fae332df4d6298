"""Reads of one new payment kept compiled, and what they return."""

from decimal import Decimal

import pytest
from django.db.models.sql import compiler as sql_compiler

from reconciliation.cash import match_payment
from reconciliation.matching import build_context
from reconciliation.models import Allocation, Invoice, Payment
from reconciliation.services import lock_and_read, read_locked
from reconciliation.tests.factories import (
    CompanyFactory,
    PartyFactory,
    PaymentFactory,
    create_invoice,
    create_order,
    create_shipment,
)
from reconciliation.tests.test_engine_performance import AS_OF

pytestmark = pytest.mark.django_db(transaction=True)


def invoiced(company, customer, price: str) -> Invoice:
    order = create_order(company=company, customer=customer, lines=[("3", price)])
    create_shipment(order=order)
    return create_invoice(order=order)


def test_locked_read_equals_the_orm_read():
    company = CompanyFactory.create()
    customer = PartyFactory.create(company=company)
    invoice = invoiced(company, customer, "33.37")
    payment = PaymentFactory.create(
        company=company, party=customer, amount=Decimal("40.10")
    )
    Allocation.objects.create(payment=payment, invoice=invoice, amount=Decimal("7.05"))

    read = lock_and_read(payment=payment, invoice=invoice)
    expected = read_locked(payment=payment, invoice=invoice)

    assert (read.available, read.allocated) == (Decimal("33.05"), Decimal("7.05"))
    assert (read.available, read.allocated) == (expected.available, expected.allocated)
    assert read.invoice.amount_total == expected.invoice.amount_total
    assert type(read.invoice.amount_total) is Decimal
    assert read.invoice.due_date == expected.invoice.due_date
    assert read.payment.amount == Decimal("40.10")
    assert read.payment.currency.minor_units == 2
    assert read.order is not None
    assert read.order.pk == invoice.order_id
    assert read.order.currency.code == invoice.currency_id
    assert read.order.amount_total == invoice.order.amount_total


def test_locked_read_deleted_payment_raises():
    company = CompanyFactory.create()
    customer = PartyFactory.create(company=company)
    invoice = invoiced(company, customer, "10.00")
    payment = PaymentFactory.create(company=company, party=customer)
    Payment.objects.filter(pk=payment.pk).delete()

    with pytest.raises(Payment.DoesNotExist, match=f"Payment {payment.pk} "):
        lock_and_read(payment=payment, invoice=invoice)


def test_second_payment_compiles_no_read(monkeypatch):
    company = CompanyFactory.create()
    customer = PartyFactory.create(company=company)
    first, second = (invoiced(company, customer, p) for p in ("12.00", "13.00"))
    context = build_context(company, AS_OF)

    def pay(invoice: Invoice) -> Payment:
        payment = PaymentFactory.create(
            company=company,
            party=customer,
            amount=invoice.amount_total,
            reference=invoice.number,
        )
        match_payment(payment=payment, context=context)
        return payment

    pay(first)
    compiled: list[str] = []
    original = sql_compiler.SQLCompiler.as_sql

    def counting(self, *args, **kwargs):
        sql, params = original(self, *args, **kwargs)
        compiled.append(sql[:70])
        return sql, params

    monkeypatch.setattr(sql_compiler.SQLCompiler, "as_sql", counting)
    payment = pay(second)
    # Every read is kept compiled. Inserts and updates have compilers of
    # their own, which this does not count.
    assert compiled == []

    payment.refresh_from_db()
    assert payment.amount_unallocated == Decimal(0)
    assert Allocation.objects.get(payment=payment).invoice_id == second.pk
