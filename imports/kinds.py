"""The document kinds a file can hold and the fields a column can map to.

Each row of an orders file is one order line, and rows with the same order
number make one order. Each row of a shipments file is one shipment line.
Payments have one row per document. An invoices file has one row per
invoice, unless it has a line product column: then each row is one invoice
line, as in an orders file. ``header`` fields belong to the document and
must agree on every row of a multi-row document.
"""

from dataclasses import dataclass
from enum import StrEnum

from django.db import models


class DocumentKind(models.TextChoices):
    ORDERS = "orders", "Sales orders with lines"
    SHIPMENTS = "shipments", "Shipments with lines"
    INVOICES = "invoices", "Invoices"
    PAYMENTS = "payments", "Payments"


class FieldType(StrEnum):
    TEXT = "text"
    DATE = "date"
    # A positive quantity with at most 4 decimals.
    QUANTITY = "quantity"
    # A unit price or percentage: not negative, at most 4 decimals.
    RATE = "rate"
    # An amount in the document currency: at most its minor units.
    MONEY = "money"
    CUSTOMER = "customer"
    PRODUCT = "product"
    CURRENCY = "currency"
    ORDER = "order"
    LINE_NO = "line_no"
    INVOICE_KIND = "invoice_kind"


@dataclass(frozen=True)
class TargetField:
    name: str
    label: str
    type: FieldType
    required: bool = True
    header: bool = True


DOCUMENT_NUMBER = "number"

FIELDS: dict[str, tuple[TargetField, ...]] = {
    DocumentKind.ORDERS: (
        TargetField("number", "Order number", FieldType.TEXT),
        TargetField("customer", "Customer code", FieldType.CUSTOMER),
        TargetField("order_date", "Order date", FieldType.DATE),
        TargetField("promised_date", "Promised date", FieldType.DATE),
        TargetField("currency", "Currency", FieldType.CURRENCY, required=False),
        TargetField(
            "customer_po_ref", "Customer PO reference", FieldType.TEXT, required=False
        ),
        TargetField("line_no", "Line number", FieldType.LINE_NO, header=False),
        TargetField("product", "Product SKU", FieldType.PRODUCT, header=False),
        TargetField(
            "description", "Description", FieldType.TEXT, required=False, header=False
        ),
        TargetField("qty_ordered", "Quantity", FieldType.QUANTITY, header=False),
        TargetField("unit_price", "Unit price", FieldType.RATE, header=False),
        TargetField(
            "discount_pct", "Discount %", FieldType.RATE, required=False, header=False
        ),
    ),
    DocumentKind.SHIPMENTS: (
        TargetField("number", "Shipment number", FieldType.TEXT),
        TargetField("order", "Order number", FieldType.ORDER),
        TargetField("shipped_at", "Shipped on", FieldType.DATE),
        TargetField("carrier", "Carrier", FieldType.TEXT, required=False),
        TargetField("tracking_no", "Tracking number", FieldType.TEXT, required=False),
        TargetField("line_no", "Order line number", FieldType.LINE_NO, header=False),
        TargetField(
            "qty_shipped", "Quantity shipped", FieldType.QUANTITY, header=False
        ),
    ),
    DocumentKind.INVOICES: (
        TargetField("number", "Invoice number", FieldType.TEXT),
        TargetField("kind", "Kind", FieldType.INVOICE_KIND, required=False),
        TargetField("customer", "Customer code", FieldType.CUSTOMER),
        TargetField("order", "Order number", FieldType.ORDER, required=False),
        TargetField("reference", "Reference", FieldType.TEXT, required=False),
        TargetField("invoice_date", "Invoice date", FieldType.DATE),
        TargetField("due_date", "Due date", FieldType.DATE),
        TargetField("currency", "Currency", FieldType.CURRENCY, required=False),
        TargetField("amount_total", "Total amount", FieldType.MONEY),
        # Line columns: all optional, because most exports bill by header.
        TargetField(
            "product",
            "Line product SKU",
            FieldType.PRODUCT,
            required=False,
            header=False,
        ),
        TargetField(
            "line_no",
            "Order line number",
            FieldType.LINE_NO,
            required=False,
            header=False,
        ),
        TargetField(
            "qty", "Line quantity", FieldType.QUANTITY, required=False, header=False
        ),
        TargetField(
            "unit_price",
            "Line unit price",
            FieldType.RATE,
            required=False,
            header=False,
        ),
        TargetField(
            "discount_pct",
            "Line discount %",
            FieldType.RATE,
            required=False,
            header=False,
        ),
        TargetField(
            "tax_rate", "Line tax %", FieldType.RATE, required=False, header=False
        ),
    ),
    DocumentKind.PAYMENTS: (
        TargetField("number", "Payment number", FieldType.TEXT),
        TargetField("party", "Customer code", FieldType.CUSTOMER, required=False),
        TargetField("value_date", "Value date", FieldType.DATE),
        TargetField("currency", "Currency", FieldType.CURRENCY, required=False),
        TargetField("amount", "Amount", FieldType.MONEY),
        TargetField("reference", "Reference", FieldType.TEXT, required=False),
    ),
}

# Kinds whose rows are lines: the rows of one document share its number, and
# a line key repeated within the file is a duplicate.
MULTI_ROW_KINDS = frozenset({DocumentKind.ORDERS, DocumentKind.SHIPMENTS})


def target_fields(kind: str) -> tuple[TargetField, ...]:
    return FIELDS[kind]


def target_field(kind: str, name: str) -> TargetField:
    for field in FIELDS[kind]:
        if field.name == name:
            return field
    raise LookupError(f"{kind} files have no field {name!r}.")
