"""Writes a customer makes in the portal: receipts, problem reports, decisions.

Every function takes the customer and a document the caller fetched through
``portal.selectors`` (so it is one of the customer's company), runs in one
transaction and appends an audit event whose source is the screen.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from accounts.models import User
from core.audit import record_event
from core.models import AuditEvent
from core.numbers import InvalidDecimalError, parse_decimal
from core.text import clean_text
from library import sniffing
from library.files import clean_filename
from library.uploads import (
    StoredNames,
    UploadError,
    check_size,
    sha256_of,
    sniff_upload,
    stored_or_removed,
)
from portal import notices as portal_notices
from portal.models import (
    Evidence,
    ProblemReport,
    ReceiptConfirmation,
    ResolutionProposal,
)
from portal.uploads import check_evidence_extension
from reconciliation import cases, notices
from reconciliation.credit_proposals import (
    cancel_credit_note,
    offer_over_total,
    withdraw_proposal,
)
from reconciliation.goods_billing import billing_invoice
from reconciliation.matching import check_order_after_commit
from reconciliation.models import (
    ACTIVE_CASE_STATES,
    Discrepancy,
    DiscrepancyCode,
    Invoice,
    ReturnLine,
    SalesOrder,
    Shipment,
    ShipmentLine,
)
from reconciliation.money import format_quantity, is_counted, unit_name
from reconciliation.services import (
    COUNTED_SHIPMENT_STATES,
    lock_documents,
    refresh_order,
)
from reconciliation.work import WorkError, move_case, open_case, resolution_changes

logger = logging.getLogger(__name__)

SCREEN = AuditEvent.Source.SCREEN
State = Discrepancy.State
Kind = ProblemReport.Kind
EVIDENCE_TYPES = frozenset({sniffing.PDF, sniffing.TEXT} | sniffing.IMAGE_TYPES)
EVIDENCE_ACCEPTED = (
    "evidence must be a photo (PNG, JPEG, GIF or WebP), a PDF or plain text"
)
MAX_EVIDENCE_FILES = 5
MAX_MESSAGE_LENGTH = 5000
QUANTITY_FIELD = ProblemReport._meta.get_field("quantity")


class ProblemError(WorkError):
    """A problem report that one field of the form decides.

    ``field`` is the name of the form field to correct, so the form shows
    the message beside it: ``kind``, ``line``, ``quantity``, ``invoice``,
    ``message`` or ``repeat``.
    """

    def __init__(
        self,
        message: str,
        /,
        *,
        field: str,
        case_id: int | None = None,
        **values: object,
    ) -> None:
        super().__init__(message, case_id=case_id, **values)
        self.field = field


# The same report again within this time is taken for a repeated click, as
# a screen question is (answers.services.questions.DUPLICATE_WINDOW).
DUPLICATE_REPORT_WINDOW = timedelta(minutes=10)
# Bounds on an open report that repeats of the same problem add to: its
# description with every addition, and its evidence files in all.
MAX_REPORT_TEXT_LENGTH = 4 * MAX_MESSAGE_LENGTH
MAX_REPORT_EVIDENCE_FILES = 4 * MAX_EVIDENCE_FILES


def require_customer(person: User) -> None:
    if not person.is_active or not person.is_external:
        raise PermissionDenied(
            f"{person.username} is staff: the portal is for customer accounts."
        )


# Receipt


def confirm_receipt(*, customer: User, shipment: Shipment) -> ReceiptConfirmation:
    """Record that a shipped delivery arrived complete, as proof of delivery."""
    require_customer(customer)
    with transaction.atomic():
        lock_documents({SalesOrder: [shipment.order_id], Shipment: [shipment.pk]})
        shipment.refresh_from_db()
        if shipment.state != Shipment.State.SHIPPED:
            raise WorkError(
                f"Shipment {shipment.number} is {shipment.get_state_display().lower()}"
                ": only a shipped delivery can be confirmed."
            )
        today = timezone.localdate()
        shipment.state = Shipment.State.DELIVERED
        shipment.delivered_at = today
        shipment.save(update_fields=["state", "delivered_at", "updated_at"])
        for line in shipment.lines.all():
            if line.qty_received is None:
                line.qty_received = line.qty_shipped - line.qty_damaged
                line.save(update_fields=["qty_received"])
        confirmation = ReceiptConfirmation.objects.create(
            shipment=shipment, confirmed_by=customer
        )
        record_event(
            actor=customer,
            action="shipment.receipt_confirmed",
            target=shipment,
            source=SCREEN,
            before={"state": Shipment.State.SHIPPED},
            after={"state": shipment.state, "delivered_at": today.isoformat()},
        )
        refresh_order(order=shipment.order)
        check_order_after_commit(shipment.order_id)
    logger.info("Shipment %s receipt confirmed by user %s", shipment.pk, customer.pk)
    return confirmation


# Problem reports


@dataclass(frozen=True)
class CheckedEvidence:
    upload: UploadedFile[bytes]
    name: str
    size: int
    content_type: str
    sha256: str


def check_evidence(uploads: list[UploadedFile[bytes]]) -> list[CheckedEvidence]:
    """Check each file's size, sniffed type and extension before storing any."""
    if len(uploads) > MAX_EVIDENCE_FILES:
        raise UploadError(
            f"{len(uploads)} files were attached; attach at most {MAX_EVIDENCE_FILES}."
        )
    checked = []
    for upload in uploads:
        name = clean_filename(upload.name or "")
        size = upload.size or 0
        check_size(name=name, size=size, limit=settings.PORTAL_MAX_EVIDENCE_BYTES)
        if size == 0 or upload.file is None:
            raise UploadError(f"{name} is empty: choose the file again.")
        content_type = sniff_upload(upload, name=name, accepted=EVIDENCE_ACCEPTED)
        if content_type not in EVIDENCE_TYPES:
            raise UploadError(
                f"{name} contains {content_type}, but {EVIDENCE_ACCEPTED}."
            )
        check_evidence_extension(name, content_type, EVIDENCE_ACCEPTED)
        checked.append(
            CheckedEvidence(upload, name, size, content_type, sha256_of(upload))
        )
    return checked


def parse_quantity(raw: str) -> Decimal:
    """Parse a typed quantity that the report's quantity column can store."""
    try:
        return parse_decimal(
            raw,
            label="Quantity",
            max_digits=QUANTITY_FIELD.max_digits or 0,
            decimal_places=QUANTITY_FIELD.decimal_places or 0,
        )
    except InvalidDecimalError as error:
        raise ProblemError(str(error), field="quantity") from None


def evidence_storage_name(*, report: ProblemReport, sha256: str) -> str:
    """Build an evidence file's storage name from ids only, never its file name."""
    return f"portal/evidence/{report.pk}/{sha256}"


class Repeat(StrEnum):
    """The customer's answer when a shipment line has an open report of the problem."""

    # The units of the open report: add the files and description to it.
    SAME = "same"
    # Units on top of the open report's: raise the case's quantity.
    MORE = "more"


GOODS_KINDS = frozenset({Kind.MISSING, Kind.DAMAGED})


@dataclass(frozen=True)
class ProblemInput:
    kind: str
    message: str
    shipment_line: ShipmentLine | None = None
    quantity: Decimal | None = None
    invoice: Invoice | None = None
    # A ``Repeat`` value, or empty when the customer was not asked.
    repeat: str = ""


class ReportOutcome(StrEnum):
    """The effect of a problem report that a customer sent."""

    NEW = "new"
    # The same report again: nothing was written.
    REPEATED = "repeated"
    # A repeat of an open report with new evidence or a new description,
    # which were added to that report.
    ADDED = "added"
    # More units on a shipment line with an open report: a new report on
    # the same case, whose quantity rose.
    MORE = "more"


@dataclass(frozen=True)
class ReportResult:
    report: ProblemReport
    outcome: ReportOutcome
    added_files: int = 0
    added_description: bool = False
    # For ``MORE``: the quantity reported on the shipment line before and
    # after this report.
    line_before: Decimal | None = None
    line_after: Decimal | None = None


def report_problem(
    *,
    customer: User,
    order: SalesOrder,
    problem: ProblemInput,
    evidence: list[CheckedEvidence],
) -> ProblemReport:
    """Store a customer's problem report and return the report it went to."""
    return submit_problem_report(
        customer=customer, order=order, problem=problem, evidence=evidence
    ).report


def submit_problem_report(
    *,
    customer: User,
    order: SalesOrder,
    problem: ProblemInput,
    evidence: list[CheckedEvidence],
) -> ReportResult:
    """Open (or add to) the case for a customer's problem and store the evidence.

    The same report again (same customer, order, kind, shipment line or
    invoice, quantity, answer about more units, description and evidence
    files) within ``DUPLICATE_REPORT_WINDOW`` returns the first report:
    nothing is added to the case and nobody is notified again.

    A missing or damaged report on a shipment line that has an open report
    of the same problem (its case is active, whoever of the customer's
    company sent it) needs ``problem.repeat``, else ``WorkError`` names the
    open report and asks. ``Repeat.SAME`` adds the new evidence files and
    description to the open report, and the case's quantity stays.
    ``Repeat.MORE`` stores a new report on the same case, and the case's
    quantity rises by ``problem.quantity`` within what the line shipped.

    A repeat of an invoice problem (same customer, order, kind and invoice)
    while the case of the customer's earlier report is active goes to that
    report as ``Repeat.SAME`` does.
    """
    require_customer(customer)
    message = clean_text(problem.message)
    if not message:
        raise ProblemError("Describe the problem in a few words.", field="message")
    if len(message) > MAX_MESSAGE_LENGTH:
        raise ProblemError(
            f"The description is at most {MAX_MESSAGE_LENGTH} characters; "
            f"this one has {len(message)}.",
            field="message",
        )
    if problem.kind not in Kind.values:
        raise ProblemError(
            f"Problem {problem.kind[:30]!r} is not one we know: "
            "pick one from the list.",
            field="kind",
        )
    if problem.repeat and problem.repeat not in Repeat:
        raise ProblemError(
            f"Invalid answer {problem.repeat[:30]!r} about the open report: "
            "choose the same units or more units.",
            field="repeat",
        )

    with stored_or_removed() as stored, transaction.atomic():
        # The order lock makes a second report of the same problem wait for
        # the first to commit, so it finds that report instead of racing it.
        lock_documents({SalesOrder: [order.pk]})
        repeated = _recent_duplicate_report(customer, order, problem, message, evidence)
        if repeated is not None:
            logger.info(
                "Problem report %s sent again by user %s, kept the first",
                repeated.pk,
                customer.pk,
            )
            return ReportResult(repeated, ReportOutcome.REPEATED)
        if problem.kind in GOODS_KINDS:
            open_report = _open_line_report(order, problem)
            if open_report is not None and problem.repeat != Repeat.MORE:
                return _add_to_open_report(
                    open_report, customer, message, evidence, stored
                )
            line_before = None
            if open_report is not None and problem.shipment_line is not None:
                line_before = _reported_on_line(problem.shipment_line, problem.kind)
            case = _goods_case(customer, order, problem, message)
        else:
            open_report = _open_report_of_problem(customer, order, problem)
            if open_report is not None:
                return _add_to_open_report(
                    open_report, customer, message, evidence, stored
                )
            line_before = None
            case = _invoice_case(customer, order, problem, message)
        more_units = open_report is not None
        report = ProblemReport.objects.create(
            order=order,
            kind=problem.kind,
            shipment_line=problem.shipment_line,
            quantity=problem.quantity,
            invoice=problem.invoice,
            message=message,
            more_units=more_units,
            case=case,
            reported_by=customer,
        )
        _store_evidence(report, evidence, stored)
        after: dict[str, object] = {
            "kind": problem.kind,
            "order": order.number,
            "case_id": case.pk,
            "evidence": [item.sha256 for item in evidence],
        }
        if open_report is not None:
            after["more_units_than_report"] = open_report.pk
        record_event(
            actor=customer,
            action="problem.reported",
            target=report,
            source=SCREEN,
            after=after,
            reason=message,
        )
        if more_units and problem.shipment_line and problem.quantity is not None:
            _withdraw_offer_for_report(
                case,
                report,
                customer,
                line=problem.shipment_line,
                qty=problem.quantity,
            )
        refresh_order(order=order)
        notices.problem_reported(report, customer=customer)
    logger.info(
        "Problem report %s on case %s by user %s", report.pk, case.pk, customer.pk
    )
    if more_units and problem.shipment_line is not None:
        return ReportResult(
            report,
            ReportOutcome.MORE,
            added_files=len(evidence),
            line_before=line_before,
            line_after=_reported_on_line(problem.shipment_line, problem.kind),
        )
    return ReportResult(report, ReportOutcome.NEW, added_files=len(evidence))


def _withdraw_offer_for_report(
    case: Discrepancy,
    report: ProblemReport,
    customer: User,
    *,
    line: ShipmentLine,
    qty: Decimal,
) -> ResolutionProposal | None:
    """Withdraw the offer that waits for the customer on a case whose units rose.

    The offer was made for the units reported before ``report``, so it no
    longer covers the case: accepting it would settle the case with too
    little. Its draft credit note is cancelled, the case goes back in
    progress, and the person who proposed it and the order's sales rep get
    a notification to propose again.

    The caller holds the order's and the case's row locks, which an
    acceptance takes in the same order. So an acceptance either finished
    before (and the case is no longer active) or finds the offer withdrawn.
    A proposal that waits for a manager's approval stays, and approving it
    is rejected (``approval_decisions.check_report_unchanged``).
    """
    proposal = cases.open_proposal(case)
    if proposal is None or proposal.state != ResolutionProposal.State.AWAITING_CUSTOMER:
        return None
    uom = line.order_line.product.uom
    total = _reported_on_line(line, report.kind)
    offer = proposal.credit_note.number if proposal.credit_note else "the offer"
    reason = (
        f"{customer.display_name} reported another "
        f"{format_quantity(qty, uom)} {report.kind} on shipment "
        f"{line.shipment.number}, line {line.order_line.line_no}, after "
        f"{offer} was offered, so the offer no longer covers the "
        f"{format_quantity(total, uom)} {report.kind} now reported. It was "
        "withdrawn: propose again for the new quantity."
    )
    withdraw_proposal(proposal, actor=customer, reason=reason)
    proposal.withdrawn_by_report = report
    proposal.save(update_fields=["withdrawn_by_report"])
    record_event(
        actor=customer,
        action="proposal.withdrawn",
        target=proposal,
        source=SCREEN,
        before={"state": ResolutionProposal.State.AWAITING_CUSTOMER},
        after={
            "state": proposal.state,
            "case_id": case.pk,
            "withdrawn_by_report": report.pk,
            "amount": str(proposal.amount),
            "currency": proposal.currency,
            "reported_total": str(total),
        },
        reason=reason,
    )
    move_case(
        case,
        actor=customer,
        to=State.IN_PROGRESS,
        reason=reason,
        changes={"resolution_code": "", "resolution_note": ""},
    )
    notices.offer_withdrawn_for_report(proposal, report, customer=customer)
    logger.info(
        "Proposal %s on case %s withdrawn by report %s",
        proposal.pk,
        case.pk,
        report.pk,
    )
    return proposal


def _store_evidence(
    report: ProblemReport, evidence: list[CheckedEvidence], stored: StoredNames
) -> None:
    for item in evidence:
        path = evidence_storage_name(report=report, sha256=item.sha256)
        name = stored.save(path, item.upload)
        Evidence.objects.create(
            report=report,
            file=name,
            name=item.name,
            content_type=item.content_type,
            size=item.size,
            sha256=item.sha256,
        )


def _recent_duplicate_report(
    customer: User,
    order: SalesOrder,
    problem: ProblemInput,
    message: str,
    evidence: list[CheckedEvidence],
) -> ProblemReport | None:
    """Return the customer's identical report sent within the window, if any."""
    candidates = ProblemReport.objects.filter(
        reported_by=customer,
        order=order,
        kind=problem.kind,
        shipment_line=problem.shipment_line,
        invoice=problem.invoice,
        quantity=problem.quantity,
        message=message,
        # A "more units" answer repeats the open report's figures on purpose.
        more_units=problem.repeat == Repeat.MORE,
        reported_at__gte=timezone.now() - DUPLICATE_REPORT_WINDOW,
    ).order_by("reported_at", "pk")
    digests = [item.sha256 for item in evidence]
    for report in candidates:
        stored = list(report.evidence.order_by("pk").values_list("sha256", flat=True))
        if stored == digests:
            return report
    return None


def _open_line_report(order: SalesOrder, problem: ProblemInput) -> ProblemReport | None:
    """Return the open report of a goods problem on the chosen shipment line.

    Any contact of the customer's company may have sent it, because the case
    counts the line's units, not one person's. Raises ``WorkError`` when
    there is one and ``problem.repeat`` is empty, and when the customer
    answered ``Repeat.SAME`` but no report is open any more.
    """
    line = problem.shipment_line
    if line is None or line.shipment.order_id != order.pk:
        # _goods_case rejects the missing or foreign line.
        return None
    found = (
        ProblemReport.objects.select_related("case")
        .filter(
            order=order,
            kind=problem.kind,
            shipment_line=line,
            case__state__in=ACTIVE_CASE_STATES,
        )
        .order_by("-reported_at", "-pk")
        .first()
    )
    place = f"shipment {line.shipment.number}, line {line.order_line.line_no}"
    where = place.replace("shipment", "Shipment", 1)
    if found is None:
        if problem.repeat == Repeat.SAME:
            raise ProblemError(
                f"{where} has no open report of {problem.kind} goods any more, "
                "because its case was resolved meanwhile. Send your report again "
                "without choosing the same units if these units still need our help.",
                field="repeat",
            )
        return None
    reported = _reported_on_line(line, problem.kind)
    if not problem.repeat:
        raise ProblemError(
            "{where} already has an open report of {reported} {kind}, sent on "
            "{sent} (case {case}). Choose whether your report is about the same "
            "units, to add your files and description to that report, or about "
            "more units, to add your quantity to the case.",
            field="repeat",
            case_id=found.case_id,
            where=where,
            reported=_bare(reported),
            kind=problem.kind,
            sent=f"{timezone.localtime(found.reported_at):%Y-%m-%d}",
        )
    qty = problem.quantity
    if problem.repeat == Repeat.SAME and qty is not None and qty > reported:
        extra = _bare(qty - reported)
        raise ProblemError(
            f"You chose the same units as the open report, but entered {_bare(qty)} "
            f"and {place} has only {_bare(reported)} {problem.kind} reported. If "
            f"{extra} more are {problem.kind}, choose more units and enter {extra}. "
            f"Otherwise enter at most {_bare(reported)}.",
            field="quantity",
        )
    return found


def _reported_on_line(line: ShipmentLine, kind: str) -> Decimal:
    """Return the quantity reported missing or damaged on a shipment line now."""
    counts = _line_counts(ShipmentLine.objects.get(pk=line.pk))
    return counts.damaged if kind == Kind.DAMAGED else counts.missing


def _open_report_of_problem(
    customer: User, order: SalesOrder, problem: ProblemInput
) -> ProblemReport | None:
    """Return the customer's latest report of this problem whose case is active."""
    return (
        ProblemReport.objects.select_related("case")
        .filter(
            reported_by=customer,
            order=order,
            kind=problem.kind,
            shipment_line=problem.shipment_line,
            invoice=problem.invoice,
            quantity=problem.quantity,
            case__state__in=ACTIVE_CASE_STATES,
        )
        .order_by("-reported_at", "-pk")
        .first()
    )


def _add_to_open_report(
    report: ProblemReport,
    customer: User,
    message: str,
    evidence: list[CheckedEvidence],
    stored: StoredNames,
) -> ReportResult:
    """Add a repeat's new evidence files and description to the open report."""
    known = set(report.evidence.values_list("sha256", flat=True))
    new_files: list[CheckedEvidence] = []
    for item in evidence:
        if item.sha256 not in known:
            known.add(item.sha256)
            new_files.append(item)
    added_text = "" if message in _report_texts(report) else message
    if not new_files and not added_text:
        logger.info(
            "Problem report %s repeated by user %s with nothing new",
            report.pk,
            customer.pk,
        )
        return ReportResult(report, ReportOutcome.REPEATED)

    _check_report_room(report, added_text, len(known))
    if added_text:
        added_on = timezone.localdate().isoformat()
        report.message = f"{report.message}\n\nAdded on {added_on}: {added_text}"
        report.save(update_fields=["message"])
    _store_evidence(report, new_files, stored)
    event = record_event(
        actor=customer,
        action="problem.evidence_added",
        target=report,
        source=SCREEN,
        after={
            "order": report.order.number,
            "case_id": report.case_id,
            "evidence": [item.sha256 for item in new_files],
        },
        reason=added_text,
    )
    portal_notices.evidence_added(
        report,
        customer=customer,
        added_files=len(new_files),
        added_description=bool(added_text),
        event_id=event.pk,
    )
    logger.info(
        "Problem report %s extended by user %s with %s files",
        report.pk,
        customer.pk,
        len(new_files),
    )
    return ReportResult(
        report,
        ReportOutcome.ADDED,
        added_files=len(new_files),
        added_description=bool(added_text),
    )


def _report_texts(report: ProblemReport) -> set[str]:
    """Return the report's first description and each one added since."""
    events = AuditEvent.objects.filter(
        object_type=ProblemReport._meta.label_lower,
        object_id=str(report.pk),
        action__in=("problem.reported", "problem.evidence_added"),
    )
    return set(events.values_list("reason", flat=True))


def _check_report_room(report: ProblemReport, added_text: str, files: int) -> None:
    """Reject an addition that would grow the open report past its bounds."""
    where = (
        f"your open report of {report.reported_at:%Y-%m-%d} on case {report.case_id}"
    )
    if files > MAX_REPORT_EVIDENCE_FILES:
        raise WorkError(
            f"With these files {where} would have {files} files, and a report "
            f"keeps at most {MAX_REPORT_EVIDENCE_FILES}: nothing was added. "
            "Write to us on the case instead."
        )
    length = len(report.message) + len(added_text)
    if added_text and length > MAX_REPORT_TEXT_LENGTH:
        raise WorkError(
            f"With this description {where} would have {length} characters, and "
            f"a report keeps at most {MAX_REPORT_TEXT_LENGTH}: nothing was added. "
            "Write to us on the case instead."
        )


def _goods_case(
    customer: User, order: SalesOrder, problem: ProblemInput, message: str
) -> Discrepancy:
    chosen = problem.shipment_line
    qty = problem.quantity
    if chosen is None or chosen.shipment.order_id != order.pk:
        raise ProblemError("Pick the shipment line the problem is about.", field="line")
    line = _lock_shipment_line(chosen)
    if qty is None:
        raise ProblemError(
            f"The quantity is missing: enter how many are {problem.kind}.",
            field="quantity",
        )
    if qty == 0:
        raise ProblemError(
            f"The quantity is 0: enter how many are {problem.kind}, more than 0.",
            field="quantity",
        )
    if qty < 0:
        raise ProblemError(
            f"A quantity of {_bare(qty)} is negative: enter how many are "
            f"{problem.kind}, more than 0.",
            field="quantity",
        )
    _check_precision(qty)
    _check_whole_units(qty, line)
    counts = _line_counts(line)
    available = min(counts.unreported, _order_line_unreported(line))
    if qty > available:
        raise ProblemError(
            _too_many_message(line, problem.kind, qty, counts, available),
            field="quantity",
        )
    # qty_received counts the goods that arrived undamaged, so received,
    # damaged and missing always add up to the quantity shipped.
    received = counts.unreported - qty
    if problem.kind == Kind.DAMAGED:
        code = DiscrepancyCode.DAMAGED
        line.qty_damaged = counts.damaged + qty
        if line.qty_received is not None:
            line.qty_received = received
        expected, actual = Decimal(0), line.qty_damaged
    else:
        code = DiscrepancyCode.NOT_RECEIVED
        line.qty_received = received
        expected = line.qty_shipped
        actual = line.qty_shipped - counts.missing - qty
    line.save(update_fields=["qty_damaged", "qty_received"])
    uom = line.order_line.product.uom
    explanation = (
        f"{customer.display_name} reported {format_quantity(qty, uom)} "
        f"{problem.kind} from shipment {line.shipment.number}, "
        f"line {line.order_line.line_no}: {message}"
    )
    earlier = counts.damaged if problem.kind == Kind.DAMAGED else counts.missing
    if earlier > 0:
        total = format_quantity(earlier + qty, uom)
        explanation += (
            f" With the earlier reports, {total} of this shipment line are "
            f"{problem.kind}."
        )
    return open_case(
        order=order,
        code=code,
        fingerprint=f"{code}:shipment_line:{line.pk}",
        explanation=explanation,
        actor=customer,
        expected=expected,
        actual=actual,
        unit=uom,
        order_line=line.order_line,
        shipment=line.shipment,
        # The posted invoice that billed these units, or None before billing.
        invoice=billing_invoice(code, line),
    )


@dataclass(frozen=True)
class LineCounts:
    """Quantities reported so far on one shipment line, in the product's unit."""

    shipped: Decimal
    missing: Decimal
    damaged: Decimal

    @property
    def unreported(self) -> Decimal:
        return self.shipped - self.missing - self.damaged


def _lock_shipment_line(chosen: ShipmentLine) -> ShipmentLine:
    """Lock every shipment line of the chosen line's order line, by id.

    The caller holds the order's lock, which already serializes reports on
    PostgreSQL. These row locks also hold off writes that skip the order
    lock, and the re-read replaces the quantities the view read before it.
    """
    locked = list(
        ShipmentLine.objects.select_for_update(of=("self",))
        .filter(order_line_id=chosen.order_line_id)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if chosen.pk not in locked:
        raise ProblemError("Pick the shipment line the problem is about.", field="line")
    return ShipmentLine.objects.select_related("shipment", "order_line__product").get(
        pk=chosen.pk
    )


def _line_counts(line: ShipmentLine) -> LineCounts:
    damaged = line.qty_damaged
    # Before a receipt or a missing report, qty_received is empty: nothing
    # is reported missing yet.
    if line.qty_received is None:
        missing = Decimal(0)
    else:
        missing = line.qty_shipped - damaged - line.qty_received
    return LineCounts(shipped=line.qty_shipped, missing=missing, damaged=damaged)


def _order_line_unreported(line: ShipmentLine) -> Decimal:
    """Return the order line's unreported quantity, less received returns.

    Returns are recorded per order line, not per shipment, so they are
    checked against the shipped, missing and damaged quantities of every
    shipped or delivered shipment of that order line.
    """
    shipped_lines = ShipmentLine.objects.filter(
        order_line_id=line.order_line_id,
        shipment__state__in=COUNTED_SHIPMENT_STATES,
    )
    unreported = sum(
        (_line_counts(other).unreported for other in shipped_lines), Decimal(0)
    )
    returned = ReturnLine.objects.filter(
        order_line_id=line.order_line_id, authorization__received_at__isnull=False
    ).aggregate(total=Sum("qty_received"))["total"]
    return unreported - (returned or Decimal(0))


def _too_many_message(
    line: ShipmentLine, kind: str, qty: Decimal, counts: LineCounts, available: Decimal
) -> str:
    where = f"shipment {line.shipment.number}, line {line.order_line.line_no}"
    reported = (
        f"{_bare(counts.missing)} already reported missing and "
        f"{_bare(counts.damaged)} damaged"
    )
    if available < counts.unreported:
        reported += (
            f", and {_bare(counts.unreported - available)} more are returned or "
            "reported on other shipments of this order line"
        )
    return (
        f"You reported {_bare(qty)} {kind}, but {where} shipped "
        f"{_bare(counts.shipped)} with {reported}: at most "
        f"{_bare(max(available, Decimal(0)))} can still be reported. Enter a "
        "smaller quantity, or write to us if an earlier report was wrong."
    )


def _check_precision(qty: Decimal) -> None:
    """Reject a quantity the column would round, so 0.00001 never becomes 0."""
    places = QUANTITY_FIELD.decimal_places or 0
    if qty != qty.quantize(Decimal(1).scaleb(-places)):
        raise ProblemError(
            f"A quantity of {_bare(qty)} has more than {places} decimal places: "
            f"enter a multiple of {Decimal(1).scaleb(-places):f}.",
            field="quantity",
        )


def _check_whole_units(qty: Decimal, line: ShipmentLine) -> None:
    """Reject a fraction of a product counted in whole units.

    A unit of measure in ``COUNTED_UNITS`` (unit, box, bottle and the like)
    is counted, so 1.5 of it cannot be missing or damaged. Any other unit
    (kg, l, m) is measured and keeps its decimals.
    """
    product = line.order_line.product
    if not is_counted(product.uom) or qty == qty.to_integral_value():
        return
    low = qty.to_integral_value(rounding=ROUND_FLOOR)
    choices = f"{low + 1:f}" if low == 0 else f"{low:f} or {low + 1:f}"
    raise ProblemError(
        f"A quantity of {_bare(qty)} is not a whole number, but {product.name} "
        f"is counted in whole {unit_name(Decimal(2), product.uom)}: enter "
        f"{choices}.",
        field="quantity",
    )


def _bare(qty: Decimal) -> str:
    """Format a quantity without trailing zeros, for messages."""
    return f"{qty.normalize():f}"


def _invoice_case(
    customer: User, order: SalesOrder, problem: ProblemInput, message: str
) -> Discrepancy:
    invoice = problem.invoice
    if invoice is None or invoice.order_id != order.pk:
        raise ProblemError("Pick the invoice the problem is about.", field="invoice")
    if problem.kind == Kind.WRONG_PRICE:
        code = DiscrepancyCode.PRICE_MISMATCH
        fingerprint = f"{code}:customer_invoice:{invoice.pk}"
    else:
        code = DiscrepancyCode.DUPLICATE_INVOICE
        fingerprint = f"{code}:invoice:{invoice.pk}"
    return open_case(
        order=order,
        code=code,
        fingerprint=fingerprint,
        explanation=(
            f"{customer.display_name} disputes invoice {invoice.number}: {message}"
        ),
        actor=customer,
        unit=invoice.currency_id,
        invoice=invoice,
    )


# Decisions on proposals


# The word the customer reads for a case that is no longer active.
CUSTOMER_CASE_STATES: dict[str, str] = {
    State.RESOLVED: "resolved",
    State.CLOSED: "closed",
    State.REJECTED: "closed",
}


def lock_open_proposal(
    proposal_id: int, customer: User
) -> tuple[Discrepancy, ResolutionProposal]:
    """Lock a proposal made to ``customer`` and its case, or raise ``WorkError``.

    The proposal's order must be of the customer or one of its contacts, the
    rule of ``visible_orders``. The order is compared directly, because a
    practice sandbox's customer decides proposals of a sandbox order, which
    ``visible_orders`` leaves out.
    """
    customer_id = customer.customer_id or 0
    found = (
        ResolutionProposal.objects.filter(pk=proposal_id)
        .filter(
            Q(case__order__customer_id=customer_id)
            | Q(case__order__customer__parent_id=customer_id)
        )
        .values_list("case_id", "case__order_id")
        .first()
    )
    if found is None:
        raise WorkError(
            f"Proposal {proposal_id} was not found among your cases: open it from "
            "your case list."
        )
    case_id, order_id = found
    # The order before the case, as a problem report locks them, so that a
    # decision and a report of more units on the same case wait for each
    # other instead of deadlocking.
    lock_documents({SalesOrder: [order_id]})
    case = cases.lock_case(case_id)
    proposal = (
        ResolutionProposal.objects.select_for_update(of=("self",))
        .select_related("credit_note", "withdrawn_by_report")
        .get(pk=proposal_id)
    )
    if proposal.withdrawn_by_report is not None:
        raise WorkError(report_changed_text(proposal.withdrawn_by_report))
    if proposal.state != ResolutionProposal.State.AWAITING_CUSTOMER:
        raise WorkError(
            f"This proposal is {proposal.get_state_display().lower()}: there is "
            "nothing to decide on it now."
        )
    if not case.is_active:
        # The case page and the decision screen no longer end a case with an
        # open proposal, but older rows and a stale page can still get here.
        raise WorkError(
            f"This case is {CUSTOMER_CASE_STATES.get(case.state, 'closed')}, so "
            "this proposal is no longer open: there is nothing to decide on it now."
        )
    return case, proposal


def report_changed_text(report: ProblemReport) -> str:
    """Tell the customer that ``report``, of more units, withdrew their offer."""
    day = f"{timezone.localtime(report.reported_at):%Y-%m-%d}"
    return (
        f"We withdrew this offer on {day}, because more {report.kind} units were "
        "reported on this case after we made it, and the offer did not cover "
        "them. It can no longer be accepted or rejected, and nothing on it is "
        "owed or credited. Your sales rep will send a new proposal for the new "
        "quantity: you need not do anything now."
    )


# Message to the customer when the offer no longer fits its invoice. It
# names no amounts, because the sum behind it counts proposals that still
# wait for a manager's approval, which the customer does not see.
OUTDATED_OFFER = (
    "This offer is out of date: invoice {number} changed after we made it, so "
    "its credit note can no longer be posted. We withdrew the offer and told "
    "our staff, who will send you a new proposal. You need not do anything now."
)


def accept_proposal(*, customer: User, proposal_id: int) -> ResolutionProposal:
    """Accept a proposed resolution: post its credit note and resolve the case.

    The case counts as resolved by the person who proposed it, because the
    productivity measures are per employee; the audit event names the customer.

    The credit note is checked against its invoice's total again, under the
    invoice's row lock, because a write-off or another credit note may have
    taken room since it was proposed. When it no longer fits, nothing is
    posted: the proposal is withdrawn, the case goes back to the person who
    proposed it with a notification, and ``WorkError`` is raised with the
    customer's message after that transaction commits.
    """
    require_customer(customer)
    with transaction.atomic():
        case, proposal = lock_open_proposal(proposal_id, customer)
        outdated = offer_over_total(proposal)
        if outdated is None:
            _accept(case, proposal, customer)
        else:
            _withdraw_outdated(case, proposal, customer, outdated)
    if outdated is not None:
        logger.warning(
            "Proposal %s on case %s withdrawn when user %s accepted it: %s",
            proposal_id,
            case.pk,
            customer.pk,
            outdated,
        )
        invoice = proposal.credit_note.origin_invoice if proposal.credit_note else None
        number = invoice.number if invoice is not None else ""
        raise WorkError(OUTDATED_OFFER.format(number=number))
    logger.info("Proposal %s accepted by user %s", proposal_id, customer.pk)
    return proposal


def _accept(case: Discrepancy, proposal: ResolutionProposal, customer: User) -> None:
    record_decision(proposal, customer, ResolutionProposal.State.ACCEPTED, "")
    if proposal.credit_note is not None:
        _post_credit_note(proposal.credit_note, customer)
    note = f"The customer accepted: {proposal.message}"
    move_case(
        case,
        actor=customer,
        to=State.RESOLVED,
        reason=note,
        changes=resolution_changes(
            case, code=proposal.resolution_code, note=note, by=proposal.proposed_by
        ),
    )
    if case.order is not None:
        refresh_order(order=case.order)
        check_order_after_commit(case.order_id)
    notices.resolution_decided(proposal, customer=customer)


def _withdraw_outdated(
    case: Discrepancy, proposal: ResolutionProposal, customer: User, reason: str
) -> None:
    """Withdraw a proposal whose credit note no longer fits, and tell its author.

    The case goes back in progress, as after a rejection, so the person who
    proposed it can offer something that fits.
    """
    note = f"The customer tried to accept, but the offer no longer fits: {reason}"
    withdraw_proposal(proposal, actor=customer, reason=note)
    record_event(
        actor=customer,
        action="proposal.outdated",
        target=proposal,
        source=SCREEN,
        before={"state": ResolutionProposal.State.AWAITING_CUSTOMER},
        after={"state": proposal.state, "case_id": proposal.case_id},
        reason=reason,
    )
    move_case(
        case,
        actor=customer,
        to=State.IN_PROGRESS,
        reason=note,
        changes={"resolution_code": "", "resolution_note": ""},
    )
    notices.resolution_outdated(proposal, customer=customer)


# Maximum length of a customer's reason for rejecting a proposal, counted after
# cleaning, so that invisible characters do not use up the limit.
MAX_REJECTION_REASON_CHARS = 2000


def reject_proposal(
    *, customer: User, proposal_id: int, reason: str
) -> ResolutionProposal:
    """Reject a proposed resolution; the case goes back to the sales rep."""
    require_customer(customer)
    reason = clean_text(reason)
    if not reason:
        raise WorkError("Say why you reject the proposal, so we can do better.")
    if len(reason) > MAX_REJECTION_REASON_CHARS:
        raise WorkError(
            f"Your reason is {len(reason):,} characters long: shorten it to at "
            f"most {MAX_REJECTION_REASON_CHARS:,}, and attach details to a problem "
            "report if you need more room."
        )
    with transaction.atomic():
        case, proposal = lock_open_proposal(proposal_id, customer)
        record_decision(proposal, customer, ResolutionProposal.State.REJECTED, reason)
        if proposal.credit_note is not None:
            cancel_credit_note(proposal.credit_note, actor=customer, reason=reason)
        move_case(
            case,
            actor=customer,
            to=State.IN_PROGRESS,
            reason=f"The customer rejected the proposal: {reason}",
            changes={"resolution_code": "", "resolution_note": ""},
        )
        notices.resolution_decided(proposal, customer=customer)
    logger.info("Proposal %s rejected by user %s", proposal_id, customer.pk)
    return proposal


def record_decision(
    proposal: ResolutionProposal, customer: User, state: str, reason: str
) -> None:
    """Record the customer's acceptance or rejection of ``proposal``, with its event."""
    proposal.state = state
    proposal.decided_by = customer
    proposal.decided_at = timezone.now()
    proposal.customer_reason = reason
    proposal.save(
        update_fields=["state", "decided_by", "decided_at", "customer_reason"]
    )
    record_event(
        actor=customer,
        action=f"proposal.{state}",
        target=proposal,
        source=SCREEN,
        before={"state": ResolutionProposal.State.AWAITING_CUSTOMER},
        after={"state": state, "case_id": proposal.case_id},
        reason=reason,
    )


def _post_credit_note(credit_note: Invoice, actor: User) -> None:
    credit_note.state = Invoice.State.POSTED
    credit_note.invoice_date = timezone.localdate()
    credit_note.due_date = credit_note.invoice_date
    credit_note.save(update_fields=["state", "invoice_date", "due_date", "updated_at"])
    record_event(
        actor=actor,
        action="credit_note.posted",
        target=credit_note,
        source=SCREEN,
        before={"state": Invoice.State.DRAFT},
        after={
            "state": Invoice.State.POSTED,
            "amount_total": str(credit_note.amount_total),
        },
    )
