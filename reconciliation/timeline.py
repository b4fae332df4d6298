"""The audit timeline of an order and of a case: documents and events, newest first.

An order's timeline lists its documents: shipments, invoices, credit and
debit notes, payments applied to its invoices and returns. It also lists
the audit events on the order, on each of those documents and on every
case, approval, proposal and problem report that belongs to the order. A
case's timeline lists the events on the case and on what belongs to it.

Visibility follows the one rule of each object: a case the viewer may not
open (``visible_cases``) adds nothing to the order's timeline, and a payment
the viewer may not see (``visible_payments``) adds neither its allocation
nor its events. The timeline is for staff: the order page sends a customer
to the portal before it is built, and ``order_timeline`` returns nothing for
an external account as a second guard.

The number of queries of one page does not grow with the number of events.
It is one per kind of subject, one for the currencies, one count and one
page of a UNION ALL of events and documents, and one read of the page's
events. The import batches and the people that the page's events name add
one query each when there are any (``timeline_text``).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import (
    Case,
    CharField,
    DateField,
    DateTimeField,
    F,
    Model,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce
from django.urls import reverse

from accounts.models import User
from accounts.permissions import Viewer
from core.models import AuditEvent
from portal.models import ProblemReport, ResolutionProposal
from reconciliation.cases import shown_case_number
from reconciliation.models import (
    Allocation,
    Approval,
    Currency,
    Discrepancy,
    Invoice,
    MatchGroup,
    Payment,
    ReturnAuthorization,
    SalesOrder,
    SalesOrderLine,
    Shipment,
)
from reconciliation.selectors import visible_cases, visible_payments

ENTRIES_PER_PAGE = 20


class Kind:
    """The kinds a reader filters the timeline by, each a group of subjects."""

    ORDER = "order"
    SHIPMENTS = "shipments"
    INVOICES = "invoices"
    PAYMENTS = "payments"
    RETURNS = "returns"
    MATCHES = "matches"
    CASES = "cases"

    CHOICES = (
        (ORDER, "Order and lines"),
        (SHIPMENTS, "Shipments"),
        (INVOICES, "Invoices and credit notes"),
        (PAYMENTS, "Payments"),
        (RETURNS, "Returns"),
        (MATCHES, "Matches"),
        (CASES, "Cases and approvals"),
    )
    VALUES = frozenset(value for value, _label in CHOICES)


# The kind of each subject model, by the ``object_type`` its events carry.
SUBJECT_KINDS: dict[str, str] = {
    "reconciliation.salesorder": Kind.ORDER,
    "reconciliation.salesorderline": Kind.ORDER,
    "reconciliation.shipment": Kind.SHIPMENTS,
    "reconciliation.invoice": Kind.INVOICES,
    "reconciliation.allocation": Kind.PAYMENTS,
    "reconciliation.payment": Kind.PAYMENTS,
    "reconciliation.returnauthorization": Kind.RETURNS,
    "reconciliation.matchgroup": Kind.MATCHES,
    "reconciliation.discrepancy": Kind.CASES,
    "reconciliation.approval": Kind.CASES,
    "portal.resolutionproposal": Kind.CASES,
    "portal.problemreport": Kind.CASES,
}

# The entry type of each document in the UNION, with the subject it is.
DOCUMENT_TYPES: dict[str, str] = {
    "shipment": "reconciliation.shipment",
    "invoice": "reconciliation.invoice",
    "allocation": "reconciliation.allocation",
    "return": "reconciliation.returnauthorization",
}
EVENT = "event"


@dataclass(frozen=True)
class Subject:
    """An object whose events the timeline shows, with what a reader calls it."""

    label: str
    # Code of the currency of the money on the object, or empty where it
    # carries no money or only its events name the currency (a case).
    currency: str = ""
    url: str = ""
    # The unit of a quantity on the object, such as a match's "unit" or
    # "days", where its figures are not money.
    unit: str = ""


@dataclass
class Subjects:
    """The objects of one timeline, by ``object_type`` and then by primary key."""

    by_type: dict[str, dict[str, Subject]] = field(default_factory=dict)
    # The documents the timeline lists as entries of their own, by entry
    # type: the rows for the UNION, and the loaded documents by primary key.
    documents: dict[str, QuerySet[Any]] = field(default_factory=dict)
    records: dict[str, dict[int, Any]] = field(default_factory=dict)

    def add(self, model: type[Model], rows: Iterable[tuple[object, Subject]]) -> None:
        found = self.by_type.setdefault(model._meta.label_lower, {})
        for pk, subject in rows:
            found[str(pk)] = subject

    def get(self, object_type: str, object_id: str) -> Subject | None:
        return self.by_type.get(object_type, {}).get(object_id)


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


@dataclass
class Entry:
    """One row of the timeline: a document, or an audit event on a subject."""

    when: datetime | date
    kind: str
    title: str
    subject: str = ""
    subject_url: str = ""
    is_document: bool = False
    actor: str = ""
    role: str = ""
    changes: list[Change] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)
    why: str = ""
    source: str = ""
    source_detail: str = ""
    source_url: str = ""


@dataclass
class Timeline:
    """One page of a timeline: the page of rows for paging, and their entries."""

    page: Page[dict[str, Any]]
    entries: list[Entry]
    kind: str
    kinds: tuple[tuple[str, str], ...]


def _case_label(case: Discrepancy) -> str:
    # In the practice sandbox a case is named by the session's number.
    return f"Case #{shown_case_number(case.pk)} {case.get_code_display()}"


def _case_subjects(
    subjects: Subjects, cases: QuerySet[Discrepancy], *, link: bool
) -> None:
    """Add the cases and the approvals, proposals and reports that belong to them.

    ``link`` gives each case the address of its page. The case page passes
    False, because a practice case has its page at another address.
    """
    case_rows = list(cases)
    labels = {case.pk: _case_label(case) for case in case_rows}
    subjects.add(
        Discrepancy,
        (
            (
                case.pk,
                Subject(
                    labels[case.pk],
                    url=reverse("reconciliation:case_detail", args=[case.pk])
                    if link
                    else "",
                ),
            )
            for case in case_rows
        ),
    )
    case_ids = list(labels)
    subjects.add(
        Approval,
        (
            (pk, Subject(f"Approval on {labels[case_id]}", currency))
            for pk, case_id, currency in Approval.objects.filter(
                case_id__in=case_ids
            ).values_list("pk", "case_id", "currency_id")
        ),
    )
    subjects.add(
        ResolutionProposal,
        (
            (pk, Subject(f"Proposal on {labels[case_id]}"))
            for pk, case_id in ResolutionProposal.objects.filter(
                case_id__in=case_ids
            ).values_list("pk", "case_id")
        ),
    )
    subjects.add(
        ProblemReport,
        (
            (pk, Subject(f"Customer report on {labels[case_id]}"))
            for pk, case_id in ProblemReport.objects.filter(
                case_id__in=case_ids
            ).values_list("pk", "case_id")
        ),
    )


def _dated(expression: Any) -> Cast:
    """Return a date expression as a datetime, so documents sort with events."""
    return Cast(expression, DateTimeField())


def _entry_rows(queryset: QuerySet[Any], entry_type: str, when: Any) -> QuerySet[Any]:
    rows: QuerySet[Any] = (
        queryset.order_by()
        .annotate(
            entry_type=Value(entry_type, output_field=CharField()),
            entry_when=when,
            entry_id=F("pk"),
        )
        .values("entry_type", "entry_when", "entry_id")
    )
    return rows


def _add_documents(subjects: Subjects, viewer: Viewer, order: SalesOrder) -> None:
    """Add the order's documents and the payments applied to its invoices."""
    # The documents are read whole, so describing a page of them costs no
    # query. An order has a few of each.
    shipments = Shipment.objects.filter(order=order)
    shipment_rows = {row.pk: row for row in shipments.select_related("backorder_of")}
    subjects.add(
        Shipment,
        ((pk, Subject(f"Shipment {row.number}")) for pk, row in shipment_rows.items()),
    )
    invoices = Invoice.objects.filter(order=order)
    invoice_rows = {
        row.pk: row for row in invoices.select_related("currency", "origin_invoice")
    }
    subjects.add(
        Invoice,
        (
            (pk, Subject(f"{row.get_kind_display()} {row.number}", row.currency_id))
            for pk, row in invoice_rows.items()
        ),
    )
    payments = visible_payments(viewer)
    allocations = Allocation.objects.filter(
        invoice__order=order, payment__in=payments.values("pk")
    )
    allocation_rows = {
        row.pk: row
        for row in allocations.select_related(
            "payment", "invoice__currency", "invoice__company__base_currency"
        )
    }
    subjects.add(
        Allocation,
        (
            (
                pk,
                Subject(
                    f"Payment {row.payment.number} on {row.invoice.number}",
                    row.invoice.currency_id,
                ),
            )
            for pk, row in allocation_rows.items()
        ),
    )
    subjects.add(
        Payment,
        (
            (pk, Subject(f"Payment {number}", currency))
            for pk, number, currency in payments.filter(
                allocations__invoice__order=order
            )
            .distinct()
            .values_list("pk", "number", "currency_id")
        ),
    )
    returns = ReturnAuthorization.objects.filter(order=order)
    return_rows = {row.pk: row for row in returns}
    subjects.add(
        ReturnAuthorization,
        ((pk, Subject(f"Return {row.number}")) for pk, row in return_rows.items()),
    )
    subjects.documents = {
        "shipment": _entry_rows(
            shipments,
            "shipment",
            _dated(Coalesce("shipped_at", Cast("created_at", DateField()))),
        ),
        "invoice": _entry_rows(invoices, "invoice", _dated("invoice_date")),
        # A reversal row is dated by the time it was written, and a payment's
        # own row by the day the money arrived.
        "allocation": _entry_rows(
            allocations,
            "allocation",
            Case(
                When(reverses__isnull=False, then=F("created_at")),
                default=_dated("payment__value_date"),
                output_field=DateTimeField(),
            ),
        ),
        "return": _entry_rows(
            returns,
            "return",
            _dated(Coalesce("received_at", Cast("created_at", DateField()))),
        ),
    }
    subjects.records = {
        "shipment": shipment_rows,
        "invoice": invoice_rows,
        "allocation": allocation_rows,
        "return": return_rows,
    }


def order_subjects(viewer: Viewer, order: SalesOrder) -> Subjects:
    """Collect what belongs to ``order`` and what ``viewer`` may see of it."""
    subjects = Subjects()
    code = order.currency_id
    subjects.add(SalesOrder, [(order.pk, Subject(f"Order {order.number}", code))])
    subjects.add(
        SalesOrderLine,
        (
            (pk, Subject(f"Line {line_no} of {order.number}", code))
            for pk, line_no in SalesOrderLine.objects.filter(order=order).values_list(
                "pk", "line_no"
            )
        ),
    )
    _add_documents(subjects, viewer, order)
    subjects.add(
        MatchGroup,
        (
            # A match's ``unit`` is its currency's code when it compares money,
            # and a unit of measure or "days" when it compares anything else.
            (
                pk,
                Subject(
                    f"Match M{pk}, {MatchGroup.Kind(kind).label.lower()}",
                    currency=unit,
                    unit=unit,
                ),
            )
            for pk, kind, unit in MatchGroup.objects.filter(order=order).values_list(
                "pk", "kind", "unit"
            )
        ),
    )
    _case_subjects(
        subjects,
        visible_cases(viewer).filter(Q(order=order) | Q(invoice__order=order)),
        link=True,
    )
    return subjects


def case_subjects(case: Discrepancy) -> Subjects:
    """Collect the case, its approvals, proposals, reports and credit notes.

    The caller has checked that the viewer may open ``case``.
    """
    subjects = Subjects()
    _case_subjects(subjects, Discrepancy.objects.filter(pk=case.pk), link=False)
    credit_notes = Invoice.objects.filter(
        pk__in=ResolutionProposal.objects.filter(
            case=case, credit_note__isnull=False
        ).values("credit_note_id")
    )
    subjects.add(
        Invoice,
        (
            (pk, Subject(f"{Invoice.Kind(kind).label} {number}", currency))
            for pk, kind, number, currency in credit_notes.values_list(
                "pk", "kind", "number", "currency_id"
            )
        ),
    )
    return subjects


def _event_rows(subjects: Subjects, kind: str) -> QuerySet[Any]:
    condition = Q()
    for object_type, found in subjects.by_type.items():
        if found and (not kind or SUBJECT_KINDS.get(object_type) == kind):
            condition |= Q(object_type=object_type, object_id__in=list(found))
    if not condition:
        return AuditEvent.objects.none().values("pk")
    return _entry_rows(AuditEvent.objects.filter(condition), EVENT, F("occurred_at"))


def _union(subjects: Subjects, kind: str) -> QuerySet[Any]:
    parts = [_event_rows(subjects, kind)]
    for entry_type, rows in subjects.documents.items():
        if not kind or SUBJECT_KINDS[DOCUMENT_TYPES[entry_type]] == kind:
            parts.append(rows)
    first, *rest = parts
    return first.union(*rest, all=True).order_by("-entry_when", "-entry_id")


def build_timeline(
    viewer: Viewer, subjects: Subjects, *, kind: str = "", page: str | int | None = 1
) -> Timeline:
    """Return one page of the timeline of ``subjects``, newest first.

    ``kind`` keeps the entries of one ``Kind``, and an unknown kind shows all.
    """
    # Imported here because timeline_text imports the dataclasses above.
    from reconciliation.timeline_text import describe_documents, describe_events

    if kind not in Kind.VALUES:
        kind = ""
    paginator: Paginator[dict[str, Any]] = Paginator(
        _union(subjects, kind), ENTRIES_PER_PAGE
    )
    rows = paginator.get_page(page)
    by_type: dict[str, list[int]] = {}
    for row in rows.object_list:
        by_type.setdefault(row["entry_type"], []).append(row["entry_id"])
    currencies = dict(Currency.objects.values_list("code", "minor_units"))
    described = {
        **describe_events(viewer, subjects, currencies, by_type.get(EVENT, [])),
        **describe_documents(subjects, by_type),
    }
    entries = [
        described[(row["entry_type"], row["entry_id"])]
        for row in rows.object_list
        if (row["entry_type"], row["entry_id"]) in described
    ]
    kinds = tuple(
        choice
        for choice in Kind.CHOICES
        if any(
            SUBJECT_KINDS.get(object_type) == choice[0] and found
            for object_type, found in subjects.by_type.items()
        )
    )
    return Timeline(page=rows, entries=entries, kind=kind, kinds=kinds)


def order_timeline(
    viewer: Viewer, order: SalesOrder, *, kind: str = "", page: str | int | None = 1
) -> Timeline | None:
    """Return the staff timeline of ``order``, or None for a customer."""
    if not isinstance(viewer, User) or viewer.is_external:
        return None
    return build_timeline(viewer, order_subjects(viewer, order), kind=kind, page=page)
