"""Duplicate invoices: the same reference from the same commercial partner.

References are compared after Unicode NFKC folding, trimming and case-folding,
so ``INV-2024-001`` and `` inv-2024-001 `` are one reference.
"""

import unicodedata

from reconciliation.checks import DuplicateOf
from reconciliation.models import Company, Invoice


def normalize_reference(reference: str) -> str:
    """Fold a reference for comparison: Unicode NFKC, trimmed, case-folded."""
    return unicodedata.normalize("NFKC", reference).strip().casefold()


def find_duplicate_invoices(*, company: Company) -> dict[int, DuplicateOf]:
    """Map each duplicate posted invoice to the original it repeats.

    Two invoices are the same when they have one commercial partner (the
    parent party of a child contact) and one reference after normalizing. The
    original is the earliest by invoice date, then by entry order. A reference
    reused a year later is flagged as well: only a person can tell a reused
    number from a copy.
    """
    rows = (
        Invoice.objects.filter(
            company=company, kind=Invoice.Kind.INVOICE, state=Invoice.State.POSTED
        )
        .exclude(reference="")
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
