"""The help contexts that CRM screens declare, and their sync into the database.

A screen names its context key in its view; a record state refines it (an
order whose customer paid short uses ``reconciliation.order.short_payment``).
Every key used by a screen must be declared here: ``sync_contexts`` writes them
to ``HelpContext`` after each migrate, so content can be tagged with them.
"""

from dataclasses import dataclass
from typing import Any

from django.db import transaction


@dataclass(frozen=True)
class DeclaredContext:
    key: str
    title: str
    crm_function: str | None = None

    @property
    def parent_key(self) -> str | None:
        head, dot, _ = self.key.rpartition(".")
        return head if dot else None


DECLARED_CONTEXTS: tuple[DeclaredContext, ...] = (
    DeclaredContext("reconciliation", "Order reconciliation"),
    DeclaredContext("reconciliation.orders", "Order list", "order_entry"),
    DeclaredContext("reconciliation.order", "Order", "order_entry"),
    DeclaredContext(
        "reconciliation.order.not_shipped", "Unshipped order", "fulfilment"
    ),
    DeclaredContext("reconciliation.order.short_ship", "Short shipment", "fulfilment"),
    DeclaredContext("reconciliation.order.over_ship", "Over shipment", "fulfilment"),
    DeclaredContext("reconciliation.order.late_ship", "Late shipment", "fulfilment"),
    DeclaredContext(
        "reconciliation.order.invoice_qty_mismatch",
        "Invoiced quantity mismatch",
        "invoicing",
    ),
    DeclaredContext(
        "reconciliation.order.price_mismatch", "Price mismatch", "invoicing"
    ),
    DeclaredContext(
        "reconciliation.order.duplicate_invoice", "Duplicate invoice", "invoicing"
    ),
    DeclaredContext(
        "reconciliation.order.uninvoiced_delivery", "Shipped, not invoiced", "invoicing"
    ),
    DeclaredContext(
        "reconciliation.order.missing_payment", "Missing payment", "payments"
    ),
    DeclaredContext("reconciliation.order.short_payment", "Short payment", "payments"),
    DeclaredContext("reconciliation.order.over_payment", "Overpayment", "payments"),
)

DECLARED_KEYS = frozenset(context.key for context in DECLARED_CONTEXTS)


def order_context_key(discrepancy_code: str | None) -> str:
    """Return the context key of an order screen showing ``discrepancy_code``."""
    if discrepancy_code is None:
        return "reconciliation.order"
    key = f"reconciliation.order.{discrepancy_code.lower()}"
    if key not in DECLARED_KEYS:
        raise LookupError(f"Discrepancy code {discrepancy_code!r} declares no context.")
    return key


@transaction.atomic
def sync_contexts() -> None:
    """Create or update a ``HelpContext`` row for every declared context."""
    from accounts.models import CrmFunction
    from assist.models import HelpContext

    functions = {function.slug: function for function in CrmFunction.objects.all()}
    rows: dict[str, HelpContext] = {}
    # Parents come before children because keys sort by their prefix.
    for declared in sorted(DECLARED_CONTEXTS, key=lambda context: context.key):
        parent = rows.get(declared.parent_key) if declared.parent_key else None
        function = (
            functions.get(declared.crm_function) if declared.crm_function else None
        )
        row, _ = HelpContext.objects.update_or_create(
            key=declared.key,
            defaults={
                "title": declared.title,
                "parent": parent,
                "crm_function": function,
                "depth": declared.key.count("."),
            },
        )
        rows[declared.key] = row


def sync_contexts_after_migrate(**kwargs: Any) -> None:
    sync_contexts()
