"""Finance clerk writes of the cash screen: apply a payment, assign its payer.

Each public function is one transaction with an audit event whose source is
the screen, and raises ``WorkError`` for bad input with a message that names
the value.
"""

import logging
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import Role, User
from core.audit import record_event
from core.bulk_writes import insert_values
from core.models import AuditEvent
from reconciliation import approvals, cases
from reconciliation.checks import DuplicateOf
from reconciliation.duplicates import find_duplicate_invoices
from reconciliation.findings import Tally, save_findings
from reconciliation.matching import match_order
from reconciliation.models import (
    ACTIVE_CASE_STATES,
    Allocation,
    Approval,
    Company,
    Currency,
    Discrepancy,
    DiscrepancyCode,
    Invoice,
    Party,
    Payment,
    PurchaseOrder,
    ResolutionCode,
    SalesOrder,
    VendorBill,
)
from reconciliation.money import format_money, quantize_money
from reconciliation.services import (
    RECEIVABLE_KINDS,
    allocate_payment,
    audit_event_rows,
    lock_documents,
    payment_available,
)
from reconciliation.work import (
    SCREEN,
    WorkError,
    require_role,
)

logger = logging.getLogger(__name__)

ZERO = Decimal(0)


def apply_cash(
    *,
    actor: User,
    payment_id: int,
    invoice_id: int,
    amount: Decimal,
    company: Company | None = None,
) -> Allocation:
    """Allocate ``amount`` of a payment to an open invoice of the same customer.

    The amount may not exceed what is left on the payment nor the invoice's
    residual; the payment and invoice rows are locked before they are read.
    The invoice's order is then checked again, so its payment cases follow.
    ``company`` limits the payment to one company, as ``open_payments`` does.
    """
    require_role(actor, Role.FINANCE_CLERK, "apply cash")
    with transaction.atomic():
        payment = open_payments(company).filter(pk=payment_id).first()
        if payment is None:
            raise WorkError(_payment_not_open(payment_id, company))
        # Only an invoice of the payment's company is read, so the messages
        # below never name an invoice of another company, such as a real
        # invoice posted from a practice sandbox.
        invoice_row = (
            Invoice.objects.filter(pk=invoice_id, company_id=payment.company_id)
            .select_related("currency")
            .first()
        )
        if invoice_row is None:
            raise WorkError(
                f"That invoice is not an open invoice of payment {payment.number}'s "
                "customer: reload the screen and pick one of the open invoices "
                "listed for the payment."
            )
        lock_documents(
            {
                SalesOrder: [invoice_row.order_id],
                Invoice: [invoice_row.pk],
                Payment: [payment.pk],
            }
        )
        invoice_row.refresh_from_db()
        _check_cash(payment, invoice_row, amount)
        allocation = allocate_payment(
            payment=payment, invoice=invoice_row, amount=amount, actor=actor
        )
        if invoice_row.order is not None:
            match_order(invoice_row.order)
        _resolve_payment_cases_if_applied(payment)
    logger.info(
        "Payment %s: %s applied to invoice %s by user %s",
        payment.number,
        amount,
        invoice_row.number,
        actor.pk,
    )
    return allocation


# The cash screen's message for a payment it may not name: one of another
# company, such as a real payment asked for from a practice sandbox, or one
# that is gone. Naming its number would show what the clerk may not see.
PAYMENT_NOT_OPEN = "That payment or invoice is no longer open: reload the screen."


def _payment_not_open(payment_id: int, company: Company | None) -> str:
    """Say why the payment ``payment_id`` of ``company`` cannot be applied now.

    A payment the screen may show is named by its number; any other gets
    ``PAYMENT_NOT_OPEN``.
    """
    payment = _payments_of(company).filter(pk=payment_id).first()
    if payment is None:
        return PAYMENT_NOT_OPEN
    if payment.party_id is None:
        return (
            f"Payment {payment.number} has no customer yet: assign its customer "
            "under Payments from an unknown payer first."
        )
    return (
        f"Payment {payment.number} has nothing left to allocate: it is applied "
        "in full. Reload the screen and pick another payment."
    )


def _resolve_payment_cases_if_applied(payment: Payment) -> None:
    """Store that a fully allocated payment has no unapplied money any more.

    The matching pass keeps a payment's unapplied and overpayment cases, and
    with nothing left on the payment it would find neither again. Cases are
    resolved or flagged by the pass's own rules for a finding that is gone.
    """
    if payment_available(payment) > 0:
        return
    rows = Discrepancy.objects.select_for_update().filter(
        company_id=payment.company_id,
        order__isnull=True,
        payment=payment,
        code__in=[DiscrepancyCode.UNAPPLIED_PAYMENT, DiscrepancyCode.OVER_PAYMENT],
    )
    existing = {row.fingerprint: row for row in rows.order_by("pk")}
    if not existing:
        return
    events = save_findings(payment.company, [], existing, Tally())
    insert_values(AuditEvent, audit_event_rows(events), returning=False)


def _check_cash(
    payment: Payment,
    invoice: Invoice,
    amount: Decimal,
    held: dict[int, DuplicateOf] | None = None,
) -> None:
    """Raise ``WorkError`` unless ``amount`` of ``payment`` may go to ``invoice``.

    ``held`` is ``held_duplicates(payment)`` when the caller read it already.
    """
    currency = payment.currency_id
    minor_units = payment.currency.minor_units

    def money(value: Decimal) -> str:
        return f"{format_money(value, minor_units=minor_units)} {currency}"

    documents = f"from payment {payment.number} to invoice {invoice.number}"
    if amount <= 0:
        raise WorkError(
            f"Amount {money(amount)} {documents} is not positive: enter more than 0."
        )
    if amount != quantize_money(amount, minor_units=minor_units):
        # Shown unrounded, because rounding would hide the extra decimals.
        raise WorkError(
            f"Amount {amount:,f} {currency} {documents} has more than "
            f"{minor_units} decimals, which {currency} does not allow: round it."
        )
    if invoice not in open_invoices_for(payment):
        raise WorkError(
            f"Invoice {invoice.number} is not an open invoice of payment "
            f"{payment.number}'s customer in {currency}: pick one of the open "
            "invoices listed for the payment."
        )
    if held is None:
        held = held_duplicates(payment)
    if invoice.pk in held:
        raise held_error(payment, invoice, held[invoice.pk])
    available = payment_available(payment)
    if amount > available:
        raise WorkError(
            f"Amount {money(amount)} is more than the {money(available)} left on "
            f"payment {payment.number}: allocate {money(available)} or less."
        )
    # ``open_invoices_for`` keeps only invoices in the payment's currency.
    residual = invoice.amount_residual
    if amount > residual:
        raise WorkError(
            f"Amount {money(amount)} is more than the {money(residual)} open on "
            f"invoice {invoice.number}: allocate {money(residual)} or less."
        )


def assign_payer(
    *, actor: User, payment_id: int, party_id: int, company: Company | None = None
) -> Payment:
    """Set the customer of a payment whose payer the import could not identify.

    Only a payment with no customer and no allocation can be assigned, so a
    payment already applied never moves to another customer. The payment
    then appears among the open payments, to be allocated as usual.
    ``company`` limits the payment to one company, as ``open_payments`` does.
    """
    require_role(actor, Role.FINANCE_CLERK, "assign payers")
    with transaction.atomic():
        lock_documents({Payment: [payment_id]})
        payment = unassigned_payments(company).filter(pk=payment_id).first()
        if payment is None:
            raise WorkError(_payer_not_assignable(payment_id, company))
        party = (
            customers_for(payment).filter(pk=party_id).select_related("parent").first()
        )
        if party is None and not party_id:
            raise WorkError(
                f"Customer is missing: choose the customer of payment "
                f"{payment.number} from the list."
            )
        if party is None:
            raise WorkError(
                f"Customer {party_id} was not found among the customers of the "
                f"company of payment {payment.number}: choose one from the list."
            )
        payment.party = party
        payment.save(update_fields=["party", "updated_at"])
        record_event(
            actor=actor,
            action="payment.payer_assigned",
            target=payment,
            source=SCREEN,
            before={"party": None},
            after={"party": party.code, "party_name": party.name},
        )
    logger.info(
        "Payment %s assigned to party %s by user %s", payment.pk, party.pk, actor.pk
    )
    return payment


# The message for a payment the screen may not name, as ``PAYMENT_NOT_OPEN``.
PAYER_NOT_ASSIGNABLE = (
    "That payment already has a customer or is no longer open: reload the screen."
)


def _payer_not_assignable(payment_id: int, company: Company | None) -> str:
    """Say why the payer of payment ``payment_id`` cannot be assigned now."""
    payment = (
        _payments_of(company).filter(pk=payment_id).select_related("party").first()
    )
    if payment is None:
        return PAYER_NOT_ASSIGNABLE
    if payment.party is not None:
        return (
            f"Payment {payment.number} already belongs to {payment.party.name}: "
            "allocate it under Unallocated payments instead."
        )
    return (
        f"Payment {payment.number} is allocated already or has nothing left, so "
        "its payer can no longer change: reload the screen."
    )


def _payments_of(company: Company | None) -> QuerySet[Payment]:
    """Return the payments of ``company``, or of every real company for None.

    Only the practice sandbox passes a company: its screens read their own
    sandbox company, and the real screens never read a sandbox.
    """
    if company is None:
        return Payment.objects.exclude(company__practice_session__isnull=False)
    return Payment.objects.filter(company=company)


def open_payments(company: Company | None = None) -> QuerySet[Payment]:
    """Return identified payments with money left to allocate, oldest first."""
    return (
        _payments_of(company)
        .filter(party__isnull=False, amount_unallocated__gt=0)
        .select_related("party", "currency")
        .order_by("value_date", "number")
    )


def amount_label(
    payment_id: int, invoice_id: int, company: Company | None = None
) -> str:
    """Return the typed amount's label, naming the payment and invoice it moves.

    Only an open payment of ``company`` and an invoice of its company are
    named, as ``apply_cash`` names them; otherwise the label is ``Amount``.
    """
    payment = open_payments(company).filter(pk=payment_id).first()
    if payment is None:
        return "Amount"
    invoice = Invoice.objects.filter(
        pk=invoice_id, company_id=payment.company_id
    ).first()
    if invoice is None:
        return f"Amount from payment {payment.number}"
    return f"Amount from payment {payment.number} to invoice {invoice.number}"


def payment_currency(
    payment_id: int, company: Company | None = None
) -> Currency | None:
    """Return the currency of a payment of ``company``, or None when there is none."""
    payment = (
        _payments_of(company).select_related("currency").filter(pk=payment_id).first()
    )
    return payment.currency if payment is not None else None


def unassigned_payments(company: Company | None = None) -> QuerySet[Payment]:
    """Return payments with money left whose payer is unknown, oldest first."""
    return (
        _payments_of(company)
        .filter(party__isnull=True, amount_unallocated__gt=0)
        .filter(allocations__isnull=True)
        .select_related("currency")
        .order_by("value_date", "number")
    )


def customers_for(payment: Payment) -> QuerySet[Party]:
    """Return the customers a payment of unknown payer may be assigned to.

    A party records no kind, so a party we only buy from (a purchase order
    or a vendor bill, and no sales order or invoice) is left out. A new
    party with no documents yet stays in, since it may pay in advance.
    """
    sells_to = Exists(SalesOrder.objects.filter(customer=OuterRef("pk"))) | Exists(
        Invoice.objects.filter(customer=OuterRef("pk"))
    )
    buys_from = Exists(PurchaseOrder.objects.filter(vendor=OuterRef("pk"))) | Exists(
        VendorBill.objects.filter(vendor=OuterRef("pk"))
    )
    return (
        Party.objects.filter(company_id=payment.company_id)
        .filter(sells_to | ~buys_from)
        .order_by("name")
    )


def reading_key(name: str) -> tuple[str, str]:
    """Return the key that sorts ``name`` as a person reads a list of names.

    Case and accents are folded ("Bólido" sorts as "bolido", "FISSA" as
    "fissa"), so the order does not follow character codes, and it is the
    same on SQLite and PostgreSQL whatever their collation. Names that fold
    alike are ordered by their own text, so the order is stable.
    """
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    folded = "".join(char for char in decomposed if not unicodedata.combining(char))
    return (folded, name)


def customers_in_reading_order(payment: Payment) -> list[Party]:
    """Return ``customers_for(payment)`` sorted by ``reading_key`` of the name."""
    return sorted(customers_for(payment), key=lambda party: reading_key(party.name))


def open_invoices_for(payment: Payment) -> QuerySet[Invoice]:
    """Return the posted, unpaid invoices of the payment's customer, oldest first."""
    party_id = payment.party_id
    return (
        Invoice.objects.filter(
            Q(customer_id=party_id) | Q(customer__parent_id=party_id),
            company_id=payment.company_id,
            currency_id=payment.currency_id,
            kind__in=RECEIVABLE_KINDS,
            state=Invoice.State.POSTED,
            amount_residual__gt=0,
        )
        .select_related("order", "customer")
        .order_by("due_date", "number")
    )


def held_duplicates(payment: Payment) -> dict[int, DuplicateOf]:
    """Return the customer's invoices held as possible duplicates, by id.

    The rule is the matching pass's (``duplicates.find_duplicate_invoices``
    for the payment's commercial partner), so the screen keeps out exactly the
    invoices the pass's cash rules leave out: they take no cash until a
    person decides their duplicate-invoice case.
    """
    if payment.party is None:
        return {}
    partner = payment.party.commercial_partner_id
    return find_duplicate_invoices(company=payment.company, partners=[partner])


def duplicate_cases(invoice_ids: Sequence[int]) -> dict[int, Discrepancy]:
    """Return the newest duplicate-invoice case of each invoice, by invoice id.

    An active case wins over a decided one, because it is the one to work.
    """
    found: dict[int, Discrepancy] = {}
    rows = Discrepancy.objects.filter(
        invoice_id__in=invoice_ids, code=DiscrepancyCode.DUPLICATE_INVOICE
    ).order_by("-pk")
    for case in rows:
        current = found.get(case.invoice_id or 0)
        if current is None or (case.is_active and not current.is_active):
            found[case.invoice_id or 0] = case
    return found


def held_error(payment: Payment, invoice: Invoice, original: DuplicateOf) -> WorkError:
    """Return the refusal of cash for ``invoice``, held as a possible duplicate."""
    refusal = (
        f"Invoice {invoice.number} is held as a possible duplicate of invoice "
        f"{original.number} (same customer and reference {invoice.reference!r}), "
        f"so payment {payment.number} cannot be allocated to it"
    )
    case = duplicate_cases([invoice.pk]).get(invoice.pk)
    if case is None:
        return WorkError(
            f"{refusal}: allocate the payment to invoice {original.number}, or wait "
            "for the next matching pass to open the duplicate-invoice case and "
            "decide it first."
        )
    if not case.is_active:
        # NOTE: as in the matching pass, only cancelling the copy (or changing
        # its reference) ends the hold; a decided case does not.
        return WorkError(
            "{refusal}: duplicate-invoice case {case} is decided, but the invoice "
            "still repeats the reference of invoice {original}. Cancel the copy, "
            "or allocate the payment to invoice {original}.",
            case_id=case.pk,
            refusal=refusal,
            original=original.number,
        )
    return WorkError(
        "{refusal}: allocate the payment to invoice {original}, or decide "
        "duplicate-invoice case {case} first.",
        case_id=case.pk,
        refusal=refusal,
        original=original.number,
    )


# The allocation tray: the clerk gathers invoices and amounts for one payment,
# checks the total and what would be left, and confirms them in one go.

# Maximum number of lines in one tray.
MAX_TRAY_LINES = 20
# Write-off reason codes and their labels. The label starts the resolution note.
WRITE_OFF_REASONS: dict[str, str] = {
    "bank_charge": "Bank charge",
    "rounding": "Rounding difference",
    "small_balance": "Small balance not worth collecting",
    "early_payment_discount": "Early-payment discount taken",
    "customer_deduction": "Customer deduction accepted",
}
# Reasons to write off what a tray leaves on the payment: the payer sent a
# little more than the invoices, and refunding it costs more than it is worth.
SURPLUS_REASONS: dict[str, str] = {
    "rounding": "Rounding difference",
    "small_overpayment": "Small overpayment not worth refunding",
}
MAX_WRITE_OFF_NOTE = 500


@dataclass(frozen=True)
class WriteOffRequest:
    """A write-off request: the invoice, the reason code and a note.

    ``surplus`` writes off what the tray leaves on the payment, through
    ``invoice_id``, instead of what the tray leaves open on that invoice.
    """

    invoice_id: int
    reason_code: str
    note: str
    surplus: bool = False


@dataclass(frozen=True)
class WriteOffOutcome:
    """The result of a write-off: booked at once, or sent to a manager.

    ``case`` is None when the check after the allocation booked the
    difference itself, within the rounding allowance or the payment
    tolerance, and ``check_reason`` is then the reason it recorded.
    ``kept`` is true when the amount is money the payer sent too much.
    """

    case: Discrepancy | None
    invoice: Invoice
    amount: Decimal
    approval: Approval | None
    kept: bool = False
    check_reason: str = ""

    @property
    def booked(self) -> bool:
        return self.approval is None


@dataclass(frozen=True)
class TrayOutcome:
    payment: Payment
    allocations: list[Allocation]
    write_off: WriteOffOutcome | None


def check_write_off_input(
    reason_code: str, note: str, reasons: dict[str, str] = WRITE_OFF_REASONS
) -> str:
    """Return the resolution note for a write-off, or raise ``WorkError``.

    The note starts with the reason's label, so the case, its audit event
    and the allocation's write-off reason all state the reason. ``reasons``
    are the codes allowed, ``SURPLUS_REASONS`` for what is left on a payment.
    """
    if reason_code not in reasons:
        allowed = ", ".join(reasons.values())
        shown = reason_code[:40] or "(none)"
        raise WorkError(
            f"Write-off reason {shown!r} is not one of the reasons: choose one of "
            f"{allowed}."
        )
    text = note.strip()
    if not text:
        raise WorkError(
            "The write-off note is empty: say what the difference is, such as "
            "the bank's charge on the transfer."
        )
    if len(text) > MAX_WRITE_OFF_NOTE:
        raise WorkError(
            f"The write-off note has {len(text):,} characters: shorten it to "
            f"{MAX_WRITE_OFF_NOTE} or fewer."
        )
    return f"{reasons[reason_code]}: {text}"


def apply_tray(
    *,
    actor: User,
    payment_id: int,
    lines: Sequence[tuple[int, Decimal]],
    write_off: WriteOffRequest | None = None,
    company: Company | None = None,
) -> TrayOutcome:
    """Allocate every line of the tray, and book its write-off, or do nothing.

    One transaction locks the invoices' orders, the invoices and the payment
    in ``LOCK_ORDER`` (by model, then by id), as the matching engine does,
    and checks every line against what is left once the rows are locked. So
    two clerks confirming trays on the same payment cannot allocate more
    than it has: the second waits for the first and then gets a message
    that the payment has nothing left. Any rejected line or write-off rolls
    the whole tray back.
    """
    require_role(actor, Role.FINANCE_CLERK, "apply cash")
    note = None
    if write_off is not None:
        reasons = SURPLUS_REASONS if write_off.surplus else WRITE_OFF_REASONS
        note = check_write_off_input(write_off.reason_code, write_off.note, reasons)
    with transaction.atomic():
        payment = open_payments(company).filter(pk=payment_id).first()
        if payment is None:
            raise WorkError(_payment_not_open(payment_id, company))
        invoices = _tray_invoices(payment, lines, write_off)
        order_ids = sorted({i.order_id for i in invoices.values() if i.order_id})
        lock_documents(
            {SalesOrder: order_ids, Invoice: list(invoices), Payment: [payment.pk]}
        )
        if payment_available(payment) <= 0:
            # Another clerk spent it while this one waited for the lock.
            raise WorkError(_payment_not_open(payment_id, company))
        for invoice in invoices.values():
            invoice.refresh_from_db()
        _check_tray(payment, invoices, lines)
        amounts = dict(lines)
        if write_off is not None and write_off.surplus:
            surplus = _check_surplus(payment, invoices, lines, write_off)
            amounts[write_off.invoice_id] += surplus
        allocations = [
            allocate_payment(
                payment=payment,
                invoice=invoices[invoice_id],
                amount=amount,
                actor=actor,
            )
            for invoice_id, amount in sorted(amounts.items())
        ]
        for order in SalesOrder.objects.filter(pk__in=order_ids).order_by("pk"):
            match_order(order)
        outcome = None
        if write_off is not None and note is not None:
            invoice = invoices[write_off.invoice_id]
            if write_off.surplus:
                outcome = _write_off_surplus_locked(
                    actor, payment, invoice, note, surplus
                )
            else:
                outcome = _write_off_locked(actor, payment, invoice, note)
        _resolve_payment_cases_if_applied(payment)
    logger.info(
        "Payment %s: tray of %d lines applied by user %s",
        payment.number,
        len(allocations),
        actor.pk,
    )
    return TrayOutcome(payment, allocations, outcome)


def _tray_invoices(
    payment: Payment,
    lines: Sequence[tuple[int, Decimal]],
    write_off: WriteOffRequest | None,
) -> dict[int, Invoice]:
    """Read the tray's invoices of the payment's company, by id, or raise."""
    if not lines:
        raise WorkError(
            f"The tray of payment {payment.number} is empty: add an invoice with "
            "Add to tray, then confirm."
        )
    if len(lines) > MAX_TRAY_LINES:
        raise WorkError(
            f"The tray of payment {payment.number} has {len(lines)} lines: "
            f"confirm at most {MAX_TRAY_LINES} at a time."
        )
    ids = [invoice_id for invoice_id, _ in lines]
    if len(set(ids)) != len(ids):
        raise WorkError(
            f"The tray of payment {payment.number} lists an invoice twice: remove "
            "one of its lines and confirm again."
        )
    invoices = {
        invoice.pk: invoice
        for invoice in Invoice.objects.filter(
            pk__in=ids, company_id=payment.company_id
        ).select_related("currency", "order")
    }
    missing = [invoice_id for invoice_id in ids if invoice_id not in invoices]
    if missing:
        raise WorkError(
            f"Invoice {missing[0]} in the tray is not an invoice of payment "
            f"{payment.number}'s company: remove it from the tray and pick one of "
            "the open invoices listed for the payment."
        )
    if write_off is not None and write_off.invoice_id not in invoices:
        raise WorkError(
            f"The write-off names an invoice that is not in the tray of payment "
            f"{payment.number}: write off only the rest of an invoice in the tray."
        )
    return invoices


def _check_tray(
    payment: Payment,
    invoices: dict[int, Invoice],
    lines: Sequence[tuple[int, Decimal]],
) -> None:
    """Check each locked line as ``apply_cash`` does, then their total."""
    held = held_duplicates(payment)
    for invoice_id, amount in lines:
        _check_cash(payment, invoices[invoice_id], amount, held)
    total = sum((amount for _, amount in lines), ZERO)
    available = payment_available(payment)
    if total > available:
        minor_units = payment.currency.minor_units
        code = payment.currency_id
        raise WorkError(
            f"The tray totals {format_money(total, minor_units=minor_units)} {code}, "
            f"more than the {format_money(available, minor_units=minor_units)} "
            f"{code} left on payment {payment.number}: lower an amount or remove "
            "a line, so the total is no more than what is left."
        )


def surplus_allowance(payment: Payment) -> Decimal:
    """Return the most the tray may leave on ``payment`` and write off.

    It is the write-off limit, the most a clerk writes off alone, as for a
    bank charge (``cash.bank_charge_allowance``): a payment in another
    currency than the company's gets none, because the limit is in the
    company currency.
    """
    # Imported here: ``cash`` imports modules that import this one.
    from reconciliation.cash import bank_charge_allowance

    return bank_charge_allowance(payment)


def _check_surplus(
    payment: Payment,
    invoices: dict[int, Invoice],
    lines: Sequence[tuple[int, Decimal]],
    write_off: WriteOffRequest,
) -> Decimal:
    """Return what the checked tray leaves on the locked payment, or raise.

    The surplus goes to the chosen invoice, which the tray must pay in full,
    so that invoice is paid that much too much and the write-off keeps it.
    """
    money = _money_of(payment)
    total = sum((amount for _, amount in lines), ZERO)
    surplus = payment_available(payment) - total
    if surplus <= 0:
        raise WorkError(
            f"The tray takes all of payment {payment.number}, so nothing is left "
            "on it to write off: confirm without the write-off."
        )
    allowance = surplus_allowance(payment)
    if surplus > allowance:
        raise WorkError(
            f"The tray leaves {money(surplus)} on payment {payment.number}, more "
            f"than the {money(allowance)} a clerk may write off: allocate it to "
            "an open invoice, or leave it on the payment to refund or keep as "
            "credit on the account."
        )
    invoice = invoices[write_off.invoice_id]
    if invoice.order_id is None:
        # Only the check of the invoice's order books or opens the write-off.
        raise WorkError(
            f"Invoice {invoice.number} has no sales order to check, so the "
            f"{money(surplus)} left on payment {payment.number} cannot be written "
            "off through it: choose another invoice of the tray, or leave the "
            "money on the payment."
        )
    amount = dict(lines)[invoice.pk]
    if amount != invoice.amount_residual:
        raise WorkError(
            f"Invoice {invoice.number} keeps {money(invoice.amount_residual - amount)} "
            f"open in the tray, so the {money(surplus)} left on payment "
            f"{payment.number} belongs on it: raise its amount instead of writing "
            "the rest off."
        )
    return surplus


def _write_off_surplus_locked(
    actor: User, payment: Payment, invoice: Invoice, note: str, surplus: Decimal
) -> WriteOffOutcome:
    """Keep ``surplus``, allocated to the locked ``invoice`` beyond its total.

    The check after the allocation writes off an overpayment within the
    rounding allowance or the payment tolerance itself, as the matching
    pass does. A larger one becomes the invoice's over-payment case, which
    the clerk resolves with a write-off within the limit or sends to a
    manager.
    """
    invoice.refresh_from_db()
    if invoice.amount_residual == 0:
        allocation = (
            Allocation.objects.filter(
                payment=payment,
                invoice=invoice,
                reverses__isnull=True,
                reversal__isnull=True,
            )
            .order_by("-pk")
            .first()
        )
        reason = allocation.writeoff_reason if allocation is not None else ""
        # The check's own event names the rule; this one names the clerk
        # who chose to keep the money, and why.
        record_event(
            actor=actor,
            action="allocation.surplus_kept",
            target=allocation or invoice,
            source=SCREEN,
            after={
                "invoice": invoice.number,
                "payment": payment.number,
                "kept": str(surplus),
                "check_reason": reason,
            },
            reason=note,
        )
        logger.info(
            "Invoice %s: overpayment of %s on payment %s kept by the check",
            invoice.number,
            surplus,
            payment.number,
        )
        return WriteOffOutcome(
            None, invoice, surplus, None, kept=True, check_reason=reason
        )
    case = (
        Discrepancy.objects.filter(
            invoice=invoice,
            code=DiscrepancyCode.OVER_PAYMENT,
            state__in=sorted(ACTIVE_CASE_STATES),
        )
        .order_by("-pk")
        .first()
    )
    if invoice.amount_residual > 0 or case is None:
        money = _money_of(payment)
        raise WorkError(
            f"Invoice {invoice.number} has {money(invoice.amount_residual)} open "
            f"after the tray, not the {money(-surplus)} overpayment the write-off "
            "expects: reload the screen and build the tray again."
        )
    outcome = _settle_by_write_off(actor, case, invoice, note)
    return WriteOffOutcome(outcome.case, invoice, surplus, outcome.approval, kept=True)


def write_off_rest(
    *,
    actor: User,
    payment_id: int,
    invoice_id: int,
    reason_code: str,
    note: str,
    company: Company | None = None,
) -> WriteOffOutcome:
    """Write off what an invoice the payment paid still has open.

    The write-off goes through the case screen's service. The check opens
    the invoice's short-payment case now if it has not yet, and the clerk
    starts it. Within ``RECONCILIATION_WRITE_OFF_LIMIT`` the case is
    resolved with a write-off. Above it, an approval is requested for a
    manager who is not the clerk.
    """
    require_role(actor, Role.FINANCE_CLERK, "write off payment differences")
    text = check_write_off_input(reason_code, note)
    with transaction.atomic():
        payment = (
            _payments_of(company)
            .filter(pk=payment_id, party__isnull=False)
            .select_related("currency", "party")
            .first()
        )
        if payment is None:
            raise WorkError(PAYMENT_NOT_OPEN)
        invoice = (
            Invoice.objects.filter(pk=invoice_id, company_id=payment.company_id)
            .select_related("currency", "order")
            .first()
        )
        if invoice is None:
            raise WorkError(
                f"That invoice is not an invoice of payment {payment.number}'s "
                "company: reload the screen and pick one it paid."
            )
        lock_documents(
            {
                SalesOrder: [invoice.order_id],
                Invoice: [invoice.pk],
                Payment: [payment.pk],
            }
        )
        invoice.refresh_from_db()
        outcome = _write_off_locked(actor, payment, invoice, text)
    logger.info(
        "Invoice %s: write-off on payment %s by user %s (approval %s)",
        invoice.number,
        payment.number,
        actor.pk,
        outcome.approval.pk if outcome.approval else None,
    )
    return outcome


def _write_off_locked(
    actor: User, payment: Payment, invoice: Invoice, note: str
) -> WriteOffOutcome:
    """Write off the rest of the locked ``invoice`` through its case."""
    money = _money_of(payment)
    # A tray's allocations have just changed what is open on it.
    invoice.refresh_from_db()
    if invoice.amount_residual <= 0:
        raise WorkError(
            f"Invoice {invoice.number} has nothing open to write off: it is paid "
            "in full."
        )
    paid = Allocation.objects.filter(
        payment=payment, invoice=invoice, reverses__isnull=True, reversal__isnull=True
    ).exists()
    if not paid:
        raise WorkError(
            f"Payment {payment.number} pays nothing on invoice {invoice.number}, "
            f"so the {money(invoice.amount_residual)} open on it is not a "
            "difference of this payment: allocate the payment to the invoice first."
        )
    case = _money_case(invoice)
    if case is None and invoice.order is not None:
        # The check opens the case the write-off resolves, as after an import.
        match_order(invoice.order)
        case = _money_case(invoice)
    if case is None:
        raise WorkError(
            f"Invoice {invoice.number} has {money(invoice.amount_residual)} open but "
            "no short-payment case to write it off on: it has no sales order to "
            "check. Open the invoice's case from the case list instead."
        )
    return _settle_by_write_off(actor, case, invoice, note)


def _settle_by_write_off(
    actor: User, case: Discrepancy, invoice: Invoice, note: str
) -> WriteOffOutcome:
    """Resolve the money ``case`` with a write-off, or ask a manager above the limit."""
    amount = cases.write_off_amount(case)
    if cases.State.RESOLVED not in cases.TRANSITIONS.get(case.state, ()):
        cases.start_case(case_id=case.pk, actor=actor, reason=note)
    invoice_row = cases.case_invoice(case)
    in_company = cases.in_company_currency(
        invoice_row, amount, limit_name="write-off limit"
    )
    approved = Approval.objects.filter(
        case=case,
        action=ResolutionCode.WRITE_OFF,
        decision=Approval.Decision.APPROVED,
        amount__gte=amount,
    ).exists()
    if in_company > cases.write_off_limit() and not approved:
        approval = approvals.request_write_off(
            case_id=case.pk, actor=actor, reason=note
        )
        case.refresh_from_db()
        return WriteOffOutcome(case, invoice, amount, approval)
    resolved = cases.resolve_case(
        case_id=case.pk,
        actor=actor,
        resolution_code=ResolutionCode.WRITE_OFF,
        note=note,
    )
    return WriteOffOutcome(resolved, invoice, amount, None)


def _money_case(invoice: Invoice) -> Discrepancy | None:
    """Return the invoice's active short-payment case, the newest first."""
    return (
        Discrepancy.objects.filter(
            invoice=invoice,
            code=DiscrepancyCode.SHORT_PAYMENT,
            state__in=sorted(ACTIVE_CASE_STATES),
        )
        .order_by("-pk")
        .first()
    )


def _money_of(payment: Payment) -> Callable[[Decimal], str]:
    minor_units = payment.currency.minor_units

    def money(value: Decimal) -> str:
        return f"{format_money(value, minor_units=minor_units)} {payment.currency_id}"

    return money


def payment_for_screen(
    payment_id: int, company: Company | None = None
) -> Payment | None:
    """Return a payment of a known customer that the cash screen may show.

    Unlike ``open_payments`` it keeps a payment applied in full, whose
    invoices may still have a difference to write off.
    """
    return (
        _payments_of(company)
        .filter(pk=payment_id, party__isnull=False)
        .select_related("party", "currency")
        .first()
    )


def partly_paid_invoices(payment: Payment) -> QuerySet[Invoice]:
    """Return the invoices the payment pays that still have money open."""
    return (
        open_invoices_for(payment)
        .filter(
            allocations__payment=payment,
            allocations__reverses__isnull=True,
            allocations__reversal__isnull=True,
        )
        .distinct()
    )
