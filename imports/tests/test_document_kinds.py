"""The Kind column of the batch page names the model, not its stored label."""

import pytest
from django.urls import reverse

from imports.models import ImportBatch, ImportedDocument
from imports.views import document_kind_label


@pytest.mark.parametrize(
    ("object_type", "label"),
    [
        ("reconciliation.payment", "Payment"),
        ("reconciliation.salesorder", "Sales order"),
        ("reconciliation.invoice", "Invoice"),
        ("legacy.ledger", "legacy.ledger"),
        ("no-dot", "no-dot"),
    ],
)
def test_document_kind_label(object_type, label):
    assert document_kind_label(object_type) == label


def test_batch_page_shows_kind_labels(client, clerk, payments_source):
    batch = ImportBatch.objects.create(
        source=payments_source,
        created_by=clerk,
        file_name="payments.csv",
        sha256="a" * 64,
        file_format="csv",
        status=ImportBatch.Status.COMMITTED,
    )
    ImportedDocument.objects.create(
        batch=batch,
        object_type="reconciliation.payment",
        object_id="1",
        number="PAY-1",
        row_numbers="2",
    )
    client.force_login(clerk)

    html = client.get(reverse("imports:batch_detail", args=[batch.pk])).content.decode()

    assert "<td>PAY-1</td><td>Payment</td><td>2</td>" in html
    assert "reconciliation.payment" not in html
