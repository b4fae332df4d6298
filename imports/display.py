"""Format parsed cells for the preview the way the product's pages show values.

Money shows its currency's decimals with thousands separators (``1,552.22``),
a unit price keeps up to four decimals, and a quantity or percentage drops
trailing zeros. A cell that did not parse shows as the file has it, so the
row error and the cell read the same.
"""

from datetime import date
from decimal import Decimal

from imports.kinds import FieldType, target_field
from imports.validation import ParsedRow
from reconciliation.models import Company, Currency, Party, Product, SalesOrder
from reconciliation.money import format_money, format_number, format_price


def _row_minor_units(row: ParsedRow, company: Company) -> int:
    currency = row.values.get("currency")
    if isinstance(currency, Currency):
        return currency.minor_units
    party = row.values.get("customer") or row.values.get("party")
    if isinstance(party, Party):
        return party.currency.minor_units
    return company.base_currency.minor_units


def format_cell(kind: str, name: str, row: ParsedRow, company: Company) -> str:
    """Return the preview text of one cell: its parsed value, else the raw text."""
    if name not in row.values:
        return row.cells.get(name, "")
    value = row.values[name]
    field_type = target_field(kind, name).type
    match value:
        case Decimal() if field_type == FieldType.MONEY:
            return format_money(value, minor_units=_row_minor_units(row, company))
        case Decimal() if name == "unit_price":
            return format_price(value, minor_units=_row_minor_units(row, company))
        case Decimal():
            return format_number(value)
        case date():
            return value.isoformat()
        case Party():
            return value.code
        case Product():
            return value.sku
        case Currency():
            return value.code
        case SalesOrder():
            return value.number
        case _:
            return row.cells.get(name, str(value))


def format_rows(
    kind: str, rows: list[ParsedRow], columns: list[str], company: Company
) -> list[tuple[ParsedRow, list[str]]]:
    """Return each row with its cells formatted, in the order of ``columns``."""
    return [
        (row, [format_cell(kind, name, row, company) for name in columns])
        for row in rows
    ]
