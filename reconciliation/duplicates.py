"""Duplicate invoices: the same reference from the same commercial partner.

References are compared after ``normalize_reference``. So ``INV-2024-001``,
`` inv-2024-001 ``, the same text with non-breaking hyphens (U+2011) or an en
dash in place of ``-``, and the same text with a zero-width space or a byte
order mark pasted in are one reference.
"""

import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, QuerySet

from accounts.models import User
from core.audit import record_event
from core.models import AuditEvent
from core.text import clean_line
from reconciliation.checks import DuplicateOf
from reconciliation.credit_notes import (
    create_credit_lines,
    create_credit_note,
    credit_on_invoice,
    money_lines,
)
from reconciliation.models import Company, Discrepancy, DiscrepancyCode, Invoice
from reconciliation.money import format_money, quantize_money

MAX_KEPT_REASON = 200

# U+2212 MINUS SIGN is a math symbol (category Sm), not dash punctuation, but
# it is typed or pasted in place of ``-`` as often as the dashes are.
MINUS_SIGN = "\u2212"


def normalize_reference(reference: str) -> str:
    """Fold a reference for comparison, in these steps:

    - Unicode NFKC, which also turns full-width letters and digits into ASCII.
    - ``clean_line``, which removes format characters (category Cf: zero-width
      spaces, byte order marks, soft hyphens) and control characters, folds
      whitespace runs to one space and trims the ends.
    - Every dash (category Pd, such as U+2010 to U+2015) and the minus sign
      become ``-``.
    - Case folding.
    """
    if reference.isascii() and reference.isprintable():
        # The common case. Printable ASCII has no format, control or Unicode
        # dash characters, and NFKC leaves it unchanged, so the per-character
        # pass below (about ten times slower) would change nothing.
        return " ".join(reference.split()).casefold()
    text = clean_line(unicodedata.normalize("NFKC", reference))
    return "".join(_fold_dash(char) for char in text).casefold()


def _fold_dash(char: str) -> str:
    if char == MINUS_SIGN or unicodedata.category(char) == "Pd":
        return "-"
    return char


def find_duplicate_invoices(
    *, company: Company, partners: Collection[int] | None = None
) -> dict[int, DuplicateOf]:
    """Map each duplicate posted invoice to the original it repeats.

    Two invoices are the same when they have one commercial partner (the
    parent party of a child contact) and one reference after normalizing. The
    original is the earliest by invoice date, then by entry order. A reference
    reused a year later is flagged as well: only a person can tell a reused
    number from a copy. An invoice a person kept as not a duplicate
    (``duplicate_kept_reason``, see ``keep_invoice``) is not one any more.

    ``partners`` limits the read to the invoices of those commercial
    partners' parties. The answer for their invoices is the same as for the
    whole company, because an invoice repeats only one of the same partner.
    """
    invoices = Invoice.objects.filter(
        company=company, kind=Invoice.Kind.INVOICE, state=Invoice.State.POSTED
    )
    if partners is not None:
        invoices = invoices.filter(
            Q(customer_id__in=partners) | Q(customer__parent_id__in=partners)
        )
    rows = (
        invoices.exclude(reference="")
        .order_by("invoice_date", "pk")
        .values_list(
            "pk",
            "number",
            "reference",
            "invoice_date",
            "customer__name",
            "customer__parent_id",
            "customer__parent__name",
            "customer_id",
            "duplicate_kept_reason",
        )
    )
    originals: dict[tuple[int, str], DuplicateOf] = {}
    duplicates: dict[int, DuplicateOf] = {}
    for row in rows:
        (
            pk,
            number,
            reference,
            invoice_date,
            name,
            parent_id,
            parent_name,
            own,
            kept_reason,
        ) = row
        key = (parent_id or own, normalize_reference(reference))
        original = originals.get(key)
        if original is not None and kept_reason:
            # A person decided it is not a duplicate: it is no longer held.
            continue
        if original is None:
            originals[key] = DuplicateOf(
                number=number,
                reference=reference,
                invoice_date=invoice_date,
                partner_name=parent_name or name,
            )
        else:
            duplicates[pk] = original
    return duplicates


def _posted_with_reference(invoice: Invoice) -> QuerySet[Invoice]:
    """Return the other posted invoices of ``invoice``'s partner with a reference.

    The partner is the customer's parent, or the customer, as
    ``find_duplicate_invoices`` groups them, in date order.
    """
    customer = invoice.customer
    partner = customer.parent_id or customer.pk
    return (
        Invoice.objects.filter(
            Q(customer_id=partner) | Q(customer__parent_id=partner),
            company_id=invoice.company_id,
            kind=Invoice.Kind.INVOICE,
            state=Invoice.State.POSTED,
        )
        .exclude(pk=invoice.pk)
        .exclude(reference="")
        .order_by("invoice_date", "pk")
    )


def original_of(invoice: Invoice) -> Invoice | None:
    """Return the earlier posted invoice whose reference ``invoice`` repeats.

    The rule is ``find_duplicate_invoices``'s, read for one invoice, so it
    still names the original once the copy is cancelled.
    """
    if not invoice.reference:
        return None
    target = normalize_reference(invoice.reference)
    for other in _posted_with_reference(invoice):
        if (other.invoice_date, other.pk) >= (invoice.invoice_date, invoice.pk):
            break
        if normalize_reference(other.reference) == target:
            return other
    return None


def first_copy_of(invoice: Invoice) -> Invoice | None:
    """Return the first later posted invoice that repeats ``invoice``'s reference.

    The rule is ``original_of``'s, read the other way: when it returns an
    invoice, ``invoice`` is that invoice's original. A later invoice that a
    person kept as not a duplicate is no copy.
    """
    if not invoice.reference:
        return None
    target = normalize_reference(invoice.reference)
    later = _posted_with_reference(invoice).filter(
        duplicate_kept_reason="", invoice_date__gte=invoice.invoice_date
    )
    for other in later:
        if (other.invoice_date, other.pk) <= (invoice.invoice_date, invoice.pk):
            continue
        if normalize_reference(other.reference) == target:
            return other
    return None


# Deciding a duplicate-invoice case


@dataclass(frozen=True)
class DuplicateDecision:
    """The effect of deciding a duplicate-invoice case on its invoice."""

    invoice: Invoice
    # "kept", "cancelled", "credited" or "restored".
    outcome: str
    credit_note: Invoice | None = None


def decides_invoice(case: Discrepancy) -> bool:
    """Return whether deciding ``case`` acts on a customer invoice it holds."""
    return (
        case.code == DiscrepancyCode.DUPLICATE_INVOICE
        and case.invoice_id is not None
        and case.vendor_bill_id is None
    )


def _locked_invoice(case: Discrepancy) -> Invoice | None:
    invoice = (
        Invoice.objects.select_for_update(of=("self",))
        .select_related("currency", "customer")
        .filter(pk=case.invoice_id or 0, kind=Invoice.Kind.INVOICE)
        .first()
    )
    return invoice


def keep_invoice(
    case: Discrepancy, *, actor: User, reason: str
) -> DuplicateDecision | None:
    """Lift the hold of the case's invoice: a person found it is no duplicate.

    The caller holds the case lock and has checked the move. The invoice
    keeps the reason, so ``find_duplicate_invoices`` no longer lists it, and
    the pass and the cash screen place cash on it again.
    """
    invoice = _locked_invoice(case)
    if invoice is None or invoice.state != Invoice.State.POSTED:
        return None
    text = " ".join(reason.split())[:MAX_KEPT_REASON] or "Not a duplicate."
    if invoice.duplicate_kept_reason == text:
        return DuplicateDecision(invoice=invoice, outcome="kept")
    before = {"duplicate_kept_reason": invoice.duplicate_kept_reason}
    invoice.duplicate_kept_reason = text
    invoice.save(update_fields=["duplicate_kept_reason", "updated_at"])
    record_event(
        actor=actor,
        action="invoice.duplicate_kept",
        target=invoice,
        source=AuditEvent.Source.SCREEN,
        before=before,
        after={"duplicate_kept_reason": text, "case": case.pk},
        reason=reason,
    )
    return DuplicateDecision(invoice=invoice, outcome="kept")


def cancel_or_credit(
    case: Discrepancy, *, actor: User, note: str
) -> DuplicateDecision | None:
    """Take the duplicate off the books: cancel it, or credit it in full.

    An invoice nothing was paid, written off or credited on is cancelled.
    One that was already settled in part stays posted, because its
    allocations and credit notes point at it, and gets a posted credit note
    for its total less the credit notes posted on it already. The credit
    note's lines are money shares (``amount_only``), so they name no order
    line and the quantity checks read none of it. The invoice stays held as
    a duplicate, so it takes no more cash.
    """
    invoice = _locked_invoice(case)
    if invoice is None or invoice.state != Invoice.State.POSTED:
        return None
    original = original_of(invoice)
    after: dict[str, object] = {
        "case": case.pk,
        "original": original.number if original else "",
    }
    settled = invoice.amount_paid + invoice.amount_written_off + invoice.amount_credited
    if settled == 0:
        invoice.state = Invoice.State.CANCELLED
        invoice.save(update_fields=["state", "updated_at"])
        record_event(
            actor=actor,
            action="invoice.cancelled_as_duplicate",
            target=invoice,
            source=AuditEvent.Source.SCREEN,
            before={"state": Invoice.State.POSTED},
            after={"state": Invoice.State.CANCELLED, **after},
            reason=note,
        )
        return DuplicateDecision(invoice=invoice, outcome="cancelled")
    amount = invoice.amount_total - credit_on_invoice(invoice).posted
    if amount <= 0:
        return DuplicateDecision(invoice=invoice, outcome="credited")
    credit_note = _post_credit_note(invoice, amount)
    record_event(
        actor=actor,
        action="invoice.credited_as_duplicate",
        target=invoice,
        source=AuditEvent.Source.SCREEN,
        before={"state": Invoice.State.POSTED},
        after={
            "state": Invoice.State.POSTED,
            "credit_note": credit_note.number,
            "amount": str(
                quantize_money(amount, minor_units=invoice.currency.minor_units)
            ),
            **after,
        },
        reason=note,
    )
    return DuplicateDecision(
        invoice=invoice, outcome="credited", credit_note=credit_note
    )


def _post_credit_note(invoice: Invoice, amount: Decimal) -> Invoice:
    credit_note = create_credit_note(invoice, amount, state=Invoice.State.POSTED)
    create_credit_lines(credit_note, money_lines(invoice, amount))
    return credit_note


def undo_decision(
    case: Discrepancy, *, actor: User, reason: str
) -> DuplicateDecision | None:
    """Put the hold back when a decided duplicate-invoice case is reopened.

    A kept invoice loses its reason and is held again. An invoice the case
    cancelled is posted again, and held. A credit note the case posted
    stays: it is a posted document, and the reopened case shows it.
    """
    invoice = (
        Invoice.objects.select_for_update(of=("self",))
        .filter(pk=case.invoice_id or 0, kind=Invoice.Kind.INVOICE)
        .first()
    )
    if invoice is None:
        return None
    if invoice.duplicate_kept_reason:
        before = {"duplicate_kept_reason": invoice.duplicate_kept_reason}
        invoice.duplicate_kept_reason = ""
        invoice.save(update_fields=["duplicate_kept_reason", "updated_at"])
        action = "invoice.duplicate_hold_restored"
        after: dict[str, object] = {"duplicate_kept_reason": "", "case": case.pk}
    elif invoice.state == Invoice.State.CANCELLED and cancelled_by(case, invoice):
        before = {"state": Invoice.State.CANCELLED}
        invoice.state = Invoice.State.POSTED
        invoice.save(update_fields=["state", "updated_at"])
        action = "invoice.duplicate_cancel_reversed"
        after = {"state": Invoice.State.POSTED, "case": case.pk}
    else:
        return None
    record_event(
        actor=actor,
        action=action,
        target=invoice,
        source=AuditEvent.Source.SCREEN,
        before=before,
        after=after,
        reason=reason,
    )
    return DuplicateDecision(invoice=invoice, outcome="restored")


def cancelled_by(case: Discrepancy, invoice: Invoice) -> bool:
    """Return whether ``case`` is what last cancelled ``invoice``."""
    last = (
        AuditEvent.objects.filter(
            object_type=invoice._meta.label_lower,
            object_id=str(invoice.pk),
            action__in=(
                "invoice.cancelled_as_duplicate",
                "invoice.duplicate_cancel_reversed",
            ),
        )
        .order_by("-pk")
        .first()
    )
    return (
        last is not None
        and last.action == "invoice.cancelled_as_duplicate"
        and last.after.get("case") == case.pk
    )


def duplicate_outcome(case: Discrepancy) -> str:
    """Describe what deciding a duplicate-invoice case did, or "" for other cases.

    The case page, the sales screen and the customer's case page show it
    beside the invoice's figures.
    """
    if not decides_invoice(case) or case.invoice is None:
        return ""
    invoice = case.invoice
    if invoice.kind != Invoice.Kind.INVOICE:
        return ""
    original = original_of(invoice)
    repeats = f" of invoice {original.number}" if original else ""
    if invoice.state == Invoice.State.CANCELLED:
        return (
            f"Invoice {invoice.number} was cancelled as a duplicate{repeats}: "
            "nothing is owed on it and it takes no payment."
        )
    if invoice.duplicate_kept_reason:
        return (
            f"Invoice {invoice.number} is not a duplicate{repeats} "
            f"({invoice.duplicate_kept_reason}), so it is owed and takes "
            "payments like any invoice."
        )
    credited = (
        Invoice.objects.filter(
            kind=Invoice.Kind.CREDIT_NOTE,
            origin_invoice=invoice,
            state=Invoice.State.POSTED,
        )
        .order_by("pk")
        .values_list("number", flat=True)
    )
    if case.resolution_code == "duplicate_cancelled" and credited:
        notes = ", ".join(credited)
        total = format_money(
            invoice.amount_total, minor_units=invoice.currency.minor_units
        )
        return (
            f"Invoice {invoice.number} ({total} {invoice.currency_id}) is a "
            f"duplicate{repeats}, credited by credit note {notes}: it takes no "
            "more payment, and what was paid on it stays on the credit note as "
            "credit."
        )
    return ""
