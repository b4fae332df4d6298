"""Fingerprints of what the matching pass reads for one order.

The pass stores each order's fingerprint after checking it, and a later pass
skips an order whose fingerprint is unchanged, because checking it again
would store nothing new. The fingerprint covers:

- every column of the order, its customer, lines and their products,
  shipments, shipment lines, invoices, invoice lines, allocations and their
  payments, return authorizations and return lines. The columns the pass
  derives and the creation and change times are left out (see
  ``LEFT_OUT_COLUMNS``);
- the version of each tolerance profile the order's checks apply, and the
  original of each of its invoices that is a duplicate;
- on which side of ``as_of`` each date the checks compare with ``as_of``
  falls (see ``as_of_flags``), so a due date that passes makes the order
  checked again, while a later ``as_of`` alone does not;
- the state of the order's cases that decides what the pass does with them
  (state, assignee, resolver, and whether the finding holds), so a case a
  person reopened or reassigned is stored again as a pass would store it;
- ``FINGERPRINT_VERSION`` and the pass's currencies.

NOTE: a change to the checks that reads a new input must add it here and
raise ``FINGERPRINT_VERSION``. Without that, orders checked before the
change are skipped.
"""

import hashlib
from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta
from operator import itemgetter
from typing import Any

from django.db.models import DecimalField, Model

from reconciliation.checks import (
    CheckContext,
    Finding,
    OrderDocuments,
    lines_on_open_backorder,
)
from reconciliation.models import (
    Allocation,
    Discrepancy,
    Invoice,
    SalesOrder,
)

# Raise when the checks change what they read or how they decide, so every
# order is checked again by the next pass.
FINGERPRINT_VERSION = 12
# Columns the pass writes from what it derives (the order's statuses and
# fingerprint, an invoice's paid and open amounts, an allocation's match),
# and the times a row was created or last saved.
LEFT_OUT_COLUMNS: dict[type[Model], frozenset[str]] = {
    SalesOrder: frozenset(
        {"recon_status", "payment_status", "match_fingerprint", "match_findings"}
    ),
    Invoice: frozenset(
        {"amount_paid", "amount_written_off", "amount_residual", "payment_state"}
    ),
    Allocation: frozenset({"match_group_id"}),
}
TIME_COLUMNS = frozenset({"created_at", "updated_at"})
# The prefix of a settled finding's code in ``SalesOrder.match_findings``.
SETTLED_MARK = "~"

Getter = Callable[[dict[str, Any]], tuple[Any, ...]]
_getters: dict[type[Model], tuple[Getter, Getter]] = {}


def pass_salt(context: CheckContext) -> str:
    """Return the part of every fingerprint that is the same for the whole pass."""
    currencies = sorted(
        (code, currency.minor_units) for code, currency in context.currencies.items()
    )
    return repr(
        (
            FINGERPRINT_VERSION,
            context.base_currency,
            context.base_minor_units,
            currencies,
        )
    )


def order_fingerprint(
    documents: OrderDocuments,
    context: CheckContext,
    salt: str,
    cases: Iterable[Discrepancy],
) -> str:
    """Return the fingerprint of one order's inputs to the pass, as 32 hex digits."""
    order = documents.order
    rows = [_row(order), _row(order.customer)]
    for group in (
        documents.lines,
        documents.shipments,
        documents.shipment_lines,
        documents.invoices,
        documents.invoice_lines,
        documents.allocations,
        documents.returns,
        documents.return_lines,
    ):
        rows.extend(_row(instance) for instance in group)
    rows.extend(_row(line.product) for line in documents.lines)
    sent = (shipment_line.product for shipment_line in documents.shipment_lines)
    rows.extend(_row(product) for product in sent if product is not None)
    rows.extend(_row(allocation.payment) for allocation in documents.allocations)

    versions = [documents.order_tolerance(context).version]
    versions.extend(
        documents.line_tolerance(line, context).version for line in documents.lines
    )
    duplicates = [context.duplicates.get(invoice.id) for invoice in documents.invoices]
    # ``str`` turns a state the pass set from ``Discrepancy.State`` into
    # the text a read returns, whose ``repr`` differs from the member's.
    case_states = sorted(
        (
            case.fingerprint,
            str(case.state),
            case.assignee_id,
            case.resolved_by_id,
            case.finding_holds,
        )
        for case in cases
    )
    text = repr(
        (
            salt,
            rows,
            versions,
            duplicates,
            as_of_flags(documents, context),
            case_states,
        )
    )
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def as_of_flags(documents: OrderDocuments, context: CheckContext) -> str:
    """Return, for each date the checks compare with ``as_of``, whether it passed.

    The dates, each with the tolerance days the check adds:

    - a line's promised date plus ``late_days`` (not shipped, backorder open),
      and the expected date of its open backorder plus ``late_days``;
    - each shipment's date plus each line's ``uninvoiced_days`` (uninvoiced
      delivery, which starts from a line's first shipment);
    - each return's receipt date plus each line's ``return_credit_days``;
    - each invoice's due date (missing payment) and its date plus the
      order's ``refund_days`` (credit note not refunded).
    """
    as_of = context.as_of
    shipped = [s.shipped_at for s in documents.shipments if s.shipped_at]
    received = [r.received_at for r in documents.returns if r.received_at]
    backorders = lines_on_open_backorder(documents)
    flags: list[bool] = []
    for line in documents.lines:
        tolerance = documents.line_tolerance(line, context)
        flags.append(_passed(as_of, line.promised_date, tolerance.late_days))
        expected = backorders.get(line.id)
        if expected is not None:
            flags.append(_passed(as_of, expected, tolerance.late_days))
        flags.extend(_passed(as_of, day, tolerance.uninvoiced_days) for day in shipped)
        flags.extend(
            _passed(as_of, day, tolerance.return_credit_days) for day in received
        )
    refund_days = documents.order_tolerance(context).refund_days
    for invoice in documents.invoices:
        flags.append(_passed(as_of, invoice.due_date, 0))
        flags.append(_passed(as_of, invoice.invoice_date, refund_days))
    return "".join("1" if flag else "0" for flag in flags)


def _passed(as_of: date, day: date, days: int) -> bool:
    return as_of > day + timedelta(days=days)


def _row(instance: Model) -> tuple[Any, ...]:
    """Return the fingerprinted columns of ``instance``.

    Decimal columns are replaced by their hashes, which Python computes from
    the number alone, so 1.5 set by the pass and 1.5000 read back from the
    column give the same fingerprint. Numeric hashes do not depend on
    ``PYTHONHASHSEED``.
    """
    model = type(instance)
    getters = _getters.get(model)
    if getters is None:
        getters = _column_getters(model)
        _getters[model] = getters
    plain, decimals = getters
    values = instance.__dict__
    return plain(values), tuple(map(hash, decimals(values)))


def _column_getters(model: type[Model]) -> tuple[Getter, Getter]:
    """Return getters of the fingerprinted plain and Decimal columns of ``model``."""
    left_out = LEFT_OUT_COLUMNS.get(model, frozenset()) | TIME_COLUMNS
    fields = [
        field for field in model._meta.concrete_fields if field.attname not in left_out
    ]
    plain = [f.attname for f in fields if not isinstance(f, DecimalField)]
    decimals = [f.attname for f in fields if isinstance(f, DecimalField)]
    return _tuple_getter(plain), _tuple_getter(decimals)


def _tuple_getter(names: list[str]) -> Getter:
    """Return a function that reads ``names`` from a dict as a tuple."""
    if len(names) > 1:
        return itemgetter(*names)
    if names:
        name = names[0]
        return lambda values: (values[name],)
    return lambda values: ()


def findings_summary(findings: Sequence[Finding]) -> str:
    """Return the codes of one order's findings, settled ones marked, sorted."""
    return " ".join(
        sorted(
            f"{SETTLED_MARK}{finding.code}" if finding.settled_with else finding.code
            for finding in findings
        )
    )
