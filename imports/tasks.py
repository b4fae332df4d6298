"""Background work after an import: check what the batch created."""

import logging
from collections import defaultdict
from typing import NamedTuple

from commonplace.background import task
from imports.models import ImportBatch
from reconciliation.matching import match_documents
from reconciliation.models import Invoice, Payment, SalesOrder, Shipment

logger = logging.getLogger(__name__)


@task
def match_after_import(company_id: int, batch_id: int) -> None:
    """Check the orders and payments of a batch's new documents, and nothing else.

    The orders are those the batch created and those of its new shipments
    and invoices. Its new payments, including those of bank statement
    lines, go through the cash rules, and so do the older payments with
    money left that its new open invoices may take. The orders of the
    invoices those payments are placed on are checked too. The whole-company
    pass (``run_matching``) still runs from the ``run_matching`` command and
    the scheduled pass.
    """
    batch = ImportBatch.objects.select_related("source__company").get(pk=batch_id)
    company = batch.source.company
    if company.pk != company_id:
        raise ValueError(
            f"Import batch {batch_id} belongs to company {company.pk}, not "
            f"{company_id}: nothing was checked."
        )
    documents = batch_documents(batch)
    summary = match_documents(
        company=company,
        order_ids=documents.order_ids,
        payment_ids=documents.payment_ids,
        invoice_ids=documents.invoice_ids,
    )
    logger.info(
        "imports.matched batch=%d company=%d orders=%d payments=%d opened=%d "
        "resolved=%d",
        batch_id,
        company_id,
        summary.orders_checked,
        len(documents.payment_ids),
        summary.opened,
        summary.resolved,
    )


class BatchDocuments(NamedTuple):
    """Ids of the documents an import batch created or touched."""

    # The orders the batch created and those of its shipments and invoices.
    order_ids: set[int]
    payment_ids: set[int]
    invoice_ids: set[int]


def batch_documents(batch: ImportBatch) -> BatchDocuments:
    """Return the ids of the orders, payments and invoices of ``batch``."""
    ids: dict[str, list[int]] = defaultdict(list)
    for object_type, object_id in batch.documents.values_list(
        "object_type", "object_id"
    ):
        ids[object_type].append(int(object_id))

    order_ids = set(ids[SalesOrder._meta.label_lower])
    for model in (Shipment, Invoice):
        rows = model.objects.filter(pk__in=ids[model._meta.label_lower])
        order_ids.update(
            order_id
            for order_id in rows.values_list("order_id", flat=True)
            if order_id is not None
        )
    return BatchDocuments(
        order_ids=order_ids,
        payment_ids=set(ids[Payment._meta.label_lower]),
        invoice_ids=set(ids[Invoice._meta.label_lower]),
    )
