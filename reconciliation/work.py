"""Shared pieces of the work screens: role checks, typed numbers, case moves.

The writes live in a module per role: ``warehouse_work`` (picked and shipped
quantities, shortages), ``backorder_decisions`` and ``credit_proposals``
(the sales rep), ``approval_decisions`` (the finance manager) and
``cash_work`` (the finance clerk). Each of their public functions is one
transaction with an audit event whose source is the screen. It raises
``PermissionDenied`` for a person of the wrong role (the view returns 403)
and ``WorkError`` for bad input, with a message that names the value.
Running quantities of order lines are never set there: a shipment is
written as documents and ``refresh_order`` derives the rest.
"""

import logging
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.utils import timezone

from accounts.models import Role, User
from core.audit import record_event
from core.models import AuditEvent
from core.numbers import InvalidDecimalError, parse_decimal
from portal.models import ResolutionProposal
from reconciliation import cases

# Re-exported: the case pages and the practice sandbox read it from here.
from reconciliation.cancellations import BACKORDER_CODES as BACKORDER_CODES
from reconciliation.case_credit import case_open_amount
from reconciliation.credit_notes import (
    invoice_money,
)
from reconciliation.models import (
    Allocation,
    Currency,
    Discrepancy,
    Invoice,
    ReconStatus,
    SalesOrder,
    SalesOrderLine,
    Shipment,
    ShipmentLine,
)
from reconciliation.taxonomy import RULES

logger = logging.getLogger(__name__)

State = Discrepancy.State
SCREEN = AuditEvent.Source.SCREEN
ZERO = Decimal(0)
SHIP_LATER, CANCEL_REST = "ship_later", "cancel_rest"


class WorkError(cases.CaseNamingError):
    """A work action that the documents or the input do not allow."""


def require_role(person: User, role: str, action: str) -> None:
    """Raise ``PermissionDenied`` unless ``person`` is an active ``role``."""
    if not person.is_active or person.role != role:
        raise PermissionDenied(
            f"{person.username} may not {action}: it is work for the "
            f"{Role(role).label.lower()} role."
        )


# Typed quantities and amounts follow one rule, ``core.numbers.parse_decimal``,
# at the precision of the columns that store them.
QUANTITY_FIELD = ShipmentLine._meta.get_field("qty_shipped")
MONEY_FIELD = Allocation._meta.get_field("amount")


def parse_quantity(raw: str, *, label: str) -> Decimal:
    """Parse a typed quantity that the quantity columns can store.

    Raises ``WorkError`` with a message that names ``label`` and the text.
    """
    return _parse(
        raw,
        label=label,
        max_digits=QUANTITY_FIELD.max_digits or 0,
        decimal_places=QUANTITY_FIELD.decimal_places or 0,
    )


def parse_amount(raw: str, *, label: str, currency: Currency | None) -> Decimal:
    """Parse a typed amount of ``currency``, to at most its minor units.

    Without a currency (the payment or invoice is not found) the amount is
    checked against the money columns only, and the service then reports
    the missing document. Raises ``WorkError`` naming ``label`` and the text.
    """
    column_places = MONEY_FIELD.decimal_places or 0
    places = column_places
    if currency is not None:
        places = min(currency.minor_units, column_places)
        label = f"{label} in {currency.code}"
    return _parse(
        raw,
        label=label,
        max_digits=(MONEY_FIELD.max_digits or 0) - column_places + places,
        decimal_places=places,
    )


def _parse(raw: str, *, label: str, max_digits: int, decimal_places: int) -> Decimal:
    try:
        return parse_decimal(
            raw, label=label, max_digits=max_digits, decimal_places=decimal_places
        )
    except InvalidDecimalError as error:
        raise WorkError(str(error)) from None


def credit_limit() -> Decimal:
    raw = settings.SALES_REP_CREDIT_LIMIT
    try:
        limit = Decimal(str(raw))
    except InvalidOperation:
        raise ImproperlyConfigured(
            f"SALES_REP_CREDIT_LIMIT={raw!r} is not a number: "
            "set it to an amount such as 250.00."
        ) from None
    if limit < 0:
        raise ImproperlyConfigured(
            f"SALES_REP_CREDIT_LIMIT={raw!r} is negative: set it to zero or more."
        )
    return limit


# Case moves made by these screens


def move_case(
    case: Discrepancy,
    *,
    actor: User,
    to: str,
    reason: str,
    changes: Mapping[str, object] | None = None,
    offering: ResolutionProposal | None = None,
) -> None:
    """Move a locked case to ``to``, through ``in_progress`` when it must.

    Each step is checked against ``cases.TRANSITIONS`` and gets its own audit
    event, as on the case page. A move that a waiting proposal forbids is
    rejected (``cases.check_proposal_allows``); ``offering`` is the proposal
    the move itself offers to the customer.
    """
    cases.check_proposal_allows(case, to, offering=offering)
    allowed = cases.TRANSITIONS.get(case.state, ())
    if to not in allowed and State.IN_PROGRESS in allowed:
        _step(case, actor=actor, to=State.IN_PROGRESS, reason=reason, changes={})
    if to not in cases.TRANSITIONS.get(case.state, ()):
        raise cases.InvalidTransition(case, to)
    _step(case, actor=actor, to=to, reason=reason, changes=dict(changes or {}))


def _step(
    case: Discrepancy,
    *,
    actor: User,
    to: str,
    reason: str,
    changes: dict[str, object],
) -> None:
    fields = ("state", *changes)
    before = {name: _plain(getattr(case, name)) for name in fields}
    was_active = case.is_active
    case.state = to
    for name, value in changes.items():
        setattr(case, name, value)
    case.save(update_fields=[*fields, "updated_at"])
    record_event(
        actor=actor,
        action="case.state_changed",
        target=case,
        source=SCREEN,
        before=before,
        after={name: _plain(getattr(case, name)) for name in fields},
        reason=reason,
    )
    cases.check_order_if_case_ended_or_opened(case, was_active=was_active)


def _plain(value: object) -> object:
    if isinstance(value, Decimal | date):
        return str(value) if isinstance(value, Decimal) else value.isoformat()
    return value


def resolution_changes(
    case: Discrepancy, *, code: str, note: str, by: User
) -> dict[str, object]:
    now = timezone.now()
    return {
        "resolution_code": code,
        "resolution_note": note,
        "resolved_at": now,
        "resolved_by_id": by.pk,
        "resolution_seconds": int((now - case.created_at).total_seconds()),
    }


def open_case(
    *,
    order: SalesOrder,
    code: str,
    fingerprint: str,
    explanation: str,
    actor: User,
    expected: Decimal | None = None,
    actual: Decimal | None = None,
    unit: str = "",
    order_line: SalesOrderLine | None = None,
    shipment: Shipment | None = None,
    invoice: Invoice | None = None,
) -> Discrepancy:
    """Open the case a person reported, or reopen the one the engine keeps.

    The fingerprint is the matching pass's own where it finds the same fault,
    so the next pass updates this case instead of opening a second one.
    """
    rule = RULES[code]
    existing = (
        Discrepancy.objects.select_for_update(of=("self",))
        .filter(company=order.company, fingerprint=fingerprint)
        .order_by("pk")
        .first()
    )
    if existing is not None:
        if invoice is not None and existing.invoice_id is None:
            # Billed since the case was opened: a credit note can name it now.
            existing.invoice = invoice
            existing.save(update_fields=["invoice", "updated_at"])
            record_event(
                actor=actor,
                action="case.invoice_linked",
                target=existing,
                source=SCREEN,
                before={"invoice": None},
                after={"invoice": invoice.number},
                reason=f"Invoice {invoice.number} billed the units of this case.",
            )
        _update_reported_figures(
            existing,
            actor=actor,
            expected=expected,
            actual=actual,
            explanation=explanation,
        )
        if not existing.is_active:
            reopen = {
                "resolved_at": None,
                "resolved_by_id": None,
                "resolution_code": "",
                "resolution_note": "",
                "reopen_count": existing.reopen_count + 1,
            }
            move_case(
                existing,
                actor=actor,
                to=State.REOPENED,
                reason=explanation,
                changes=reopen,
            )
        if not rule.informational:
            _mark_exception(order)
        return existing

    now = timezone.now()
    case = Discrepancy.objects.create(
        company=order.company,
        control_point=rule.control_point,
        order=order,
        order_line=order_line,
        shipment=shipment,
        invoice=invoice,
        code=code,
        severity=rule.severity,
        owner_role=rule.owner_role,
        due_at=cases.compute_due_at(
            severity=rule.severity,
            detected_at=now,
            timezone_name=order.company.timezone,
        ),
        expected_value=expected,
        actual_value=actual,
        difference=None if expected is None or actual is None else actual - expected,
        unit=unit,
        explanation=explanation,
        rule=f"reported.{code.lower()}@1",
        fingerprint=fingerprint,
    )
    record_event(
        actor=actor,
        action="case.reported",
        target=case,
        source=SCREEN,
        after={
            "code": code,
            "order": order.number,
            "fingerprint": fingerprint,
            "invoice": invoice.number if invoice is not None else None,
        },
        reason=explanation,
    )
    logger.info("Case %s (%s) reported by user %s", case.pk, code, actor.pk)
    if not rule.informational:
        _mark_exception(order)
    return case


def _mark_exception(order: SalesOrder) -> None:
    """Show an order with a reported case as an exception at once.

    The matching pass keeps it so while the case is open
    (``matching._save_order_results``), and the order lists filter by it.
    """
    SalesOrder.objects.filter(pk=order.pk).exclude(
        recon_status=ReconStatus.EXCEPTION
    ).update(recon_status=ReconStatus.EXCEPTION)
    order.recon_status = ReconStatus.EXCEPTION


def _update_reported_figures(
    case: Discrepancy,
    *,
    actor: User,
    expected: Decimal | None,
    actual: Decimal | None,
    explanation: str,
) -> None:
    """Store a repeated report's running figures and text on the case it adds to.

    The reporting service passes the line's totals, with every earlier report
    counted, so the case shows the sum of the reports, not the first one.
    """
    if expected is None or actual is None:
        return
    before = {
        "expected_value": _plain(case.expected_value),
        "actual_value": _plain(case.actual_value),
        "difference": _plain(case.difference),
    }
    case.expected_value = expected
    case.actual_value = actual
    case.difference = actual - expected
    case.explanation = explanation
    case.save(
        update_fields=[
            "expected_value",
            "actual_value",
            "difference",
            "explanation",
            "updated_at",
        ]
    )
    record_event(
        actor=actor,
        action="case.report_added",
        target=case,
        source=SCREEN,
        before=before,
        after={
            "expected_value": _plain(expected),
            "actual_value": _plain(actual),
            "difference": _plain(case.difference),
        },
        reason=explanation,
    )


def lock_case_for_rep(actor: User, case_id: int, action: str) -> Discrepancy:
    require_role(actor, Role.SALES_REP, action)
    case = cases.lock_case(case_id)
    cases.require_case_worker(actor, case)
    if not case.is_active:
        raise WorkError(
            "Case {case} is {state}: reopen it first.",
            case_id=case.pk,
            state=case.state,
        )
    return case


# Reads for the work screens


def case_open_text(case: Discrepancy) -> str:
    """Format the money ``case`` leaves open on its invoice, or "" without one."""
    invoice = case.invoice
    if invoice is None:
        return ""
    open_amount = case_open_amount(case, invoice)
    if open_amount is None:
        return ""
    return invoice_money(invoice, open_amount)
