"""Invoice lines in an invoices file: the checks and the amounts of each line.

A file has invoice lines when it has a line product column. Then every row
is one line: it needs a product, a quantity and a unit price. An order line
number, when given, must be a line of the invoice's order with the same
product. The invoice's total amount must equal its lines' subtotals plus
their tax, each rounded per line, because the refresh after the commit
derives the total from the lines.
"""

from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any

from imports.kinds import DocumentKind, target_field
from imports.limits import LINE_CONTEXT, money_too_large
from imports.validation import ParsedRow, References, RowError, row_currency
from reconciliation.models import SalesOrder, SalesOrderLine
from reconciliation.money import format_money, line_subtotal, quantize_money

HUNDRED = Decimal(100)
ZERO = Decimal(0)


def has_invoice_lines(kind: str, rows: list[ParsedRow]) -> bool:
    """Return whether an invoices file has a line product column."""
    return kind == DocumentKind.INVOICES and any("product" in r.cells for r in rows)


@dataclass(frozen=True)
class LineAmounts:
    subtotal: Decimal
    tax_amount: Decimal


def line_amounts(values: dict[str, Any], *, minor_units: int) -> LineAmounts:
    """Return a line's subtotal and its tax, each rounded to the minor unit."""
    with localcontext(LINE_CONTEXT):
        subtotal = line_subtotal(
            qty=values["qty"],
            unit_price=values["unit_price"],
            discount_pct=values.get("discount_pct", ZERO),
            minor_units=minor_units,
        )
        tax = quantize_money(
            subtotal * values.get("tax_rate", ZERO) / HUNDRED, minor_units=minor_units
        )
    return LineAmounts(subtotal, tax)


def check_invoice_lines(
    rows: list[ParsedRow],
    references: References,
    column_names: dict[str, str],
) -> tuple[list[RowError], dict[int, SalesOrderLine]]:
    """Check the line cells of one invoice's rows and its total.

    Returns the errors and the order line of each row that names one, by row
    number.
    """
    errors: list[RowError] = []
    order_lines: dict[int, SalesOrderLine] = {}
    for row in rows:
        row_errors = _check_line(row, column_names, order_lines)
        if not row_errors and row.ok:
            row_errors = _check_line_amounts(row, references, column_names)
        if row_errors:
            row.ok = False
            errors.extend(row_errors)
    if errors or not rows[0].ok:
        return errors, order_lines
    total_error = _check_total(rows, references, column_names)
    if total_error is not None:
        rows[0].ok = False
        errors.append(total_error)
    return errors, order_lines


def _column(column_names: dict[str, str], name: str) -> str:
    return column_names.get(name) or target_field(DocumentKind.INVOICES, name).label


def _check_line(
    row: ParsedRow,
    column_names: dict[str, str],
    order_lines: dict[int, SalesOrderLine],
) -> list[RowError]:
    errors: list[RowError] = []
    for name in ("product", "qty", "unit_price"):
        if name in row.values or row.cells.get(name):
            # Present, or not parsed and reported by the cell check already.
            continue
        label = target_field(DocumentKind.INVOICES, name).label
        errors.append(
            RowError(
                row.row,
                _column(column_names, name),
                "",
                f"{label} is empty. Each row of a file with invoice lines is one "
                "line: fill in its product, quantity and unit price.",
            )
        )
    line_no = row.values.get("line_no")
    if isinstance(line_no, int):
        errors.extend(_check_order_line(row, line_no, column_names, order_lines))
    return errors


def _check_line_amounts(
    row: ParsedRow, references: References, column_names: dict[str, str]
) -> list[RowError]:
    """Reject a line whose subtotal or tax does not fit a money field."""
    minor_units = row_currency(row, references).minor_units
    amounts = line_amounts(row.values, minor_units=minor_units)
    errors: list[RowError] = []
    for label, value in (
        ("the line subtotal", amounts.subtotal),
        ("the line tax", amounts.tax_amount),
    ):
        problem = money_too_large(value, label)
        if problem is not None:
            errors.append(
                RowError(
                    row.row,
                    _column(column_names, "unit_price"),
                    row.cells.get("unit_price", ""),
                    f"{problem}. Correct the quantity, unit price or rates.",
                )
            )
    return errors


def _check_order_line(
    row: ParsedRow,
    line_no: int,
    column_names: dict[str, str],
    order_lines: dict[int, SalesOrderLine],
) -> list[RowError]:
    """Find the order line a row names, or return why it is not usable."""
    errors: list[RowError] = []
    order = row.values.get("order")
    if not isinstance(order, SalesOrder):
        errors.append(
            RowError(
                row.row,
                _column(column_names, "line_no"),
                str(line_no),
                "an order line number needs the invoice's order. Fill in the "
                "order number, or leave the line number empty.",
            )
        )
        return errors
    line = next((item for item in order.lines.all() if item.line_no == line_no), None)
    if line is None:
        errors.append(
            RowError(
                row.row,
                _column(column_names, "line_no"),
                str(line_no),
                f"order {order.number} has no line {line_no}. Correct the line "
                "number or import the order line first.",
            )
        )
        return errors
    product = row.values.get("product")
    if product is not None and product.pk != line.product_id:
        errors.append(
            RowError(
                row.row,
                _column(column_names, "product"),
                row.cells.get("product", ""),
                f"line {line_no} of order {order.number} is for "
                f"{line.product.sku}, not {product.sku}. Correct the product or "
                "the line number.",
            )
        )
        return errors
    order_lines[row.row] = line
    return errors


def _check_total(
    rows: list[ParsedRow], references: References, column_names: dict[str, str]
) -> RowError | None:
    first = rows[0]
    total = first.values.get("amount_total")
    if not isinstance(total, Decimal):
        return None
    minor_units = row_currency(first, references).minor_units
    amounts = [line_amounts(row.values, minor_units=minor_units) for row in rows]
    lines_total = sum((a.subtotal + a.tax_amount for a in amounts), ZERO)
    if lines_total == total:
        return None
    number = first.values.get("number", "")
    lines_text = format_money(lines_total, minor_units=minor_units)
    return RowError(
        first.row,
        _column(column_names, "amount_total"),
        first.cells.get("amount_total", ""),
        f'the total of "{number}" differs from its lines, which add up to '
        f"{lines_text} with tax. Correct the total or the lines.",
    )
