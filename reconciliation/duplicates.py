"""Duplicate invoices: the same reference from the same commercial partner.

References are compared after ``normalize_reference``. So ``INV-2024-001``,
`` inv-2024-001 ``, the same text with non-breaking hyphens (U+2011) or an en
dash in place of ``-``, and the same text with a zero-width space or a byte
order mark pasted in are one reference.
"""

import unicodedata
from collections.abc import Collection

from django.db.models import Q

from core.text import clean_line
from reconciliation.checks import DuplicateOf
from reconciliation.models import Company, Invoice

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
    number from a copy.

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
        )
    )
    originals: dict[tuple[int, str], DuplicateOf] = {}
    duplicates: dict[int, DuplicateOf] = {}
    for pk, number, reference, invoice_date, name, parent_id, parent_name, own in rows:
        key = (parent_id or own, normalize_reference(reference))
        original = originals.get(key)
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
