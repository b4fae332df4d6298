"""Cash application: find the invoices an unallocated payment pays.

Rules run in this order, and the first that finds a single match wins:

1. ``cash.reference@1``: the payment's reference names one open invoice
   (``invoices_named``), of the payment's commercial partner when it is
   known. The rule allocates up to the invoice's residual and confirms.
   When the reference could name several invoices, the payment stays
   unplaced and no other rule runs on it.
2. ``cash.exact_amount@1``: one open invoice of the partner has exactly the
   payment's amount as residual. Allocated and confirmed.
3. ``cash.combination@1``: two to five of the partner's oldest 50 open
   invoices add up exactly to the payment. Proposed, not allocated.
4. ``cash.tolerance@1``: one open invoice of the partner is within the
   payment tolerance of the amount. Proposed with the difference as write-off.

A rule never allocates more than the payment has left or the invoice still
owes. The rules run again on what a confirmed allocation leaves, so one pass
does all it can and a second pass finds nothing new. Money that no rule
places is ``UNAPPLIED_PAYMENT``, or ``OVER_PAYMENT`` when the payment already
paid an invoice and this is what it paid too much. Scores follow
the brief's ranking: +3 reference, +2 exact amount, +1 partner, -1 per extra
invoice in a combination. A pair of payment and invoice that a person
unreconciled is never matched again by a rule.
"""

import logging
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import router, transaction
from django.db.models import Q, QuerySet

from core.models import AuditEvent
from core.queries import KeptQuery, fetch_kept
from reconciliation.checks import (
    CheckContext,
    DuplicateOf,
    Finding,
    MatchRecord,
    Results,
)
from reconciliation.duplicates import find_duplicate_invoices, normalize_reference
from reconciliation.matches import reversed_pairs
from reconciliation.models import (
    Allocation,
    Company,
    Currency,
    Invoice,
    MatchGroup,
    Party,
    Payment,
    SalesOrder,
)
from reconciliation.money import format_money, quantize_money
from reconciliation.services import (
    RECEIVABLE_KINDS,
    allocate_locked,
    lock_and_read,
    payment_available,
)
from reconciliation.taxonomy import RULES
from reconciliation.tolerances import ToleranceBook

logger = logging.getLogger(__name__)

ZERO = Decimal(0)
MAX_COMBINATION_ITEMS = 5
MAX_COMBINATION_CANDIDATES = 50
# NOTE: the combination search stops after this many partial sums, so a
# partner with many equal small invoices gets no proposal instead of a slow pass.
MAX_COMBINATION_STEPS = 20_000


@dataclass(frozen=True)
class Candidate:
    rule: str
    score: int
    items: tuple[tuple[Invoice, Decimal, Decimal], ...]  # invoice, amount, write-off
    auto_confirm: bool


@dataclass
class OpenItems:
    """Open receivable invoices of a company, by commercial partner and by key.

    ``by_reference`` also contains the posted invoices that a payment's key
    names but that take no cash: those paid in full and those held as
    possible duplicates (``held``, each with the original it may repeat).
    The reference rule needs them to tell which invoice a reference names.
    """

    by_partner: dict[int, list[Invoice]] = field(default_factory=dict)
    by_reference: dict[str, list[Invoice]] = field(default_factory=dict)
    held: dict[int, DuplicateOf] = field(default_factory=dict)


def load_open_items(
    company: Company,
    duplicates: Mapping[int, DuplicateOf],
    *,
    named: Q,
    scope: Q | None = None,
) -> OpenItems:
    """Load the open invoices and the posted invoices that ``named`` selects.

    ``scope`` limits the open invoices, which are all of the company's
    without it. ``named`` selects invoices of any residual by their keys.
    """
    rows = Invoice.objects.filter(state=Invoice.State.POSTED, kind__in=RECEIVABLE_KINDS)
    open_invoices = Q(amount_residual__gt=0)
    # With a scope the company is checked below, not in SQL. SQLite has no
    # statistics here, and with the company in SQL it reads every invoice of
    # the company through that index instead of the few rows the indexed
    # ``scope`` and ``named`` conditions select (22 ms against 2 ms at
    # 100,000 invoices).
    if scope is None:
        rows = rows.filter(open_invoices | named, company=company)
    else:
        rows = rows.filter((open_invoices & scope) | named)
    rows = rows.select_related("customer", "currency").order_by("due_date", "pk")
    return _open_items(rows, company, duplicates)


def _open_items(
    invoices: Iterable[Invoice], company: Company, duplicates: Mapping[int, DuplicateOf]
) -> OpenItems:
    """Sort ``invoices`` of ``company`` by key and by partner; leave others out."""
    items = OpenItems()
    for invoice in invoices:
        if invoice.company_id != company.pk:
            continue
        for key in {invoice.number_key, invoice.reference_key}:
            if key:
                items.by_reference.setdefault(key, []).append(invoice)
        if invoice.pk in duplicates:
            items.held[invoice.pk] = duplicates[invoice.pk]
        elif invoice.amount_residual > 0:
            partner = invoice.customer.commercial_partner_id
            items.by_partner.setdefault(partner, []).append(invoice)
    return items


def _named_by_payments(company: Company) -> Q:
    """Select the invoices whose keys are the key of a payment with money left."""
    keys = (
        Payment.objects.filter(company=company, amount_unallocated__gt=0)
        .exclude(reference_key="")
        .values("reference_key")
    )
    return Q(number_key__in=keys) | Q(reference_key__in=keys)


def _named_by_key(key: str) -> Q:
    """Select the invoices whose number or reference has the key ``key``."""
    if not key:
        return Q(pk__in=[])
    return Q(number_key=key) | Q(reference_key=key)


def _eligible_for(
    payment: Payment, blocked: set[tuple[int, int]]
) -> Callable[[Invoice], bool]:
    """Return a test of whether the rules may place ``payment`` on an invoice.

    The invoice must be in the payment's currency and of its commercial
    partner when the payer is known, and not one that a person took this
    payment off.
    """
    partner = payment.party.commercial_partner_id if payment.party else None

    def eligible(invoice: Invoice) -> bool:
        if (payment.pk, invoice.pk) in blocked:
            return False
        if invoice.currency_id != payment.currency_id:
            return False
        return partner is None or invoice.customer.commercial_partner_id == partner

    return eligible


def invoices_named(
    payment: Payment, items: OpenItems, eligible: Callable[[Invoice], bool]
) -> list[Invoice]:
    """Return the invoices that the payment's reference names.

    An ``eligible`` invoice whose number or reference has the payment's key
    is named, paid or not. A held duplicate is left out when the original it
    repeats is named too, because the key then names it through the
    reference the two share. When several invoices are named, those whose
    number or reference is the payment's reference as text decide. The
    texts are compared by ``normalize_reference``, which ignores letter
    case, surrounding and repeated whitespace, the dash used and the width
    of characters, none of which distinguishes two invoice numbers. When no
    invoice has that text, every invoice of the key is returned. More than
    one invoice returned means that the reference names none of them for
    sure.
    """
    if not payment.reference_key:
        return []
    by_key: dict[int, Invoice] = {}
    for invoice in items.by_reference.get(payment.reference_key, []):
        if eligible(invoice):
            by_key[invoice.pk] = invoice
    numbers = {invoice.number for invoice in by_key.values()}
    named = [
        invoice
        for invoice in by_key.values()
        if invoice.pk not in items.held or items.held[invoice.pk].number not in numbers
    ]
    if len(named) <= 1:
        return named
    text = normalize_reference(payment.reference)
    exact = [
        invoice
        for invoice in named
        if text
        in (normalize_reference(invoice.number), normalize_reference(invoice.reference))
    ]
    return exact or named


def find_candidate(
    payment: Payment,
    available: Decimal,
    items: OpenItems,
    blocked: set[tuple[int, int]],
    book: ToleranceBook,
) -> Candidate | None:
    """Return the first rule's single match for ``payment``, or None.

    None also when the payment's reference could name several invoices, or
    names one held as a possible duplicate: the amount rules would then
    place the money on an invoice the payer did not name.
    """
    partner = payment.party.commercial_partner_id if payment.party else None
    eligible = _eligible_for(payment, blocked)

    def usable(invoice: Invoice) -> bool:
        return invoice.amount_residual > 0 and eligible(invoice)

    named = invoices_named(payment, items, eligible)
    if len(named) > 1 or (named and named[0].pk in items.held):
        return None
    if named and usable(named[0]):
        invoice = named[0]
        same_amount = invoice.amount_residual == available
        score = 3 + (2 if same_amount else 0) + (1 if partner else 0)
        amount = min(available, invoice.amount_residual)
        return Candidate("cash.reference@1", score, ((invoice, amount, ZERO),), True)
    if partner is None:
        return None

    open_items = [i for i in items.by_partner.get(partner, []) if usable(i)]
    exact = [i for i in open_items if i.amount_residual == available]
    if len(exact) == 1:
        return Candidate("cash.exact_amount@1", 3, ((exact[0], available, ZERO),), True)

    combination = _combination(open_items[:MAX_COMBINATION_CANDIDATES], available)
    if combination:
        items_ = tuple((i, i.amount_residual, ZERO) for i in combination)
        score = 3 - (len(combination) - 1)
        return Candidate("cash.combination@1", score, items_, False)

    tolerance = book.for_scope(customer_id=partner)
    close = [
        i
        for i in open_items
        if abs(i.amount_residual - available)
        <= tolerance.payment_allowance(i.amount_total)
    ]
    if len(close) == 1:
        invoice = close[0]
        writeoff = invoice.amount_residual - available
        return Candidate(
            "cash.tolerance@1", 2, ((invoice, available, writeoff),), False
        )
    return None


def _combination(
    invoices: list[Invoice], target: Decimal, *, slack: Decimal = ZERO
) -> list[Invoice] | None:
    """Find 2 to 5 invoices whose residuals add up exactly to ``target``.

    With ``slack`` the residuals may add up to at most that much more, for
    the cash screen's bank-charge suggestion. Smaller combinations win;
    among equal sizes, the oldest invoices first.
    """
    steps = 0
    for size in range(2, MAX_COMBINATION_ITEMS + 1):
        stack: list[tuple[int, Decimal, list[Invoice]]] = [(0, ZERO, [])]
        while stack:
            start, total, chosen = stack.pop()
            steps += 1
            if steps > MAX_COMBINATION_STEPS:
                return None
            if len(chosen) == size:
                if target <= total <= target + slack:
                    return chosen
                continue
            for index in range(len(invoices) - 1, start - 1, -1):
                amount = total + invoices[index].amount_residual
                if amount <= target + slack:
                    stack.append((index + 1, amount, [*chosen, invoices[index]]))
    return None


def apply_cash(company: Company, context: CheckContext) -> Results:
    """Run the rules on every payment with money left to allocate.

    Each confirmed allocation is its own transaction, with the order, invoice
    and payment rows locked in the fixed lock order. Return the proposals and
    the unapplied payments as results for ``matching`` to store.
    """
    results = Results()
    payments = list(
        Payment.objects.filter(company=company, amount_unallocated__gt=0)
        .select_related("party", "currency")
        .order_by("pk")
    )
    if not payments:
        return results
    items = load_open_items(
        company, context.duplicates, named=_named_by_payments(company)
    )
    blocked = reversed_pairs(company)
    for payment in payments:
        _apply_one(payment, items, blocked, context, results)
    return results


# Most invoices one payment is applied to in one pass.
MAX_ALLOCATIONS_PER_PASS = 50


def _apply_one(
    payment: Payment,
    items: OpenItems,
    blocked: set[tuple[int, int]],
    context: CheckContext,
    results: Results,
    *,
    available: Decimal | None = None,
) -> None:
    """Apply one payment; ``available`` is what it has left, if already read."""
    if available is None:
        available = payment_available(payment)
    for _ in range(MAX_ALLOCATIONS_PER_PASS):
        if available <= 0:
            return
        candidate = find_candidate(payment, available, items, blocked, context.book)
        if candidate is None:
            note = _reference_note(payment, available, items, blocked)
            results.findings.append(_unapplied(payment, available, note=note))
            return
        if not candidate.auto_confirm:
            results.matches.append(_proposal(payment, available, candidate))
            return
        left = _allocate(payment, candidate)
        if left is None:
            return
        available = left


def _allocate(payment: Payment, candidate: Candidate) -> Decimal | None:
    """Allocate the candidate's amount and return what the payment has left.

    Return None, and allocate nothing, if another writer was first.

    The amounts are read again after the rows are locked, because a person or
    another pass may have allocated the payment or paid the invoice since the
    rule looked at them.
    """
    invoice, amount, _ = candidate.items[0]
    with transaction.atomic():
        read = lock_and_read(payment=payment, invoice=invoice)
        residual = read.invoice.amount_residual
        available = read.available
        amount = min(amount, available, residual)
        if amount <= 0:
            logger.info(
                "Payment %s or invoice %s was settled meanwhile; rule %s skipped",
                payment.pk,
                invoice.pk,
                candidate.rule,
            )
            invoice.amount_residual = residual
            return None
        allocate_locked(
            payment=payment,
            invoice=invoice,
            amount=amount,
            source=AuditEvent.Source.RULE,
            read=read,
        )
    invoice.amount_residual = residual - amount
    logger.info(
        "Payment %s allocated to invoice %s by rule %s",
        payment.pk,
        invoice.pk,
        candidate.rule,
    )
    return available - amount


def _proposal(
    payment: Payment, available: Decimal, candidate: Candidate
) -> MatchRecord:
    minor_units = payment.currency.minor_units
    numbers = ", ".join(invoice.number for invoice, _, _ in candidate.items)
    total = format_money(available, minor_units=minor_units)
    text = (
        f"Payment {payment.number} of {total} {payment.currency_id} may pay {numbers}."
    )
    writeoff = sum((w for _, _, w in candidate.items), ZERO)
    if writeoff:
        text += (
            f" {format_money(abs(writeoff), minor_units=minor_units)} "
            f"{payment.currency_id} would be written off within the payment "
            "tolerance."
        )
    return MatchRecord(
        kind=MatchGroup.Kind.CASH,
        key=f"D:payment:{payment.pk}",
        rule=candidate.rule,
        rule_version="1",
        outcome=MatchGroup.Outcome.IN_TOLERANCE
        if writeoff
        else MatchGroup.Outcome.CLEAN,
        compared={
            "payment": payment.number,
            "available": str(available),
            "invoices": [
                {
                    "id": invoice.pk,
                    "number": invoice.number,
                    "residual": str(invoice.amount_residual),
                    "amount": str(amount),
                    "writeoff": str(w),
                }
                for invoice, amount, w in candidate.items
            ],
        },
        residual=-writeoff,
        unit=payment.currency_id,
        explanation=text,
        proposed=True,
        score=candidate.score,
        payment_id=payment.pk,
    )


def _reference_note(
    payment: Payment,
    available: Decimal,
    items: OpenItems,
    blocked: set[tuple[int, int]],
) -> str | None:
    """Return why the reference rule placed nothing, or None when it had no reason.

    The reference may fit several invoices alike, or name an invoice held
    as a possible duplicate until a person decides its case. Either way the
    clerk needs to know which invoices are meant.
    """
    named = invoices_named(payment, items, _eligible_for(payment, blocked))
    if len(named) > 1:
        numbers = sorted(invoice.number for invoice in named)
        listed = ", ".join(numbers[:-1]) + f" and {numbers[-1]}"
        return (
            f"Its reference fits invoices {listed} alike, so no rule chose "
            "one: allocate it by hand to the invoice the payer meant."
        )
    # Only a payment with nothing allocated can be waiting for one invoice.
    if len(named) == 1 and named[0].pk in items.held and available == payment.amount:
        original = items.held[named[0].pk].number
        return (
            f"Its reference names invoice {named[0].number}, which is held as a "
            f"possible duplicate of {original}: decide the duplicate-invoice "
            "case first, and the next check applies the payment."
        )
    return None


def _unapplied(
    payment: Payment, available: Decimal, *, note: str | None = None
) -> Finding:
    minor_units = payment.currency.minor_units
    who = payment.party.name if payment.party else "an unknown payer"
    total = format_money(payment.amount, minor_units=minor_units)
    left = f"{format_money(available, minor_units=minor_units)} {payment.currency_id}"
    if available < payment.amount:
        rule = RULES["OVER_PAYMENT"]
        text = (
            f"Payment {payment.number} of {total} {payment.currency_id} from {who} "
            f"paid its invoices and {left} more, which no open invoice takes: "
            "refund it or keep it as credit on the account."
        )
    else:
        rule = RULES["UNAPPLIED_PAYMENT"]
        text = (
            f"Payment {payment.number} of {total} {payment.currency_id} from "
            f"{who} (reference {payment.reference!r}) has {left} that no rule "
            "could match to an open invoice."
        )
    if note is not None:
        text += f" {note}"
    return Finding(
        rule=rule,
        order_id=None,
        fingerprint=f"{rule.code}:payment:{payment.pk}",
        explanation=text,
        expected=ZERO,
        actual=available,
        difference=available,
        unit=payment.currency_id,
        payment_id=payment.pk,
    )


def match_payment(*, payment: Payment, context: CheckContext) -> Results:
    """Run the cash rules on one new payment, for on-demand matching."""
    results = Results()
    # Each condition matches an index: the number's key, the reference's key,
    # and the customer, so PostgreSQL combines three index scans instead of
    # scanning every invoice. The partner's contacts are read first because
    # a join in one arm of the OR defeats that plan. A payment with no key
    # and no payer selects no invoice (``pk__in=[]``), as no rule could
    # place it. The key selects paid invoices too, as in the whole-company
    # pass, so that a reference that names a paid invoice is not placed on
    # an open one of the same key.
    alias = router.db_for_read(Allocation)
    queries = [(KeptQuery.of(_allocation_rows, alias), [payment.pk])]
    if payment.party is not None:
        partner = payment.party.commercial_partner_id
        queries.append((KeptQuery.of(_contacts, alias), [partner]))
    # One round trip on PostgreSQL reads both.
    rows = fetch_kept(queries, using=alias)
    key = payment.reference_key
    if payment.party is not None:
        items = _payment_items(payment.company, context.duplicates, key, rows[1])
    else:
        items = load_open_items(
            payment.company,
            context.duplicates,
            named=_named_by_key(key),
            scope=Q(pk__in=[]),
        )
    # One read of the payment's allocations gives both what is left and the
    # pairs a person unreconciled.
    allocated = ZERO
    blocked: set[tuple[int, int]] = set()
    for invoice_id, amount, reverses_id in rows[0]:
        allocated += amount
        if reverses_id is not None:
            blocked.add((payment.pk, invoice_id))
    currency = context.currencies.get(payment.currency_id) or payment.currency
    minor_units = currency.minor_units
    available = quantize_money(payment.amount - allocated, minor_units=minor_units)
    _apply_one(payment, items, blocked, context, results, available=available)
    return results


# Most contacts of one partner for which ``_payment_items`` keeps a statement.
KEPT_CONTACTS = 8


def _payment_items(
    company: Company,
    duplicates: Mapping[int, DuplicateOf],
    key: str,
    contacts: Sequence[tuple[int]],
) -> OpenItems:
    """Load the open invoices of a payer's ``contacts`` and those ``key`` names.

    It reads what ``load_open_items`` reads for that scope, with a statement
    compiled once per number of contacts (``KeptQuery``).
    """
    contact_ids = [pk for (pk,) in contacts]
    if not contact_ids or len(contact_ids) > KEPT_CONTACTS:
        scope = Q(customer_id__in=contact_ids)
        return load_open_items(
            company, duplicates, named=_named_by_key(key), scope=scope
        )
    alias = router.db_for_read(Invoice)
    if key:
        query = KeptQuery.of(
            _items_of_contacts_or_key, alias, arity=1 + len(contact_ids)
        )
        values: list[object] = [key, *contact_ids]
    else:
        query = KeptQuery.of(_items_of_contacts, alias, arity=len(contact_ids))
        values = [*contact_ids]
    (rows,) = fetch_kept([(query, values)], using=alias)
    return _open_items(
        (_invoice_with_parts(row, alias) for row in rows), company, duplicates
    )


_ITEM_NAMES = [field.attname for field in Invoice._meta.concrete_fields]
_CUSTOMER_NAMES = [field.attname for field in Party._meta.concrete_fields]
_CURRENCY_NAMES = [field.attname for field in Currency._meta.concrete_fields]


def _items_of_contacts_or_key(key: object, *contact_ids: int) -> QuerySet[Any]:
    return _item_rows(Q(customer_id__in=contact_ids), _named_by_key(str(key)))


def _items_of_contacts(*contact_ids: int) -> QuerySet[Any]:
    return _item_rows(Q(customer_id__in=contact_ids), Q(pk__in=[]))


def _item_rows(scope: Q, named: Q) -> QuerySet[Any]:
    """Select ``load_open_items``' rows, the customer and currency beside each."""
    rows = Invoice.objects.filter(state=Invoice.State.POSTED, kind__in=RECEIVABLE_KINDS)
    return (
        rows.filter((Q(amount_residual__gt=0) & scope) | named)
        .order_by("due_date", "pk")
        .values_list(
            *_ITEM_NAMES,
            *(f"customer__{name}" for name in _CUSTOMER_NAMES),
            *(f"currency__{name}" for name in _CURRENCY_NAMES),
        )
    )


def _invoice_with_parts(row: Sequence[Any], alias: str) -> Invoice:
    """Build an invoice, its customer and its currency from an ``_item_rows`` row."""
    first = len(_ITEM_NAMES)
    second = first + len(_CUSTOMER_NAMES)
    invoice = Invoice.from_db(alias, _ITEM_NAMES, row[:first])
    invoice.customer = Party.from_db(alias, _CUSTOMER_NAMES, row[first:second])
    invoice.currency = Currency.from_db(alias, _CURRENCY_NAMES, row[second:])
    return invoice


def _allocation_rows(payment_id: int) -> QuerySet[Any]:
    return (
        Allocation.objects.filter(payment_id=payment_id)
        .order_by()
        .values_list("invoice_id", "amount", "reverses_id")
    )


def _contacts(partner_id: int) -> QuerySet[Any]:
    """Select a commercial partner and its contacts, whose invoices it pays."""
    return (
        Party.objects.filter(Q(pk=partner_id) | Q(parent_id=partner_id))
        .order_by()
        .values_list("pk")
    )


CASH_PROPOSAL_SCOPE = Q(key__startswith="D:payment:")


# The cash screen's suggestions. The screen ranks the open invoices of the
# payment's customer by the rules above, and shows each with its score and a
# plain reason. It places nothing: the clerk confirms what to allocate.

# Points per rule, as the matching pass scores its proposals: the reference
# names the invoice, the open amount is what is left, the invoice is the
# payer's. An amount within the payment tolerance earns half of an exact one.
REFERENCE_POINTS = 3
EXACT_POINTS = 2
TOLERANCE_POINTS = 1
PARTNER_POINTS = 1
# Two hints that only the screen uses, below the rules above: the remittance
# names the invoice's order, or the invoice is the customer's only open one
# and the payment pays part of it. Neither places money in the matching
# pass, so an invoice with only these scores less than an exact amount.
ORDER_POINTS = 1
ONLY_OPEN_POINTS = 0
# Maximum number of suggestions shown. The open invoices table lists them all.
MAX_SUGGESTIONS = 6


@dataclass(frozen=True)
class Suggestion:
    """Invoices that a rule suggests for what is left on a payment.

    ``lines`` are the invoice and the amount to allocate to it, the smaller of
    its open amount and what the payment has left after the lines before.
    ``open_after`` is what the last invoice keeps open, such as a bank charge.
    """

    rules: tuple[str, ...]
    score: int
    lines: tuple[tuple[Invoice, Decimal], ...]
    why: str
    open_after: Decimal


def suggest(
    payment: Payment, left: Decimal, *, taken: Collection[int] = ()
) -> list[Suggestion]:
    """Rank the open invoices that ``left`` of ``payment`` could pay, best first.

    ``taken`` are the invoices already in the clerk's tray, which are left
    out, as the matching pass leaves out an invoice that an allocation paid.
    Invoices held as possible duplicates are left out as the pass leaves
    them out.
    The rules are those of ``find_candidate``: the reference, an exact
    amount, a combination of two to five invoices adding up to ``left``, and
    an amount within the payment tolerance. Where ``find_candidate`` stops
    at the first single match, this lists every match with its score, so the
    clerk sees why one invoice ranks above another.
    """
    if payment.party is None or left <= 0:
        return []
    partner = payment.party.commercial_partner_id
    # Held duplicates go to ``items.held``, not among the partner's open
    # invoices, so no suggestion offers one, as no rule of the pass places one.
    items = load_open_items(
        payment.company,
        find_duplicate_invoices(company=payment.company, partners=[partner]),
        named=_named_by_key(payment.reference_key),
        scope=Q(customer__in=Party.objects.filter(Q(pk=partner) | Q(parent=partner))),
    )
    blocked = reversed_pairs(payment.company, payment)
    eligible = _eligible_for(payment, blocked)
    open_items = [
        invoice
        for invoice in items.by_partner.get(partner, [])
        if invoice.pk not in taken and invoice.amount_residual > 0 and eligible(invoice)
    ]
    named = {invoice.pk for invoice in invoices_named(payment, items, eligible)}
    named |= _numbers_in_remittance(payment, open_items)
    orders_named = _orders_in_remittance(payment, open_items)
    # The only open invoice counts the tray's invoices too: with another in
    # the tray, this one is not the customer's only open invoice.
    only_open = (
        len(
            [
                invoice
                for invoice in items.by_partner.get(partner, [])
                if invoice.amount_residual > 0 and eligible(invoice)
            ]
        )
        == 1
        and len(open_items) == 1
    )
    tolerance = ToleranceBook.for_company(payment.company).for_scope(
        customer_id=partner
    )
    charge = bank_charge_allowance(payment)
    minor_units = payment.currency.minor_units

    def money(amount: Decimal) -> str:
        return f"{format_money(amount, minor_units=minor_units)} {payment.currency_id}"

    suggestions: list[Suggestion] = []
    for invoice in open_items:
        residual = invoice.amount_residual
        rules: list[str] = []
        reasons: list[str] = []
        score = PARTNER_POINTS
        if invoice.pk in named:
            rules.append("cash.reference@1")
            score += REFERENCE_POINTS
            reasons.append(
                f"the payment's reference {payment.reference!r} names {invoice.number}"
            )
        if residual == left:
            rules.append("cash.exact_amount@1")
            score += EXACT_POINTS
            reasons.append(f"its open {money(residual)} is exactly what is left")
        elif abs(residual - left) <= tolerance.payment_allowance(invoice.amount_total):
            rules.append("cash.tolerance@1")
            score += TOLERANCE_POINTS
            reasons.append(
                f"its open {money(residual)} is within the payment tolerance of "
                f"the {money(left)} left"
            )
        elif ZERO < residual - left <= charge:
            rules.append("cash.bank_charge@1")
            score += TOLERANCE_POINTS
            reasons.append(
                f"its open {money(residual)} is {money(residual - left)} more than "
                f"the {money(left)} left, a difference small enough to write off"
            )
        elif only_open and left < residual:
            rules.append("cash.only_open@1")
            score += ONLY_OPEN_POINTS
            reasons.append(
                f"it is the customer's only open invoice, with {money(residual)} "
                f"open, more than the {money(left)} left"
            )
        order = orders_named.get(invoice.pk)
        if order and invoice.pk not in named:
            rules.insert(0, "cash.order_reference@1")
            score += ORDER_POINTS
            reasons.insert(
                0,
                f"the payment's reference {payment.reference!r} names its order "
                f"{order}",
            )
        if not rules:
            continue
        amount = min(residual, left)
        # What a hint leaves open is the part the customer still owes. What
        # the other rules leave open may be a bank charge to write off.
        part = not {"cash.bank_charge@1", "cash.tolerance@1"} & set(rules) and bool(
            {"cash.only_open@1", "cash.order_reference@1"} & set(rules)
        )
        suggestions.append(
            Suggestion(
                rules=tuple(rules),
                score=score,
                lines=((invoice, amount),),
                why=_why(
                    reasons,
                    payment,
                    residual - amount,
                    money,
                    later=invoice.number if part else "",
                ),
                open_after=residual - amount,
            )
        )
    candidates = open_items[:MAX_COMBINATION_CANDIDATES]
    combination = _combination(candidates, left)
    points = EXACT_POINTS
    rule = "cash.combination@1"
    if not combination and charge > 0:
        combination = _combination(candidates, left, slack=charge)
        points = TOLERANCE_POINTS
        rule = "cash.bank_charge@1"
    if combination:
        suggestions.append(
            _combination_suggestion(
                payment, combination, left, rule, points, named, money
            )
        )
    suggestions.sort(key=lambda s: (-s.score, s.lines[0][0].due_date, s.lines[0][0].pk))
    return suggestions[:MAX_SUGGESTIONS]


def _why(
    reasons: list[str],
    payment: Payment,
    open_after: Decimal,
    money: Callable[[Decimal], str],
    *,
    later: str = "",
) -> str:
    """Join the rules' reasons into the plain sentence the screen shows.

    ``later`` names the invoice when what stays open is not a difference to
    write off but a part the customer still has to pay.
    """
    text = "Same customer, and " + " and ".join(reasons) + "."
    if open_after > 0 and later:
        text += (
            f" Payment {payment.number} pays all it has left, and {money(open_after)} "
            f"stays open on {later} for the customer to pay."
        )
    elif open_after > 0:
        text += (
            f" Payment {payment.number} pays all it has left, and {money(open_after)} "
            "stays open: write it off in the tray if it is a bank charge."
        )
    return text


def _numbers_in_remittance(payment: Payment, invoices: Iterable[Invoice]) -> set[int]:
    """Return the invoices whose number the payment's remittance text contains.

    A payer often lists several invoices in one reference, which no single
    key names; the texts are compared as ``normalize_reference`` folds them.
    """
    text = normalize_reference(payment.reference)
    if not text:
        return set()
    found = set()
    for invoice in invoices:
        number = normalize_reference(invoice.number)
        if number and re.search(rf"(?<![0-9a-z]){re.escape(number)}(?![0-9a-z])", text):
            found.add(invoice.pk)
    return found


# A remittance names an order by its number ("SO-11050") or by the number's
# digits after the word "order" ("order 11050", "Order no. 11050", "order
# #11050"). Digits alone are not enough: they may be an amount or a date.
_ORDER_WORD = r"(?<![0-9a-z])order\s*(?:(?:no|nr|number)\.?\s*)?(?:#\s*)?:?\s*"


def _orders_in_remittance(
    payment: Payment, invoices: Collection[Invoice]
) -> dict[int, str]:
    """Map each invoice whose order the payment's remittance names to that order.

    The texts are compared as ``normalize_reference`` folds them. An order
    number's digits count only after the word "order".
    """
    text = normalize_reference(payment.reference)
    order_ids = {invoice.order_id for invoice in invoices if invoice.order_id}
    if not text or not order_ids:
        return {}
    numbers = dict(
        SalesOrder.objects.filter(pk__in=order_ids).values_list("pk", "number")
    )
    found = {}
    for invoice in invoices:
        number = numbers.get(invoice.order_id or 0, "")
        folded = normalize_reference(number)
        if not folded:
            continue
        digits = re.search(r"[0-9]+$", folded)
        patterns = [rf"(?<![0-9a-z]){re.escape(folded)}(?![0-9a-z])"]
        if digits:
            patterns.append(rf"{_ORDER_WORD}{digits.group()}(?![0-9a-z])")
        if any(re.search(pattern, text) for pattern in patterns):
            found[invoice.pk] = number
    return found


def bank_charge_allowance(payment: Payment) -> Decimal:
    """Return the most a suggestion may leave open on an invoice for a bank charge.

    It is the write-off limit, the most a clerk may write off without a
    manager, so a suggested difference is one the clerk can settle on the
    cash screen. The limit is in the company currency, so a payment in
    another currency gets no such suggestion.
    """
    # Imported here: ``cases`` imports modules that import this one.
    from reconciliation.cases import write_off_limit

    if payment.currency_id != payment.company.base_currency_id:
        return ZERO
    return write_off_limit()


def _combination_suggestion(
    payment: Payment,
    combination: list[Invoice],
    left: Decimal,
    rule: str,
    points: int,
    named: set[int],
    money: Callable[[Decimal], str],
) -> Suggestion:
    """Describe a combination; the last invoice takes what the others leave."""
    numbers = " + ".join(
        f"{invoice.number} {money(invoice.amount_residual)}" for invoice in combination
    )
    total = sum((invoice.amount_residual for invoice in combination), ZERO)
    score = points + PARTNER_POINTS - (len(combination) - 1)
    if any(invoice.pk in named for invoice in combination):
        score += REFERENCE_POINTS
    lines: list[tuple[Invoice, Decimal]] = []
    rest = left
    for invoice in combination:
        amount = min(invoice.amount_residual, rest)
        lines.append((invoice, amount))
        rest -= amount
    if total == left:
        why = f"Same customer, and {numbers} add up to the {money(left)} left."
    else:
        why = (
            f"Same customer, and {numbers} add up to {money(total)}, "
            f"{money(total - left)} more than the {money(left)} left: likely a bank "
            f"charge, which stays open on {combination[-1].number} to write off."
        )
    return Suggestion(
        rules=(rule,),
        score=score,
        lines=tuple(lines),
        why=why,
        open_after=total - left,
    )
