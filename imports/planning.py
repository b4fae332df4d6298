"""Group parsed rows into documents and find duplicates and existing documents.

A document whose number the company already has is reported as existing and
left as it is when the file's values equal those in the books, and as a
conflict when they differ (``imports.conflicts``). A number (or, for line
files, a number and line) that repeats within the file is an error on every
repeat, because the file does not say which row is right. Rows of one order,
shipment or invoice with lines must agree on the header fields.
"""

from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import Any

from imports.conflicts import Conflict, find_document_conflicts
from imports.invoice_lines import check_invoice_lines, has_invoice_lines
from imports.kinds import MULTI_ROW_KINDS, DocumentKind, target_fields
from imports.limits import LINE_CONTEXT, money_too_large
from imports.validation import ParsedRow, References, RowError, row_currency
from reconciliation.models import Invoice, Payment, SalesOrder, SalesOrderLine, Shipment
from reconciliation.money import line_subtotal

ZERO = Decimal(0)

DOCUMENT_MODELS: dict[str, type[SalesOrder | Shipment | Invoice | Payment]] = {
    DocumentKind.ORDERS: SalesOrder,
    DocumentKind.SHIPMENTS: Shipment,
    DocumentKind.INVOICES: Invoice,
    DocumentKind.PAYMENTS: Payment,
}


@dataclass
class DocumentPlan:
    number: str
    rows: list[ParsedRow] = field(default_factory=list)
    exists: bool = False
    # For shipment and invoice line files: the order line of each row, by row
    # number.
    order_lines: dict[int, SalesOrderLine] = field(default_factory=dict)

    @property
    def header(self) -> dict[str, Any]:
        return self.rows[0].values

    @property
    def row_numbers(self) -> list[int]:
        return [row.row for row in self.rows]


@dataclass
class Plan:
    kind: str
    documents: list[DocumentPlan]
    errors: list[RowError]
    rows_total: int
    # Rows of documents in the books whose values differ from the file.
    conflicts: list[Conflict] = field(default_factory=list)

    @property
    def new_documents(self) -> list[DocumentPlan]:
        return [document for document in self.documents if not document.exists]

    @property
    def existing_documents(self) -> list[DocumentPlan]:
        return [document for document in self.documents if document.exists]

    @property
    def rejected_rows(self) -> set[int]:
        return {error.row for error in self.errors}


def plan_documents(
    kind: str,
    rows: list[ParsedRow],
    errors: list[RowError],
    references: References,
    column_names: dict[str, str],
) -> Plan:
    """Group the rows by document number and add the file-level row errors."""
    errors = list(errors)
    documents: dict[str, DocumentPlan] = {}
    line_keys: dict[tuple[str, int], int] = {}
    with_lines = has_invoice_lines(kind, rows)
    multi_row = kind in MULTI_ROW_KINDS or with_lines
    for row in rows:
        number = row.values.get("number")
        if not isinstance(number, str):
            continue
        key = number.casefold()
        document = documents.get(key)
        if document is not None and not multi_row:
            errors.append(_duplicate(row, column_names, number, document.rows[0].row))
            continue
        if document is None:
            document = documents[key] = DocumentPlan(number=number)
        else:
            errors.extend(_header_conflicts(kind, document, row, column_names))
        line_no = row.values.get("line_no")
        if isinstance(line_no, int):
            first = line_keys.setdefault((key, line_no), row.row)
            if first != row.row:
                errors.append(
                    RowError(
                        row.row,
                        column_names["line_no"],
                        str(line_no),
                        f'line {line_no} of "{number}" is also on row {first}. '
                        "Keep one row per line.",
                    )
                )
        document.rows.append(row)

    plan = Plan(
        kind=kind,
        documents=list(documents.values()),
        errors=errors,
        rows_total=len(rows),
    )
    _mark_existing(plan, references)
    if kind == DocumentKind.ORDERS:
        _check_order_amounts(plan, references, column_names)
    if kind == DocumentKind.SHIPMENTS:
        _resolve_order_lines(plan, column_names)
    if with_lines:
        for document in plan.new_documents:
            line_errors, order_lines = check_invoice_lines(
                document.rows, references, column_names
            )
            plan.errors.extend(line_errors)
            document.order_lines.update(order_lines)
    plan.errors.sort(key=lambda error: error.row)
    plan.conflicts = find_document_conflicts(
        kind,
        plan.existing_documents,
        references.company.pk,
        column_names,
        plan.rejected_rows,
    )
    return plan


def _duplicate(
    row: ParsedRow, column_names: dict[str, str], number: str, first: int
) -> RowError:
    return RowError(
        row.row,
        column_names["number"],
        number,
        f'document number "{number}" is also on row {first}. Each number may '
        "appear once in a file: remove the repeated row or correct its number.",
    )


def _header_conflicts(
    kind: str, document: DocumentPlan, row: ParsedRow, column_names: dict[str, str]
) -> list[RowError]:
    conflicts: list[RowError] = []
    first = document.rows[0]
    for target in target_fields(kind):
        if not target.header or target.name == "number":
            continue
        # A cell that did not parse has its own error already.
        unparsed = any(
            r.cells.get(target.name) and target.name not in r.values
            for r in (first, row)
        )
        if not unparsed and first.values.get(target.name) != row.values.get(
            target.name
        ):
            value = row.cells.get(target.name, "")
            conflicts.append(
                RowError(
                    row.row,
                    column_names.get(target.name, target.label),
                    value,
                    f'"{value}" differs from row {first.row} of "{document.number}" '
                    f'("{first.cells.get(target.name, "")}"). The rows of one '
                    "document must agree on it.",
                )
            )
    return conflicts


def _mark_existing(plan: Plan, references: References) -> None:
    model = DOCUMENT_MODELS[plan.kind]
    numbers = [document.number for document in plan.documents]
    existing = {
        number.casefold()
        for number in model._default_manager.filter(
            company=references.company, number__in=numbers
        ).values_list("number", flat=True)
    }
    for document in plan.documents:
        document.exists = document.number.casefold() in existing


def _resolve_order_lines(plan: Plan, column_names: dict[str, str]) -> None:
    """Find the order line each shipment row ships, or report the missing line."""
    for document in plan.new_documents:
        for row in document.rows:
            order = row.values.get("order")
            line_no = row.values.get("line_no")
            if not isinstance(order, SalesOrder) or not isinstance(line_no, int):
                continue
            line = next(
                (line for line in order.lines.all() if line.line_no == line_no), None
            )
            if line is None:
                plan.errors.append(
                    RowError(
                        row.row,
                        column_names["line_no"],
                        str(line_no),
                        f"order {order.number} has no line {line_no}. Correct the "
                        "line number or import the order line first.",
                    )
                )
                row.ok = False
                continue
            document.order_lines[row.row] = line


def order_line_subtotal(values: dict[str, Any], *, minor_units: int) -> Decimal:
    """Return an order line's subtotal, rounded to the minor unit."""
    with localcontext(LINE_CONTEXT):
        return line_subtotal(
            qty=values["qty_ordered"],
            unit_price=values["unit_price"],
            discount_pct=values.get("discount_pct", ZERO),
            minor_units=minor_units,
        )


def _check_order_amounts(
    plan: Plan, references: References, column_names: dict[str, str]
) -> None:
    """Reject order lines and orders whose amounts do not fit a money field."""
    for document in plan.new_documents:
        total = ZERO
        line_too_large = False
        for row in document.rows:
            if "qty_ordered" not in row.values or "unit_price" not in row.values:
                continue
            minor_units = row_currency(row, references).minor_units
            subtotal = order_line_subtotal(row.values, minor_units=minor_units)
            total += subtotal
            problem = money_too_large(subtotal, "the line subtotal")
            if problem is not None:
                plan.errors.append(
                    RowError(
                        row.row,
                        column_names["unit_price"],
                        row.cells.get("unit_price", ""),
                        f"{problem}. Correct the quantity or the unit price.",
                    )
                )
                row.ok = False
                line_too_large = True
        if line_too_large:
            # The line's own error names what to correct first.
            continue
        problem = money_too_large(total, f'the total of order "{document.number}"')
        if problem is not None:
            first = document.rows[0]
            plan.errors.append(
                RowError(
                    first.row,
                    column_names["unit_price"],
                    first.cells.get("unit_price", ""),
                    f"{problem}. Correct the quantities or unit prices, or split "
                    "the order.",
                )
            )
            first.ok = False
