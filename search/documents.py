"""Links to the order, invoice or shipment whose number a search names.

Orders, invoices and shipments are not in the full-text index: their pages
and lists have their own filters. A person who types a document number
into the search box still expects to land on it, so the search page looks
the number up under each document's own visibility rule and links the
order page.
"""

import re
from dataclasses import dataclass

from django.db.models import QuerySet
from django.urls import reverse

from accounts.models import User
from accounts.permissions import Viewer
from portal.selectors import customer_invoices, customer_shipments
from reconciliation.models import Invoice, SalesOrder, Shipment
from reconciliation.selectors import visible_orders

# Letters, a hyphen, then letters, digits and hyphens: SO-10560, INV-10348,
# SO-10560-S2. Anything else is left to the full-text search alone.
DOCUMENT_NUMBER = re.compile(r"[A-Za-z]{1,6}-[A-Za-z0-9][A-Za-z0-9-]{0,29}")
MAX_LINKS = 5


@dataclass(frozen=True)
class DocumentLink:
    """One document the search text names, with the page to open it on."""

    label: str
    url: str


def _order_url(viewer: User, order: SalesOrder) -> str:
    if viewer.is_external:
        return reverse("reconciliation:portal_order", args=[order.number])
    return reverse("reconciliation:order_detail", args=[order.number])


def _invoices(viewer: User, orders: QuerySet[SalesOrder]) -> QuerySet[Invoice]:
    if viewer.is_external:
        return customer_invoices(viewer)
    return Invoice.objects.filter(order__in=orders.values("pk"))


def _shipments(viewer: User, orders: QuerySet[SalesOrder]) -> QuerySet[Shipment]:
    if viewer.is_external:
        return customer_shipments(viewer)
    return Shipment.objects.filter(order__in=orders.values("pk"))


def document_links(viewer: Viewer, text: str) -> list[DocumentLink]:
    """Return links to the documents ``viewer`` may see whose number is ``text``.

    ``text`` must be one document number, optionally quoted. The match
    ignores letter case. Orders follow ``visible_orders``; a customer's
    invoices and shipments follow the portal's rules, which leave out
    drafts, and an employee's follow the orders'.
    """
    if not isinstance(viewer, User):
        return []
    number = text.strip().strip('"').strip()
    if not DOCUMENT_NUMBER.fullmatch(number):
        return []
    orders = visible_orders(viewer)
    links = [
        DocumentLink(f"Order {order.number}", _order_url(viewer, order))
        for order in orders.filter(number__iexact=number)[:MAX_LINKS]
    ]
    invoices = (
        _invoices(viewer, orders)
        .filter(number__iexact=number, order__isnull=False)
        .select_related("order")
    )
    for invoice in invoices[:MAX_LINKS]:
        if invoice.order is None:
            continue
        label = f"{invoice.get_kind_display()} {invoice.number}"
        links.append(
            DocumentLink(
                f"{label}, order {invoice.order.number}",
                _order_url(viewer, invoice.order),
            )
        )
    shipments = (
        _shipments(viewer, orders).filter(number__iexact=number).select_related("order")
    )
    links += [
        DocumentLink(
            f"Shipment {shipment.number}, order {shipment.order.number}",
            _order_url(viewer, shipment.order),
        )
        for shipment in shipments[:MAX_LINKS]
    ]
    return links[:MAX_LINKS]
