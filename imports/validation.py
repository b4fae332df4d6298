"""Check each row of a table against a source's mapping and the company's data.

``parse_rows`` turns the cells of every row into typed values and collects a
``RowError`` for each cell that cannot be used. Every message names the row
number, the column and the value, and gives the fix. Nothing is written.
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from accounts.importing import normalize_header
from core.numbers import has_non_ascii_digit
from imports.kinds import FieldType, TargetField, target_fields
from imports.limits import (
    FieldLimit,
    significant_digits,
    significant_digits_stored,
    target_limit,
    whole_digits,
)
from imports.models import ColumnMapping, ImportSource
from imports.reading import ImportFileError, Table
from reconciliation.models import Currency, Invoice, Party, Product, SalesOrder

ISO_DATE = "%Y-%m-%d"
INVOICE_KINDS = {
    "invoice": Invoice.Kind.INVOICE,
    "credit_note": Invoice.Kind.CREDIT_NOTE,
    "credit note": Invoice.Kind.CREDIT_NOTE,
    "debit_note": Invoice.Kind.DEBIT_NOTE,
    "debit note": Invoice.Kind.DEBIT_NOTE,
}


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    value: str
    problem: str

    @property
    def message(self) -> str:
        if not self.column:
            return f"Row {self.row}: {self.problem}"
        return f'Row {self.row}, column "{self.column}": {self.problem}'


@dataclass
class ParsedRow:
    row: int
    # Typed values by target field; a missing optional field is absent.
    values: dict[str, Any] = field(default_factory=dict)
    # The cells as read, by target field, for the preview.
    cells: dict[str, str] = field(default_factory=dict)
    ok: bool = True


@dataclass(frozen=True)
class ColumnPlan:
    """The column, position and number and date style of one target field."""

    target: TargetField
    column: str
    position: int
    date_format: str
    decimal_separator: str
    # The storage limits of the model field that the cell is written to.
    limit: FieldLimit = field(default_factory=FieldLimit)


class References:
    """The company's parties, products, currencies and orders, read once per file."""

    def __init__(self, source: ImportSource) -> None:
        self.company = source.company
        self.currencies = {c.code: c for c in Currency.objects.all()}
        self._parties: dict[str, Party] | None = None
        self._products: dict[str, Product] | None = None
        self._orders: dict[str, SalesOrder] | None = None

    @property
    def parties(self) -> dict[str, Party]:
        if self._parties is None:
            rows = Party.objects.filter(company=self.company).select_related("currency")
            self._parties = {party.code.casefold(): party for party in rows}
        return self._parties

    @property
    def products(self) -> dict[str, Product]:
        if self._products is None:
            rows = Product.objects.filter(company=self.company)
            self._products = {product.sku.casefold(): product for product in rows}
        return self._products

    @property
    def orders(self) -> dict[str, SalesOrder]:
        if self._orders is None:
            rows = SalesOrder.objects.filter(company=self.company).prefetch_related(
                "lines"
            )
            self._orders = {order.number.casefold(): order for order in rows}
        return self._orders


def plan_columns(source: ImportSource, table: Table) -> list[ColumnPlan]:
    """Match the mapping to the file's header, or raise when a column is missing."""
    mappings = {m.target_field: m for m in source.mappings.all()}
    index = table.column_index()
    found = ", ".join(f'"{header}"' for header in table.header)
    plans: list[ColumnPlan] = []
    for target in target_fields(source.kind):
        mapping: ColumnMapping | None = mappings.get(target.name)
        if mapping is None:
            if target.required:
                raise ImportFileError(
                    f'The source "{source.name}" maps no column to "{target.label}". '
                    "Add it to the column mapping."
                )
            continue
        position = index.get(normalize_header(mapping.column))
        if position is None:
            if not target.required:
                continue
            raise ImportFileError(
                f'The file has no column "{mapping.column}" for "{target.label}". '
                f"Its columns are {found}. Correct the column mapping or the file."
            )
        plans.append(
            ColumnPlan(
                target=target,
                column=table.header[position],
                position=position,
                date_format=mapping.date_format or ISO_DATE,
                decimal_separator=(
                    "." if table.file_format == "xlsx" else mapping.decimal_separator
                ),
                limit=target_limit(source.kind, target.name),
            )
        )
    return plans


def parse_rows(
    source: ImportSource, table: Table
) -> tuple[list[ParsedRow], list[RowError], References]:
    """Return every row with typed values, and the errors of every bad cell."""
    plans = plan_columns(source, table)
    references = References(source)
    parsed: list[ParsedRow] = []
    errors: list[RowError] = []
    for number, cells in table.rows:
        row = ParsedRow(row=number)
        for plan in plans:
            text = cells[plan.position] if plan.position < len(cells) else ""
            row.cells[plan.target.name] = text
            problem = table.cell_problems.get((number, plan.position))
            if problem is not None:
                errors.append(RowError(number, plan.column, text, problem))
                row.ok = False
                continue
            try:
                value = _parse_cell(plan, text, references)
            except CellError as error:
                errors.append(RowError(number, plan.column, text, str(error)))
                row.ok = False
                continue
            if value is not None:
                row.values[plan.target.name] = value
        _check_money(row, plans, references, errors)
        parsed.append(row)
    return parsed, errors, references


class CellError(ValueError):
    """An error for a cell that cannot be used, with the fix in its message."""


def _parse_cell(plan: ColumnPlan, text: str, references: References) -> Any:
    target = plan.target
    if not text:
        if target.required:
            raise CellError(f"{target.label} is empty. Fill it in.")
        return None
    match target.type:
        case FieldType.TEXT:
            _check_length(text, plan)
            return text
        case FieldType.DATE:
            return parse_date(text, plan.date_format)
        case FieldType.QUANTITY:
            quantity = parse_decimal(text, plan.decimal_separator)
            if quantity < 0:
                raise CellError(
                    f'quantity "{text}" is negative. Enter the quantity as a '
                    "positive number; returns are not imported here."
                )
            if quantity == 0:
                raise CellError(f'quantity "{text}" is 0. Enter a positive quantity.')
            _check_digits(text, quantity, plan.limit, "quantity")
            return quantity
        case FieldType.RATE:
            rate = parse_decimal(text, plan.decimal_separator)
            if rate < 0:
                raise CellError(
                    f'{target.label.lower()} "{text}" is negative. Enter 0 or more.'
                )
            _check_digits(text, rate, plan.limit, target.label.lower())
            return rate
        case FieldType.MONEY:
            amount = parse_decimal(text, plan.decimal_separator)
            if amount <= 0:
                raise CellError(_money_not_positive(plan, text))
            # The row's currency sets the decimals an amount may have.
            _check_whole_digits(text, amount, plan.limit, "amount")
            return amount
        case FieldType.LINE_NO:
            return parse_line_number(text, plan.limit)
        case _:
            return _parse_reference(target, text, references)


def _money_not_positive(plan: ColumnPlan, text: str) -> str:
    if plan.target.name == "amount":
        # Payments and bank statement exports: a negative amount is money
        # that left the account.
        return (
            f'amount "{text}" is not above 0. Enter money received as a positive '
            "amount. A negative amount is a payment out of the account, which "
            "is not imported here: remove the row from the file."
        )
    return (
        f'amount "{text}" is not above 0. Enter the total as a positive amount. '
        'For a credit note, write "credit note" in the Kind column and keep the '
        "amount positive."
    )


def parse_line_number(text: str, limit: FieldLimit) -> int:
    """Read a line number of decimal digits, from 1 to the field's maximum."""
    # isascii() and isdecimal() admit only 0 to 9: isdecimal() alone admits
    # other scripts' digits such as U+0661 ARABIC-INDIC DIGIT ONE, which int()
    # reads.
    significant = text.lstrip("0")
    if not (text.isascii() and text.isdecimal()) or not significant:
        raise CellError(
            f'line number "{text}" is not a whole number above 0 in the digits 0 '
            "to 9. Enter the line number, such as 1."
        )
    # The length is compared first, because int() rejects over 4,300 digits.
    maximum = limit.max_value
    if maximum is not None and (
        len(significant) > len(str(maximum)) or int(significant) > maximum
    ):
        raise CellError(
            f'line number "{text}" is more than {maximum:,}, the largest '
            "line number stored. Correct the line number."
        )
    number = int(significant)
    return number


def _check_length(text: str, plan: ColumnPlan) -> None:
    limit = plan.limit.max_length
    if limit is not None and len(text) > limit:
        # A remittance text may run to thousands of characters, so a long one
        # is shown by its start.
        shown = text if len(text) <= 60 else f"{text[:50]}…"
        raise CellError(
            f'{plan.target.label.lower()} "{shown}" has {len(text):,} characters, '
            f"but at most {limit} are stored. Shorten it."
        )


def _parse_reference(target: TargetField, text: str, references: References) -> Any:
    key = text.casefold()
    match target.type:
        case FieldType.CUSTOMER:
            party = references.parties.get(key)
            if party is None:
                raise CellError(
                    f'unknown customer code "{text}". Create the customer in '
                    f"{references.company.name} first, or correct the code."
                )
            return party
        case FieldType.PRODUCT:
            product = references.products.get(key)
            if product is None:
                raise CellError(
                    f'unknown product "{text}". Create the product with this SKU '
                    "first, or correct the SKU."
                )
            return product
        case FieldType.CURRENCY:
            currency = references.currencies.get(text.upper())
            if currency is None:
                known = ", ".join(sorted(references.currencies))
                raise CellError(
                    f'unknown currency "{text}". Use an ISO 4217 code: {known}.'
                )
            return currency
        case FieldType.ORDER:
            order = references.orders.get(key)
            if order is None:
                raise CellError(
                    f'unknown order "{text}". Import the order first, or correct '
                    "the order number."
                )
            return order
        case FieldType.INVOICE_KIND:
            kind = INVOICE_KINDS.get(key)
            if kind is None:
                raise CellError(
                    f'unknown invoice kind "{text}". Use invoice, credit_note or '
                    "debit_note."
                )
            return kind
    raise AssertionError(f"Unhandled field type {target.type}")


def parse_date(text: str, date_format: str) -> date:
    day_missing = False
    for candidate in dict.fromkeys((date_format, ISO_DATE)):
        try:
            return datetime.strptime(text, candidate).date()
        except ValueError as error:
            # strptime raises "does not match format" or "unconverted data
            # remains" when the text has another shape. Any other ValueError
            # comes from a text that fits the format but names a day that
            # does not exist, such as 31.02.2026.
            problem = str(error)
            if "does not match format" not in problem and "unconverted" not in problem:
                day_missing = True
            continue
    try:
        # A workbook cell holding a date and a time reads as ISO 8601.
        return datetime.fromisoformat(text).date()
    except ValueError:
        pass
    if day_missing:
        raise CellError(
            f'date "{text}" does not exist: the day is past the end of its month '
            "(such as 31 February, or 29 February outside a leap year). Correct "
            "the date in the file."
        )
    example = date(2024, 3, 31).strftime(date_format)
    raise CellError(
        f'date "{text}" does not match the format {date_format} (for example '
        f"{example}). Correct the date or the date format of the mapping."
    )


def parse_decimal(text: str, separator: str) -> Decimal:
    """Read a number with ``separator`` as decimal mark and the other as grouping."""
    grouping = "," if separator == "." else "."
    compact = text.replace(" ", "").replace("\u00a0", "")
    if has_non_ascii_digit(compact):
        raise CellError(
            f'"{text}" has digits other than 0 to 9. Type the number with the '
            f"digits 0 to 9, such as 1234{separator}50."
        )
    # [0-9], because \d also matches other scripts' digits, which Decimal() reads.
    ungrouped = rf"-?[0-9]+(\{separator}[0-9]+)?"
    grouped = rf"-?[0-9]{{1,3}}(\{grouping}[0-9]{{3}})+(\{separator}[0-9]+)?"
    if not (re.fullmatch(ungrouped, compact) or re.fullmatch(grouped, compact)):
        name = "point" if separator == "." else "comma"
        raise CellError(
            f'"{text}" is not a number with a decimal {name}. Enter a number such '
            f"as 1234{separator}50, or change the decimal separator of the mapping."
        )
    normal = compact.replace(grouping, "").replace(separator, ".")
    try:
        return Decimal(normal)
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        raise CellError(f'"{text}" is not a number.') from None


def _decimals(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _check_digits(text: str, value: Decimal, limit: FieldLimit, label: str) -> None:
    """Raise when ``value`` has more digits before or after the point than fit."""
    _check_whole_digits(text, value, limit, label)
    allowed = limit.decimal_places
    if allowed is not None and _decimals(value) > allowed:
        raise CellError(
            f'{label} "{text}" has {_decimals(value)} decimals; at most {allowed} '
            "are stored. Round it first."
        )


def _check_whole_digits(
    text: str, value: Decimal, limit: FieldLimit, label: str
) -> None:
    whole = whole_digits(value)
    if limit.whole_digits is not None and whole > limit.whole_digits:
        raise CellError(
            f'{label} "{text}" has {whole} digits before the decimal point, but at '
            f"most {limit.whole_digits} are stored. Correct the {label}."
        )
    stored = significant_digits_stored()
    significant = significant_digits(value)
    if limit.whole_digits is not None and stored is not None and significant > stored:
        raise CellError(
            f'{label} "{text}" has {significant} significant digits, but this '
            f"database (SQLite) stores {stored}. Round it to {stored} digits."
        )


def row_currency(row: ParsedRow, references: References) -> Currency:
    """Return the row's currency: its own column, else the customer's, else the
    company's base currency."""
    currency = row.values.get("currency")
    if isinstance(currency, Currency):
        return currency
    party = row.values.get("customer") or row.values.get("party")
    if isinstance(party, Party):
        return party.currency
    return references.currencies[references.company.base_currency_id]


def _check_money(
    row: ParsedRow,
    plans: list[ColumnPlan],
    references: References,
    errors: list[RowError],
) -> None:
    """Check each amount against the minor units of the row's currency."""
    for plan in plans:
        if plan.target.type != FieldType.MONEY:
            continue
        amount = row.values.get(plan.target.name)
        if not isinstance(amount, Decimal):
            continue
        currency = row_currency(row, references)
        if _decimals(amount) > currency.minor_units:
            text = row.cells[plan.target.name]
            errors.append(
                RowError(
                    row.row,
                    plan.column,
                    text,
                    f'amount "{text}" has {_decimals(amount)} decimals, but '
                    f"{currency.code} allows {currency.minor_units}. Round it to "
                    f"{currency.minor_units} decimals.",
                )
            )
            row.ok = False
