"""Create the documents of a checked plan; called inside the commit's transaction."""

from decimal import Decimal
from typing import Any

from django.db import models

from imports.invoice_lines import line_amounts
from imports.kinds import DocumentKind
from imports.planning import DocumentPlan, order_line_subtotal
from reconciliation.models import (
    Company,
    Currency,
    Invoice,
    InvoiceLine,
    Party,
    Payment,
    Product,
    SalesOrder,
    SalesOrderLine,
    Shipment,
    ShipmentLine,
)

ZERO = Decimal(0)


def _currency(
    values: dict[str, Any], party: Party | None, company: Company
) -> Currency:
    currency = values.get("currency")
    if isinstance(currency, Currency):
        return currency
    if party is not None:
        return party.currency
    return company.base_currency


def create_document(
    kind: str, document: DocumentPlan, company: Company
) -> tuple[models.Model, dict[str, Any]]:
    """Create one document with its lines; return it and its fields for the audit."""
    match kind:
        case DocumentKind.ORDERS:
            return _create_order(document, company)
        case DocumentKind.SHIPMENTS:
            return _create_shipment(document, company)
        case DocumentKind.INVOICES:
            return _create_invoice(document, company)
        case DocumentKind.PAYMENTS:
            return _create_payment(document, company)
    raise ValueError(f"Unknown document kind {kind!r}.")


def _create_order(
    document: DocumentPlan, company: Company
) -> tuple[SalesOrder, dict[str, Any]]:
    header = document.header
    customer: Party = header["customer"]
    currency = _currency(header, customer, company)
    order = SalesOrder.objects.create(
        company=company,
        number=document.number,
        customer=customer,
        customer_po_ref=header.get("customer_po_ref", ""),
        sales_rep_id=customer.sales_rep_id,
        currency=currency,
        order_date=header["order_date"],
        promised_date=header["promised_date"],
        state=SalesOrder.State.CONFIRMED,
    )
    lines: list[dict[str, str]] = []
    for row in document.rows:
        values = row.values
        product: Product = values["product"]
        discount = values.get("discount_pct", ZERO)
        line = SalesOrderLine.objects.create(
            order=order,
            line_no=values["line_no"],
            product=product,
            description=values.get("description", product.name),
            qty_ordered=values["qty_ordered"],
            unit_price=values["unit_price"],
            discount_pct=discount,
            subtotal=order_line_subtotal(values, minor_units=currency.minor_units),
            promised_date=header["promised_date"],
        )
        lines.append(
            {
                "line_no": str(line.line_no),
                "product": product.sku,
                "qty_ordered": str(line.qty_ordered),
                "unit_price": str(line.unit_price),
                "discount_pct": str(line.discount_pct),
                "subtotal": str(line.subtotal),
            }
        )
    after = {
        "number": order.number,
        "customer": customer.code,
        "currency": currency.code,
        "order_date": order.order_date.isoformat(),
        "promised_date": order.promised_date.isoformat(),
        "customer_po_ref": order.customer_po_ref,
        "lines": lines,
    }
    return order, after


def _create_shipment(
    document: DocumentPlan, company: Company
) -> tuple[Shipment, dict[str, Any]]:
    header = document.header
    order: SalesOrder = header["order"]
    shipment = Shipment.objects.create(
        company=company,
        number=document.number,
        order=order,
        carrier=header.get("carrier", ""),
        tracking_no=header.get("tracking_no", ""),
        state=Shipment.State.SHIPPED,
        shipped_at=header["shipped_at"],
    )
    lines: list[dict[str, str]] = []
    for row in document.rows:
        order_line = document.order_lines[row.row]
        ShipmentLine.objects.create(
            shipment=shipment,
            order_line=order_line,
            qty_shipped=row.values["qty_shipped"],
        )
        lines.append(
            {
                "order_line": str(order_line),
                "qty_shipped": str(row.values["qty_shipped"]),
            }
        )
    after = {
        "number": shipment.number,
        "order": order.number,
        "shipped_at": header["shipped_at"].isoformat(),
        "carrier": shipment.carrier,
        "tracking_no": shipment.tracking_no,
        "lines": lines,
    }
    return shipment, after


def _create_invoice(
    document: DocumentPlan, company: Company
) -> tuple[Invoice, dict[str, Any]]:
    header = document.header
    customer: Party = header["customer"]
    order: SalesOrder | None = header.get("order")
    currency = _currency(header, customer, company)
    total: Decimal = header["amount_total"]
    invoice = Invoice.objects.create(
        company=company,
        kind=header.get("kind", Invoice.Kind.INVOICE),
        number=document.number,
        reference=header.get("reference", ""),
        customer=customer,
        order=order,
        currency=currency,
        invoice_date=header["invoice_date"],
        due_date=header["due_date"],
        state=Invoice.State.POSTED,
        amount_total=total,
        amount_residual=total,
    )
    lines = _create_invoice_lines(invoice, document)
    after: dict[str, Any] = {
        "number": invoice.number,
        "kind": invoice.kind,
        "customer": customer.code,
        "order": order.number if order is not None else "",
        "reference": invoice.reference,
        "currency": currency.code,
        "invoice_date": invoice.invoice_date.isoformat(),
        "due_date": invoice.due_date.isoformat(),
        "amount_total": str(total),
    }
    if lines:
        after["lines"] = lines
    return invoice, after


def _create_invoice_lines(
    invoice: Invoice, document: DocumentPlan
) -> list[dict[str, str]]:
    """Create the invoice's lines when the file has them; return them for the audit."""
    lines: list[dict[str, str]] = []
    minor_units = invoice.currency.minor_units
    for row in document.rows:
        values = row.values
        product: Product | None = values.get("product")
        if product is None:
            continue
        amounts = line_amounts(values, minor_units=minor_units)
        order_line = document.order_lines.get(row.row)
        line = InvoiceLine.objects.create(
            invoice=invoice,
            order_line=order_line,
            product=product,
            qty=values["qty"],
            unit_price=values["unit_price"],
            discount_pct=values.get("discount_pct", ZERO),
            subtotal=amounts.subtotal,
            tax_rate=values.get("tax_rate", ZERO),
            tax_amount=amounts.tax_amount,
        )
        lines.append(
            {
                "product": product.sku,
                "order_line": str(order_line) if order_line is not None else "",
                "qty": str(line.qty),
                "unit_price": str(line.unit_price),
                "discount_pct": str(line.discount_pct),
                "subtotal": str(line.subtotal),
                "tax_rate": str(line.tax_rate),
                "tax_amount": str(line.tax_amount),
            }
        )
    return lines


def _create_payment(
    document: DocumentPlan, company: Company
) -> tuple[Payment, dict[str, Any]]:
    header = document.header
    party: Party | None = header.get("party")
    currency = _currency(header, party, company)
    payment = Payment.objects.create(
        company=company,
        number=document.number,
        party=party,
        amount=header["amount"],
        currency=currency,
        value_date=header["value_date"],
        reference=header.get("reference", ""),
        amount_unallocated=header["amount"],
    )
    after = {
        "number": payment.number,
        "party": party.code if party is not None else "",
        "amount": str(payment.amount),
        "currency": currency.code,
        "value_date": payment.value_date.isoformat(),
        "reference": payment.reference,
    }
    return payment, after
