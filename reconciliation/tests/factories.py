"""Factories and small builders for reconciliation documents.

The factory classes make single rows. The ``create_*`` builders make a whole
document with its lines and then refresh the order, so running quantities,
totals and statuses are what the services would leave:

    order = create_order(lines=[("250000", "0.0100", "mm"), ("2", "15.00")])
    create_shipment(order=order, quantities={1: "250000"})
    invoice = create_invoice(order=order)
    create_payment(invoice=invoice, amount="2500.00")

Quantities and prices are given as strings so that no float enters a test.
"""

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.models import User
from portal.models import ProblemReport
from portal.services import ProblemInput, report_problem
from reconciliation.models import (
    Company,
    Currency,
    Discrepancy,
    Invoice,
    InvoiceLine,
    Party,
    Payment,
    Product,
    ReturnAuthorization,
    ReturnLine,
    SalesOrder,
    SalesOrderLine,
    Shipment,
    ShipmentLine,
)
from reconciliation.money import line_subtotal
from reconciliation.services import allocate_payment, refresh_order

ORDER_DATE = date(2024, 3, 1)
PROMISED_DATE = date(2024, 3, 15)


def currency(code: str = "USD") -> Currency:
    return Currency.objects.get(code=code)


class CompanyFactory(DjangoModelFactory[Company]):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"Test company {n}")
    base_currency = factory.LazyFunction(currency)


class PartyFactory(DjangoModelFactory[Party]):
    class Meta:
        model = Party

    company = factory.SubFactory(CompanyFactory)
    code = factory.Sequence(lambda n: f"C{n:04d}")
    name = factory.Sequence(lambda n: f"Customer {n}")
    currency = factory.SelfAttribute("company.base_currency")


class ProductFactory(DjangoModelFactory[Product]):
    class Meta:
        model = Product

    company = factory.SubFactory(CompanyFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:04d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    list_price = Decimal("10.00")


class SalesOrderFactory(DjangoModelFactory[SalesOrder]):
    class Meta:
        model = SalesOrder

    company = factory.SubFactory(CompanyFactory)
    number = factory.Sequence(lambda n: f"SO-{n:05d}")
    customer = factory.SubFactory(
        PartyFactory, company=factory.SelfAttribute("..company")
    )
    currency = factory.SelfAttribute("company.base_currency")
    order_date = ORDER_DATE
    promised_date = PROMISED_DATE


class SalesOrderLineFactory(DjangoModelFactory[SalesOrderLine]):
    class Meta:
        model = SalesOrderLine

    order = factory.SubFactory(SalesOrderFactory)
    line_no = factory.Sequence(lambda n: n + 1)
    product = factory.SubFactory(
        ProductFactory, company=factory.SelfAttribute("..order.company")
    )
    description = factory.SelfAttribute("product.name")
    qty_ordered = Decimal(1)
    unit_price = Decimal("10.00")
    subtotal = factory.LazyAttribute(
        lambda line: line_subtotal(
            qty=line.qty_ordered,
            unit_price=line.unit_price,
            discount_pct=line.discount_pct,
            minor_units=line.order.currency.minor_units,
        )
    )
    promised_date = factory.SelfAttribute("order.promised_date")


class ShipmentFactory(DjangoModelFactory[Shipment]):
    class Meta:
        model = Shipment

    order = factory.SubFactory(SalesOrderFactory)
    company = factory.SelfAttribute("order.company")
    number = factory.Sequence(lambda n: f"SH-{n:05d}")
    shipped_at = PROMISED_DATE


class InvoiceFactory(DjangoModelFactory[Invoice]):
    class Meta:
        model = Invoice

    order = factory.SubFactory(SalesOrderFactory)
    company = factory.SelfAttribute("order.company")
    customer = factory.SelfAttribute("order.customer")
    currency = factory.SelfAttribute("order.currency")
    number = factory.Sequence(lambda n: f"INV-{n:05d}")
    invoice_date = PROMISED_DATE
    due_date = factory.LazyAttribute(
        lambda invoice: invoice.invoice_date + timedelta(30)
    )


class PaymentFactory(DjangoModelFactory[Payment]):
    class Meta:
        model = Payment

    company = factory.SubFactory(CompanyFactory)
    party = factory.SubFactory(PartyFactory, company=factory.SelfAttribute("..company"))
    currency = factory.SelfAttribute("company.base_currency")
    number = factory.Sequence(lambda n: f"PAY-{n:05d}")
    amount = Decimal("10.00")
    amount_unallocated = factory.SelfAttribute("amount")
    value_date = PROMISED_DATE


LineSpec = tuple[str, str] | tuple[str, str, str] | tuple[str, str, str, str]


def create_order(
    *,
    lines: Sequence[LineSpec] = (("1", "10.00"),),
    company: Company | None = None,
    customer: Party | None = None,
    **fields: object,
) -> SalesOrder:
    """Create an order with one line per ``(qty, unit price[, uom[, discount %]])``."""
    company = company or (customer.company if customer else CompanyFactory.create())
    customer = customer or PartyFactory.create(company=company)
    order = SalesOrderFactory.create(company=company, customer=customer, **fields)
    for line_no, spec in enumerate(lines, start=1):
        qty, price, *rest = spec
        uom = rest[0] if rest else "unit"
        discount = Decimal(rest[1]) if len(rest) > 1 else Decimal(0)
        SalesOrderLineFactory.create(
            order=order,
            line_no=line_no,
            product=ProductFactory.create(
                company=company, uom=uom, list_price=Decimal(price)
            ),
            qty_ordered=Decimal(qty),
            unit_price=Decimal(price),
            discount_pct=discount,
        )
    refresh_order(order=order)
    return order


def create_shipment(
    *,
    order: SalesOrder,
    quantities: Mapping[int, str] | None = None,
    **fields: object,
) -> Shipment:
    """Ship ``{line_no: qty}`` of the order, or every line in full by default."""
    shipment = ShipmentFactory.create(order=order, **fields)
    for line in order.lines.order_by("line_no"):
        if quantities is None:
            qty = line.qty_ordered
        elif line.line_no in quantities:
            qty = Decimal(quantities[line.line_no])
        else:
            continue
        ShipmentLine.objects.create(shipment=shipment, order_line=line, qty_shipped=qty)
    refresh_order(order=order)
    return shipment


def create_invoice(
    *,
    order: SalesOrder,
    quantities: Mapping[int, str] | None = None,
    unit_prices: Mapping[int, str] | None = None,
    **fields: object,
) -> Invoice:
    """Invoice ``{line_no: qty}`` at the order's prices, or what has shipped.

    ``unit_prices`` bills a line at another price, with no discount.
    """
    invoice = InvoiceFactory.create(order=order, **fields)
    minor_units = order.currency.minor_units
    for line in order.lines.select_related("product").order_by("line_no"):
        if quantities is None:
            qty = line.qty_shipped
        elif line.line_no in quantities:
            qty = Decimal(quantities[line.line_no])
        else:
            continue
        price, discount = line.unit_price, line.discount_pct
        if unit_prices and line.line_no in unit_prices:
            price, discount = Decimal(unit_prices[line.line_no]), Decimal(0)
        InvoiceLine.objects.create(
            invoice=invoice,
            order_line=line,
            product=line.product,
            qty=qty,
            unit_price=price,
            discount_pct=discount,
            subtotal=line_subtotal(
                qty=qty,
                unit_price=price,
                discount_pct=discount,
                minor_units=minor_units,
            ),
        )
    refresh_order(order=order)
    invoice.refresh_from_db()
    return invoice


def create_payment(*, invoice: Invoice, amount: str, **fields: object) -> Payment:
    """Receive ``amount`` from the invoice's customer and allocate all of it."""
    payment = PaymentFactory.create(
        company=invoice.company,
        party=invoice.customer,
        currency=invoice.currency,
        amount=Decimal(amount),
        reference=invoice.reference or invoice.number,
        **fields,
    )
    allocate_payment(payment=payment, invoice=invoice)
    payment.refresh_from_db()
    invoice.refresh_from_db()
    return payment


def open_codes(company: Company) -> list[str]:
    """Return the codes of ``company``'s open cases, sorted."""
    rows = Discrepancy.objects.filter(company=company, state=Discrepancy.State.OPEN)
    return sorted(rows.values_list("code", flat=True))


def report_damaged(
    customer: User,
    order: SalesOrder,
    qty: str,
    *,
    shipment_number: str,
    line_no: int = 1,
    repeat: str = "",
) -> Discrepancy:
    """Report ``qty`` units of ``line_no`` on a shipment damaged, as ``customer``.

    Returns the case the portal opened for the report.
    """
    shipment_line = ShipmentLine.objects.get(
        shipment__number=shipment_number, order_line__line_no=line_no
    )
    problem = report_problem(
        customer=customer,
        order=order,
        problem=ProblemInput(
            kind=ProblemReport.Kind.DAMAGED,
            message=f"{qty} boxes crushed",
            shipment_line=shipment_line,
            quantity=Decimal(qty),
            repeat=repeat,
        ),
        evidence=[],
    )
    return Discrepancy.objects.get(pk=problem.case_id)


def receive_return(
    order: SalesOrder,
    quantities: dict[int, str],
    number: str,
    *,
    shipments: dict[int, str] | None = None,
) -> None:
    """Receive and accept a return of ``{line_no: qty}`` of ``order``, 30 days ago.

    ``shipments`` names, by line number, the shipment the units came back
    from; a line left out names no shipment line.
    """
    authorization = ReturnAuthorization.objects.create(
        company=order.company,
        number=number,
        order=order,
        state=ReturnAuthorization.State.INSPECTED,
        received_at=timezone.localdate() - timedelta(days=30),
    )
    for line_no, qty in quantities.items():
        ReturnLine.objects.create(
            authorization=authorization,
            order_line=order.lines.get(line_no=line_no),
            shipment_line=ShipmentLine.objects.get(
                shipment__number=shipments[line_no], order_line__line_no=line_no
            )
            if shipments and line_no in shipments
            else None,
            qty_received=Decimal(qty),
            qty_accepted=Decimal(qty),
        )
