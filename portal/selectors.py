"""Reads of the customer portal, each starting from ``visible_orders``.

A customer sees the orders of their own company and what belongs to them:
shipments, posted invoices and credit notes, payments, the problems they
reported and the resolutions offered to them. Drafts, internal notes and the
matching's explanations never leave these functions.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Max, Prefetch, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from accounts.permissions import Viewer
from portal.models import Evidence, ProblemReport, ResolutionProposal
from reconciliation.models import (
    ACTIVE_CASE_STATES,
    Discrepancy,
    Invoice,
    InvoiceLine,
    Payment,
    SalesOrder,
    Shipment,
    ShipmentLine,
)
from reconciliation.selectors import visible_cases, visible_orders
from reconciliation.services import RECEIVABLE_KINDS

ZERO = Decimal(0)

# Proposals a customer sees: offered to them, or already decided by them.
CUSTOMER_PROPOSAL_STATES = (
    ResolutionProposal.State.AWAITING_CUSTOMER,
    ResolutionProposal.State.ACCEPTED,
    ResolutionProposal.State.REJECTED,
)


def customer_proposals() -> QuerySet[ResolutionProposal]:
    """Return the proposals that reached a customer, whatever became of them.

    A proposal withdrawn after it was offered (``offered_at`` is set) stays:
    the customer saw it, so the case and the withdrawal stay on the
    customer's pages. One a manager turned down before it reached the
    customer was never offered.
    """
    return ResolutionProposal.objects.filter(
        Q(state__in=CUSTOMER_PROPOSAL_STATES)
        | Q(state=ResolutionProposal.State.WITHDRAWN, offered_at__isnull=False)
    )


def customer_party_filter(viewer: User, field: str) -> Q:
    return Q(**{f"{field}_id": viewer.customer_id}) | Q(
        **{f"{field}__parent_id": viewer.customer_id}
    )


def customer_shipments(viewer: Viewer) -> QuerySet[Shipment]:
    """Return the shipments that left for the customer's orders, not drafts."""
    return (
        Shipment.objects.filter(order__in=visible_orders(viewer).values("pk"))
        .exclude(state__in=[Shipment.State.DRAFT, Shipment.State.CANCELLED])
        .select_related("order", "receipt_confirmation")
        .prefetch_related("lines__order_line")
        .order_by("-shipped_at", "-pk")
    )


def customer_invoices(viewer: Viewer) -> QuerySet[Invoice]:
    """Return the posted invoices, credit and debit notes of the customer."""
    if not isinstance(viewer, User) or not viewer.is_external:
        return Invoice.objects.none()
    return (
        Invoice.objects.filter(
            customer_party_filter(viewer, "customer"), state=Invoice.State.POSTED
        )
        .exclude(company__practice_session__isnull=False)
        .select_related("order", "currency")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=InvoiceLine.objects.select_related("product").order_by("pk"),
            )
        )
        .order_by("invoice_date", "number")
    )


def customer_cases(viewer: Viewer) -> QuerySet[Discrepancy]:
    """Return the cases the customer raised or was offered a resolution on.

    A case stays once an offer on it was withdrawn: it is still the
    customer's open question, and its page shows its status.
    """
    orders = visible_orders(viewer).values("pk")
    offered = customer_proposals().values("case_id")
    reported = ProblemReport.objects.filter(order__in=orders).values("case_id")
    return (
        Discrepancy.objects.filter(order__in=orders)
        .filter(Q(pk__in=offered) | Q(pk__in=reported))
        .select_related("order")
        .order_by("-created_at", "-pk")
    )


def access_customer_case(viewer: Viewer, case_id: int) -> Discrepancy:
    case = customer_cases(viewer).filter(pk=case_id).first()
    if case is None:
        raise Http404("No case found with that number.")
    return case


def case_proposals(case: Discrepancy) -> list[ResolutionProposal]:
    return list(
        customer_proposals()
        .filter(case=case)
        .select_related("credit_note__currency", "withdrawn_by_report")
        .prefetch_related("credit_note__lines__product")
    )


def access_shipment(viewer: Viewer, shipment_id: int) -> Shipment:
    shipment = customer_shipments(viewer).filter(pk=shipment_id).first()
    if shipment is None:
        raise Http404("No shipment found with that number.")
    return shipment


def access_evidence(viewer: Viewer, evidence_id: int) -> Evidence:
    """Return an evidence file for its customer company or staff who see the case."""
    if not isinstance(viewer, User):
        raise Http404("No file found.")
    evidence = Evidence.objects.select_related("report").filter(pk=evidence_id)
    if viewer.is_external:
        evidence = evidence.filter(report__order__in=visible_orders(viewer))
    else:
        evidence = evidence.filter(report__case__in=visible_cases(viewer))
    found = evidence.first()
    if found is None:
        raise Http404("No file found.")
    return found


# Statement of account


@dataclass(frozen=True)
class StatementLine:
    day: date
    document: str
    label: str
    debit: Decimal
    credit: Decimal
    balance: Decimal
    # What a credit note credits, line by line; empty for other documents.
    credited: tuple[InvoiceLine, ...] = ()


Entry = tuple[date, int, str, str, Decimal, Decimal, tuple[InvoiceLine, ...]]


@dataclass(frozen=True)
class Statement:
    currency: str
    minor_units: int
    lines: list[StatementLine]

    @property
    def balance(self) -> Decimal:
        return self.lines[-1].balance if self.lines else Decimal(0)

    @property
    def balance_label(self) -> str:
        """Name the closing balance from the customer's side: owed, credit or none."""
        if self.balance > 0:
            return "You owe"
        if self.balance < 0:
            return "Credit balance: we owe you"
        return "Nothing is owed"

    @property
    def balance_amount(self) -> Decimal:
        """Return the closing balance unsigned; ``balance_label`` names its side."""
        return abs(self.balance)


def statement_of_account(viewer: Viewer) -> list[Statement]:
    """Return one running statement per currency, oldest entry first.

    Invoices and debit notes add to what the customer owes; credit notes and
    payments received take from it. Money written off an invoice takes from
    it too. An overpayment the company kept adds back what the payment took
    off too much, so an invoice the matching settled leaves nothing owed.
    """
    if not isinstance(viewer, User) or not viewer.is_external:
        return []
    entries: dict[str, list[Entry]] = {}
    minor_units: dict[str, int] = {}
    for invoice in customer_invoices(viewer):
        is_credit = invoice.kind == Invoice.Kind.CREDIT_NOTE
        amount = invoice.amount_total
        minor_units[invoice.currency_id] = invoice.currency.minor_units
        entries.setdefault(invoice.currency_id, []).append(
            (
                invoice.invoice_date,
                0,
                invoice.number,
                invoice.get_kind_display(),
                Decimal(0) if is_credit else amount,
                amount if is_credit else Decimal(0),
                tuple(invoice.lines.all()) if is_credit else (),
            )
        )
    for currency, entry in _write_off_entries(viewer):
        entries.setdefault(currency, []).append(entry)
    payments = (
        Payment.objects.filter(customer_party_filter(viewer, "party"))
        .exclude(company__practice_session__isnull=False)
        .select_related("currency")
    )
    for payment in payments:
        minor_units[payment.currency_id] = payment.currency.minor_units
        entries.setdefault(payment.currency_id, []).append(
            (
                payment.value_date,
                1,
                payment.number,
                "Payment",
                Decimal(0),
                payment.amount,
                (),
            )
        )
    return [
        Statement(currency=code, minor_units=minor_units[code], lines=_running(rows))
        for code, rows in sorted(entries.items())
    ]


def _write_off_entries(viewer: Viewer) -> list[tuple[str, Entry]]:
    """Return the entries of money forgiven and overpayments kept, by currency.

    Each invoice gets one entry for what was forgiven on it and one for what
    was kept, each net of reversals, so both show even when they are the
    same size. The entries are dated on the invoice's latest allocation,
    where a write-off is booked.
    """
    invoices = (
        customer_invoices(viewer)
        .filter(kind__in=RECEIVABLE_KINDS)
        .annotate(
            forgiven=Sum("allocations__writeoff_forgiven"),
            kept=Sum("allocations__writeoff_kept"),
            last_allocated=Max("allocations__created_at"),
        )
        .exclude(Q(forgiven__isnull=True) | Q(forgiven=0, kept=0))
        .prefetch_related(None)
    )
    entries: list[tuple[str, Entry]] = []
    for invoice in invoices:
        day = timezone.localdate(invoice.last_allocated)
        if invoice.forgiven:
            entry = (day, 2, invoice.number, "Written off", ZERO, invoice.forgiven, ())
            entries.append((invoice.currency_id, entry))
        if invoice.kept:
            entry = (day, 2, invoice.number, "Overpayment kept", invoice.kept, ZERO, ())
            entries.append((invoice.currency_id, entry))
    return entries


def _running(rows: list[Entry]) -> list[StatementLine]:
    balance = Decimal(0)
    lines = []
    for day, _, number, label, debit, credit, credited in sorted(
        rows, key=lambda row: row[:4]
    ):
        balance += debit - credit
        lines.append(
            StatementLine(day, number, label, debit, credit, balance, credited)
        )
    return lines


@dataclass(frozen=True)
class OpenLineReport:
    """The latest open report of missing or damaged goods on one shipment line."""

    shipment_line: ShipmentLine
    kind: str
    kind_label: str
    # The quantity reported on the line now, by every report of the kind.
    reported: Decimal
    reported_at: datetime
    case_id: int


def open_line_reports(
    order: SalesOrder, shipment_lines: list[ShipmentLine]
) -> list[OpenLineReport]:
    """Return the open goods reports on the order's shipment lines, one per kind.

    ``shipment_lines`` are the lines the customer may report on, so the
    result names nothing the customer cannot see already.
    """
    by_pk = {line.pk: line for line in shipment_lines}
    reports = (
        ProblemReport.objects.filter(
            order=order,
            kind__in=(ProblemReport.Kind.MISSING, ProblemReport.Kind.DAMAGED),
            shipment_line_id__in=by_pk,
            case__state__in=ACTIVE_CASE_STATES,
        )
        .order_by("-reported_at", "-pk")
        .values_list("shipment_line_id", "kind", "reported_at", "case_id")
    )
    latest: dict[tuple[int, str], OpenLineReport] = {}
    for line_id, kind, reported_at, case_id in reports:
        if (line_id, kind) in latest:
            continue
        line = by_pk[line_id]
        latest[(line_id, kind)] = OpenLineReport(
            shipment_line=line,
            kind=kind,
            kind_label=ProblemReport.Kind(kind).label,
            reported=reported_quantity(line, kind),
            reported_at=reported_at,
            case_id=case_id,
        )
    return sorted(
        latest.values(),
        key=lambda item: (item.shipment_line.shipment.number, item.shipment_line.pk),
    )


def reported_quantity(line: ShipmentLine, kind: str) -> Decimal:
    """Return the quantity reported missing or damaged on a shipment line.

    Before a receipt or a missing report ``qty_received`` is empty, and
    nothing is missing yet. Received, damaged and missing add up to shipped.
    """
    if kind == ProblemReport.Kind.DAMAGED:
        return line.qty_damaged
    if line.qty_received is None:
        return Decimal(0)
    return line.qty_shipped - line.qty_damaged - line.qty_received


@dataclass(frozen=True)
class ReportedUnits:
    """The units that the customer reported missing or damaged on an order line."""

    missing: Decimal = ZERO
    damaged: Decimal = ZERO


def reported_units_by_line(order: SalesOrder) -> dict[int, ReportedUnits]:
    """Return the customer's missing and damaged reports per order line id.

    Only reports from customer accounts count: a shortage or damage that
    the warehouse recorded itself is internal and stays off the portal.
    Every report counts whatever its case became, because the customer did
    report those units.
    """
    totals = (
        ProblemReport.objects.filter(
            order=order,
            kind__in=(ProblemReport.Kind.MISSING, ProblemReport.Kind.DAMAGED),
            shipment_line__isnull=False,
            quantity__isnull=False,
            reported_by__customer__isnull=False,
        )
        .values_list("shipment_line__order_line_id", "kind")
        .annotate(total=Sum("quantity"))
        .order_by()
    )
    by_line: dict[int, dict[str, Decimal]] = {}
    for line_id, kind, total in totals:
        by_line.setdefault(line_id, {})[kind] = total
    return {
        line_id: ReportedUnits(
            missing=kinds.get(ProblemReport.Kind.MISSING, ZERO),
            damaged=kinds.get(ProblemReport.Kind.DAMAGED, ZERO),
        )
        for line_id, kinds in by_line.items()
    }
