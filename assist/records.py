"""The CRM record a question from the help panel is about, and who may see it.

A record is a kind (``Question.RecordKind``) and a number. Each kind has one
visibility rule, in the selectors of the reconciliation app, and every
surface here goes through it. The ask rejects a record the asker may not
see, and a screen offers only a record its viewer may see. The question
page and API name the record only to readers who may see it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.urls import NoReverseMatch, reverse

from accounts.models import Role, User
from accounts.permissions import Viewer
from answers.models import Question
from reconciliation.models import Discrepancy, Payment
from reconciliation.purchase_selectors import (
    visible_purchase_orders,
    visible_vendor_bills,
)
from reconciliation.selectors import (
    visible_invoices,
    visible_orders,
    visible_payments,
)

RecordKind = Question.RecordKind

VISIBILITY_RULES: dict[str, Callable[[Viewer], QuerySet[Any]]] = {
    RecordKind.ORDER: visible_orders,
    RecordKind.PAYMENT: visible_payments,
    RecordKind.INVOICE: visible_invoices,
    RecordKind.VENDOR_BILL: visible_vendor_bills,
    RecordKind.PURCHASE_ORDER: visible_purchase_orders,
}


@dataclass(frozen=True)
class HelpRecord:
    """A record's kind and number, both empty for no record."""

    kind: str = ""
    ref: str = ""

    def __bool__(self) -> bool:
        return bool(self.ref)

    @property
    def label(self) -> str:
        """Return the record as the asker reads it, e.g. "payment PAY-0042"."""
        return f"{RecordKind(self.kind).label.lower()} {self.ref}"


NO_RECORD = HelpRecord()


def parse_record(kind: str, ref: str) -> HelpRecord:
    """Return the record a form names, or raise ``ValidationError``.

    An empty number is no record, whatever the kind. A number without a kind
    is an order's, as every record was before the kind was stored, so tools
    that embed the panel with an order number keep working.
    """
    if not ref:
        return NO_RECORD
    if not kind:
        return HelpRecord(RecordKind.ORDER, ref)
    if kind not in RecordKind.values:
        raise ValidationError(
            f"Unknown record kind {kind!r}: use order, payment, invoice, "
            "vendor_bill or purchase_order, or reload the page and ask again.",
            code="own",
        )
    return HelpRecord(kind, ref)


def visible_record(viewer: Viewer, record: HelpRecord) -> Any | None:
    """Return the row ``record`` names if ``viewer`` may see it, else None."""
    if not record or record.kind not in VISIBILITY_RULES:
        return None
    rule = VISIBILITY_RULES[record.kind]
    return rule(viewer).filter(number=record.ref).first()


def offered_record(viewer: Viewer, record: HelpRecord) -> HelpRecord:
    """Return ``record`` if ``viewer`` may see it, else ``NO_RECORD``.

    A screen hands its help panel only a record the ask will accept.
    """
    return record if visible_record(viewer, record) is not None else NO_RECORD


def case_record(case: Discrepancy) -> HelpRecord:
    """Return the record a case's question is about.

    The order comes first. A case on no order names its payment, then its
    vendor bill, then its purchase order, then its invoice.
    """
    if case.order is not None:
        return HelpRecord(RecordKind.ORDER, case.order.number)
    if case.payment is not None:
        return HelpRecord(RecordKind.PAYMENT, case.payment.number)
    if case.vendor_bill is not None:
        return HelpRecord(RecordKind.VENDOR_BILL, case.vendor_bill.number)
    if case.purchase_order is not None:
        return HelpRecord(RecordKind.PURCHASE_ORDER, case.purchase_order.number)
    if case.invoice is not None:
        return HelpRecord(RecordKind.INVOICE, case.invoice.number)
    return NO_RECORD


def question_record(question: Question) -> HelpRecord:
    """Return the record ``question`` is about, as stored."""
    if not question.record_ref:
        return NO_RECORD
    return HelpRecord(question.record_kind or RecordKind.ORDER, question.record_ref)


@dataclass(frozen=True)
class RecordLink:
    """A record as one reader is shown it, with the page that opens it."""

    kind: str
    ref: str
    label: str
    # Empty when no page opens this record for the reader, e.g. a payment
    # applied to no order for a manager, who may see it but not use the
    # cash screen.
    url: str


def _number_url(name: str, number: str) -> str:
    """Return the page of the record ``number``, or "" when no route takes it.

    A number with a slash, which an import may bring, matches no route.
    """
    try:
        return reverse(name, args=[number])
    except NoReverseMatch:
        return ""


def _payment_url(viewer: User, payment: Payment) -> str:
    """Return the page that shows ``payment`` to ``viewer``, or "".

    The clerk applies it on the cash screen, a customer reads it on the
    statement, and another employee reads it on the page of an order it is
    applied to (``visible_payments`` lets them see it for that order).
    """
    if viewer.role == Role.FINANCE_CLERK:
        return f"{reverse('reconciliation:work_cash')}?payment={payment.pk}"
    if viewer.is_external:
        return reverse("reconciliation:portal_statement")
    order_number = (
        visible_orders(viewer)
        .filter(invoices__allocations__payment=payment)
        .values_list("number", flat=True)
        .order_by("number")
        .first()
    )
    if order_number is None:
        return ""
    return _number_url("reconciliation:order_detail", order_number)


def _record_url(viewer: User, record: HelpRecord, row: Any) -> str:
    if record.kind == RecordKind.ORDER:
        return _number_url("reconciliation:order_detail", row.number)
    if record.kind == RecordKind.PAYMENT:
        return _payment_url(viewer, row)
    if record.kind == RecordKind.VENDOR_BILL:
        return _number_url("reconciliation:vendor_bill", row.number)
    if record.kind == RecordKind.PURCHASE_ORDER:
        return _number_url("reconciliation:purchase_order", row.number)
    # An invoice opens on its order's page, or on a customer's statement.
    if row.order_id is not None:
        return _number_url("reconciliation:order_detail", row.order.number)
    if viewer.is_external:
        return reverse("reconciliation:portal_statement")
    return ""


def record_link(viewer: Viewer, question: Question) -> RecordLink | None:
    """Return the question's record for ``viewer``, or None.

    None when the question names no record or the reader may not see it. In
    that case the page shows no trace of the record, not even its number.
    """
    record = question_record(question)
    row = visible_record(viewer, record)
    if row is None or not isinstance(viewer, User):
        return None
    return RecordLink(
        kind=record.kind,
        ref=record.ref,
        label=record.label,
        url=_record_url(viewer, record, row),
    )
