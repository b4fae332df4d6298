"""The matching pass: compare each order with its shipments, invoices and payments.

``run_matching`` runs the control points in a fixed order and stores two
kinds of rows: a ``MatchGroup`` per match (what was compared, the rule and
its version, the residual; see ``matches``) and a ``Discrepancy`` per finding
(see ``findings``). A second run over the same documents changes nothing. A
finding that no longer applies is resolved, never deleted.

The order of work:

1. Cash application (``cash``) places payments that still have money left,
   each allocation in its own short transaction, because the per-order
   checks read allocations.
2. Per chunk of orders, in id order, with the chunk's order rows locked:
   order to shipment (A), customer receipt (B), invoice (C), payment (D) and
   returns (F), then the write-offs and exchange differences the checks made.
3. The payment-level results of step 1 (proposals, unapplied payments).
4. The purchase side (``purchasing``): three-way match and duplicate bills.

The checks read the documents themselves (shipment lines, invoice lines,
allocations), not the running quantities on the order lines, so a stale
refresh cannot hide a difference. The one exception is the line's
``qty_cancelled``: every write of a ``LineCancellation`` refreshes its
order in the same transaction, and the fingerprint covers the column.
Quantities are compared per line as Decimal: when the large line of an order
ships in full and its small line does not, the small line is still reported.

A duplicate invoice is reported once, as a duplicate. It is left out of the
quantity and payment checks, because being a duplicate explains both its extra
quantity and its missing payment.
"""

import gc
import logging
import threading
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import billiard
from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import (
    BooleanField,
    DateField,
    DecimalField,
    F,
    Model,
    Q,
    QuerySet,
)
from django.db.models.lookups import In
from django.db.models.sql.constants import MULTI
from django.utils import timezone

from core.bulk_writes import insert_values, save_fields
from core.models import AuditEvent
from core.queries import instance_from_values
from reconciliation.cash import CASH_PROPOSAL_SCOPE, apply_cash, match_payment
from reconciliation.cash_checks import Settlement, settle_within_tolerance
from reconciliation.checks import (
    CheckContext,
    Finding,
    OrderDocuments,
    Results,
    check_order,
)
from reconciliation.duplicates import find_duplicate_invoices, normalize_reference
from reconciliation.findings import Tally, save_findings
from reconciliation.fingerprints import (
    SETTLED_MARK,
    findings_summary,
    order_fingerprint,
    pass_salt,
)
from reconciliation.matches import existing_groups, store_match_records
from reconciliation.models import (
    Allocation,
    Company,
    Currency,
    Discrepancy,
    Invoice,
    InvoiceLine,
    Party,
    Payment,
    Product,
    ReconStatus,
    ReturnAuthorization,
    ReturnLine,
    SalesOrder,
    SalesOrderLine,
    Shipment,
    ShipmentLine,
)
from reconciliation.purchasing import check_purchases
from reconciliation.services import (
    RECEIVABLE_KINDS,
    audit_event_rows,
    derive_payment_status,
    unsaved_audit_event,
)
from reconciliation.taxonomy import RULES
from reconciliation.tolerances import Tolerance, ToleranceBook

logger = logging.getLogger(__name__)

__all__ = [
    "MatchingSummary",
    "check_order_after_commit",
    "match_order",
    "normalize_reference",
    "run_matching",
]

# Orders are checked in chunks of this many, so memory stays flat on a large
# company while each chunk costs the same fixed number of queries.
CHUNK_SIZE = 2000
# Allocations between collections of the youngest generation during a pass
# (Python's default is 700).
GC_THRESHOLD = 50_000
# Passes running now in this process, and the thresholds to restore when
# the last of them ends. Guarded by the lock, because two threads may run
# passes at once.
_gc_lock = threading.Lock()
_gc_passes = 0
_gc_saved: tuple[int, ...] = ()


@dataclass(frozen=True)
class MatchingSummary:
    """Counts of the findings one matching pass stored and the rows it changed."""

    orders_checked: int
    opened: int
    reopened: int
    updated: int
    resolved: int
    unchanged: int
    written_off: int
    open_by_code: dict[str, int] = field(default_factory=dict)
    # Findings the rules settled themselves and stored as resolved cases.
    settled: int = 0
    # Orders whose fingerprint was unchanged, so they were not checked again.
    orders_skipped: int = 0


def _summary(tally: Tally) -> MatchingSummary:
    return MatchingSummary(
        orders_checked=tally.orders,
        opened=tally.opened,
        reopened=tally.reopened,
        updated=tally.updated,
        resolved=tally.resolved,
        unchanged=tally.unchanged,
        written_off=tally.written_off,
        open_by_code=dict(sorted(tally.codes.items())),
        settled=tally.settled,
        orders_skipped=tally.skipped,
    )


def build_context(
    company: Company,
    as_of: date,
    tolerance: Tolerance | None = None,
    *,
    partners: Collection[int] | None = None,
) -> CheckContext:
    """Return the context of a pass: its date, tolerance profiles and duplicates.

    ``tolerance`` replaces every profile of the company, for tests and what-if
    runs; without it the company's profiles apply (see ``tolerances``).
    ``partners`` limits the duplicates to those commercial partners'
    invoices, for a check of one order.
    """
    if tolerance is None:
        book = ToleranceBook.for_company(company)
    else:
        book = ToleranceBook.single(tolerance)
    return CheckContext(
        as_of=as_of,
        book=book,
        duplicates=find_duplicate_invoices(company=company, partners=partners),
        base_currency=company.base_currency_id,
        base_minor_units=company.base_currency.minor_units,
        currencies=Currency.objects.in_bulk(),
    )


def run_matching(
    *, company: Company, as_of: date, tolerance: Tolerance | None = None
) -> MatchingSummary:
    """Check every document of ``company`` as of ``as_of`` and store the results.

    ``as_of`` is the day that promised and due dates are compared with.
    Documents dated after it still count.
    """
    logger.info("Matching pass started for company %s as of %s", company.pk, as_of)
    with _fewer_collections():
        summary = _run(company, as_of, tolerance)
    logger.info(
        "Matching pass finished for company %s: %d orders, %d opened, "
        "%d reopened, %d updated, %d resolved, %d settled, %d written off",
        company.pk,
        summary.orders_checked,
        summary.opened,
        summary.reopened,
        summary.updated,
        summary.resolved,
        summary.settled,
        summary.written_off,
    )
    return summary


def match_order(order: SalesOrder, *, as_of: date | None = None) -> MatchingSummary:
    """Check one order again and store its matches and cases as the pass would.

    A work screen calls this in its own transaction after it changes the
    order's documents, so the order's cases open, update or resolve at once
    instead of at the next import. It runs the pass's chunk step on the one
    order id, with the same locks, fingerprints and stored rows, so a later
    pass finds the order unchanged. ``as_of`` defaults to today, as after an
    import. The pass's other steps are not run: no payment is placed by the
    cash rules, and payment and purchase cases keep their state.

    Duplicate invoices are looked for among the invoices of the commercial
    partners the order's invoices are for, not the whole company, so the
    check's cost does not grow with the company's invoices.
    """
    company = (
        Company.objects.select_related("base_currency").filter(pk=order.company_id)
    ).get()
    partners = {
        parent_id or customer_id
        for customer_id, parent_id in Invoice.objects.filter(order=order).values_list(
            "customer_id", "customer__parent_id"
        )
    }
    context = build_context(company, as_of or timezone.localdate(), partners=partners)
    tally = Tally()
    with transaction.atomic():
        _match_chunk(company, order.pk, order.pk, context, pass_salt(context), tally)
    logger.info(
        "Order %s checked again: %d opened, %d reopened, %d updated, %d resolved",
        order.pk,
        tally.opened,
        tally.reopened,
        tally.updated,
        tally.resolved,
    )
    return _summary(tally)


def match_documents(
    *,
    company: Company,
    order_ids: Collection[int] = (),
    payment_ids: Collection[int] = (),
    invoice_ids: Collection[int] = (),
    as_of: date | None = None,
) -> MatchingSummary:
    """Check only the given documents, and store what the pass would.

    For an import: its cost grows with what the batch touched, not with the
    company. The given payments with money left go through the cash rules,
    one at a time as ``cash.match_payment`` runs them. Older payments with
    money left go with them when one of the given open invoices may now
    take them: those of the invoices' customers, and those with no payer
    whose reference names such an invoice. Then the orders, and the
    orders of the invoices those payments were placed on, are checked as
    ``match_order`` checks one. Last, the payments' proposals and
    unapplied-payment cases are stored. Other orders and payments keep
    their state until the next pass.
    """
    as_of = as_of or timezone.localdate()
    company = Company.objects.select_related("base_currency").get(pk=company.pk)
    invoice_keys = _open_invoice_keys(company, invoice_ids)
    waiting = _waiting_payments(payment_ids, invoice_keys)
    payments = list(
        Payment.objects.filter(waiting, company=company, amount_unallocated__gt=0)
        .select_related("party", "currency")
        .order_by("pk")
    )
    context = build_context(
        company, as_of, partners=_partners(order_ids, payments, invoice_keys.partners)
    )
    tally = Tally()
    cash_results = Results()
    for payment in payments:
        results = match_payment(payment=payment, context=context)
        cash_results.findings.extend(results.findings)
        cash_results.matches.extend(results.matches)

    placed = Allocation.objects.filter(
        payment_id__in=[payment.pk for payment in payments],
        invoice__order__isnull=False,
    ).values_list("invoice__order_id", flat=True)
    checked = sorted({*order_ids, *placed})
    salt = pass_salt(context)
    for first, last in _id_runs(checked):
        with transaction.atomic():
            _match_chunk(company, first, last, context, salt, tally)
    if payments:
        keys = [f"D:payment:{payment.pk}" for payment in payments]
        with transaction.atomic():
            _store_other(
                company,
                cash_results,
                Q(order__isnull=True, payment_id__in=[p.pk for p in payments]),
                Q(key__in=keys),
                tally,
            )
    logger.info(
        "Documents of company %s checked: %d orders, %d payments, %d opened, "
        "%d resolved",
        company.pk,
        tally.orders,
        len(payments),
        tally.opened,
        tally.resolved,
    )
    return _summary(tally)


@dataclass(frozen=True)
class OpenInvoiceKeys:
    """Keys of new open invoices that find the waiting payments they may take."""

    # Commercial partners of the invoices' customers.
    partners: set[int]
    # The reference keys of the invoices' numbers and references.
    references: set[str]


def _open_invoice_keys(
    company: Company, invoice_ids: Collection[int]
) -> OpenInvoiceKeys:
    """Return the partners and references of the open receivables given."""
    keys = OpenInvoiceKeys(partners=set(), references=set())
    if not invoice_ids:
        return keys
    rows = Invoice.objects.filter(
        company=company,
        pk__in=sorted(invoice_ids),
        kind__in=RECEIVABLE_KINDS,
        state=Invoice.State.POSTED,
        amount_residual__gt=0,
    ).values_list("customer_id", "customer__parent_id", "number_key", "reference_key")
    for customer_id, parent_id, number_key, reference_key in rows:
        keys.partners.add(parent_id or customer_id)
        keys.references.update(key for key in (number_key, reference_key) if key)
    return keys


def _waiting_payments(payment_ids: Collection[int], keys: OpenInvoiceKeys) -> Q:
    """Select the given payments and those the new open invoices may take.

    Those are the payments of the invoices' customers, and the payments
    with no payer whose reference key is the key of an invoice's number or
    reference (``reference_keys.reference_key``). The key selects more
    payments than the invoices may take when other invoices share it, and
    ``cash.match_payment`` then decides by the reference's text.
    """
    waiting = Q(pk__in=sorted(payment_ids))
    if keys.partners:
        waiting |= Q(party__in=_partner_contacts(keys.partners))
    if keys.references:
        references = sorted(keys.references)
        waiting |= Q(party__isnull=True, reference_key__in=references)
    return waiting


def _partner_contacts(partners: Collection[int]) -> list[int]:
    """Return the ids of the partners and their child contacts."""
    ids = sorted(partners)
    contacts = Party.objects.filter(Q(pk__in=ids) | Q(parent_id__in=ids))
    return list(contacts.order_by().values_list("pk", flat=True))


def _partners(
    order_ids: Collection[int],
    payments: list[Payment],
    invoice_partners: Collection[int] = (),
) -> set[int] | None:
    """Return the commercial partners whose invoices the duplicate check reads.

    None, for the whole company, when a payment names no payer: the cash
    rules may then place it on any customer's invoice by its reference.
    """
    if any(payment.party is None for payment in payments):
        return None
    rows = Invoice.objects.filter(order_id__in=sorted(order_ids)).values_list(
        "customer_id", "customer__parent_id"
    )
    partners = {parent_id or customer_id for customer_id, parent_id in rows}
    partners.update(invoice_partners)
    for payment in payments:
        if payment.party is not None:
            partners.add(payment.party.commercial_partner_id)
    return partners


def _id_runs(ids: list[int]) -> Iterator[tuple[int, int]]:
    """Yield ``(first, last)`` of each run of consecutive ids in sorted ``ids``.

    No other order lies inside such a run, so ``_match_chunk`` checks exactly
    the given orders. A run is at most ``CHUNK_SIZE`` ids long.
    """
    start = 0
    for position in range(1, len(ids) + 1):
        at_end = position == len(ids)
        if (
            at_end
            or ids[position] != ids[position - 1] + 1
            or position - start == CHUNK_SIZE
        ):
            yield ids[start], ids[position - 1]
            start = position


def check_order_after_commit(order_id: int | None) -> None:
    """Check the order again, with ``match_order``, once this transaction commits.

    For actions that lock a case or a match before the order: a check inside
    their transaction would lock the order after them, the other way round
    from a pass, and could deadlock with one. A check that fails is logged
    and leaves the order to the next pass; the action stays committed.
    """
    if order_id is None:
        return
    # One check per order and transaction: a case move, an accepted offer
    # and an unreconcile in one transaction may each ask for it. The
    # pending callbacks are read from the connection, where a rolled-back
    # savepoint has already removed its own, so a check asked for inside
    # one is asked for again after it.
    pending = transaction.get_connection().run_on_commit
    if any(_OrderCheck(order_id) == func for _, func, _ in pending):
        return
    transaction.on_commit(_OrderCheck(order_id), robust=True)


@dataclass(frozen=True)
class _OrderCheck:
    """The check ``check_order_after_commit`` runs, comparable by order."""

    order_id: int

    def __call__(self) -> None:
        match_order(SalesOrder.objects.get(pk=self.order_id))


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Run the garbage collector's youngest generation less often, then restore.

    A chunk allocates hundreds of thousands of short-lived objects, and
    every 700 allocations start a collection whose older generations
    reach everything the chunk holds. A threshold of 50,000 cut the CPU
    time of a 2,000-order pass on SQLite by about a quarter (one run each).
    The threshold is process-wide, so other threads see it during a pass.
    Passes that overlap in several threads share one change: the first to
    start saves the thresholds and the last to end restores them, so no
    pass restores a threshold that another pass set.
    """
    global _gc_passes, _gc_saved
    with _gc_lock:
        if _gc_passes == 0:
            _gc_saved = gc.get_threshold()
            gc.set_threshold(GC_THRESHOLD, *_gc_saved[1:])
        _gc_passes += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_passes -= 1
            if _gc_passes == 0:
                gc.set_threshold(*_gc_saved)


def _run(company: Company, as_of: date, tolerance: Tolerance | None) -> MatchingSummary:
    context = build_context(company, as_of, tolerance)
    salt = pass_salt(context)
    tally = Tally()
    cash_results = apply_cash(company, context)
    order_ids = list(
        SalesOrder.objects.filter(company=company)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    workers = worker_count(len(order_ids))
    if workers > 1:
        tally = _match_in_workers(company, order_ids, context, salt, workers)
    with transaction.atomic():
        if workers == 1:
            _match_orders(company, order_ids, context, salt, tally)
        _store_other(
            company,
            cash_results,
            Q(order__isnull=True, payment__isnull=False),
            CASH_PROPOSAL_SCOPE,
            tally,
        )
        _store_other(
            company,
            check_purchases(company, context),
            Q(order__isnull=True, payment__isnull=True),
            Q(key__startswith="P2P:"),
            tally,
        )

    return _summary(tally)


def worker_count(orders: int) -> int:
    """Return how many processes should check a pass's ``orders`` orders.

    Workers are used on PostgreSQL only, for a company with at least
    ``RECONCILIATION_PASS_WORKER_MIN_ORDERS`` orders, and never inside an
    open transaction, whose uncommitted rows a worker's own connection
    could not read. SQLite lets one connection write at a time, so its
    pass stays in this process.
    """
    connection = connections[router.db_for_write(SalesOrder)]
    if (
        settings.RECONCILIATION_PASS_WORKERS < 2
        or connection.vendor != "postgresql"
        or connection.in_atomic_block
        or orders < settings.RECONCILIATION_PASS_WORKER_MIN_ORDERS
    ):
        return 1
    return min(settings.RECONCILIATION_PASS_WORKERS, -(-orders // CHUNK_SIZE))


def _match_in_workers(
    company: Company,
    order_ids: list[int],
    context: CheckContext,
    salt: str,
    workers: int,
) -> Tally:
    """Check ``order_ids`` in ``workers`` processes, each a contiguous share.

    The pass spends most of its time in Python and, on PostgreSQL, about a
    third more waiting for the server; one process uses one core. Each
    worker checks its share in a transaction of its own, so a worker that
    fails leaves the others' shares stored, and the next pass, which is
    idempotent, finishes the work. Shares hold no order in common, and each
    worker locks its orders in id order as a single pass does, so workers
    do not wait for each other. The workers are forked, so they share this
    process's settings; the connections are closed first so that no worker
    inherits an open one.

    NOTE: a fork copies only this thread. A lock that another thread of
    this process holds at that moment stays held in the workers, and only
    logging's locks are known to be reset (docs/reconciliation.md).
    """
    share = -(-len(order_ids) // workers)
    shares = [
        order_ids[start : start + share] for start in range(0, len(order_ids), share)
    ]
    connections.close_all()
    logger.info(
        "Matching pass for company %s checks %d orders in %d processes",
        company.pk,
        len(order_ids),
        len(shares),
    )
    # billiard, Celery's fork of multiprocessing, lets a daemonic process
    # start processes, so a pass in a Celery prefork worker uses workers too.
    with billiard.get_context("fork").Pool(processes=len(shares)) as pool:
        pending = [
            pool.apply_async(_match_share, (company, ids, context, salt))
            for ids in shares
        ]
        # Every share is waited for before a failure is raised, so a failed
        # share does not cut short the others' transactions.
        outcomes = [_outcome(result) for result in pending]
    total = Tally()
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
        total.add(outcome)
    return total


def _outcome(result: Any) -> "Tally | BaseException":
    """Return a share's tally, or the exception that ended its worker."""
    try:
        tally: Tally = result.get()
    except Exception as error:  # the caller raises it after every share ends
        return error
    return tally


def _match_share(
    company: Company, order_ids: list[int], context: CheckContext, salt: str
) -> Tally:
    """Check ``order_ids`` in one transaction; run in a worker process."""
    _leave_inherited_connections()
    tally = Tally()
    try:
        with transaction.atomic():
            _match_orders(company, order_ids, context, salt, tally)
    finally:
        connections.close_all()
    return tally


# The connection objects a forked worker inherited, kept referenced so that
# none is freed (``_leave_inherited_connections``).
_inherited_connections: list[Any] = []


def _leave_inherited_connections() -> None:
    """Make this forked worker open connections of its own.

    The parent closes its connections before forking. But Django keeps one
    connection object per thread and context, and the worker may find one
    that the parent's close did not reach. After the browser tests, a
    worker found an open connection of another context. Using it would
    share its socket with the parent. Freeing it would end the parent's
    session, because the driver sends the server a terminate message when
    a connection is freed.
    So each inherited object stays referenced and unused, and the worker
    gets a new one per database. A worker ends without running finalizers,
    so the inherited objects are never freed.
    """
    for alias in connections:
        _inherited_connections.append(connections[alias])
        connections[alias] = connections.create_connection(alias)


def _match_orders(
    company: Company,
    order_ids: list[int],
    context: CheckContext,
    salt: str,
    tally: Tally,
) -> None:
    for start in range(0, len(order_ids), CHUNK_SIZE):
        chunk = order_ids[start : start + CHUNK_SIZE]
        _match_chunk(company, chunk[0], chunk[-1], context, salt, tally)


def _match_chunk(
    company: Company,
    first: int,
    last: int,
    context: CheckContext,
    salt: str,
    tally: Tally,
) -> None:
    # The order rows are locked first, in id order, the same order a person's
    # allocation locks them in, so the pass and the person wait for each other.
    orders = SalesOrder.objects.select_for_update().filter(
        company=company, pk__gte=first, pk__lte=last
    )
    list(orders.order_by("pk").values_list("pk", flat=True))
    loaded = _load_documents(company, first, last, context.currencies)
    tally.orders += len(loaded)

    # Locked, in id order, so a person's change to a case waits for the pass
    # instead of being overwritten by the pass's older copy of the row.
    # The chunk's cases and groups are read by the orders' ids, and their
    # company is checked here: SQLite, without statistics, would read every
    # row of the company through the company index for each chunk.
    rows = Discrepancy.objects.select_for_update().filter(
        ids_in("order_id", [order_documents.order.id for order_documents in loaded])
    )
    cases: dict[int, list[Discrepancy]] = defaultdict(list)
    for row in rows.order_by("pk"):
        if row.company_id == company.pk and row.order_id is not None:
            cases[row.order_id].append(row)
    documents = _changed_orders(loaded, context, salt, cases, tally)
    if not documents:
        return

    results = Results()
    settlements: list[Settlement] = []
    for order_documents in documents:
        settlements.extend(settle_within_tolerance(order_documents, context, results))
        checked = check_order(order_documents, context)
        results.findings.extend(checked.findings)
        results.matches.extend(checked.matches)

    order_ids = [order_documents.order.id for order_documents in documents]
    own_cases = sorted((row for pk in order_ids for row in cases[pk]), key=_pk)
    existing = {row.fingerprint: row for row in own_cases}
    created: list[Discrepancy] = []
    events = save_findings(company, results.findings, existing, tally, created=created)
    groups = existing_groups(
        company, ids_in("order_id", order_ids), company_in_sql=False
    )
    stored, match_events = store_match_records(
        company, results.matches, groups, now=timezone.now()
    )
    _link_allocations(documents, stored)
    events.extend(_save_settlements(settlements, documents))
    for row in created:
        if row.order_id is not None:
            cases[row.order_id].append(row)
    settled_orders = {s.invoice.order_id for s in settlements}
    _save_order_results(
        documents, results.findings, context, salt, cases, settled_orders
    )
    insert_values(
        AuditEvent, [*audit_event_rows(events), *match_events], returning=False
    )
    tally.written_off += sum(1 for s in settlements if "writeoff_kept" in s.after)


def _pk(row: Discrepancy) -> int:
    return row.pk


def _changed_orders(
    documents: list[OrderDocuments],
    context: CheckContext,
    salt: str,
    cases: dict[int, list[Discrepancy]],
    tally: Tally,
) -> list[OrderDocuments]:
    """Return the orders whose fingerprint changed; count the others as unchanged.

    An unchanged order's stored findings count as the pass would count them:
    each one unchanged, and the unsettled ones by code.
    """
    changed = []
    for order_documents in documents:
        order = order_documents.order
        stored = order.match_fingerprint
        if not stored or stored != order_fingerprint(
            order_documents, context, salt, cases[order.id]
        ):
            changed.append(order_documents)
            continue
        tally.skipped += 1
        for code in order.match_findings.split():
            tally.unchanged += 1
            if not code.startswith(SETTLED_MARK):
                tally.codes[code] += 1
    return changed


def _store_other(
    company: Company,
    results: Results,
    case_scope: Q,
    group_scope: Q,
    tally: Tally,
) -> None:
    """Store results that belong to no sales order: payments and purchases."""
    rows = Discrepancy.objects.select_for_update().filter(case_scope, company=company)
    existing = {row.fingerprint: row for row in rows.order_by("pk")}
    events = save_findings(company, results.findings, existing, tally)
    _, match_events = store_match_records(
        company,
        results.matches,
        existing_groups(company, group_scope),
        now=timezone.now(),
    )
    insert_values(
        AuditEvent, [*audit_event_rows(events), *match_events], returning=False
    )


# Columns the chunk's loader leaves unread, because no check or fingerprint
# reads them and the pass sets ``updated_at`` itself on the rows it writes.
# On SQLite each is text that Django parses, about 11 per order.
UNREAD = frozenset({"created_at", "updated_at"})


def _load_documents(
    company: Company, first: int, last: int, currencies: dict[str, Currency]
) -> list[OrderDocuments]:
    """Read the orders with ids in ``first..last`` and all their documents.

    Documents are read by their orders' ids, and their company is checked
    here, for the reason ``_match_chunk`` gives.
    """
    orders = SalesOrder.objects.filter(company=company, pk__gte=first, pk__lte=last)
    documents = {}
    for order in read_instances(
        orders.order_by("pk"), related=[("customer", Party)], leave_out=UNREAD
    ):
        _set_related(order, "currency", currencies[order.currency_id])
        documents[order.id] = OrderDocuments(order=order)
    order_ids = list(documents)
    # Products and currencies are read once per chunk and shared, instead of
    # one joined copy per line, shipment line and invoice.
    # Children are read by their parents' ids, which PostgreSQL looks up in
    # the foreign key indexes. A join to the parent with the company and id
    # range filter made it scan the whole child table for each chunk (about
    # 100 ms per table and chunk at 100,000 orders).
    lines = read_instances(
        SalesOrderLine.objects.filter(ids_in("order_id", order_ids)).order_by(
            "line_no"
        ),
        leave_out=UNREAD,
    )
    product_ids = {line.product_id for line in lines}

    shipments = {}
    for shipment in read_instances(
        Shipment.objects.filter(ids_in("order_id", order_ids)), leave_out=UNREAD
    ):
        if shipment.company_id != company.id:
            continue
        shipments[shipment.id] = shipment
        documents[shipment.order_id].shipments.append(shipment)
    shipment_lines = ShipmentLine.objects.filter(ids_in("shipment_id", shipments))
    shipment_line_rows = read_instances(shipment_lines.order_by("pk"), leave_out=UNREAD)
    product_ids.update(row.product_id for row in shipment_line_rows if row.product_id)
    products = Product.objects.in_bulk(product_ids)
    for line in lines:
        _set_related(line, "product", products[line.product_id])
        documents[line.order_id].lines.append(line)
    for shipment_line in shipment_line_rows:
        if shipment_line.product_id is not None:
            _set_related(shipment_line, "product", products[shipment_line.product_id])
        order_id = shipments[shipment_line.shipment_id].order_id
        documents[order_id].shipment_lines.append(shipment_line)

    # Order id of each invoice; the range filter leaves out invoices with none.
    invoice_orders: dict[int, int] = {}
    invoice_rows = Invoice.objects.filter(ids_in("order_id", order_ids))
    for invoice in read_instances(invoice_rows.order_by("pk"), leave_out=UNREAD):
        if invoice.company_id != company.id:
            continue
        _set_related(invoice, "currency", currencies[invoice.currency_id])
        if invoice.order_id is not None:
            invoice_orders[invoice.id] = invoice.order_id
            documents[invoice.order_id].invoices.append(invoice)
    invoice_lines = InvoiceLine.objects.filter(ids_in("invoice_id", invoice_orders))
    for invoice_line in read_instances(invoice_lines.order_by("pk"), leave_out=UNREAD):
        order_id = invoice_orders[invoice_line.invoice_id]
        documents[order_id].invoice_lines.append(invoice_line)
    # The payments are read by their own ids. Joined to the allocations,
    # they made PostgreSQL read the whole payment table for each chunk
    # (40 ms at 100,000 orders) instead of looking 2,000 ids up.
    allocations = Allocation.objects.filter(ids_in("invoice_id", invoice_orders))
    allocation_rows = read_instances(allocations.order_by("pk"), leave_out=UNREAD)
    payments = {
        payment.id: payment
        for payment in read_instances(
            Payment.objects.filter(
                ids_in("id", {row.payment_id for row in allocation_rows})
            ),
            leave_out=UNREAD,
        )
    }
    for allocation in allocation_rows:
        _set_related(allocation, "payment", payments[allocation.payment_id])
        order_id = invoice_orders[allocation.invoice_id]
        documents[order_id].allocations.append(allocation)
    _load_returns(company, documents)
    return list(documents.values())


class _IdsIn(In):
    """``column IN (ids)`` for ids the pass read itself, without preparing each id.

    ``filter(order_id__in=ids)`` normalizes and converts each id several
    times while Django builds and compiles the query. The chunk's reads
    pass about nine ids per order, and under cProfile that work was about
    5 % of a pass. The ids here are ints read from the database, so they
    are passed as they are. The SQL is the same as the ``__in`` filter's.
    """

    def get_prep_lookup(self) -> Any:
        return self.rhs

    def batch_process_rhs(
        self, compiler: Any, connection: Any, rhs: Any = None
    ) -> tuple[list[str], list[Any]]:
        ids = list(rhs)
        return ["%s"] * len(ids), ids


def ids_in(column: str, ids: Iterable[int]) -> Q:
    """Return the filter ``column IN (ids)`` for ids read from the database.

    The filter also bounds ``column`` by the lowest and highest id, which
    selects the same rows. The bounds are for PostgreSQL's planner. A table
    may have no statistics yet, such as the match groups the pass itself is
    writing. On such a table it guesses that an ``IN`` list of 2,000 ids
    matches every row, and it read the whole table for each chunk (110 ms
    a chunk at 100,000 orders). It guesses that a range matches few rows,
    so with the bounds it reads the table's index (4 ms).
    """
    values = list(ids)
    if not values:
        return Q(_IdsIn(F(column), values))
    return Q(
        _IdsIn(F(column), values),
        **{f"{column}__gte": min(values), f"{column}__lte": max(values)},
    )


def _set_related(instance: Model, relation: str, parent: Model) -> None:
    """Attach the already read ``parent`` as ``instance.<relation>``.

    The foreign key's own descriptor would also set the key column again,
    which already contains the parent's id.
    """
    instance._state.fields_cache[relation] = parent


def read_instances[M: Model](
    rows: "QuerySet[M]",
    *,
    related: Sequence[tuple[str, type[Model]]] = (),
    leave_out: frozenset[str] = frozenset(),
) -> list[M]:
    """Read ``rows`` as model instances without running ``Model.__init__``.

    The matching pass reads about 16 instances per order. ``__init__`` sets
    each field through its descriptor and was a quarter of a 2,000-order
    pass under cProfile. This reads every concrete column with
    ``values_list`` (so the database's converters still run) and fills each
    instance's ``__dict__`` directly. ``related`` names foreign keys whose
    rows are read in the same query, as ``select_related`` reads them.

    Columns named in ``leave_out`` are left unread, in ``rows``' model and
    in the related ones. They are deferred, so reading one runs a query, as
    for a column that ``only()`` leaves out.

    NOTE: no ``pre_init`` or ``post_init`` signal is sent, so this suits only
    models that no receiver or field (such as a file field) hooks into.
    """
    model = rows.model
    read = [f for f in model._meta.concrete_fields if f.attname not in leave_out]
    fields = [field.name for field in read]
    names = [field.attname for field in read]
    lookups = list(fields)
    joined = []
    for relation, related_model in related:
        related_fields = [
            field
            for field in related_model._meta.concrete_fields
            if field.attname not in leave_out
        ]
        lookups += [f"{relation}__{field.name}" for field in related_fields]
        joined.append(
            (relation, related_model, [field.attname for field in related_fields])
        )
    alias = rows.db
    result = []
    for values in _converted_rows(rows.values_list(*lookups)):
        instance = instance_from_values(model, names, values[: len(names)], alias)
        offset = len(names)
        for relation, related_model, related_names in joined:
            end = offset + len(related_names)
            parent = instance_from_values(
                related_model, related_names, values[offset:end], alias
            )
            _set_related(instance, relation, parent)
            offset = end
        result.append(instance)
    return result


# Columns whose converted values are immutable and repeat across rows, so a
# value read once is converted once per query.
_SHARED_VALUE_FIELDS = (DecimalField, DateField, BooleanField)


def _converted_rows(
    rows: "QuerySet[Any, tuple[Any, ...]]",
) -> Iterator[tuple[Any, ...]]:
    """Run a ``values_list`` query and apply its converters, each value once.

    This yields what iterating ``rows`` yields. On SQLite a decimal column
    comes back as a float that Django turns into a quantized Decimal, and a
    date as text that Django parses. A 10,000-order pass ran 650,000 such
    conversions (cProfile), most of them of values seen before. Decimal,
    date and boolean values are immutable, so each distinct raw value of
    such a column is converted once and the result shared between rows.
    """
    compiler = rows.query.get_compiler(using=rows.db)
    results = compiler.execute_sql(MULTI)
    fields = [selected[0] for selected in compiler.select[: compiler.col_count]]
    connection = compiler.connection
    plan: list[tuple[int, list[Any], Any, dict[Any, Any] | None]] = []
    for position, (converters, expression) in compiler.get_converters(fields).items():
        shared = isinstance(
            getattr(expression, "output_field", None), _SHARED_VALUE_FIELDS
        )
        plan.append((position, converters, expression, {} if shared else None))
    for chunk in results:
        for raw in chunk:
            row = list(raw)
            for position, converters, expression, cache in plan:
                value = row[position]
                if cache is not None:
                    try:
                        row[position] = cache[value]
                        continue
                    except KeyError:
                        pass
                converted = value
                for converter in converters:
                    converted = converter(converted, expression, connection)
                row[position] = converted
                if cache is not None:
                    cache[value] = converted
            yield tuple(row)


def _load_returns(company: Company, documents: dict[int, OrderDocuments]) -> None:
    returns = ReturnAuthorization.objects.filter(ids_in("order_id", documents))
    order_of = {}
    for authorization in returns.order_by("pk"):
        if authorization.company_id != company.id:
            continue
        order_of[authorization.id] = authorization.order_id
        documents[authorization.order_id].returns.append(authorization)
    if not order_of:
        return
    return_lines = ReturnLine.objects.filter(ids_in("authorization_id", order_of))
    for return_line in return_lines.order_by("pk"):
        documents[order_of[return_line.authorization_id]].return_lines.append(
            return_line
        )


def _link_allocations(documents: list[OrderDocuments], stored: dict[str, int]) -> None:
    """Point each allocation not yet linked at the cash match of its invoice."""
    changed = []
    for order_documents in documents:
        for allocation in order_documents.allocations:
            group_id = stored.get(f"D:invoice:{allocation.invoice_id}")
            if group_id is None:
                continue
            # An allocation keeps the match it was first linked to, so the
            # rows of a reversed match stay with that match.
            if allocation.match_group_id is None:
                allocation.match_group_id = group_id
                changed.append(allocation)
    save_fields(changed, ["match_group"])


def _save_settlements(
    settlements: list[Settlement], documents: list[OrderDocuments]
) -> list[AuditEvent]:
    """Store write-offs and FX amounts the checks made, and the orders' states."""
    if not settlements:
        return []

    now = timezone.now()
    events = []
    for settlement in settlements:
        settlement.invoice.updated_at = now
        written_off = "writeoff_kept" in settlement.after
        events.append(
            unsaved_audit_event(
                action="allocation.written_off"
                if written_off
                else "allocation.fx_booked",
                target=settlement.allocation,
                source=AuditEvent.Source.RULE,
                before=settlement.before,
                after=settlement.after,
                reason=settlement.reason,
            )
        )
    save_fields(
        list({s.allocation.pk: s.allocation for s in settlements}.values()),
        ["writeoff_forgiven", "writeoff_kept", "writeoff_reason", "fx_difference"],
    )
    invoice_fields = [
        "amount_paid",
        "amount_written_off",
        "amount_residual",
        "payment_state",
        "updated_at",
    ]
    invoices = {s.invoice.pk: s.invoice for s in settlements}
    save_fields(list(invoices.values()), invoice_fields)

    touched = {invoice.order_id for invoice in invoices.values()}
    orders = []
    for order_documents in documents:
        order = order_documents.order
        if order.id in touched:
            order.payment_status = derive_payment_status(order_documents.invoices)
            order.updated_at = now
            orders.append(order)
    save_fields(orders, ["payment_status", "updated_at"])
    return events


def _save_order_results(
    documents: list[OrderDocuments],
    findings: list[Finding],
    context: CheckContext,
    salt: str,
    cases: dict[int, list[Discrepancy]],
    settled_orders: set[int | None],
) -> None:
    """Store each order's reconciliation status, fingerprint and finding codes.

    The fingerprint is taken after the chunk's writes, from the documents
    and cases as the pass leaves them, which is what the next pass reads.
    The codes are what the next pass would find: on an order whose amounts
    the pass settled, the checks run again on the settled documents.
    """
    by_order: dict[int | None, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_order[finding.order_id].append(finding)
    changed = []
    for order_documents in documents:
        order = order_documents.order
        own = by_order[order.id]
        # A case still being worked keeps the order an exception, a case a
        # person reported (a shortage, a customer's problem) included. An
        # informational case, such as a partial shipment, does not.
        if any(f.is_exception for f in own) or any(
            case.is_active and not RULES[case.code].informational
            for case in cases[order.id]
        ):
            status = ReconStatus.EXCEPTION
        elif any(f.settled_with for f in own) or order_documents.has_writeoff():
            status = ReconStatus.IN_TOLERANCE
        else:
            status = ReconStatus.CLEAN
        fingerprint = order_fingerprint(order_documents, context, salt, cases[order.id])
        summary = findings_summary(own)
        if order.id in settled_orders:
            again = _findings_after_settling(order_documents, context)
            if again is None:
                fingerprint = ""
            else:
                summary = findings_summary(again)
        if (order.recon_status, order.match_fingerprint, order.match_findings) == (
            status,
            fingerprint,
            summary,
        ):
            continue
        order.recon_status = status
        order.match_fingerprint = fingerprint
        order.match_findings = summary
        changed.append(order)
    save_fields(changed, ["recon_status", "match_fingerprint", "match_findings"])


def _findings_after_settling(
    documents: OrderDocuments, context: CheckContext
) -> list[Finding] | None:
    """Return what the checks find on an order the pass just settled.

    A settlement's own finding (a rounding write-off, a booked exchange
    difference) is not found again once the amounts are settled. Return
    None if the documents would be settled again, which leaves them changed
    in memory, so the order is then not fingerprinted.
    """
    results = Results()
    if settle_within_tolerance(documents, context, results):
        return None
    results.findings.extend(check_order(documents, context).findings)
    return results.findings
