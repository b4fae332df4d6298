"""Generate a reconciliation data set with a known mix of discrepancies.

The medium size is 100,000 orders with 3 lines each (300,000 lines), one
shipment and one invoice per shipped order and one payment per paid
invoice. Each order carries at most one injected fault, chosen by its index,
so the expected findings are known exactly and serve as the oracle:
``expected_findings`` returns them as a set of (code, fingerprint subject).

Usage (a fresh SQLite file under ``var/bench/``, or ``DATABASE_URL``)::

    .venv/bin/python bench/generate_reconciliation.py --orders 100000
"""

import argparse
import logging
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reconciliation.models import Company, Party, Product

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import setup_django

logger = logging.getLogger(__name__)

COMPANY = "Bench reconciliation"
AS_OF = date(2025, 1, 31)
LINES_PER_ORDER = 3
BATCH = 2000
# Fault by order index: each index gets the first fault whose modulus divides
# it, so every order carries at most one.
FAULTS: tuple[tuple[int, str], ...] = (
    (97, "NOT_SHIPPED"),
    (89, "SHORT_SHIP"),
    (83, "OVER_SHIP"),
    (79, "PRICE_MISMATCH"),
    (73, "INVOICE_QTY_MISMATCH"),
    (71, "MISSING_PAYMENT"),
    (67, "SHORT_PAYMENT"),
)


def fault_of(index: int) -> str:
    for modulus, code in FAULTS:
        if index % modulus == 0:
            return code
    return ""


@dataclass
class Expected:
    """The findings the engine must report: (code, order number, line number)."""

    findings: set[tuple[str, str, int]] = field(default_factory=set)

    def counts(self) -> dict[str, int]:
        result: dict[str, int] = {}
        for code, _, _ in self.findings:
            result[code] = result.get(code, 0) + 1
        return dict(sorted(result.items()))


def expected_findings(orders: int) -> Expected:
    expected = Expected()
    for index in range(1, orders + 1):
        code = fault_of(index)
        number = f"SO-{index:07d}"
        if code == "NOT_SHIPPED":
            for line_no in range(1, LINES_PER_ORDER + 1):
                expected.findings.add((code, number, line_no))
        elif code:
            line_no = 0 if code.endswith("PAYMENT") else 1
            expected.findings.add((code, number, line_no))
    return expected


def _chunks(count: int) -> Iterator[range]:
    for start in range(1, count + 1, BATCH):
        yield range(start, min(start + BATCH, count + 1))


def generate(*, orders: int) -> int:
    """Create the company and its documents; return the company id."""
    from django.db import transaction

    from reconciliation.models import Company, Party, Product
    from reconciliation.services import refresh_orders, update_planner_statistics

    started = time.perf_counter()
    with transaction.atomic():
        company = Company.objects.create(name=COMPANY, base_currency_id="USD")
        parties = Party.objects.bulk_create(
            Party(
                company=company,
                code=f"C{n:05d}",
                name=f"Customer {n}",
                currency_id="USD",
            )
            for n in range(1, 2001)
        )
        products = Product.objects.bulk_create(
            Product(
                company=company,
                sku=f"P{n:04d}",
                name=f"Product {n}",
                list_price=Decimal(n % 90 + 10),
            )
            for n in range(1, 501)
        )
        for indexes in _chunks(orders):
            _create_batch(company, parties, products, indexes)
        update_planner_statistics()
        refresh_orders(company_id=company.pk)
    logger.info("Generated %d orders in %.1f s", orders, time.perf_counter() - started)
    return company.pk


def _create_batch(
    company: "Company",
    parties: "list[Party]",
    products: "list[Product]",
    indexes: range,
) -> None:
    from reconciliation.models import (
        Allocation,
        Invoice,
        InvoiceLine,
        Payment,
        SalesOrder,
        SalesOrderLine,
        Shipment,
        ShipmentLine,
    )
    from reconciliation.money import line_subtotal

    order_date = date(2024, 1, 1)
    orders = []
    for index in indexes:
        day = order_date + timedelta(days=index % 300)
        orders.append(
            SalesOrder(
                company=company,
                number=f"SO-{index:07d}",
                customer=parties[index % len(parties)],
                currency_id="USD",
                order_date=day,
                promised_date=day + timedelta(days=10),
            )
        )
    SalesOrder.objects.bulk_create(orders)

    lines = []
    for index, order in zip(indexes, orders, strict=True):
        for line_no in range(1, LINES_PER_ORDER + 1):
            product = products[(index * LINES_PER_ORDER + line_no) % len(products)]
            # At least 2, so a short shipment of one unit still ships some.
            qty = Decimal(index % 7 + line_no + 1)
            lines.append(
                SalesOrderLine(
                    order=order,
                    line_no=line_no,
                    product=product,
                    description=product.name,
                    qty_ordered=qty,
                    unit_price=product.list_price,
                    subtotal=line_subtotal(
                        qty=qty,
                        unit_price=product.list_price,
                        discount_pct=Decimal(0),
                        minor_units=2,
                    ),
                    promised_date=order.promised_date,
                )
            )
    SalesOrderLine.objects.bulk_create(lines)

    shipments: list[Shipment] = []
    shipment_lines: list[ShipmentLine] = []
    invoices: list[Invoice] = []
    invoice_lines: list[InvoiceLine] = []
    by_order = [
        lines[i : i + LINES_PER_ORDER] for i in range(0, len(lines), LINES_PER_ORDER)
    ]
    for index, order, order_lines in zip(indexes, orders, by_order, strict=True):
        code = fault_of(index)
        if code == "NOT_SHIPPED":
            continue
        shipment = Shipment(
            company=company,
            number=f"SH-{index:07d}",
            order=order,
            shipped_at=order.promised_date,
        )
        invoice = Invoice(
            company=company,
            number=f"INV-{index:07d}",
            customer=order.customer,
            order=order,
            currency_id="USD",
            invoice_date=order.promised_date,
            due_date=order.promised_date + timedelta(days=30),
        )
        shipments.append(shipment)
        invoices.append(invoice)
        for line in order_lines:
            shipped = line.qty_ordered
            if line.line_no == 1 and code == "SHORT_SHIP":
                shipped -= 1
            if line.line_no == 1 and code == "OVER_SHIP":
                shipped += 1
            billed_qty = shipped
            price = line.unit_price
            if line.line_no == 1 and code == "INVOICE_QTY_MISMATCH":
                billed_qty += 1
            if line.line_no == 1 and code == "PRICE_MISMATCH":
                price += 1
            shipment_line = ShipmentLine(
                shipment=shipment, order_line=line, qty_shipped=shipped
            )
            shipment_lines.append(shipment_line)
            invoice_lines.append(
                InvoiceLine(
                    invoice=invoice,
                    order_line=line,
                    shipment_line=shipment_line,
                    product=line.product,
                    qty=billed_qty,
                    unit_price=price,
                    subtotal=line_subtotal(
                        qty=billed_qty,
                        unit_price=price,
                        discount_pct=Decimal(0),
                        minor_units=2,
                    ),
                )
            )
    Shipment.objects.bulk_create(shipments)
    ShipmentLine.objects.bulk_create(shipment_lines)
    totals: dict[int, Decimal] = {}
    for invoice_line in invoice_lines:
        key = id(invoice_line.invoice)
        totals[key] = totals.get(key, Decimal(0)) + invoice_line.subtotal
    for invoice in invoices:
        invoice.amount_total = totals[id(invoice)]
    Invoice.objects.bulk_create(invoices)
    InvoiceLine.objects.bulk_create(invoice_lines)

    payments: list[Payment] = []
    allocations: list[Allocation] = []
    for invoice in invoices:
        index = int(invoice.number.removeprefix("INV-"))
        code = fault_of(index)
        if code == "MISSING_PAYMENT":
            continue
        amount = invoice.amount_total
        if code == "SHORT_PAYMENT":
            amount = (amount / 2).quantize(Decimal("0.01"))
        payment = Payment(
            company=company,
            number=f"PAY-{index:07d}",
            party=invoice.customer,
            amount=amount,
            currency_id="USD",
            value_date=invoice.invoice_date + timedelta(days=10),
            reference=invoice.number,
        )
        payments.append(payment)
        allocations.append(Allocation(payment=payment, invoice=invoice, amount=amount))
    Payment.objects.bulk_create(payments)
    Allocation.objects.bulk_create(allocations)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000, help="orders to create")
    arguments = parser.parse_args()
    setup_django(sqlite_file="reconciliation.sqlite3", fresh=True)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    company_id = generate(orders=arguments.orders)
    print(f"company {company_id}: {expected_findings(arguments.orders).counts()}")


if __name__ == "__main__":
    main()
