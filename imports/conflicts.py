"""Compare re-imported documents and statement entries with the books.

A row whose document number (or statement entry key) the company already
has is left as it is only when its values equal those in the books. A row
that differs is a conflict: it names the key and each differing field with
both values, and like a row error it stops the commit, because the import
cannot tell which side is right.

Only mapped columns are compared. An empty optional text cell compares as
empty text, and an empty optional number, date or code cell is not compared,
because the commit would fill it from a default (the customer's currency, the
product name).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from imports.camt import StatementEntry
from imports.kinds import DocumentKind, target_field
from imports.models import BankStatementLine
from imports.validation import ParsedRow
from reconciliation.models import (
    Currency,
    Invoice,
    Party,
    Payment,
    Product,
    SalesOrder,
    Shipment,
)
from reconciliation.money import format_money

ZERO = Decimal(0)
FIX = (
    "Correct the file to match the books, or change the document in the CRM, "
    "then upload the file again."
)


@dataclass(frozen=True)
class FieldDifference:
    label: str
    in_books: str
    in_file: str


@dataclass(frozen=True)
class Conflict:
    """A row that repeats a key of the books with other values."""

    row: int
    # The document or line of the key, such as 'line 2 of order "SO-1"'.
    subject: str
    differences: tuple[FieldDifference, ...]
    # "Row" for a CSV or XLSX row (the header is row 1), "Entry" for the
    # position of a CAMT.053 entry in its file.
    place: str = "Row"

    @property
    def message(self) -> str:
        listed = "; ".join(
            f"{d.label} is {d.in_books} in the books and {d.in_file} in the file"
            for d in self.differences
        )
        return (
            f"{self.place} {self.row}: {self.subject} is already in the books "
            f"with other values: {listed}. {FIX}"
        )


def show_value(value: Any, minor_units: int | None = None) -> str:
    """Format a compared value the way the product's pages show it."""
    match value:
        case None | "":
            return "empty"
        case Decimal() if minor_units is not None:
            return format_money(value, minor_units=minor_units)
        case Decimal():
            return f"{value.normalize():,f}"
        case date():
            return value.isoformat()
        case Party() | Product():
            return value.code if isinstance(value, Party) else value.sku
        case Currency():
            return value.code
        case SalesOrder():
            return value.number
        case _:
            return f'"{value}"'


def _key(value: Any) -> Any:
    """Return the value that decides equality: a model's primary key, stripped text."""
    match value:
        case Party() | Product() | Currency() | SalesOrder():
            return value.pk
        case str():
            return value.strip()
        case _:
            return value


class _Comparison:
    """Collect the differences of one row against one stored object."""

    def __init__(self, kind: str, row: ParsedRow, mapped: Iterable[str]) -> None:
        self.kind = kind
        self.row = row
        self.mapped = set(mapped)
        self.differences: list[FieldDifference] = []

    def compare(
        self,
        name: str,
        in_books: Any,
        *,
        minor_units: int | None = None,
        empty: Any = None,
    ) -> None:
        """Compare the row's ``name`` value with ``in_books`` if the file maps it.

        ``empty`` is the value an empty cell stands for; with None an empty
        cell is not compared.
        """
        if name not in self.mapped:
            return
        in_file = self.row.values.get(name, empty)
        if in_file is None:
            return
        if _key(in_file) == _key(in_books):
            return
        self.differences.append(
            FieldDifference(
                label=target_field(self.kind, name).label,
                in_books=show_value(in_books, minor_units),
                in_file=show_value(in_file, minor_units),
            )
        )

    def missing(self, label: str, what: str) -> None:
        self.differences.append(FieldDifference(label, what, "present"))


def find_document_conflicts(
    kind: str,
    documents: Sequence[Any],
    company_id: int,
    mapped: Iterable[str],
    rejected_rows: set[int],
) -> list[Conflict]:
    """Return a conflict for each row of an existing document that differs.

    ``documents`` are the plan's existing ``DocumentPlan`` objects. A document
    with a rejected row is skipped, because its row error is reported first.
    """
    mapped = set(mapped)
    checked = [
        d for d in documents if not any(row.row in rejected_rows for row in d.rows)
    ]
    numbers = [document.number for document in checked]
    stored = _stored_documents(kind, company_id, numbers)
    conflicts: list[Conflict] = []
    for document in checked:
        instance = stored.get(document.number.casefold())
        if instance is None:
            continue
        match kind:
            case DocumentKind.ORDERS:
                conflicts.extend(_order_conflicts(document, instance, mapped))
            case DocumentKind.SHIPMENTS:
                conflicts.extend(_shipment_conflicts(document, instance, mapped))
            case DocumentKind.INVOICES:
                conflicts.extend(_invoice_conflicts(document, instance, mapped))
            case DocumentKind.PAYMENTS:
                conflicts.extend(_payment_conflicts(document, instance, mapped))
    return conflicts


def _stored_documents(kind: str, company_id: int, numbers: list[str]) -> dict[str, Any]:
    query: Any
    match kind:
        case DocumentKind.ORDERS:
            query = SalesOrder.objects.select_related("customer", "currency")
            query = query.prefetch_related("lines__product")
        case DocumentKind.SHIPMENTS:
            query = Shipment.objects.select_related("order").prefetch_related(
                "lines__order_line"
            )
        case DocumentKind.INVOICES:
            query = Invoice.objects.select_related("customer", "order", "currency")
            query = query.prefetch_related("lines__product")
        case _:
            query = Payment.objects.select_related("party", "currency")
    rows = query.filter(company_id=company_id, number__in=numbers)
    return {instance.number.casefold(): instance for instance in rows}


def _conflict(row: ParsedRow, subject: str, comparison: _Comparison) -> list[Conflict]:
    if not comparison.differences:
        return []
    return [Conflict(row.row, subject, tuple(comparison.differences))]


def _order_conflicts(
    document: Any, order: SalesOrder, mapped: set[str]
) -> list[Conflict]:
    kind = DocumentKind.ORDERS
    header = _Comparison(kind, document.rows[0], mapped)
    header.compare("customer", order.customer)
    header.compare("order_date", order.order_date)
    header.compare("promised_date", order.promised_date)
    header.compare("currency", order.currency)
    header.compare("customer_po_ref", order.customer_po_ref, empty="")
    subject = f'order "{order.number}"'
    conflicts = _conflict(document.rows[0], subject, header)
    lines = {line.line_no: line for line in order.lines.all()}
    for row in document.rows:
        line_no = row.values["line_no"]
        line_subject = f'line {line_no} of order "{order.number}"'
        comparison = _Comparison(kind, row, mapped)
        line = lines.get(line_no)
        if line is None:
            comparison.missing("Line number", "missing")
            conflicts.extend(_conflict(row, line_subject, comparison))
            continue
        comparison.compare("product", line.product)
        comparison.compare("description", line.description)
        comparison.compare("qty_ordered", line.qty_ordered)
        comparison.compare("unit_price", line.unit_price)
        comparison.compare("discount_pct", line.discount_pct, empty=ZERO)
        conflicts.extend(_conflict(row, line_subject, comparison))
    return conflicts


def _shipment_conflicts(
    document: Any, shipment: Shipment, mapped: set[str]
) -> list[Conflict]:
    kind = DocumentKind.SHIPMENTS
    header = _Comparison(kind, document.rows[0], mapped)
    header.compare("order", shipment.order)
    header.compare("shipped_at", shipment.shipped_at)
    header.compare("carrier", shipment.carrier, empty="")
    header.compare("tracking_no", shipment.tracking_no, empty="")
    subject = f'shipment "{shipment.number}"'
    conflicts = _conflict(document.rows[0], subject, header)
    shipped = {
        line.order_line.line_no: line.qty_shipped for line in shipment.lines.all()
    }
    for row in document.rows:
        line_no = row.values["line_no"]
        line_subject = f'order line {line_no} of shipment "{shipment.number}"'
        comparison = _Comparison(kind, row, mapped)
        if line_no not in shipped:
            comparison.missing("Order line number", "missing")
        else:
            comparison.compare("qty_shipped", shipped[line_no])
        conflicts.extend(_conflict(row, line_subject, comparison))
    return conflicts


def _invoice_conflicts(
    document: Any, invoice: Invoice, mapped: set[str]
) -> list[Conflict]:
    kind = DocumentKind.INVOICES
    minor_units = invoice.currency.minor_units
    header = _Comparison(kind, document.rows[0], mapped)
    header.compare("kind", invoice.kind, empty=Invoice.Kind.INVOICE)
    header.compare("customer", invoice.customer)
    header.compare("order", invoice.order)
    header.compare("reference", invoice.reference, empty="")
    header.compare("invoice_date", invoice.invoice_date)
    header.compare("due_date", invoice.due_date)
    header.compare("currency", invoice.currency)
    header.compare("amount_total", invoice.amount_total, minor_units=minor_units)
    subject = f'invoice "{invoice.number}"'
    conflicts = _conflict(document.rows[0], subject, header)
    if "product" not in mapped:
        return conflicts
    # Stored invoice lines have no number, so the file's rows are compared
    # with them in the order they were created.
    stored = list(invoice.lines.order_by("pk"))
    for position, row in enumerate(document.rows, start=1):
        line_subject = f'line {position} of invoice "{invoice.number}"'
        comparison = _Comparison(kind, row, mapped)
        if position > len(stored):
            comparison.missing("Line product SKU", "missing")
            conflicts.extend(_conflict(row, line_subject, comparison))
            continue
        line = stored[position - 1]
        comparison.compare("product", line.product)
        comparison.compare("qty", line.qty)
        comparison.compare("unit_price", line.unit_price)
        comparison.compare("discount_pct", line.discount_pct, empty=ZERO)
        comparison.compare("tax_rate", line.tax_rate, empty=ZERO)
        conflicts.extend(_conflict(row, line_subject, comparison))
    return conflicts


def _payment_conflicts(
    document: Any, payment: Payment, mapped: set[str]
) -> list[Conflict]:
    row = document.rows[0]
    comparison = _Comparison(DocumentKind.PAYMENTS, row, mapped)
    comparison.compare("party", payment.party)
    comparison.compare("value_date", payment.value_date)
    comparison.compare("currency", payment.currency)
    comparison.compare(
        "amount", payment.amount, minor_units=payment.currency.minor_units
    )
    reference = row.values.get("reference", "")
    if "reference" in mapped and reference.strip() != payment.reference.strip():
        comparison.differences.append(
            FieldDifference(
                "Reference", show_value(payment.reference), show_value(reference)
            )
        )
    return _conflict(row, f'payment "{payment.number}"', comparison)


def find_entry_conflicts(
    entries: Sequence[tuple[int, StatementEntry]],
    stored: dict[tuple[str, str, str], BankStatementLine],
    minor_units: dict[str, int],
) -> list[Conflict]:
    """Return a conflict for each statement entry whose stored line differs.

    ``entries`` pairs each entry with its position in the file, which the
    message gives as the entry number.
    """
    conflicts: list[Conflict] = []
    for position, entry in entries:
        line = stored.get(
            (entry.account_iban, entry.statement_id, entry.entry_reference)
        )
        if line is None:
            continue
        units = minor_units.get(entry.currency, 2)
        pairs = (
            ("Amount", line.amount, entry.amount, units),
            ("Currency", line.currency_id, entry.currency, None),
            ("Credit/debit", line.direction, entry.direction, None),
            ("Booking date", line.booking_date, entry.booking_date, None),
            ("Value date", line.value_date, entry.value_date, None),
            ("Remittance", line.remittance_info, entry.remittance_info, None),
        )
        differences = tuple(
            FieldDifference(label, show_value(books, places), show_value(file, places))
            for label, books, file, places in pairs
            if books != file
        )
        if differences:
            conflicts.append(
                Conflict(
                    position,
                    f'entry "{entry.entry_reference}" of statement '
                    f'"{entry.statement_id}"',
                    differences,
                    place="Entry",
                )
            )
    return conflicts
