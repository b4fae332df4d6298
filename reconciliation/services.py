"""Writes that keep running quantities, amounts and statuses in step with documents.

Order lines, invoices and payments carry figures derived from their child
documents (shipment lines, invoice lines, allocations). The functions here
recompute those figures from the documents alone, so running them twice gives
the same result and a wrong figure is fixed by the next refresh.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import connections, models, router, transaction
from django.db.models import F, Q, Value
from django.utils import timezone

from accounts.models import User
from core.audit import record_event
from core.bulk_writes import JsonText, insert_rows, save_fields
from core.models import AuditEvent
from core.queries import KeptQuery, fetch_kept, pipelined
from reconciliation.models import (
    Allocation,
    Currency,
    Invoice,
    InvoiceLine,
    LineCancellation,
    Payment,
    Product,
    SalesOrder,
    SalesOrderLine,
    Shipment,
    ShipmentLine,
    VendorBill,
    VendorBillLine,
)
from reconciliation.money import cancelled_amount, format_money, quantize_money
from reconciliation.replacements import covered_units_of

logger = logging.getLogger(__name__)

ZERO = Decimal(0)
COUNTED_SHIPMENT_STATES = (Shipment.State.SHIPPED, Shipment.State.DELIVERED)
# Credit notes take quantities and amounts back, and debit notes add to them.
KIND_SIGN: dict[str, int] = {
    Invoice.Kind.INVOICE: 1,
    Invoice.Kind.DEBIT_NOTE: 1,
    Invoice.Kind.CREDIT_NOTE: -1,
}
# Documents the customer owes money on. Credit notes are owed to the customer.
RECEIVABLE_KINDS = (Invoice.Kind.INVOICE, Invoice.Kind.DEBIT_NOTE)
ORDER_STATUS_FIELDS = ("delivery_status", "invoice_status", "payment_status")
ORDER_FIGURES = ("amount_total", "amount_cancelled", *ORDER_STATUS_FIELDS)
LINE_FIGURES = (
    "qty_shipped",
    "qty_cancelled",
    "qty_invoiced",
    "amount_invoiced",
    "amount_paid",
    "amount_cancelled",
)
INVOICE_FIGURES = (
    "amount_total",
    "amount_paid",
    "amount_written_off",
    "amount_credited",
    "amount_residual",
    "payment_state",
)
PAYMENT_FIGURES = ("amount_unallocated", "state")


@dataclass(frozen=True)
class InvoiceAmounts:
    amount_paid: Decimal
    amount_written_off: Decimal
    amount_residual: Decimal
    payment_state: str
    amount_credited: Decimal = ZERO


def derive_invoice_amounts(
    *,
    total: Decimal,
    paid: Decimal,
    written_off: Decimal,
    minor_units: int,
    credited: Decimal = ZERO,
) -> InvoiceAmounts:
    """Return paid, written-off, credited and residual amounts and the payment state.

    The residual is total minus paid, written off and credited, so an invoice
    closed by a write-off or a credit note has residual 0 and is paid on
    every later refresh.
    """
    paid = quantize_money(paid, minor_units=minor_units)
    written_off = quantize_money(written_off, minor_units=minor_units)
    credited = quantize_money(credited, minor_units=minor_units)
    residual = (
        quantize_money(total, minor_units=minor_units) - paid - written_off - credited
    )

    if residual < 0:
        state = Invoice.PaymentState.OVERPAID
    elif residual == 0:
        state = Invoice.PaymentState.PAID
    elif paid + written_off + credited > 0:
        state = Invoice.PaymentState.PARTIAL
    else:
        state = Invoice.PaymentState.NOT_PAID
    return InvoiceAmounts(paid, written_off, residual, state, credited)


def credit_applications(
    invoices: list[Invoice], settled: dict[int, Decimal]
) -> dict[int, Decimal]:
    """Return how much credit each invoice and credit note has applied, by id.

    A posted credit note settles its posted origin invoice, up to what the
    invoice still has open after ``settled`` (paid plus written off), the
    oldest credit note first. A credit note whose customer asked for the
    money back is refunded instead, so it settles nothing. The rest of a
    larger credit note stays open on it.
    """
    by_id = {invoice.pk: invoice for invoice in invoices}
    still_open = {
        pk: invoice.amount_total - settled.get(pk, ZERO)
        for pk, invoice in by_id.items()
    }
    credited: dict[int, Decimal] = defaultdict(Decimal)
    notes = sorted(
        (
            invoice
            for invoice in invoices
            if invoice.kind == Invoice.Kind.CREDIT_NOTE
            and invoice.state == Invoice.State.POSTED
            and not invoice.refund_requested
            and invoice.origin_invoice_id in by_id
        ),
        key=lambda note: note.pk,
    )
    for note in notes:
        origin = by_id[note.origin_invoice_id or 0]
        if origin.state != Invoice.State.POSTED:
            continue
        applied = min(note.amount_total, max(still_open[origin.pk], ZERO))
        if applied <= 0:
            continue
        still_open[origin.pk] -= applied
        credited[origin.pk] += applied
        credited[note.pk] += applied
    return credited


def expected_invoice_qty(line: SalesOrderLine) -> Decimal:
    """Return the quantity the line should be invoiced for under its policy.

    Under the ordered policy that is the ordered quantity less the cancelled
    units, so invoicing cancelled units is invoicing too much.
    """
    if line.product.invoice_policy == Product.InvoicePolicy.ORDERED:
        return line.qty_due
    return line.qty_shipped


def derive_delivery_status(lines: Iterable[SalesOrderLine]) -> str:
    """Decide per line on quantities, so one unshipped line keeps it partial.

    Cancelled units are not due, so a line shipped up to what was not
    cancelled counts as shipped in full.
    """
    lines = list(lines)
    if all(line.qty_shipped <= 0 for line in lines):
        return SalesOrder.DeliveryStatus.PENDING
    if all(line.qty_shipped >= line.qty_due for line in lines):
        return SalesOrder.DeliveryStatus.FULL
    return SalesOrder.DeliveryStatus.PARTIAL


def derive_invoice_status(
    lines: Iterable[SalesOrderLine], goods_credited: Mapping[int, Decimal] | None = None
) -> str:
    """Decide the order's invoice status from its lines' running quantities.

    ``goods_credited`` holds, per line id, the units credit notes credited
    for goods the customer did not get whole (lines that name a shipment
    line). Those units were billed and are not to bill again, so they count
    as billed here, while too many units billed are judged on the net
    quantity.
    """
    lines = list(lines)
    credited = goods_credited or {}

    def billed(line: SalesOrderLine) -> Decimal:
        return line.qty_invoiced + credited.get(line.pk, ZERO)

    if any(line.qty_invoiced > expected_invoice_qty(line) for line in lines):
        return SalesOrder.InvoiceStatus.UPSELL
    if lines and all(billed(line) >= line.qty_due for line in lines):
        return SalesOrder.InvoiceStatus.INVOICED
    if any(billed(line) < expected_invoice_qty(line) for line in lines):
        return SalesOrder.InvoiceStatus.TO_INVOICE
    if any(billed(line) > 0 for line in lines):
        return SalesOrder.InvoiceStatus.PARTIAL
    return SalesOrder.InvoiceStatus.NOTHING


def derive_payment_status(invoices: Iterable[Invoice]) -> str:
    """Derive the order payment status from its posted invoices and debit notes.

    Each invoice is judged on its own residual, because money paid too much
    on one invoice does not pay another: the order is paid or overpaid only
    when none of them has anything open.
    """
    receivables = [
        invoice
        for invoice in invoices
        if invoice.state == Invoice.State.POSTED and invoice.kind in RECEIVABLE_KINDS
    ]
    if not receivables:
        return SalesOrder.PaymentStatus.NOT_PAID
    if any(invoice.amount_residual > 0 for invoice in receivables):
        settled = any(
            invoice.amount_paid + invoice.amount_written_off != 0
            for invoice in receivables
        )
        if settled:
            return SalesOrder.PaymentStatus.PARTIAL
        return SalesOrder.PaymentStatus.NOT_PAID
    if any(invoice.amount_residual < 0 for invoice in receivables):
        return SalesOrder.PaymentStatus.OVERPAID
    return SalesOrder.PaymentStatus.PAID


def unsaved_audit_event(
    *,
    action: str,
    target: models.Model,
    source: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditEvent:
    """Build an audit event with no person as actor, for one bulk insert.

    It has the fields ``core.audit.record_event`` writes for a rule or the
    system, so a pass that changes thousands of rows appends its history in a
    few queries instead of one per row.
    """
    return AuditEvent(
        **audit_event_values(
            action=action,
            object_type=target._meta.label_lower,
            object_id=target.pk,
            source=source,
            before=before,
            after=after,
            reason=reason,
        )
    )


def audit_event_values(
    *,
    action: str,
    object_type: str,
    object_id: object,
    source: str,
    before: dict[str, Any] | None = None,
    after: "dict[str, Any] | JsonText | None" = None,
    reason: str = "",
) -> dict[str, Any]:
    """Return the columns of an audit event with no person as actor.

    ``object_type`` is the target model's ``label_lower``. The row is for
    ``insert_values``, which writes events without building instances;
    ``after`` may be encoded already (see ``JsonText``).
    """
    return {
        "actor_id": None,
        "actor_name": "",
        "actor_role": "",
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "before": before or {},
        "after": after or {},
        "reason": reason,
        "source": source,
    }


def audit_event_rows(events: Iterable[AuditEvent]) -> list[dict[str, Any]]:
    """Return unsaved events as ``audit_event_values`` rows, to insert with others."""
    return [
        audit_event_values(
            action=event.action,
            object_type=event.object_type,
            object_id=event.object_id,
            source=event.source,
            before=event.before,
            after=event.after,
            reason=event.reason,
        )
        for event in events
    ]


def refresh_order(*, order: SalesOrder) -> None:
    """Recompute one order's running quantities, statuses and invoice amounts."""
    with transaction.atomic():
        # The row lock makes two refreshes of one order run one after the other.
        list(SalesOrder.objects.select_for_update().filter(pk=order.pk).values("pk"))
        _refresh(Q(pk=order.pk), source=AuditEvent.Source.SYSTEM)
    order.refresh_from_db()


def update_planner_statistics() -> None:
    """Run ANALYZE on the order-to-cash tables after a bulk load, on PostgreSQL.

    Right after thousands of rows arrive in one transaction, PostgreSQL's
    statistics still describe nearly empty tables, and it can plan the
    company-wide refresh as nested loops that take minutes. ANALYZE inside the
    transaction counts the transaction's own new rows. SQLite plans from
    indexes alone and needs nothing here.
    """
    connection = connections[router.db_for_write(SalesOrder)]
    if connection.vendor != "postgresql":
        return
    tables = [
        model._meta.db_table
        for model in (
            SalesOrder,
            SalesOrderLine,
            Shipment,
            ShipmentLine,
            Invoice,
            InvoiceLine,
            Payment,
            Allocation,
        )
    ]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(tables))


def refresh_orders(*, company_id: int, source: str = AuditEvent.Source.SYSTEM) -> int:
    """Recompute every order of a company with set-based queries, not per order."""
    with transaction.atomic():
        count = _refresh(Q(company_id=company_id), source=source)
    logger.info("Refreshed %d orders of company %s", count, company_id)
    return count


# Writes that lock several documents take them in this order, by model and
# then by id. Two writes that both follow it cannot deadlock on these rows.
LOCK_ORDER: tuple[type[models.Model], ...] = (SalesOrder, Invoice, Payment)


def lock_documents(rows: dict[type[models.Model], Iterable[int | None]]) -> None:
    """Lock the rows named by ``{model: ids}``, by model in order, then by id.

    ``LOCK_ORDER`` lists the document models, and any other model (the match
    groups) is locked after them, in the order the mapping lists it.
    """
    ordered = [m for m in LOCK_ORDER if m in rows]
    ordered += [m for m in rows if m not in LOCK_ORDER]
    for model in ordered:
        ids = sorted({pk for pk in rows[model] if pk is not None})
        if ids:
            locked = model._default_manager.select_for_update()
            list(locked.filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))


def payment_available(payment: Payment) -> Decimal:
    """Return what is left to allocate on a payment, from its allocation rows."""
    allocated = _sums(
        Allocation.objects.filter(payment=payment), "payment_id", "amount"
    ).get(payment.pk, ZERO)
    return quantize_money(
        payment.amount - allocated, minor_units=payment.currency.minor_units
    )


def allocate_payment(
    *,
    payment: Payment,
    invoice: Invoice,
    amount: Decimal | None = None,
    actor: User | None = None,
    source: str = AuditEvent.Source.SCREEN,
) -> Allocation:
    """Apply part of a payment (by default all that is left) to an invoice.

    The allocation may exceed the invoice's residual: the excess shows as an
    overpayment on the invoice instead of staying unallocated on the payment.
    The order, invoice and payment rows are locked first, in ``LOCK_ORDER``.
    """
    with transaction.atomic():
        read = lock_and_read(payment=payment, invoice=invoice)
        return allocate_locked(
            payment=payment,
            invoice=invoice,
            amount=amount,
            actor=actor,
            source=source,
            read=read,
        )


class LockedRows(NamedTuple):
    """A payment and an invoice read under their locks, with what they need."""

    payment: Payment
    invoice: Invoice
    # The amount left on the payment, and the sum of its allocations.
    available: Decimal
    allocated: Decimal
    # The invoice's order, read by its lock; None when the invoice has no
    # order or the caller locked it without reading it.
    order: SalesOrder | None = None


def read_locked(*, payment: Payment, invoice: Invoice) -> LockedRows:
    """Read a locked payment and invoice again, and what the payment has left."""
    payment = Payment.objects.select_related("currency").get(pk=payment.pk)
    invoice = Invoice.objects.get(pk=invoice.pk)
    return _with_balance(payment, invoice, order=None)


def lock_and_read(*, payment: Payment, invoice: Invoice) -> LockedRows:
    """Lock the invoice's order, the invoice and the payment, and read them.

    The locks follow ``LOCK_ORDER``, as ``lock_documents`` takes them, but
    the locking statements read the rows, so this returns what
    ``read_locked`` returns, and the order, with three queries fewer.

    The statements are compiled once per process (``KeptQuery``) and sent
    together with the read of the payment's allocations, in one round trip
    on PostgreSQL. The server runs them one after another in the order
    sent, so the locks are taken in ``LOCK_ORDER``.
    """
    alias = router.db_for_write(Payment)
    queries = []
    if invoice.order_id is not None:
        queries.append((KeptQuery.of(_locked_order_rows, alias), [invoice.order_id]))
    queries += [
        (KeptQuery.of(_locked_invoice_rows, alias), [invoice.pk]),
        (KeptQuery.of(_locked_payment_rows, alias), [payment.pk]),
        (KeptQuery.of(_payment_allocation_rows, alias), [payment.pk]),
    ]
    results = fetch_kept(queries, using=alias)
    order = None
    if invoice.order_id is not None:
        order = _with_currency(
            SalesOrder,
            _one(
                results.pop(0),
                SalesOrder.DoesNotExist(f"Order {invoice.order_id} does not exist."),
            ),
            alias,
        )
    invoice_row, payment_row, amounts = results
    locked_invoice = Invoice.from_db(
        alias,
        _INVOICE_NAMES,
        _one(
            invoice_row, Invoice.DoesNotExist(f"Invoice {invoice.pk} does not exist.")
        ),
    )
    locked_payment = _with_currency(
        Payment,
        _one(
            payment_row, Payment.DoesNotExist(f"Payment {payment.pk} does not exist.")
        ),
        alias,
    )
    allocated = sum((amount for (amount,) in amounts), ZERO)
    available = quantize_money(
        locked_payment.amount - allocated,
        minor_units=locked_payment.currency.minor_units,
    )
    return LockedRows(locked_payment, locked_invoice, available, allocated, order)


def _names(model: type[models.Model]) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


_INVOICE_NAMES = _names(Invoice)
_CURRENCY_NAMES = _names(Currency)
_WITH_CURRENCY_NAMES: dict[type[models.Model], list[str]] = {
    SalesOrder: _names(SalesOrder),
    Payment: _names(Payment),
}


def _locked_order_rows(order_id: int) -> models.QuerySet[Any]:
    return (
        SalesOrder.objects.select_for_update(of=("self",))
        .filter(pk=order_id)
        .order_by()
        .values_list(
            *_WITH_CURRENCY_NAMES[SalesOrder],
            *(f"currency__{n}" for n in _CURRENCY_NAMES),
        )
    )


def _locked_invoice_rows(invoice_id: int) -> models.QuerySet[Any]:
    return (
        Invoice.objects.select_for_update()
        .filter(pk=invoice_id)
        .order_by()
        .values_list(*_INVOICE_NAMES)
    )


def _locked_payment_rows(payment_id: int) -> models.QuerySet[Any]:
    return (
        Payment.objects.select_for_update(of=("self",))
        .filter(pk=payment_id)
        .order_by()
        .values_list(
            *_WITH_CURRENCY_NAMES[Payment], *(f"currency__{n}" for n in _CURRENCY_NAMES)
        )
    )


def _payment_allocation_rows(payment_id: int) -> models.QuerySet[Any]:
    return (
        Allocation.objects.filter(payment_id=payment_id)
        .order_by()
        .values_list("amount")
    )


def _one(rows: list[tuple[Any, ...]], missing: Exception) -> tuple[Any, ...]:
    """Return the one row read by primary key, or raise ``missing`` as ``get`` would."""
    if not rows:
        raise missing
    return rows[0]


def _with_currency[M: models.Model](
    model: type[M], row: tuple[Any, ...], alias: str
) -> M:
    """Build ``model``'s row and the currency read beside it in ``row``."""
    names = _WITH_CURRENCY_NAMES[model]
    split = len(names)
    instance = model.from_db(alias, names, row[:split])
    currency = Currency.from_db(alias, _CURRENCY_NAMES, row[split:])
    instance.currency = currency  # type: ignore[attr-defined]
    return instance


def _with_balance(
    payment: Payment, invoice: Invoice, *, order: SalesOrder | None
) -> LockedRows:
    allocated = _sums(
        Allocation.objects.filter(payment=payment), "payment_id", "amount"
    ).get(payment.pk, ZERO)
    available = quantize_money(
        payment.amount - allocated, minor_units=payment.currency.minor_units
    )
    return LockedRows(payment, invoice, available, allocated, order)


def allocate_locked(
    *,
    payment: Payment,
    invoice: Invoice,
    amount: Decimal | None = None,
    writeoff: Decimal = ZERO,
    writeoff_reason: str = "",
    group: models.Model | None = None,
    actor: User | None = None,
    source: str = AuditEvent.Source.SCREEN,
    read: LockedRows | None = None,
) -> Allocation:
    """Allocate with the rows already locked, as ``allocate_payment`` locks them.

    ``read`` is what ``read_locked`` or ``lock_and_read`` returned for these
    rows under the same locks, so a caller that already read them saves the
    queries.
    """
    read = read or read_locked(payment=payment, invoice=invoice)
    payment, invoice, available = read.payment, read.invoice, read.available
    amount = available if amount is None else amount
    _check_allocation(payment=payment, invoice=invoice, amount=amount)
    if amount > available:
        minor_units = payment.currency.minor_units
        requested = (
            f"{format_money(amount, minor_units=minor_units)} {payment.currency_id}"
        )
        left = (
            f"{format_money(available, minor_units=minor_units)} {payment.currency_id}"
        )
        raise ValueError(
            f"Allocation of {requested} exceeds the {left} left on payment "
            f"{payment.number}: allocate {left} or less."
        )
    allocation = Allocation(
        payment=payment,
        invoice=invoice,
        amount=amount,
        writeoff_reason=writeoff_reason,
        match_group_id=group.pk if group is not None else None,
    )
    allocation.book_write_off(writeoff)
    allocation.save(force_insert=True)
    event = person_audit_event(
        actor=actor,
        action="allocation.created",
        target=allocation,
        source=source,
        after={
            "payment": payment.number,
            "invoice": invoice.number,
            "amount": str(amount),
            **allocation.writeoff_state(),
        },
    )
    if invoice.order_id is None:
        insert_rows([event])
        refresh_documents(
            invoice_ids={invoice.pk}, payment_ids={payment.pk}, source=source
        )
        return allocation

    order = read.order
    if order is None:
        order = SalesOrder.objects.select_related("currency").get(pk=invoice.order_id)
    _refresh_allocated(
        order,
        payment,
        allocated=read.allocated + amount,
        source=source,
        events=[event],
    )
    return allocation


def person_audit_event(
    *,
    actor: User | None,
    action: str,
    target: models.Model,
    source: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Build the event ``core.audit.record_event`` writes, to insert with others."""
    is_person = actor is not None and actor.is_authenticated
    return AuditEvent(
        actor=actor if is_person else None,
        actor_name=(actor.get_full_name() or actor.get_username())
        if actor is not None and is_person
        else "",
        actor_role=getattr(actor, "role", "") if is_person else "",
        action=action,
        object_type=target._meta.label_lower,
        object_id=str(target.pk),
        before=before or {},
        after=after or {},
        reason="",
        source=source,
    )


def _refresh_allocated(
    order: SalesOrder,
    payment: Payment,
    *,
    allocated: Decimal,
    source: str,
    events: list[AuditEvent],
) -> None:
    """Recompute what one new allocation changed, and insert it with ``events``.

    An allocation changes the paid and written-off amounts of its invoice,
    the paid amounts of the order's lines, the order's payment status and
    the amount left on the payment. ``_refresh`` recomputes all of that and
    also the shipped and invoiced quantities, which no allocation changes.
    This leaves those as stored, so it runs three reads instead of nine.
    ``allocated`` is the sum of the payment's allocations, the new one
    included.
    """
    with _pipelined(SalesOrder):
        _refresh_allocated_figures(
            order, payment, allocated=allocated, source=source, events=events
        )
    insert_rows(events)


def _refresh_allocated_figures(
    order: SalesOrder,
    payment: Payment,
    *,
    allocated: Decimal,
    source: str,
    events: list[AuditEvent],
) -> None:
    alias = router.db_for_read(Invoice)
    # One round trip on PostgreSQL reads both.
    invoice_rows, line_rows = fetch_kept(
        [
            (KeptQuery.of(_invoice_allocation_rows, alias), [order.pk]),
            (KeptQuery.of(_order_and_invoice_line_rows, alias), [order.pk]),
        ],
        using=alias,
    )
    invoices, paid, written_off = _invoices_with_allocations(invoice_rows, alias)
    invoice_lines, lines = _order_and_invoice_lines(line_rows)
    totals: dict[int, Decimal] = defaultdict(Decimal)
    for invoice_id, _, subtotal, tax in invoice_lines:
        totals[invoice_id] += subtotal + tax
    invoice_list = list(invoices.values())
    events.extend(
        _apply_invoice_refresh(invoice_list, totals, paid, written_off, source=source)
    )
    lines_total = _refresh_paid_lines(order, invoices, invoice_lines, lines)

    before = _figures(order, ORDER_FIGURES)
    order.amount_total = quantize_money(
        lines_total, minor_units=order.currency.minor_units
    )
    order.payment_status = derive_payment_status(invoice_list)
    after = _figures(order, ORDER_FIGURES)
    if after != before:
        order.updated_at = timezone.now()
        save_fields([order], [*ORDER_FIGURES, "updated_at"])
        events.append(_change_event("order.refreshed", order, source, before, after))
    if _apply_payment_balance(payment, payment.amount - allocated):
        save_fields([payment], [*PAYMENT_FIGURES, "updated_at"])


def _pipelined(model: type[models.Model]) -> AbstractContextManager[None]:
    """Pipeline the block's statements on the database ``model`` is written to.

    The refresh's writes then share round trips with the reads that follow
    them. A failed statement rolls the transaction back as any error does.
    ``insert_rows`` may load rows with COPY, so it must stay outside the block.
    """
    return pipelined(router.db_for_write(model))


def _invoice_allocation_rows(order_id: int) -> models.QuerySet[Any]:
    """Select an order's invoices with their currencies and allocations.

    Each invoice comes once per allocation, and once with empty allocation
    columns when it has none.
    """
    # The default order (date, number), as ``_refresh_invoices`` reads them.
    return Invoice.objects.filter(order_id=order_id).values_list(
        *_INVOICE_NAMES,
        *(f"currency__{name}" for name in _CURRENCY_NAMES),
        "allocations__amount",
        "allocations__writeoff_forgiven",
        "allocations__writeoff_kept",
    )


def _invoices_with_allocations(
    rows: Iterable[tuple[Any, ...]], alias: str
) -> tuple[dict[int, Invoice], dict[int, Decimal], dict[int, Decimal]]:
    """Build an order's invoices from ``_invoice_allocation_rows``.

    Return the invoices by id and the paid and written-off sums by invoice.
    """
    invoices: dict[int, Invoice] = {}
    paid: dict[int, Decimal] = defaultdict(Decimal)
    written_off: dict[int, Decimal] = defaultdict(Decimal)
    split = len(_INVOICE_NAMES)
    for row in rows:
        invoice = invoices.get(row[0])
        if invoice is None:
            invoice = Invoice.from_db(alias, _INVOICE_NAMES, row[:split])
            currency_row = row[split : split + len(_CURRENCY_NAMES)]
            invoice.currency = Currency.from_db(alias, _CURRENCY_NAMES, currency_row)
            invoices[invoice.pk] = invoice
        amount, forgiven, kept = row[-3:]
        if amount is not None:
            paid[invoice.pk] += amount
            written_off[invoice.pk] += forgiven - kept
    return invoices, paid, written_off


def _order_and_invoice_line_rows(order_id: int) -> models.QuerySet[Any]:
    """Select the lines of an order's invoices and the order's own lines.

    An order line is the row whose invoice column is empty, which no
    invoice line's is. Its third column is its value after cancellations.
    """
    invoice_part = (
        InvoiceLine.objects.filter(invoice__order_id=order_id)
        .order_by()
        .values_list("invoice_id", "order_line_id", "subtotal", "tax_amount")
    )
    order_part = (
        SalesOrderLine.objects.filter(order_id=order_id)
        .order_by()
        .values_list(
            Value(None, output_field=models.IntegerField()),
            "pk",
            F("subtotal") - F("amount_cancelled"),
            "amount_paid",
        )
    )
    return invoice_part.union(order_part, all=True)


def _order_and_invoice_lines(
    rows: Iterable[tuple[Any, ...]],
) -> tuple[
    list[tuple[int, int | None, Decimal, Decimal]], list[tuple[int, Decimal, Decimal]]
]:
    """Split ``_order_and_invoice_line_rows`` into invoice lines and order lines.

    Return the invoice lines as ``(invoice, order line, subtotal, tax)`` and
    the order lines as ``(line, amount paid, value after cancellations)``.
    """
    invoice_lines: list[tuple[int, int | None, Decimal, Decimal]] = []
    lines: list[tuple[int, Decimal, Decimal]] = []
    for invoice_id, line_id, subtotal, last in rows:
        if invoice_id is None:
            lines.append((line_id, last, subtotal))
        else:
            invoice_lines.append((invoice_id, line_id, subtotal, last))
    return invoice_lines, lines


def _refresh_paid_lines(
    order: SalesOrder,
    invoices: dict[int, Invoice],
    invoice_lines: Sequence[tuple[int, int | None, Decimal, Decimal]],
    lines: Sequence[tuple[int, Decimal, Decimal]],
) -> Decimal:
    """Recompute the paid amount of each line of ``order`` and return their value.

    ``invoice_lines`` are the lines of the order's invoices, as
    ``(invoice, order line, subtotal, tax)``, and ``lines`` the order's
    lines, as ``(line, amount paid, value after cancellations)``. As in
    ``_refresh_lines``, a line is paid by the posted receivable invoices of
    its order, by the share of each invoice that is settled.
    """
    shares = {
        pk: _settled_share(invoice)
        for pk, invoice in invoices.items()
        if invoice.kind in RECEIVABLE_KINDS
    }
    paid_amount: dict[int, Decimal] = defaultdict(Decimal)
    for invoice_id, line_id, subtotal, _ in invoice_lines:
        if line_id is not None and invoice_id in shares:
            paid_amount[line_id] += subtotal * shares[invoice_id]

    minor_units = order.currency.minor_units
    changed = []
    total = ZERO
    for pk, stored, value in lines:
        total += value
        amount_paid = quantize_money(paid_amount[pk], minor_units=minor_units)
        if amount_paid != stored:
            changed.append(SalesOrderLine(pk=pk, amount_paid=amount_paid))
    save_fields(changed, ["amount_paid"])
    return total


def refresh_documents(
    *, invoice_ids: Iterable[int], payment_ids: Iterable[int], source: str
) -> None:
    """Recompute the orders of these invoices, the invoices and the payments."""
    invoice_ids = {pk for pk in invoice_ids if pk}
    payment_ids = set(payment_ids)
    orders_of = dict(
        Invoice.objects.filter(pk__in=invoice_ids).values_list("pk", "order_id")
    )
    order_ids = {pk for pk in orders_of.values() if pk is not None}
    if order_ids:
        # The order refresh also refreshes the payments named here.
        _refresh(Q(pk__in=order_ids), source=source, payment_ids=payment_ids)
    else:
        _refresh_payments(Q(pk__in=payment_ids))
    without_order = {pk for pk, order_id in orders_of.items() if order_id is None}
    if without_order:
        _, events, _ = _refresh_invoices(Q(pk__in=without_order), source=source)
        insert_rows(events)


def _check_allocation(*, payment: Payment, invoice: Invoice, amount: Decimal) -> None:
    if amount <= 0:
        raise ValueError(
            f"Allocation amount {amount} is not positive: allocate more than 0."
        )
    minor_units = payment.currency.minor_units
    if amount != quantize_money(amount, minor_units=minor_units):
        raise ValueError(
            f"Allocation amount {amount} has more than {minor_units} decimals, "
            f"which {payment.currency_id} does not allow: round it first."
        )
    if invoice.company_id != payment.company_id:
        raise ValueError(
            f"Invoice {invoice.number} belongs to another company than payment "
            f"{payment.number}: allocate within one company."
        )
    if invoice.currency_id != payment.currency_id:
        raise ValueError(
            f"Invoice {invoice.number} is in {invoice.currency_id} but payment "
            f"{payment.number} is in {payment.currency_id}: allocate in one currency."
        )
    if invoice.state != Invoice.State.POSTED:
        raise ValueError(
            f"Invoice {invoice.number} is {invoice.state}, not posted: post it first."
        )


def _refresh(order_filter: Q, *, source: str, payment_ids: Iterable[int] = ()) -> int:
    orders = list(
        SalesOrder.objects.filter(order_filter)
        .select_related("currency")
        .order_by("pk")
    )
    scope = SalesOrder.objects.filter(order_filter).values("pk")
    invoice_filter = Q(order__in=scope)
    invoices, events, paid_by = _refresh_invoices(invoice_filter, source=source)
    lines, goods_credited = _refresh_lines(scope, invoices)
    if payment_ids:
        # A few orders' payments, by id: an OR of the join and ``payment_ids``
        # in one filter made PostgreSQL scan every payment (90 ms at 100,000
        # payments). The invoice refresh read the ids of the orders' payments.
        _refresh_payments(Q(pk__in=paid_by | set(payment_ids)))
    else:
        _refresh_payments(Q(allocations__invoice__order__in=scope))

    lines_by_order: dict[int, list[SalesOrderLine]] = defaultdict(list)
    for line in lines:
        lines_by_order[line.order_id].append(line)
    invoices_by_order: dict[int, list[Invoice]] = defaultdict(list)
    for invoice in invoices:
        if invoice.order_id is not None:
            invoices_by_order[invoice.order_id].append(invoice)

    changed: list[SalesOrder] = []
    for order in orders:
        before = _figures(order, ORDER_FIGURES)
        _apply_order_figures(
            order,
            lines_by_order[order.pk],
            invoices_by_order[order.pk],
            goods_credited,
        )
        after = _figures(order, ORDER_FIGURES)
        if after != before:
            order.updated_at = timezone.now()
            changed.append(order)
            events.append(
                _change_event("order.refreshed", order, source, before, after)
            )
    save_fields(changed, [*ORDER_FIGURES, "updated_at"])
    insert_rows(events)
    return len(orders)


def _apply_order_figures(
    order: SalesOrder,
    lines: list[SalesOrderLine],
    invoices: list[Invoice],
    goods_credited: Mapping[int, Decimal],
) -> None:
    minor_units = order.currency.minor_units
    ordered = sum((line.subtotal for line in lines), ZERO)
    cancelled = sum((line.amount_cancelled for line in lines), ZERO)
    order.amount_cancelled = quantize_money(cancelled, minor_units=minor_units)
    order.amount_total = quantize_money(ordered - cancelled, minor_units=minor_units)
    order.delivery_status = derive_delivery_status(lines)
    order.invoice_status = derive_invoice_status(lines, goods_credited)
    order.payment_status = derive_payment_status(invoices)


def _refresh_invoices(
    invoice_filter: Q, *, source: str
) -> tuple[list[Invoice], list[AuditEvent], set[int]]:
    """Recompute totals from invoice lines and paid amounts from allocations.

    Return the invoices, the audit events to append and the ids of the
    payments allocated to the invoices.
    """
    invoices = list(Invoice.objects.filter(invoice_filter).select_related("currency"))
    scope = Invoice.objects.filter(invoice_filter).values("pk")
    # The total is the lines' subtotals and their tax, each rounded per line
    # as billed, plus the invoice's freight.
    subtotals, taxes = _sum_pair(
        InvoiceLine.objects.filter(invoice__in=scope),
        "invoice_id",
        "subtotal",
        "tax_amount",
    )
    totals = {pk: subtotals[pk] + taxes[pk] for pk in subtotals}
    paid: dict[int, Decimal] = defaultdict(Decimal)
    written_off: dict[int, Decimal] = defaultdict(Decimal)
    payment_ids: set[int] = set()
    allocations = Allocation.objects.filter(invoice__in=scope).order_by()
    for invoice_id, payment_id, amount, forgiven, kept in allocations.values_list(
        "invoice_id", "payment_id", "amount", "writeoff_forgiven", "writeoff_kept"
    ):
        paid[invoice_id] += amount
        written_off[invoice_id] += forgiven - kept
        payment_ids.add(payment_id)

    events = _apply_invoice_refresh(invoices, totals, paid, written_off, source=source)
    return invoices, events, payment_ids


def _apply_invoice_refresh(
    invoices: list[Invoice],
    totals: dict[int, Decimal],
    paid: dict[int, Decimal],
    written_off: dict[int, Decimal],
    *,
    source: str,
) -> list[AuditEvent]:
    """Set each invoice's total and amounts, save the changed; return their events.

    ``totals`` holds the lines' subtotals and tax by invoice, and ``paid`` and
    ``written_off`` the allocations' sums.
    """
    changed: list[Invoice] = []
    events: list[AuditEvent] = []
    befores = {invoice.pk: _figures(invoice, INVOICE_FIGURES) for invoice in invoices}
    for invoice in invoices:
        if invoice.pk in totals:
            invoice.amount_total = quantize_money(
                totals[invoice.pk] + invoice.freight_amount,
                minor_units=invoice.currency.minor_units,
            )
        # An invoice without lines (a header-only import) keeps its entered total.
    settled = {pk: paid.get(pk, ZERO) + written_off.get(pk, ZERO) for pk in befores}
    credited = credit_applications(invoices, settled)
    for invoice in invoices:
        before = befores[invoice.pk]
        amounts = derive_invoice_amounts(
            total=invoice.amount_total,
            paid=paid.get(invoice.pk, ZERO),
            written_off=written_off.get(invoice.pk, ZERO),
            credited=credited.get(invoice.pk, ZERO),
            minor_units=invoice.currency.minor_units,
        )
        apply_invoice_amounts(invoice, amounts)
        after = _figures(invoice, INVOICE_FIGURES)
        if after != before:
            invoice.updated_at = timezone.now()
            changed.append(invoice)
            events.append(
                _change_event("invoice.refreshed", invoice, source, before, after)
            )
    save_fields(changed, [*INVOICE_FIGURES, "updated_at"])
    return events


def apply_invoice_amounts(invoice: Invoice, amounts: InvoiceAmounts) -> None:
    invoice.amount_paid = amounts.amount_paid
    invoice.amount_written_off = amounts.amount_written_off
    invoice.amount_credited = amounts.amount_credited
    invoice.amount_residual = amounts.amount_residual
    invoice.payment_state = amounts.payment_state


def _refresh_lines(
    scope: Any, invoices: list[Invoice]
) -> tuple[list[SalesOrderLine], dict[int, Decimal]]:
    """Recompute shipped, cancelled and invoiced quantities and amounts of each line.

    Also return, per line id, the units credited for goods the customer did
    not get whole, for the invoice status (``derive_invoice_status``).
    """
    lines = list(
        SalesOrderLine.objects.filter(order__in=scope).select_related(
            "product", "order__currency"
        )
    )
    shipped = _sums(
        ShipmentLine.objects.filter(
            order_line__order__in=scope, shipment__state__in=COUNTED_SHIPMENT_STATES
        ),
        "order_line_id",
        "qty_shipped",
    )
    # Units a replacement shipment sends again are not shipped for the order
    # (see ``replacements``), so they are neither over-shipped nor invoiced.
    replaced = covered_units_of(
        Shipment.objects.filter(
            order__in=scope,
            state__in=COUNTED_SHIPMENT_STATES,
            replacement_line__isnull=False,
        )
    )
    for line_id, units in replaced.items():
        shipped[line_id] = shipped.get(line_id, ZERO) - units
    cancelled = _sums(
        LineCancellation.objects.filter(
            order_line__order__in=scope, reversed_at__isnull=True
        ),
        "order_line_id",
        "qty",
    )
    invoiced_qty: dict[int, Decimal] = defaultdict(Decimal)
    invoiced_amount: dict[int, Decimal] = defaultdict(Decimal)
    paid_amount: dict[int, Decimal] = defaultdict(Decimal)
    settled_share = {invoice.pk: _settled_share(invoice) for invoice in invoices}
    goods_credited: dict[int, Decimal] = defaultdict(Decimal)
    invoice_lines = InvoiceLine.objects.filter(
        order_line__order__in=scope, invoice__state=Invoice.State.POSTED
    ).values_list(
        "order_line_id",
        "invoice_id",
        "invoice__kind",
        "qty",
        "subtotal",
        "shipment_line_id",
    )
    for line_id, invoice_id, kind, qty, subtotal, shipment_line_id in invoice_lines:
        sign = KIND_SIGN[kind]
        invoiced_qty[line_id] += sign * qty
        if kind == Invoice.Kind.CREDIT_NOTE and shipment_line_id is not None:
            goods_credited[line_id] += qty
        invoiced_amount[line_id] += sign * subtotal
        if kind in RECEIVABLE_KINDS:
            paid_amount[line_id] += subtotal * settled_share.get(invoice_id, ZERO)

    changed: list[SalesOrderLine] = []
    for line in lines:
        before = _figures(line, LINE_FIGURES)
        line.qty_shipped = shipped.get(line.pk, ZERO)
        line.qty_cancelled = cancelled.get(line.pk, ZERO)
        line.qty_invoiced = invoiced_qty[line.pk]
        line.amount_invoiced = invoiced_amount[line.pk]
        line.amount_paid = quantize_money(
            paid_amount[line.pk], minor_units=line.order.currency.minor_units
        )
        line.amount_cancelled = cancelled_amount(
            subtotal=line.subtotal,
            qty_ordered=line.qty_ordered,
            qty_cancelled=line.qty_cancelled,
            unit_price=line.unit_price,
            discount_pct=line.discount_pct,
            minor_units=line.order.currency.minor_units,
        )
        if _figures(line, LINE_FIGURES) != before:
            changed.append(line)
    save_fields(changed, list(LINE_FIGURES))
    return lines, goods_credited


def _settled_share(invoice: Invoice) -> Decimal:
    """Return the part of the invoice paid or written off, between 0 and 1."""
    if invoice.state != Invoice.State.POSTED or invoice.amount_total <= 0:
        return ZERO
    settled = invoice.amount_paid + invoice.amount_written_off
    return min(max(settled / invoice.amount_total, ZERO), Decimal(1))


def _refresh_payments(payment_filter: Q) -> None:
    scope = Payment.objects.filter(payment_filter).values("pk")
    payments = list(Payment.objects.filter(pk__in=scope))
    allocated = _sums(
        Allocation.objects.filter(payment__in=scope), "payment_id", "amount"
    )

    changed = [
        payment
        for payment in payments
        if _apply_payment_balance(
            payment, payment.amount - allocated.get(payment.pk, ZERO)
        )
    ]
    save_fields(changed, [*PAYMENT_FIGURES, "updated_at"])


def _apply_payment_balance(payment: Payment, unallocated: Decimal) -> bool:
    """Set what the payment has left and its state; return whether they changed."""
    before = _figures(payment, PAYMENT_FIGURES)
    payment.amount_unallocated = unallocated
    if payment.amount_unallocated <= 0:
        payment.state = Payment.State.ALLOCATED
    elif payment.amount_unallocated < payment.amount:
        payment.state = Payment.State.PARTIALLY_ALLOCATED
    else:
        payment.state = Payment.State.RECEIVED
    if _figures(payment, PAYMENT_FIGURES) == before:
        return False
    payment.updated_at = timezone.now()
    return True


def _sums(rows: models.QuerySet[Any], key: str, field: str) -> dict[int, Decimal]:
    """Return ``{key: sum of field}`` over ``rows``, added up as Decimal.

    The sum is taken in Python because SQLite adds decimal columns as floats.
    """
    totals: dict[int, Decimal] = defaultdict(Decimal)
    for row_key, value in rows.order_by().values_list(key, field):
        totals[row_key] += value
    return dict(totals)


def _sum_pair(
    rows: models.QuerySet[Any], key: str, first: str, second: str
) -> tuple[dict[int, Decimal], dict[int, Decimal]]:
    """Return ``{key: sum of first}`` and ``{key: sum of second}`` in one query."""
    firsts: dict[int, Decimal] = defaultdict(Decimal)
    seconds: dict[int, Decimal] = defaultdict(Decimal)
    for row_key, a, b in rows.order_by().values_list(key, first, second):
        firsts[row_key] += a
        seconds[row_key] += b
    return dict(firsts), dict(seconds)


def _figures(instance: models.Model, names: Iterable[str]) -> dict[str, str]:
    return {name: str(getattr(instance, name)) for name in names}


def _change_event(
    action: str,
    target: models.Model,
    source: str,
    before: dict[str, str],
    after: dict[str, str],
) -> AuditEvent:
    """Build an audit event that lists only the fields that changed."""
    changed = [name for name in before if before[name] != after[name]]
    return unsaved_audit_event(
        action=action,
        target=target,
        source=source,
        before={name: before[name] for name in changed},
        after={name: after[name] for name in changed},
    )


def copy_invoice(
    *, invoice: Invoice, number: str, actor: User | None = None
) -> Invoice:
    """Copy an invoice and its lines as a new draft, without the reference.

    The reference identifies the customer's document, so a copy that kept it
    would be a duplicate from the start.
    """
    with transaction.atomic():
        copy = Invoice.objects.create(
            company=invoice.company,
            kind=invoice.kind,
            number=number,
            customer=invoice.customer,
            order=invoice.order,
            origin_invoice=invoice.origin_invoice,
            currency=invoice.currency,
            fx_rate=invoice.fx_rate,
            freight_amount=invoice.freight_amount,
            invoice_date=invoice.invoice_date,
            due_date=invoice.due_date,
            state=Invoice.State.DRAFT,
        )
        lines = list(invoice.lines.all())
        for line in lines:
            line.pk = None
            line.invoice = copy
        InvoiceLine.objects.bulk_create(lines)
        record_event(
            actor=actor,
            action="invoice.copied",
            target=copy,
            source=AuditEvent.Source.SCREEN,
            after={"copied_from": invoice.number, "reference": ""},
        )
        _refresh_invoices(Q(pk=copy.pk), source=AuditEvent.Source.SCREEN)
    copy.refresh_from_db()
    return copy


def copy_vendor_bill(
    *, bill: VendorBill, number: str, actor: User | None = None
) -> VendorBill:
    """Copy a vendor bill and its lines as a draft, without the supplier reference."""
    with transaction.atomic():
        copy = VendorBill.objects.create(
            company=bill.company,
            number=number,
            vendor=bill.vendor,
            purchase_order=bill.purchase_order,
            currency=bill.currency,
            bill_date=bill.bill_date,
            state=VendorBill.State.DRAFT,
        )
        lines = list(bill.lines.all())
        for line in lines:
            line.pk = None
            line.bill = copy
        VendorBillLine.objects.bulk_create(lines)
        record_event(
            actor=actor,
            action="vendor_bill.copied",
            target=copy,
            source=AuditEvent.Source.SCREEN,
            after={"copied_from": bill.number, "supplier_ref": ""},
        )
    return copy
