"""Control points D (invoice to payment) and F (returns to credit notes).

The residual of an invoice is its total less what allocations paid and wrote
off; reversal rows count with their negative amounts. A residual of at most
the profile's rounding allowance (units per line times the invoice's lines)
is written off as ``ROUNDING``. A larger one inside the payment tolerance is
written off as in tolerance with no case. Anything larger is a short or
overpayment. Draft credit notes offered on the invoice settle an open
residual first when accepted, so only what they leave open is written off.
The write-off goes on the invoice's latest allocation that has not been
reversed, and is recorded on the match, never hidden.

A foreign-currency invoice closes when its residual in the invoice currency
reaches 0. Each allocation books the exchange difference in the company
currency, from the invoice's rate to the payment's rate, as ``fx_difference``.
"""

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from reconciliation.billing_checks import counted_invoices, credited_units
from reconciliation.checks import (
    CheckContext,
    Finding,
    MatchRecord,
    OrderDocuments,
    Results,
    order_label,
    replaced_by_line,
)
from reconciliation.goods_billing import billed_units, choose_invoice
from reconciliation.models import (
    Allocation,
    Invoice,
    MatchGroup,
    ResolutionCode,
    ReturnAuthorization,
    Shipment,
)
from reconciliation.money import HUNDRED, format_money, format_quantity, quantize_money
from reconciliation.services import (
    RECEIVABLE_KINDS,
    InvoiceAmounts,
    apply_invoice_amounts,
    derive_invoice_amounts,
)
from reconciliation.taxonomy import RULES, WRITEOFF_RULE
from reconciliation.tolerances import Tolerance

ZERO = Decimal(0)
Outcome = MatchGroup.Outcome


@dataclass
class Settlement:
    """A change the checks made to an allocation: a write-off or an FX amount."""

    allocation: Allocation
    invoice: Invoice
    before: dict[str, str]
    after: dict[str, str]
    reason: str


def receivables(documents: OrderDocuments, context: CheckContext) -> list[Invoice]:
    invoices = counted_invoices(documents, context).values()
    return [invoice for invoice in invoices if invoice.kind in RECEIVABLE_KINDS]


def allocations_of(documents: OrderDocuments, invoice: Invoice) -> list[Allocation]:
    return [a for a in documents.allocations if a.invoice_id == invoice.id]


def invoice_amounts(invoice: Invoice, documents: OrderDocuments) -> InvoiceAmounts:
    """Derive the invoice's paid and residual amounts from its allocations."""
    allocations = allocations_of(documents, invoice)
    return derive_invoice_amounts(
        total=invoice.amount_total,
        paid=sum((allocation.amount for allocation in allocations), ZERO),
        written_off=sum((allocation.writeoff_net for allocation in allocations), ZERO),
        # Credit notes applied to the invoice, as the last refresh stored them.
        credited=invoice.amount_credited,
        minor_units=invoice.currency.minor_units,
    )


def _live_allocations(allocations: list[Allocation]) -> list[Allocation]:
    """Return the allocations that are neither reversal rows nor reversed."""
    reversed_ids = {a.reverses_id for a in allocations if a.reverses_id}
    return [
        a for a in allocations if a.reverses_id is None and a.id not in reversed_ids
    ]


def _line_count(documents: OrderDocuments, invoice: Invoice) -> int:
    return sum(1 for line in documents.invoice_lines if line.invoice_id == invoice.id)


def allowances(
    documents: OrderDocuments, invoice: Invoice, tolerance: Tolerance
) -> tuple[Decimal, Decimal]:
    """Return the rounding allowance and the payment allowance of an invoice."""
    rounding = tolerance.rounding_allowance(
        lines=_line_count(documents, invoice),
        minor_units=invoice.currency.minor_units,
    )
    return rounding, tolerance.payment_allowance(invoice.amount_total)


def settle_within_tolerance(
    documents: OrderDocuments, context: CheckContext, results: Results
) -> list[Settlement]:
    """Book FX differences and write off residuals inside the tolerances.

    Objects are changed in memory and returned for ``matching`` to save. The
    residual is then 0, or what the invoice's draft credit notes will settle,
    so later runs find nothing more to do.
    """
    tolerance = documents.order_tolerance(context)
    offered = offered_credit(documents)
    settled: list[Settlement] = []
    for invoice in receivables(documents, context):
        live = _live_allocations(allocations_of(documents, invoice))
        if not live:
            continue
        settled.extend(_book_fx(invoice, live, context))
        amounts = invoice_amounts(invoice, documents)
        residual = amounts.amount_residual
        if residual > 0:
            # An offered credit note settles the open amount first when the
            # customer accepts it, so only the rest may be written off, as
            # for a write-off a person books.
            residual -= min(residual, offered.get(invoice.id, ZERO))
        if residual == 0:
            continue
        rounding, payment = allowances(documents, invoice, tolerance)
        if abs(residual) <= rounding:
            code, allowance, rule = "ROUNDING", rounding, RULES["ROUNDING"].name
        elif abs(residual) <= payment:
            code, allowance, rule = "", payment, WRITEOFF_RULE
        else:
            continue

        allocation = live[-1]
        minor_units = invoice.currency.minor_units
        before = allocation.writeoff_state()
        kind = "rounding allowance" if code else "payment tolerance"
        allocation.book_write_off(residual)
        allocation.writeoff_reason = (
            f"Residual of {format_money(residual, minor_units=minor_units)} "
            f"{invoice.currency_id} is within the {kind} of "
            f"{format_money(allowance, minor_units=minor_units)} "
            f"{invoice.currency_id} ({rule})."
        )
        apply_invoice_amounts(invoice, invoice_amounts(invoice, documents))
        settled.append(
            Settlement(
                allocation,
                invoice,
                before,
                allocation.writeoff_state(),
                allocation.writeoff_reason,
            )
        )
        if code:
            results.findings.append(
                _rounding_finding(documents, invoice, amounts, residual, allowance)
            )
    return settled


def offered_credit(documents: OrderDocuments) -> dict[int, Decimal]:
    """Return the draft credit notes' amounts of the order, by the invoice they credit.

    A draft credit note exists while its proposal waits for an approval or
    for the customer: a proposal that is rejected or withdrawn cancels it,
    and one that is accepted posts it.
    """
    offered: dict[int, Decimal] = defaultdict(Decimal)
    for note in documents.invoices:
        if (
            note.kind == Invoice.Kind.CREDIT_NOTE
            and note.state == Invoice.State.DRAFT
            and note.origin_invoice_id is not None
        ):
            offered[note.origin_invoice_id] += note.amount_total
    return offered


def _book_fx(
    invoice: Invoice, live: list[Allocation], context: CheckContext
) -> list[Settlement]:
    if invoice.fx_rate is None:
        return []
    settled = []
    for allocation in live:
        rate = allocation.payment.fx_rate
        if rate is None:
            continue
        expected = quantize_money(
            allocation.amount * (rate - invoice.fx_rate),
            minor_units=context.base_minor_units,
        )
        if allocation.fx_difference == expected:
            continue
        before = {"fx_difference": str(allocation.fx_difference)}
        allocation.fx_difference = expected
        settled.append(
            Settlement(
                allocation,
                invoice,
                before,
                {"fx_difference": str(expected)},
                f"Exchange difference from rate {invoice.fx_rate.normalize():f} "
                f"to {rate.normalize():f} ({RULES['FX_DIFFERENCE'].name}).",
            )
        )
    return settled


def _rounding_finding(
    documents: OrderDocuments,
    invoice: Invoice,
    amounts: InvoiceAmounts,
    residual: Decimal,
    allowance: Decimal,
) -> Finding:
    minor_units = invoice.currency.minor_units

    def money(amount: Decimal) -> str:
        return format_money(amount, minor_units=minor_units)

    settled = amounts.amount_paid + amounts.amount_written_off
    text = (
        f"Invoice {invoice.number} was paid {money(settled)} of "
        f"{money(invoice.amount_total)} {invoice.currency_id}; the difference of "
        f"{money(abs(residual))} is within the rounding allowance of "
        f"{money(allowance)} and was written off."
    )
    rule = RULES["ROUNDING"]
    return Finding(
        rule=rule,
        order_id=documents.order.id,
        fingerprint=f"{rule.code}:invoice:{invoice.id}",
        explanation=text,
        expected=invoice.amount_total,
        actual=settled,
        difference=settled - invoice.amount_total,
        unit=invoice.currency_id,
        invoice_id=invoice.id,
        settled_with=ResolutionCode.WRITE_OFF,
    )


def check_cash(
    documents: OrderDocuments, context: CheckContext, results: Results
) -> None:
    """Report unpaid, short and overpaid invoices and FX differences."""
    tolerance = documents.order_tolerance(context)
    for invoice in receivables(documents, context):
        allocations = allocations_of(documents, invoice)
        amounts = invoice_amounts(invoice, documents)
        finding = _payment_finding(documents, context, invoice, amounts, tolerance)
        if finding is not None:
            results.findings.append(finding)
        fx = _fx_finding(documents, context, invoice, allocations, tolerance)
        if fx is not None:
            results.findings.append(fx)
        # Allocations that were all reversed (an unreconciled match) leave no
        # cash match to store: a new one would look confirmed with nothing in it.
        if _live_allocations(allocations):
            results.matches.append(
                _cash_match(
                    documents, invoice, amounts, allocations, finding, tolerance
                )
            )


def _payment_finding(
    documents: OrderDocuments,
    context: CheckContext,
    invoice: Invoice,
    amounts: InvoiceAmounts,
    tolerance: Tolerance,
) -> Finding | None:
    residual = amounts.amount_residual
    rounding, payment = allowances(documents, invoice, tolerance)
    if abs(residual) <= max(rounding, payment):
        return None
    settled = amounts.amount_paid + amounts.amount_written_off
    if settled == 0 and context.as_of <= invoice.due_date:
        return None

    minor_units = invoice.currency.minor_units
    total = invoice.amount_total

    def money(amount: Decimal) -> str:
        return format_money(amount, minor_units=minor_units)

    if settled == 0:
        code = "MISSING_PAYMENT"
        text = (
            f"Invoice {invoice.number} for {money(total)} {invoice.currency_id} was "
            f"due on {invoice.due_date.isoformat()} and nothing has been paid."
        )
    elif residual > 0:
        code = "SHORT_PAYMENT"
        text = (
            f"Invoice {invoice.number} was paid {money(settled)} of {money(total)} "
            f"{invoice.currency_id}; {money(residual)} is still open."
        )
    else:
        code = "OVER_PAYMENT"
        text = (
            f"Invoice {invoice.number} was paid {money(settled)} of {money(total)} "
            f"{invoice.currency_id}; {money(-residual)} was paid too much."
        )
    return Finding(
        rule=RULES[code],
        order_id=documents.order.id,
        fingerprint=f"{code}:invoice:{invoice.id}",
        explanation=text,
        expected=total,
        actual=settled,
        difference=settled - total,
        unit=invoice.currency_id,
        invoice_id=invoice.id,
    )


def _fx_finding(
    documents: OrderDocuments,
    context: CheckContext,
    invoice: Invoice,
    allocations: list[Allocation],
    tolerance: Tolerance,
) -> Finding | None:
    """Report the exchange difference booked on a foreign-currency invoice.

    Inside ``fx_tolerance_pct`` the difference is settled by the rule; a
    larger rate move is left open for a person to check.
    """
    total = sum((a.fx_difference for a in allocations), ZERO)
    if invoice.fx_rate is None or total == 0:
        return None
    moves = [
        abs(a.payment.fx_rate - invoice.fx_rate) / invoice.fx_rate * HUNDRED
        for a in allocations
        if a.payment.fx_rate is not None
    ]
    largest = max(moves, default=ZERO)
    inside = largest <= tolerance.fx_tolerance_pct
    base = context.base_currency
    direction = "gain" if total > 0 else "loss"
    text = (
        f"Invoice {invoice.number} in {invoice.currency_id} was booked at rate "
        f"{invoice.fx_rate.normalize():f} and paid at other rates: an exchange "
        f"{direction} of "
        f"{format_money(abs(total), minor_units=context.base_minor_units)} {base}, "
        f"a rate move of up to {largest.quantize(Decimal('0.01'))}% against the "
        f"{tolerance.fx_tolerance_pct.normalize():f}% tolerance."
    )
    rule = RULES["FX_DIFFERENCE"]
    return Finding(
        rule=rule,
        order_id=documents.order.id,
        fingerprint=f"{rule.code}:invoice:{invoice.id}",
        explanation=text,
        expected=ZERO,
        actual=total,
        difference=total,
        unit=base,
        invoice_id=invoice.id,
        settled_with=ResolutionCode.ACCEPTED_AS_IS if inside else "",
    )


def _cash_match(
    documents: OrderDocuments,
    invoice: Invoice,
    amounts: InvoiceAmounts,
    allocations: list[Allocation],
    finding: Finding | None,
    tolerance: Tolerance,
) -> MatchRecord:
    written_off = amounts.amount_written_off
    # A forgiven amount and a kept overpayment of the same size net to 0, so
    # the outcome checks whether any live allocation booked either.
    live = _live_allocations(allocations)
    minor_units = invoice.currency.minor_units
    forgiven = quantize_money(
        sum((a.writeoff_forgiven for a in live), ZERO), minor_units=minor_units
    )
    kept = quantize_money(
        sum((a.writeoff_kept for a in live), ZERO), minor_units=minor_units
    )
    if finding is not None:
        outcome = Outcome.EXCEPTION
    elif forgiven != 0 or kept != 0 or amounts.amount_residual != 0:
        outcome = Outcome.IN_TOLERANCE
    else:
        outcome = Outcome.CLEAN
    rounding, payment = allowances(documents, invoice, tolerance)
    return MatchRecord(
        kind=MatchGroup.Kind.CASH,
        key=f"D:invoice:{invoice.id}",
        rule="payment.allocation@1",
        rule_version=tolerance.version,
        outcome=outcome,
        compared={
            "invoice_total": str(invoice.amount_total),
            "paid": str(amounts.amount_paid),
            "written_off": str(written_off),
            "forgiven": str(forgiven),
            "kept": str(kept),
            "fx_difference": str(sum((a.fx_difference for a in allocations), ZERO)),
            "allocations": [
                {
                    "id": a.id,
                    "payment": a.payment.number,
                    "amount": str(a.amount),
                    "forgiven": str(a.writeoff_forgiven),
                    "kept": str(a.writeoff_kept),
                    "reverses": a.reverses_id,
                }
                for a in allocations
            ],
            "rounding_allowance": str(rounding),
            "payment_allowance": str(payment),
            "tolerance": tolerance.name,
        },
        residual=amounts.amount_residual,
        unit=invoice.currency_id,
        explanation=finding.explanation if finding else "",
        order_id=documents.order.id,
        invoice_id=invoice.id,
    )


def check_cancelled_order(
    documents: OrderDocuments, context: CheckContext, results: Results
) -> None:
    """Report money kept on an order that was cancelled."""
    paid = sum(
        (a.amount for a in documents.allocations),
        ZERO,
    )
    if paid <= 0:
        return
    order = documents.order
    rule = RULES["PAYMENT_NO_ORDER"]
    text = (
        f"Order {order.number} is cancelled, but "
        f"{format_money(paid, minor_units=order.currency.minor_units)} "
        f"{order.currency_id} was paid on its invoices and not refunded."
    )
    results.findings.append(
        Finding(
            rule=rule,
            order_id=order.id,
            fingerprint=f"{rule.code}:order:{order.id}",
            explanation=text,
            expected=ZERO,
            actual=paid,
            difference=paid,
            unit=order.currency_id,
        )
    )


def check_returns(
    documents: OrderDocuments, context: CheckContext, results: Results
) -> None:
    """Report accepted returns not credited and credit notes not refunded."""
    _check_return_credits(documents, context, results)
    _check_refunds(documents, context, results)


def _check_return_credits(
    documents: OrderDocuments, context: CheckContext, results: Results
) -> None:
    """Report accepted returned units that nothing settled.

    A returned unit is settled by a credit note, or by a replacement that
    replaced it: the customer reported it damaged or missing and got it
    again without being billed, so they owe nothing for it and are owed
    nothing. Units of a replacement the customer accepted that waits in the
    warehouse settle returned units too, because a credit note for them
    would settle the same units twice. Once that replacement is discarded,
    or ships fewer units, the units it did not send are open again. So per
    order line, only the units returned beyond those credited and replaced
    need a credit note. Credited units are those of any credit note line
    that names the order line (``billing_checks.credited_units``), such as
    a goods case's credit for damaged units the customer later sends back.
    """
    # Credited units count per order line however the credit note was made,
    # as the invoiced-quantity check counts them.
    credited = credited_units(documents, context)

    received = {r.id: r for r in documents.returns if r.received_at is not None}
    accepted: dict[int, Decimal] = defaultdict(Decimal)
    latest: dict[int, ReturnAuthorization] = {}
    # The shipment line the latest returned units of each order line came
    # back from, when the return line names one.
    came_from: dict[int, int] = {}
    for return_line in documents.return_lines:
        authorization = received.get(return_line.authorization_id)
        if authorization is None:
            continue
        accepted[return_line.order_line_id] += return_line.qty_accepted
        latest[return_line.order_line_id] = authorization
        if return_line.shipment_line_id is not None:
            came_from[return_line.order_line_id] = return_line.shipment_line_id
    if not latest:
        return
    replaced = replaced_by_line(documents)
    waiting = _waiting_replacements(documents)

    rule = RULES["RETURN_NOT_CREDITED"]
    for line in documents.lines:
        settled_by_replacement = replaced.get(line.id, ZERO) + waiting.get(
            line.id, ZERO
        )
        line_credited = credited.get(line.id, ZERO)
        settled = line_credited + settled_by_replacement
        gap = accepted[line.id] - settled
        authorization = latest.get(line.id)
        if gap <= 0 or authorization is None:
            continue
        tolerance = documents.line_tolerance(line, context)
        received_at = authorization.received_at
        if received_at is None:
            continue
        if (context.as_of - received_at).days <= tolerance.return_credit_days:
            continue
        uom = line.product.uom
        needs = "needs" if gap == 1 else "need"
        were = "was" if line_credited == 1 else "were"
        came_back = (
            f"{format_quantity(accepted[line.id], uom)} of "
            f"{order_label(documents.order, line)} came back and "
            f"{'was' if accepted[line.id] == 1 else 'were'} accepted, but "
        )
        if settled_by_replacement:
            text = (
                f"{came_back}only {format_quantity(line_credited, uom)} {were} "
                f"credited and {format_quantity(settled_by_replacement, uom)} "
                "replaced by a replacement shipment: "
                f"{format_quantity(gap, uom)} still {needs} a credit note."
            )
        else:
            text = (
                f"{came_back}only {format_quantity(line_credited, uom)} {were} "
                f"credited: {format_quantity(gap, uom)} still {needs} a credit "
                "note."
            )
        results.findings.append(
            Finding(
                rule=rule,
                order_id=documents.order.id,
                fingerprint=f"{rule.code}:line:{line.id}",
                explanation=text,
                expected=accepted[line.id],
                actual=settled,
                difference=-gap,
                unit=uom,
                order_line_id=line.id,
                # The invoice that billed the returned units, chosen as for a
                # goods case, so the sales rep can credit them.
                invoice_id=choose_invoice(
                    billed_units(documents.invoices, documents.invoice_lines, line.id),
                    shipment_line_id=came_from.get(line.id, 0),
                    qty=gap,
                ),
            )
        )


def _waiting_replacements(documents: OrderDocuments) -> dict[int, Decimal]:
    """Return the units of accepted replacements not shipped yet, by order line id.

    A draft shipment that replaces a case exists only once the customer
    accepted the replacement. A discarded one is cancelled, and a shipped
    one is counted by ``replaced_by_line``.
    """
    units: dict[int, Decimal] = defaultdict(Decimal)
    for shipment in documents.shipments:
        line_id = shipment.replacement_line_id
        if (
            shipment.state == Shipment.State.DRAFT
            and line_id is not None
            and shipment.replacement_qty is not None
        ):
            units[line_id] += shipment.replacement_qty
    return units


def _check_refunds(
    documents: OrderDocuments, context: CheckContext, results: Results
) -> None:
    rule = RULES["CREDIT_NOT_REFUNDED"]
    tolerance = documents.order_tolerance(context)
    for invoice in counted_invoices(documents, context).values():
        if invoice.kind != Invoice.Kind.CREDIT_NOTE or not invoice.refund_requested:
            continue
        open_amount = invoice_amounts(invoice, documents).amount_residual
        if open_amount <= 0:
            continue
        if (context.as_of - invoice.invoice_date).days <= tolerance.refund_days:
            continue
        minor_units = invoice.currency.minor_units
        text = (
            f"Credit note {invoice.number} of "
            f"{format_money(invoice.amount_total, minor_units=minor_units)} "
            f"{invoice.currency_id} was to be refunded, and "
            f"{format_money(open_amount, minor_units=minor_units)} is still not "
            f"paid back after {tolerance.refund_days} days."
        )
        results.findings.append(
            Finding(
                rule=rule,
                order_id=documents.order.id,
                fingerprint=f"{rule.code}:invoice:{invoice.id}",
                explanation=text,
                expected=invoice.amount_total,
                actual=invoice.amount_total - open_amount,
                difference=-open_amount,
                unit=invoice.currency_id,
                invoice_id=invoice.id,
            )
        )
