"""The largest values the model fields store, read from the fields themselves.

The preview checks every cell against the field it is written to, so a file
the preview accepts is one the database accepts too. A ``DecimalField``
stores ``max_digits - decimal_places`` digits before the decimal point. An
integer field gets Django's portable range (PostgreSQL's ``integer``), not
SQLite's wider one, so both databases accept the same files.

SQLite keeps a decimal that is not a whole number as an 8-byte float, which
Django 6.1 reads back rounded to 15 significant digits. A value rounded up
to 10 ** 14 that way no longer fits ``max_digits`` and raises
``InvalidOperation`` on read. So on SQLite a decimal may have at most 15
significant digits, and on PostgreSQL ``max_digits``.
"""

from dataclasses import dataclass
from decimal import Context, Decimal

from django.db import connection, models
from django.db.backends.base.operations import BaseDatabaseOperations

from imports.kinds import DocumentKind
from reconciliation.models import (
    Invoice,
    InvoiceLine,
    Payment,
    SalesOrder,
    SalesOrderLine,
    Shipment,
    ShipmentLine,
)

# The model field each mapped cell is written to, by document kind and target
# field. Line numbers of shipments and invoices name an order line. A text
# cell longer than its field is a row error, because nothing is cut on commit.
TARGET_MODEL_FIELDS: dict[str, dict[str, tuple[type[models.Model], str]]] = {
    DocumentKind.ORDERS: {
        "number": (SalesOrder, "number"),
        "customer_po_ref": (SalesOrder, "customer_po_ref"),
        "line_no": (SalesOrderLine, "line_no"),
        "description": (SalesOrderLine, "description"),
        "qty_ordered": (SalesOrderLine, "qty_ordered"),
        "unit_price": (SalesOrderLine, "unit_price"),
        "discount_pct": (SalesOrderLine, "discount_pct"),
    },
    DocumentKind.SHIPMENTS: {
        "number": (Shipment, "number"),
        "carrier": (Shipment, "carrier"),
        "tracking_no": (Shipment, "tracking_no"),
        "line_no": (SalesOrderLine, "line_no"),
        "qty_shipped": (ShipmentLine, "qty_shipped"),
    },
    DocumentKind.INVOICES: {
        "number": (Invoice, "number"),
        "reference": (Invoice, "reference"),
        "amount_total": (Invoice, "amount_total"),
        "line_no": (SalesOrderLine, "line_no"),
        "qty": (InvoiceLine, "qty"),
        "unit_price": (InvoiceLine, "unit_price"),
        "discount_pct": (InvoiceLine, "discount_pct"),
        "tax_rate": (InvoiceLine, "tax_rate"),
    },
    DocumentKind.PAYMENTS: {
        "number": (Payment, "number"),
        "amount": (Payment, "amount"),
        "reference": (Payment, "reference"),
    },
}


@dataclass(frozen=True)
class FieldLimit:
    """The storage limits of one model field; ``None`` where it sets none."""

    max_length: int | None = None
    max_digits: int | None = None
    decimal_places: int | None = None
    min_value: int | None = None
    max_value: int | None = None

    @property
    def whole_digits(self) -> int | None:
        """Return the digits stored before the decimal point."""
        if self.max_digits is None or self.decimal_places is None:
            return None
        return self.max_digits - self.decimal_places


def field_limit(model: type[models.Model], name: str) -> FieldLimit:
    """Return the limits of ``model``'s field ``name``."""
    field = model._meta.get_field(name)
    if isinstance(field, models.DecimalField):
        return FieldLimit(
            max_digits=field.max_digits, decimal_places=field.decimal_places
        )
    if isinstance(field, models.IntegerField):
        low, high = BaseDatabaseOperations.integer_field_ranges[
            field.get_internal_type()
        ]
        return FieldLimit(min_value=low, max_value=high)
    if isinstance(field, models.CharField):
        return FieldLimit(max_length=field.max_length)
    return FieldLimit()


def target_limit(kind: str, target_name: str) -> FieldLimit:
    """Return the limits of the field a target field of ``kind`` is written to."""
    entry = TARGET_MODEL_FIELDS.get(kind, {}).get(target_name)
    if entry is None:
        return FieldLimit()
    return field_limit(*entry)


SQLITE_SIGNIFICANT_DIGITS = 15


def significant_digits_stored() -> int | None:
    """Return the significant digits the database keeps, ``None`` for all."""
    return SQLITE_SIGNIFICANT_DIGITS if connection.vendor == "sqlite" else None


def significant_digits(value: Decimal) -> int:
    """Return the digits of ``value`` without leading or trailing zeros."""
    return 0 if value == 0 else len(value.normalize().as_tuple().digits)


# Line subtotals, tax amounts and order totals are computed from the cells,
# then stored in money fields like this one.
MONEY_LIMIT = field_limit(SalesOrderLine, "subtotal")
# A quantity (16 digits) times a unit price (18) times a discount factor (7)
# has up to 41 significant digits. Decimal's default precision of 28 would round it, and
# quantize would then raise InvalidOperation, so line amounts use this one.
LINE_CONTEXT = Context(prec=60)


def money_too_large(value: Decimal, label: str) -> str | None:
    """Return why ``value`` does not fit a money field, or ``None`` when it fits."""
    whole = whole_digits(value)
    limit = MONEY_LIMIT.whole_digits
    if limit is not None and whole > limit:
        return (
            f"{label} is {value:f}, which has {whole} digits before the decimal "
            f"point, but at most {limit} are stored"
        )
    stored = significant_digits_stored()
    significant = significant_digits(value)
    if stored is not None and significant > stored:
        return (
            f"{label} is {value:f}, which has {significant} significant digits, but "
            f"this database (SQLite) stores {stored}"
        )
    return None


def whole_digits(value: Decimal) -> int:
    """Return the number of digits before the decimal point, 0 for a fraction."""
    _, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):
        raise ValueError(f"{value} is not a finite number.")
    if value == 0:
        return 0
    return max(len(digits) + exponent, 0)
