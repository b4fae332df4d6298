"""Stage an upload, preview it, and commit it as one import batch.

``stage_upload`` keeps the uploaded bytes in ``IMPORT_STAGING_DIR`` under
their SHA-256 and writes no database row. ``preview_file`` reads and checks
the staged file. ``commit_file`` checks it again (the company's data may
have changed since the preview) and writes the ``ImportBatch``, the
documents, an ``ImportedDocument`` and an audit event for each document,
and the refreshed running quantities in one transaction. When anything
fails, that transaction rolls back and a failed batch records why.
"""

import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DataError, IntegrityError, models, transaction

from accounts.models import User
from commonplace.background import enqueue
from core.audit import record_event
from core.models import AuditEvent
from imports.camt import Statement, StatementEntry, parse_statement
from imports.conflicts import Conflict, find_entry_conflicts
from imports.display import format_rows
from imports.documents import create_document
from imports.kinds import DocumentKind, target_fields
from imports.models import (
    BankStatementLine,
    ColumnMapping,
    ImportBatch,
    ImportedDocument,
    ImportSource,
)
from imports.planning import Plan, plan_documents
from imports.reading import ImportFileError, Table, read_table
from imports.tasks import match_after_import
from imports.validation import ParsedRow, parse_rows
from reconciliation.models import Currency, Invoice, Payment, SalesOrder, Shipment
from reconciliation.money import format_money
from reconciliation.services import refresh_documents, refresh_order

logger = logging.getLogger(__name__)

SHA256_PATTERN = re.compile(r"[0-9a-f]{64}")


class AlreadyImported(Exception):
    """The same file was committed for the same source before."""

    def __init__(self, batch: ImportBatch) -> None:
        self.batch = batch
        super().__init__(
            f"This file was already imported on {batch.created_at:%Y-%m-%d %H:%M} "
            f"UTC as batch {batch.pk}. Nothing was changed."
        )


# Staging: the upload waits on disk between preview and commit.


def _checked_sha256(sha256: str) -> str:
    if not SHA256_PATTERN.fullmatch(sha256):
        raise ImportFileError(
            "The upload reference is not valid. Upload the file again."
        )
    return sha256


def _staging_path(sha256: str) -> Path:
    return Path(settings.IMPORT_STAGING_DIR) / _checked_sha256(sha256)


def stage_upload(*, data: bytes, file_name: str) -> str:
    """Keep an upload for preview and commit; return its SHA-256."""
    sha256 = hashlib.sha256(data).hexdigest()
    path = _staging_path(sha256)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.with_suffix(".upload").write_bytes(data)
    path.with_suffix(".json").write_text(json.dumps({"file_name": file_name}))
    return sha256


def load_staged(sha256: str) -> tuple[bytes, str]:
    """Return the bytes and file name of a staged upload."""
    path = _staging_path(sha256)
    try:
        data = path.with_suffix(".upload").read_bytes()
        meta = json.loads(path.with_suffix(".json").read_text())
    except FileNotFoundError:
        raise ImportFileError(
            "The uploaded file is no longer waiting for commit. Upload it again."
        ) from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ImportFileError("The staged file has changed. Upload it again.")
    return data, str(meta["file_name"])


def discard_staged(sha256: str) -> None:
    path = _staging_path(sha256)
    for suffix in (".upload", ".json"):
        path.with_suffix(suffix).unlink(missing_ok=True)


# Sources and mappings.


def save_source(
    *, source: ImportSource, mappings: dict[str, dict[str, str]], actor: User
) -> ImportSource:
    """Save a source and replace its column mapping with ``mappings``.

    ``mappings`` maps a target field to ``column``, ``date_format`` and
    ``decimal_separator``; a field with an empty column is not mapped.
    """
    with transaction.atomic():
        creating = source.pk is None
        before = (
            {} if creating else _source_fields(ImportSource.objects.get(pk=source.pk))
        )
        if creating:
            source.created_by = actor
        source.save()
        source.mappings.all().delete()
        ColumnMapping.objects.bulk_create(
            ColumnMapping(
                source=source,
                target_field=name,
                column=options["column"],
                date_format=options.get("date_format", ""),
                decimal_separator=options.get("decimal_separator") or ".",
            )
            for name, options in mappings.items()
            if options.get("column")
        )
        after = _source_fields(source)
        record_event(
            actor=actor,
            action="import_source.created" if creating else "import_source.changed",
            target=source,
            source=AuditEvent.Source.SCREEN,
            before=before,
            after=after,
        )
    return source


def _source_fields(source: ImportSource) -> dict[str, Any]:
    return {
        "name": source.name,
        "company": source.company_id,
        "kind": source.kind,
        "file_format": source.file_format,
        "mappings": {
            m.target_field: [m.column, m.date_format, m.decimal_separator]
            for m in source.mappings.order_by("target_field")
        },
    }


# Preview.


@dataclass
class Preview:
    source: ImportSource
    sha256: str
    file_name: str
    file_format: str = ""
    encoding: str = ""
    delimiter: str = ""
    file_error: str = ""
    already_imported: ImportBatch | None = None
    rows: list[ParsedRow] = field(default_factory=list)
    columns: list[tuple[str, str]] = field(default_factory=list)
    # The previewed rows with their cells formatted, in the order of ``columns``.
    display_rows: list[tuple[ParsedRow, list[str]]] = field(default_factory=list)
    plan: Plan | None = None
    entries: list[StatementEntry] = field(default_factory=list)
    existing_entries: list[StatementEntry] = field(default_factory=list)
    entry_conflicts: list[Conflict] = field(default_factory=list)
    # Each entry with its amount formatted in its currency's decimals.
    display_entries: list[tuple[StatementEntry, str]] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        if self.file_error:
            return [self.file_error]
        return [error.message for error in self.plan.errors] if self.plan else []

    @property
    def conflicts(self) -> list[Conflict]:
        """Rows or entries already in the books whose values differ from the file."""
        if self.file_error:
            return []
        return self.plan.conflicts if self.plan else self.entry_conflicts

    @property
    def can_commit(self) -> bool:
        return not self.errors and not self.conflicts and self.already_imported is None

    @property
    def rows_total(self) -> int:
        return self.plan.rows_total if self.plan else len(self.entries)


def committed_batch(source: ImportSource, sha256: str) -> ImportBatch | None:
    return (
        ImportBatch.objects.filter(
            source=source, sha256=sha256, status=ImportBatch.Status.COMMITTED
        )
        .order_by("pk")
        .first()
    )


def preview_file(*, source: ImportSource, sha256: str) -> Preview:
    """Read and check a staged upload without writing anything."""
    preview = Preview(source=source, sha256=sha256, file_name="")
    try:
        if source.company.is_sandbox:
            # Only the practice scenario writes into a learner's sandbox.
            raise ImportFileError(
                f'The source "{source.name}" imports into {source.company.name}, '
                "a practice sandbox, which takes no imports. Create a source for "
                "a real company."
            )
        preview.already_imported = committed_batch(source, _checked_sha256(sha256))
        if preview.already_imported is not None:
            # Nothing of the file would be written, so it is not read again.
            preview.file_name = preview.already_imported.file_name
            return preview
        data, preview.file_name = load_staged(sha256)
        if source.file_format == ImportSource.FileFormat.CAMT053:
            _preview_statement(preview, data)
        else:
            _preview_table(preview, data)
    except ImportFileError as error:
        preview.file_error = str(error)
    return preview


def _preview_table(preview: Preview, data: bytes) -> None:
    source = preview.source
    table = read_table(
        data, file_name=preview.file_name, file_format=source.file_format
    )
    preview.file_format = table.file_format
    preview.encoding = table.encoding
    preview.delimiter = {"\t": "tab"}.get(table.delimiter, table.delimiter)
    preview.plan, preview.rows = build_plan(source, table)
    mapped = {m.target_field: m.column for m in source.mappings.all()}
    preview.columns = [
        (field.name, field.label)
        for field in target_fields(source.kind)
        if field.name in mapped
    ]
    preview.rows = preview.rows[: settings.IMPORT_PREVIEW_ROWS]
    preview.display_rows = format_rows(
        source.kind,
        preview.rows,
        [name for name, _label in preview.columns],
        source.company,
    )


def build_plan(source: ImportSource, table: Table) -> tuple[Plan, list[ParsedRow]]:
    rows, errors, references = parse_rows(source, table)
    column_names = {m.target_field: m.column for m in source.mappings.all()}
    plan = plan_documents(source.kind, rows, errors, references, column_names)
    return plan, rows


def _minor_units() -> dict[str, int]:
    return dict(Currency.objects.values_list("code", "minor_units"))


def _preview_statement(preview: Preview, data: bytes) -> None:
    minor_units = _minor_units()
    statement = parse_statement(data, minor_units=minor_units)
    preview.file_format = statement.version
    preview.entries = statement.entries
    preview.display_entries = [
        (entry, format_money(entry.amount, minor_units=minor_units[entry.currency]))
        for entry in statement.entries
    ]
    stored = _stored_lines(preview.source, statement)
    preview.existing_entries = [
        entry for entry in statement.entries if _entry_key(entry) in stored
    ]
    preview.entry_conflicts = find_entry_conflicts(
        list(enumerate(statement.entries, start=1)), stored, minor_units
    )


def _entry_key(entry: StatementEntry) -> tuple[str, str, str]:
    return (entry.account_iban, entry.statement_id, entry.entry_reference)


def _stored_lines(
    source: ImportSource, statement: Statement
) -> dict[tuple[str, str, str], BankStatementLine]:
    """Return the company's stored lines of the file's statements, by entry key."""
    lines = BankStatementLine.objects.filter(
        company=source.company,
        statement_id__in={entry.statement_id for entry in statement.entries},
    )
    return {
        (line.account_iban, line.statement_id, line.entry_reference): line
        for line in lines
    }


# Commit.


def commit_file(*, source: ImportSource, sha256: str, actor: User) -> ImportBatch:
    """Write the staged file's documents as one batch, or a failed batch.

    Raises ``AlreadyImported`` when this source committed the same file before;
    then nothing is written.
    """
    existing = committed_batch(source, sha256)
    if existing is not None:
        raise AlreadyImported(existing)
    preview = preview_file(source=source, sha256=sha256)
    batch = ImportBatch(
        source=source,
        created_by=actor,
        file_name=preview.file_name[:255],
        sha256=sha256,
        file_format=preview.file_format or source.file_format,
        rows_total=preview.rows_total,
    )
    # A conflict stops the commit like a row error, because the file and the
    # books disagree and only a person can decide which is right.
    problems = preview.errors + [conflict.message for conflict in preview.conflicts]
    if problems:
        return _record_failure(batch, problems, preview)
    try:
        with transaction.atomic():
            batch.status = ImportBatch.Status.COMMITTED
            batch.save()
            if source.file_format == ImportSource.FileFormat.CAMT053:
                _write_statement(batch, preview, actor)
            else:
                _write_documents(batch, preview, actor)
            batch.save()
            record_event(
                actor=actor,
                action="import_batch.committed",
                target=batch,
                source=AuditEvent.Source.IMPORT,
                after=_batch_fields(batch),
                reason=f"import batch {batch.pk}",
            )
    except IntegrityError as error:
        existing = committed_batch(source, sha256)
        if existing is not None:
            raise AlreadyImported(existing) from None
        logger.warning("imports.commit_failed source=%d error=%r", source.pk, error)
        batch.pk = None
        return _record_failure(
            batch,
            [f"The database rejected the import ({error}). Nothing was written."],
            preview,
        )
    except DataError as error:
        # A value the preview let through but a column cannot store.
        logger.warning("imports.commit_failed source=%d error=%r", source.pk, error)
        batch.pk = None
        return _record_failure(
            batch,
            [
                f"The database rejected a value of the file ({error}). Nothing was "
                "written. Correct the value and upload the file again."
            ],
            preview,
        )
    logger.info(
        "imports.committed batch=%d source=%d created=%d existing=%d",
        batch.pk,
        source.pk,
        batch.documents_created,
        batch.rows_existing,
    )
    transaction.on_commit(lambda: discard_staged(sha256))
    if settings.IMPORT_RUN_MATCHING and batch.documents_created:
        enqueue(match_after_import, source.company_id, batch.pk)
    return batch


def _record_failure(
    batch: ImportBatch, errors: list[str], preview: Preview
) -> ImportBatch:
    batch.status = ImportBatch.Status.FAILED
    batch.error = "\n".join(errors)
    rejected = preview.plan.rejected_rows if preview.plan else set()
    rejected |= {conflict.row for conflict in preview.conflicts}
    batch.rows_rejected = len(rejected)
    batch.rows_created = 0
    batch.documents_created = 0
    with transaction.atomic():
        batch.save()
        record_event(
            actor=batch.created_by,
            action="import_batch.failed",
            target=batch,
            source=AuditEvent.Source.IMPORT,
            after=_batch_fields(batch),
            reason=f"import batch {batch.pk}",
        )
    logger.info("imports.failed batch=%d errors=%d", batch.pk, len(errors))
    return batch


def _batch_fields(batch: ImportBatch) -> dict[str, Any]:
    return {
        "source": batch.source_id,
        "file_name": batch.file_name,
        "sha256": batch.sha256,
        "file_format": batch.file_format,
        "status": batch.status,
        "rows_total": batch.rows_total,
        "rows_created": batch.rows_created,
        "rows_existing": batch.rows_existing,
        "rows_rejected": batch.rows_rejected,
        "documents_created": batch.documents_created,
    }


def _write_documents(batch: ImportBatch, preview: Preview, actor: User) -> None:
    plan = preview.plan
    if plan is None:
        raise ValueError("A table import needs the plan of its preview.")
    source = preview.source
    created: list[models.Model] = []
    for document in plan.new_documents:
        instance, after = create_document(source.kind, document, source.company)
        _note_document(
            batch, instance, document.number, document.row_numbers, after, actor
        )
        created.append(instance)
        batch.rows_created += len(document.rows)
    batch.rows_existing = sum(len(d.rows) for d in plan.existing_documents)
    batch.documents_created = len(created)
    _refresh(source.kind, created)


def _note_document(
    batch: ImportBatch,
    instance: models.Model,
    number: str,
    rows: list[int],
    after: dict[str, Any],
    actor: User,
) -> None:
    ImportedDocument.objects.create(
        batch=batch,
        object_type=instance._meta.label_lower,
        object_id=str(instance.pk),
        number=number,
        row_numbers=_row_list(rows),
    )
    record_event(
        actor=actor,
        action=f"{instance._meta.model_name}.imported",
        target=instance,
        source=AuditEvent.Source.IMPORT,
        after=after,
        reason=f"import batch {batch.pk}",
    )


def _row_list(rows: list[int]) -> str:
    text = ", ".join(str(row) for row in rows)
    return text if len(text) <= 200 else text[:196] + " ..."


def _refresh(kind: str, created: list[models.Model]) -> None:
    """Recompute running quantities and residuals of what the new documents touch."""
    orders: set[int] = set()
    if kind == DocumentKind.ORDERS:
        orders = {doc.pk for doc in created}
    elif kind == DocumentKind.SHIPMENTS:
        orders = {doc.order_id for doc in created if isinstance(doc, Shipment)}
    for order in SalesOrder.objects.filter(pk__in=orders).order_by("pk"):
        refresh_order(order=order)
    invoices = {doc.pk for doc in created if isinstance(doc, Invoice)}
    payments = {doc.pk for doc in created if isinstance(doc, Payment)}
    if invoices or payments:
        refresh_documents(
            invoice_ids=invoices, payment_ids=payments, source=AuditEvent.Source.IMPORT
        )


def _write_statement(batch: ImportBatch, preview: Preview, actor: User) -> None:
    source = preview.source
    existing = {_entry_key(entry) for entry in preview.existing_entries}
    payments: list[models.Model] = []
    for position, entry in enumerate(preview.entries, start=1):
        if _entry_key(entry) in existing:
            batch.rows_existing += 1
            continue
        payment = None
        # A pending entry (status PDNG) may still be cancelled by the bank.
        booked = entry.raw.get("status", "") in ("", "BOOK")
        if entry.direction == BankStatementLine.Direction.CREDIT and booked:
            payment = _create_statement_payment(batch, entry, source, position)
            payments.append(payment)
        line = BankStatementLine.objects.create(
            batch=batch,
            company=source.company,
            statement_id=entry.statement_id,
            account_iban=entry.account_iban,
            entry_reference=entry.entry_reference,
            booking_date=entry.booking_date,
            value_date=entry.value_date,
            amount=entry.amount,
            currency_id=entry.currency,
            direction=entry.direction,
            end_to_end_id=entry.end_to_end_id,
            remittance_info=entry.remittance_info,
            counterparty_name=entry.counterparty_name,
            counterparty_iban=entry.counterparty_iban,
            bank_tx_code=entry.bank_tx_code,
            raw=entry.raw,
            payment=payment,
        )
        batch.rows_created += 1
        if payment is not None:
            _note_document(
                batch,
                payment,
                payment.number,
                [position],
                _payment_fields(payment, line),
                actor,
            )
    batch.documents_created = len(payments)
    _refresh(DocumentKind.PAYMENTS, payments)


def _create_statement_payment(
    batch: ImportBatch, entry: StatementEntry, source: ImportSource, position: int
) -> Payment:
    """Create the payment of a credit entry, numbered by batch and file position."""
    return Payment.objects.create(
        company=source.company,
        number=f"BS{batch.pk}-{position}",
        amount=entry.amount,
        currency_id=entry.currency,
        value_date=entry.value_date or entry.booking_date,
        reference=entry.remittance_info or entry.end_to_end_id,
        amount_unallocated=entry.amount,
    )


def _payment_fields(payment: Payment, line: BankStatementLine) -> dict[str, Any]:
    return {
        "number": payment.number,
        "amount": str(payment.amount),
        "currency": payment.currency_id,
        "value_date": payment.value_date.isoformat(),
        "reference": payment.reference,
        "statement_id": line.statement_id,
        "end_to_end_id": line.end_to_end_id,
        "counterparty_name": line.counterparty_name,
        "counterparty_iban": line.counterparty_iban,
    }
