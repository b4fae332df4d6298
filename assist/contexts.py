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


# The CRM function whose super-users answer for each discrepancy code, by
# where the code is found: order to shipment and receipt is fulfilment,
# billing and the purchase-side three-way match are invoicing, cash is
# payments, and returns split between invoicing (the credit) and payments
# (the refund). A test checks that every DiscrepancyCode is here.
DISCREPANCY_CONTEXTS: tuple[tuple[str, str, str], ...] = (
    ("NOT_SHIPPED", "Unshipped order", "fulfilment"),
    ("SHORT_SHIP", "Short shipment", "fulfilment"),
    ("OVER_SHIP", "Over shipment", "fulfilment"),
    ("PARTIAL_SHIP", "Partial shipment", "fulfilment"),
    ("BACKORDER_OPEN", "Backorder past its promised date", "fulfilment"),
    ("WRONG_ITEM", "Wrong item shipped", "fulfilment"),
    ("LATE_SHIP", "Late shipment", "fulfilment"),
    ("LATE_DELIVERY", "Late delivery", "fulfilment"),
    ("NOT_RECEIVED", "Not received", "fulfilment"),
    ("DAMAGED", "Damaged on delivery", "fulfilment"),
    ("INVOICE_QTY_MISMATCH", "Invoiced quantity mismatch", "invoicing"),
    ("PRICE_MISMATCH", "Price mismatch", "invoicing"),
    ("TAX_MISMATCH", "Tax mismatch", "invoicing"),
    ("FREIGHT_MISMATCH", "Freight mismatch", "invoicing"),
    ("DUPLICATE_INVOICE", "Duplicate invoice", "invoicing"),
    ("UNINVOICED_DELIVERY", "Shipped, not invoiced", "invoicing"),
    ("MISSING_PAYMENT", "Missing payment", "payments"),
    ("SHORT_PAYMENT", "Short payment", "payments"),
    ("OVER_PAYMENT", "Overpayment", "payments"),
    ("UNAPPLIED_PAYMENT", "Unapplied payment", "payments"),
    ("PAYMENT_NO_ORDER", "Payment on a cancelled order", "payments"),
    ("FX_DIFFERENCE", "Exchange difference", "payments"),
    ("ROUNDING", "Rounding difference", "payments"),
    ("RETURN_NOT_CREDITED", "Return not credited", "invoicing"),
    ("CREDIT_NOT_REFUNDED", "Credit note not refunded", "payments"),
    ("RECEIPT_SHORT", "Receipt short", "invoicing"),
    ("RECEIPT_REJECTED", "Goods rejected on receipt", "invoicing"),
    ("BILL_BEFORE_RECEIPT", "Bill before receipt", "invoicing"),
    ("BILL_QTY_OVER_RECEIVED", "Billed more than received", "invoicing"),
    ("BILL_PRICE_VARIANCE", "Bill price variance", "invoicing"),
    ("BILL_NO_PO", "Bill without purchase order", "invoicing"),
)

SCREEN_CONTEXTS: tuple[DeclaredContext, ...] = (
    DeclaredContext("reconciliation", "Order reconciliation"),
    DeclaredContext("reconciliation.orders", "Order list", "order_entry"),
    DeclaredContext("reconciliation.order", "Order", "order_entry"),
    DeclaredContext("reconciliation.cases", "Case inbox", "disputes"),
    DeclaredContext(
        "reconciliation.cases.fulfilment", "Case inbox: fulfilment", "fulfilment"
    ),
    DeclaredContext(
        "reconciliation.cases.invoicing", "Case inbox: invoicing", "invoicing"
    ),
    DeclaredContext(
        "reconciliation.cases.payments", "Case inbox: payments", "payments"
    ),
    DeclaredContext("reconciliation.work", "Work screens"),
    DeclaredContext(
        "reconciliation.work.fulfilment", "Pick and ship an order", "fulfilment"
    ),
    DeclaredContext("reconciliation.work.cash", "Cash application", "payments"),
    # Approvals are for write-offs and credit notes, money given up on a
    # customer's account, so questions there go to the payments super-users.
    DeclaredContext("reconciliation.work.approvals", "Approvals", "payments"),
    # The purchasing list and a purchase order page are where goods are
    # expected and received, so their questions go to the fulfilment
    # super-users, as on the goods receipt page. Only the vendor bill page,
    # the three-way match of a bill, routes to the invoicing super-users.
    DeclaredContext(
        "reconciliation.work.purchasing", "Purchasing and receiving", "fulfilment"
    ),
    DeclaredContext(
        "reconciliation.work.purchasing.order",
        "Purchase order and its receipts",
        "fulfilment",
    ),
    DeclaredContext(
        "reconciliation.work.purchasing.receipt", "Record a goods receipt", "fulfilment"
    ),
    DeclaredContext(
        "reconciliation.work.purchasing.bill",
        "Vendor bill three-way match",
        "invoicing",
    ),
    DeclaredContext("portal", "Customer portal"),
    DeclaredContext("portal.order", "Your order"),
    DeclaredContext("portal.statement", "Statement of account"),
    DeclaredContext("portal.problem", "Report a problem"),
    DeclaredContext("portal.case", "Your question and its resolution"),
)

DECLARED_CONTEXTS: tuple[DeclaredContext, ...] = SCREEN_CONTEXTS + tuple(
    DeclaredContext(f"reconciliation.order.{code.lower()}", title, function)
    for code, title, function in DISCREPANCY_CONTEXTS
)

DECLARED_KEYS = frozenset(context.key for context in DECLARED_CONTEXTS)

# The root of the contexts that customer accounts' screens declare. A
# customer may ask only from these, and only these are offered to a
# customer as choices: the other keys name internal screens.
CUSTOMER_CONTEXT_ROOT = "portal"


def is_customer_context(key: str) -> bool:
    """Return whether ``key`` is the portal context or one below it."""
    return key == CUSTOMER_CONTEXT_ROOT or key.startswith(f"{CUSTOMER_CONTEXT_ROOT}.")


def contexts_for(*, external: bool) -> tuple[DeclaredContext, ...]:
    """Return the declared contexts a person may see: customers get the portal's."""
    if not external:
        return DECLARED_CONTEXTS
    return tuple(c for c in DECLARED_CONTEXTS if is_customer_context(c.key))


def is_declared_for(key: str, *, external: bool) -> bool:
    """Return whether ``key`` is among ``contexts_for(external=external)``."""
    return key in DECLARED_KEYS and (not external or is_customer_context(key))


def may_ask_from(key: str, *, external: bool) -> bool:
    """Return whether a person may ask from the screen that declares ``key``."""
    return is_declared_for(key, external=external)


# The case inbox's help follows the work a role does there most.
CASE_INBOX_BY_ROLE = {
    "warehouse": "reconciliation.cases.fulfilment",
    "finance_clerk": "reconciliation.cases.payments",
}


def case_inbox_context_key(role: str) -> str:
    """Return the case inbox's help context for a person in ``role``."""
    return CASE_INBOX_BY_ROLE.get(role, "reconciliation.cases")


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
