"""Import sources, their column mappings, import batches and bank statement lines.

An ``ImportBatch`` is written once per committed (or failed) file, with the
SHA-256 of the file, so the same file for the same source is never imported
twice. ``ImportedDocument`` names each document a batch created.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models

from core.models import TimeStampedModel
from imports.kinds import DocumentKind
from reconciliation.models import Company, Currency, Payment


class ImportSource(TimeStampedModel):
    """A producer of files (an ERP export, a bank) and the format to read them in."""

    class FileFormat(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "Excel workbook (.xlsx)"
        CAMT053 = "camt053", "Bank statement (ISO 20022 CAMT.053)"

    name = models.CharField(max_length=120)
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(
        "document kind", max_length=12, choices=DocumentKind.choices
    )
    file_format = models.CharField(max_length=8, choices=FileFormat.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "name"], name="import_source_name_unique"
            ),
            models.CheckConstraint(
                condition=~models.Q(file_format="camt053") | models.Q(kind="payments"),
                name="import_source_camt_is_payments",
                violation_error_message=(
                    "A CAMT.053 bank statement holds payments: choose the "
                    "document kind Payments for it."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ColumnMapping(models.Model):
    """The file column of one target field, with its date format and separator."""

    class DecimalSeparator(models.TextChoices):
        POINT = ".", "Point (1,234.50)"
        COMMA = ",", "Comma (1.234,50)"

    source = models.ForeignKey(
        ImportSource, on_delete=models.CASCADE, related_name="mappings"
    )
    target_field = models.CharField(max_length=40)
    column = models.CharField("column header", max_length=120)
    # A strftime format such as %d.%m.%Y; empty means ISO 8601 (%Y-%m-%d).
    date_format = models.CharField(max_length=40, blank=True)
    decimal_separator = models.CharField(
        max_length=1, choices=DecimalSeparator.choices, default=DecimalSeparator.POINT
    )

    class Meta:
        ordering = ["source", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "target_field"], name="column_mapping_field_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.target_field} <- {self.column}"


class ImportBatch(models.Model):
    """One committed file, or one commit that failed and wrote no documents."""

    class Status(models.TextChoices):
        COMMITTED = "committed", "Committed"
        FAILED = "failed", "Failed"

    source = models.ForeignKey(
        ImportSource, on_delete=models.PROTECT, related_name="batches"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField("SHA-256", max_length=64)
    # The parser that read the file, such as csv@1 or camt.053.001.08.
    file_format = models.CharField(max_length=40)
    status = models.CharField(max_length=10, choices=Status.choices)
    rows_total = models.PositiveIntegerField(default=0)
    rows_created = models.PositiveIntegerField(default=0)
    rows_existing = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    documents_created = models.PositiveIntegerField(default=0)
    # The messages of a failed commit, one per line.
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "import batches"
        constraints = [
            models.UniqueConstraint(
                fields=["source", "sha256"],
                condition=models.Q(status="committed"),
                name="import_batch_file_once_per_source",
            )
        ]

    def __str__(self) -> str:
        return f"Batch {self.pk} ({self.file_name})"


class ImportedDocument(models.Model):
    """A document that a batch created, for the batch page and the audit trail."""

    batch = models.ForeignKey(
        ImportBatch, on_delete=models.PROTECT, related_name="documents"
    )
    object_type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=64)
    number = models.CharField(max_length=60)
    row_numbers = models.CharField(max_length=200)

    class Meta:
        ordering = ["batch", "id"]

    def __str__(self) -> str:
        return f"{self.object_type} {self.number}"


class BankStatementLine(models.Model):
    """One entry of a CAMT.053 statement, kept with its raw fields."""

    class Direction(models.TextChoices):
        CREDIT = "CRDT", "Credit"
        DEBIT = "DBIT", "Debit"

    batch = models.ForeignKey(
        ImportBatch, on_delete=models.PROTECT, related_name="statement_lines"
    )
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    statement_id = models.CharField(max_length=35)
    account_iban = models.CharField(max_length=34, blank=True)
    entry_reference = models.CharField(max_length=35, blank=True)
    booking_date = models.DateField()
    value_date = models.DateField(null=True, blank=True)
    amount = models.DecimalField(max_digits=18, decimal_places=4)
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+")
    direction = models.CharField(max_length=4, choices=Direction.choices)
    end_to_end_id = models.CharField(max_length=35, blank=True)
    remittance_info = models.CharField(max_length=140, blank=True)
    counterparty_name = models.CharField(max_length=140, blank=True)
    counterparty_iban = models.CharField(max_length=34, blank=True)
    bank_tx_code = models.CharField(max_length=40, blank=True)
    # Every field as read from the XML, as text.
    raw = models.JSONField(default=dict)
    payment = models.OneToOneField(
        Payment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="statement_line",
    )

    class Meta:
        ordering = ["booking_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=Decimal(0)),
                name="statement_line_amount_positive",
            )
        ]

    def __str__(self) -> str:
        return f"{self.statement_id} {self.direction} {self.amount}"
