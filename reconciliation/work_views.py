"""Work screens per role: fulfilment, sales decisions, cash application, approvals.

A view checks the role first (403 for the wrong one), then fetches the order
or case through the selectors (404 for one the person cannot see), parses the
form and calls one service in ``reconciliation.work``.

The fulfilment, sales and cash views take a ``scope`` keyword. The real routes
leave it at ``REAL_SCOPE``. The practice sandbox passes a ``WorkScope``
subclass that reads one sandbox company, acts in the role the screen needs
and sends the forms to its own routes, so a learner practises on these
views, forms and checks.
"""

import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_FLOOR, Decimal
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from accounts.models import Role, User
from assist.contexts import order_context_key
from assist.records import HelpRecord, RecordKind, case_record
from assist.selectors import build_help_panel
from core.http import AuthenticatedRequest
from core.numbers import (
    AMBIGUOUS_THOUSANDS,
    DECIMAL_COMMA,
    InvalidNumberError,
    parse_positive_int,
)
from core.text import clean_line, clean_text
from reconciliation import (
    approval_decisions,
    backorder_decisions,
    cases,
    cash,
    cash_work,
    credit_proposals,
    reships,
    warehouse_work,
    work,
)
from reconciliation.case_credit import case_open_amount, price_gap
from reconciliation.case_views import decided_message, figure_currency
from reconciliation.checks import DuplicateOf
from reconciliation.credit_notes import goods_subtotal_and_tax
from reconciliation.goods_billing import GOODS_CODES
from reconciliation.models import (
    ACTIVE_CASE_STATES,
    Allocation,
    Approval,
    Discrepancy,
    DiscrepancyCode,
    Invoice,
    Party,
    Payment,
    ResolutionCode,
    SalesOrder,
    SalesOrderLine,
    Shipment,
)
from reconciliation.money import (
    format_money,
    format_price,
    format_quantity,
    format_shortfall,
    is_counted,
    quantize_money,
)
from reconciliation.scopes import REAL_SCOPE, WorkScope, require_role
from reconciliation.services import payment_available

ZERO = Decimal(0)
FULFILMENT_CONTEXT = "reconciliation.work.fulfilment"
CASH_CONTEXT = "reconciliation.work.cash"
APPROVALS_CONTEXT = "reconciliation.work.approvals"
# The pick and ship form's one-time token: 16 random bytes, URL-safe base64.
SHIPMENT_FORM_TOKEN_BYTES = 16
SHIPMENT_FORM_TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")


def _page(
    request: AuthenticatedRequest,
    template: str,
    context_key: str,
    record_ref: str,
    context: dict[str, object],
    scope: WorkScope = REAL_SCOPE,
    *,
    record_kind: str = RecordKind.ORDER,
) -> HttpResponse:
    """Render a work screen with its help panel.

    ``record_ref`` is the number of the record the panel's questions are
    about, of kind ``record_kind``, or "" for a screen about no single
    record. The panel offers it only when the viewer may see it
    (``WorkScope.panel_record``).
    """
    record = scope.panel_record(request.user, HelpRecord(record_kind, record_ref))
    return render(
        request,
        template,
        {
            **context,
            **scope.context(),
            "help_context": context_key,
            "panel": build_help_panel(viewer=request.user, key=context_key),
            "record_kind": record.kind,
            "record_ref": record.ref,
        },
    )


def _run(
    request: AuthenticatedRequest, action: Callable[[], object], success: str
) -> bool:
    try:
        action()
    except (work.WorkError, cases.CaseError) as error:
        messages.error(request, str(error))
        return False
    messages.success(request, success)
    return True


# Warehouse


@login_required
def fulfilment(
    request: AuthenticatedRequest, number: str, *, scope: WorkScope = REAL_SCOPE
) -> HttpResponse:
    scope.actor(request.user, Role.WAREHOUSE)
    order = scope.order(request.user, number)
    return _fulfilment_page(request, order, scope)


# The pick and ship form's fields besides the per-line quantities.
SHIPMENT_FIELDS = ("carrier", "tracking_no", "shipment")


def _fulfilment_page(
    request: AuthenticatedRequest,
    order: SalesOrder,
    scope: WorkScope,
    *,
    typed: Mapping[str, str] | None = None,
    line_errors: Mapping[int, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render the pick and ship screen, with a rejected form's text if any.

    ``typed`` is the POST of a rejected form: every box shows what was typed,
    and ``line_errors`` puts each line's message beside its line.
    """
    typed = typed or {}
    line_errors = line_errors or {}
    drafts = list(
        order.shipments.filter(state=Shipment.State.DRAFT)
        .prefetch_related("lines__order_line__product", "lines__pick")
        .order_by("number")
    )
    rows = [
        {
            "line": line,
            "picked": typed.get(f"picked_{line.line_no}", ""),
            "shipped": typed.get(f"shipped_{line.line_no}", ""),
            "error": line_errors.get(line.line_no, ""),
        }
        for line in order.lines.select_related("product")
    ]
    response = _page(
        request,
        "reconciliation/work/fulfilment.html",
        FULFILMENT_CONTEXT,
        order.number,
        {
            "order": order,
            "lines": [row["line"] for row in rows],
            "rows": rows,
            "line_errors": line_errors,
            "typed": {name: typed.get(name, "") for name in SHIPMENT_FIELDS},
            "shortage_typed": {
                name: typed.get(name, "") for name in ("line", "qty", "note")
            },
            "drafts": drafts,
            # A new token on every load: the same form sent twice records
            # one shipment, and a second load records a second one.
            "form_token": secrets.token_urlsafe(SHIPMENT_FORM_TOKEN_BYTES),
            "work_urls": {
                "order": scope.url("order_detail", order.number),
                "record_shipment": scope.url("work_record_shipment", order.number),
                "discard_draft": scope.url("work_discard_draft", order.number),
                "report_shortage": scope.url("work_report_shortage", order.number),
            },
        },
        scope,
    )
    response.status_code = status
    return response


@login_required
@require_POST
def discard_draft(
    request: AuthenticatedRequest, number: str, *, scope: WorkScope = REAL_SCOPE
) -> HttpResponse:
    actor = scope.actor(request.user, Role.WAREHOUSE)
    order = scope.order(request.user, number)
    shipment_number = clean_line(request.POST.get("shipment", ""))
    _run(
        request,
        lambda: warehouse_work.discard_draft_shipment(
            actor=actor, order=order, shipment_number=shipment_number
        ),
        f"Discarded draft shipment {shipment_number[:30]}: nothing of it ships.",
    )
    return redirect(scope.url("work_fulfilment", order.number))


def _line_quantities(
    request: AuthenticatedRequest, lines: list[SalesOrderLine]
) -> tuple[dict[int, warehouse_work.LineQuantities], dict[int, str]]:
    """Read every line's typed quantities, and a message for each line rejected.

    An empty Picked box with a Shipped quantity reads as picked what ships:
    goods that leave the warehouse were picked. A quantity with a decimal
    comma on a product counted in units gets one message for both faults.
    """
    quantities = {}
    errors = {}
    for line in lines:
        line_no = line.line_no
        picked = request.POST.get(f"picked_{line_no}", "").strip()
        shipped = request.POST.get(f"shipped_{line_no}", "").strip()
        if not picked and not shipped:
            continue
        try:
            shipped_qty = _parse_line_quantity(line, shipped or "0", "shipped")
            picked_qty = (
                _parse_line_quantity(line, picked, "picked") if picked else shipped_qty
            )
        except work.WorkError as error:
            errors[line_no] = str(error)
            continue
        quantities[line_no] = warehouse_work.LineQuantities(
            picked=picked_qty, shipped=shipped_qty
        )
    return quantities, errors


def _parse_line_quantity(line: SalesOrderLine, raw: str, box: str) -> Decimal:
    label = f"Line {line.line_no} {box}"
    try:
        return work.parse_quantity(raw, label=label)
    except work.WorkError:
        # "1,500" may mean 1500, so only a comma that can only be a decimal
        # comma is read as a fraction here.
        if (
            not is_counted(line.product.uom)
            or AMBIGUOUS_THOUSANDS.fullmatch(raw)
            or not DECIMAL_COMMA.fullmatch(raw)
        ):
            raise
    # "1,5" is both a decimal comma and a fraction of a unit. One message
    # names both faults, so fixing the first does not lead to a second.
    meant = Decimal(raw.replace(",", "."))
    if meant == meant.to_integral_value():
        raise work.WorkError(
            f"{label} {raw!r} uses a decimal comma: write it with a point, as "
            f"{meant.normalize():f}."
        )
    low = meant.to_integral_value(rounding=ROUND_FLOOR)
    raise work.WorkError(
        f"{label} {raw!r}: write numbers with a point; {line.product.name} "
        f"ships in whole units, so enter {low:f} or {low + 1:f}."
    )


def _line_errors(
    order: SalesOrder,
    quantities: Mapping[int, warehouse_work.LineQuantities],
    *,
    ship: bool,
    shipment_number: str,
) -> dict[int, str]:
    """Check each line on its own, so every rejected line gets its message.

    These are the service's own checks, run line by line before it runs them
    all again in its transaction, where it stops at the first. A replacement
    draft's units are left out of the over-shipment check, as there.
    """
    lines = {line.line_no: line for line in order.lines.select_related("product")}
    replacing = warehouse_work.named_shipment(order, shipment_number)
    errors = {}
    for line_no, qty in quantities.items():
        try:
            warehouse_work._check_quantities(order, lines, {line_no: qty}, ship=False)
            if ship:
                warehouse_work._check_over_shipment(
                    order, lines, {line_no: qty.shipped}, replacing=replacing
                )
            else:
                warehouse_work._check_over_shipment(
                    order,
                    lines,
                    {line_no: qty.picked},
                    step=warehouse_work.PICK_STEP,
                    replacing=replacing,
                )
        except work.WorkError as error:
            errors[line_no] = str(error)
    return errors


def _lines_summary(line_nos: list[int]) -> str:
    names = [str(line_no) for line_no in sorted(line_nos)]
    if len(names) == 1:
        return f"line {names[0]}"
    return f"lines {', '.join(names[:-1])} and {names[-1]}"


def _shipment_form_token(raw: str) -> str:
    """Check the one-time token the pick and ship form carries.

    The token is the form's idempotency key, so a form without one is
    rejected rather than recorded again on every resend. A script makes a
    token of the same shape for each shipment it means to record.
    """
    if not raw:
        raise work.WorkError(
            "Nothing was recorded: this pick and ship form is missing its form "
            "token, so it may come from a page opened before an update. The "
            "quantities you typed are kept on a new form below: check them and "
            "send it again."
        )
    if not SHIPMENT_FORM_TOKEN.fullmatch(raw):
        raise work.WorkError(
            f"The form token {raw[:20]!r} is not one this page made: reload "
            "the page and enter the quantities again."
        )
    return raw


@login_required
@require_POST
def record_shipment(
    request: AuthenticatedRequest, number: str, *, scope: WorkScope = REAL_SCOPE
) -> HttpResponse:
    actor = scope.actor(request.user, Role.WAREHOUSE)
    order = scope.order(request.user, number)
    lines = list(order.lines.select_related("product"))
    try:
        form_token = _shipment_form_token(request.POST.get("form_token", ""))
    except work.WorkError as error:
        messages.error(request, str(error))
        return _fulfilment_page(request, order, scope, typed=request.POST, status=422)

    ship = request.POST.get("ship") == "1"
    shipment_number = clean_line(request.POST.get("shipment", ""))[:30]
    quantities, errors = _line_quantities(request, lines)
    errors.update(
        _line_errors(order, quantities, ship=ship, shipment_number=shipment_number)
    )
    if errors:
        messages.error(
            request,
            f"Nothing was saved: check {_lines_summary(list(errors))} of order "
            f"{order.number}. Each message is beside its line, and what you typed "
            "is kept.",
        )
        return _fulfilment_page(
            request, order, scope, typed=request.POST, line_errors=errors, status=422
        )
    try:
        shipment = warehouse_work.record_shipment(
            actor=actor,
            order=order,
            quantities=quantities,
            carrier=clean_line(request.POST.get("carrier", "")),
            tracking_no=clean_line(request.POST.get("tracking_no", "")),
            shipment_number=shipment_number,
            ship=ship,
            form_token=form_token,
        )
    except work.WorkError as error:
        messages.error(request, str(error))
        return _fulfilment_page(request, order, scope, typed=request.POST, status=422)
    if ship:
        messages.success(request, f"Recorded the shipment of order {order.number}.")
    else:
        messages.success(
            request,
            f"Saved the picked quantities of order {order.number} on draft "
            f"shipment {shipment.number}. Nothing has shipped yet: choose the "
            "draft and press Ship when the goods leave.",
        )
    return redirect(scope.url("work_fulfilment", order.number))


@login_required
@require_POST
def report_shortage(
    request: AuthenticatedRequest, number: str, *, scope: WorkScope = REAL_SCOPE
) -> HttpResponse:
    actor = scope.actor(request.user, Role.WAREHOUSE)
    order = scope.order(request.user, number)
    raw_line = request.POST.get("line", "")
    try:
        line_no = parse_positive_int(
            raw_line, name="line", expected="an order line number"
        )
        qty_missing = work.parse_quantity(
            request.POST.get("qty", ""), label="Short quantity"
        )
        report = warehouse_work.report_shortage(
            actor=actor,
            order=order,
            line_no=line_no,
            qty_missing=qty_missing,
            note=clean_text(request.POST.get("note", ""))[:2000],
        )
    except InvalidNumberError:
        # The form offers only the order's lines, so any other text is a line
        # that does not exist, whatever its format.
        messages.error(
            request,
            f"Line {clean_line(raw_line)[:20]!r} was not found on order "
            f"{order.number}: pick a line from the list.",
        )
    except warehouse_work.ShortageAlreadyReported as already:
        # Not a fault of the form, and nothing new to write: the typed text
        # stays, for a larger report.
        messages.info(request, str(already))
        return _fulfilment_page(request, order, scope, typed=request.POST)
    except (work.WorkError, cases.CaseError) as error:
        messages.error(request, str(error))
    else:
        shortfall = format_shortfall(
            (report.actual_value or ZERO) - (report.expected_value or ZERO),
            report.unit,
        )
        messages.success(
            request,
            f"Reported line {line_no} of order {order.number} as {shortfall} "
            f"(case {scope.case_number(report)}); the sales rep decides next.",
        )
        return redirect(scope.url("work_fulfilment", order.number))
    return _fulfilment_page(request, order, scope, typed=request.POST, status=422)


# Sales rep


@login_required
def sales_decision(
    request: AuthenticatedRequest, case_id: int, *, scope: WorkScope = REAL_SCOPE
) -> HttpResponse:
    scope.actor(request.user, Role.SALES_REP)
    return _sales_page(request, scope.case(request.user, case_id), scope)


# The backorder form's boxes a rejected decision shows again.
BACKORDER_FIELDS = ("reason", "expected_on")


def _sales_page(
    request: AuthenticatedRequest,
    case: Discrepancy,
    scope: WorkScope,
    *,
    typed: Mapping[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render the sales decision screen, with a rejected form's text if any.

    ``typed`` is the POST of a rejected backorder decision: its boxes show
    what was typed, so the rep corrects it instead of typing it again.
    """
    typed = typed or {}
    actions = backorder_decisions.sales_actions(case)
    # The decision is about the case's code, so its help is that code's:
    # the FAQ and super-users for a short payment, a backorder, a price.
    record = case_record(case)
    response = _page(
        request,
        "reconciliation/work/sales.html",
        order_context_key(case.code),
        record.ref,
        {
            "case": case,
            "case_number": scope.case_number(case),
            "actions": actions,
            "credit_limit": work.credit_limit(),
            "suggested_amount": _suggested_credit(case) if actions.credit_note else "",
            "goods_credit": _goods_credit(case) if actions.credit_note else "",
            "price_gap": price_gap(case, case.invoice)
            if case.code == DiscrepancyCode.PRICE_MISMATCH and case.invoice
            else None,
            "earliest_expected": timezone.localdate(),
            "backorder_typed": {name: typed.get(name, "") for name in BACKORDER_FIELDS},
            "figure_currency": figure_currency(case),
            "proposals": list(
                case.proposals.select_related("credit_note").prefetch_related(
                    "credit_note__lines__product"
                )
            ),
            "work_urls": {
                "case": scope.url("case_detail", case.pk),
                "backorder": scope.url("work_backorder", case.pk),
                "credit_note": scope.url("work_credit_note", case.pk),
                "uphold_price": scope.url("work_uphold_price", case.pk),
                "withdraw": _optional_url(scope, "work_withdraw_proposal", case.pk),
                "reship": _optional_url(scope, "work_reship", case.pk),
            },
        },
        scope,
        record_kind=record.kind,
    )
    response.status_code = status
    return response


def _optional_url(scope: WorkScope, name: str, *args: object) -> str:
    """Reverse a route that a scope may not have yet; "" hides its form."""
    try:
        return scope.url(name, *args)
    except NoReverseMatch:
        return ""


def _suggested_credit(case: Discrepancy) -> Decimal | str:
    """Return the money the case leaves open on its invoice, as the credit to offer.

    It is the most ``credit_proposals.propose_credit_note`` accepts: for a price case,
    the difference over every unit the invoice bills, not one unit's.
    """
    if case.invoice is None:
        return ""
    open_amount = case_open_amount(case, case.invoice)
    return "" if open_amount is None else open_amount


def _goods_credit(case: Discrepancy) -> str:
    """Say how the credit for a goods case's units is worked out, or ""."""
    invoice = case.invoice
    if case.code not in GOODS_CODES or invoice is None or case.difference is None:
        return ""
    line = (
        invoice.lines.filter(order_line_id=case.order_line_id)
        .select_related("product")
        .order_by("pk")
        .first()
    )
    if line is None:
        return ""
    minor_units = invoice.currency.minor_units
    units = abs(case.difference)
    word = "damaged" if case.code == DiscrepancyCode.DAMAGED else "not received"
    net, tax = goods_subtotal_and_tax(line, units, minor_units)
    currency = invoice.currency_id
    if tax:
        amount = (
            f"{format_money(net, minor_units=minor_units)} plus "
            f"{format_money(tax, minor_units=minor_units)} tax at "
            f"{line.tax_rate.normalize():f}%, "
            f"{format_money(net + tax, minor_units=minor_units)} {currency} in all"
        )
    else:
        amount = f"{format_money(net, minor_units=minor_units)} {currency}"
    return (
        f"{format_quantity(units, line.product.uom)} {word}, billed on invoice "
        f"{invoice.number} at "
        f"{format_price(line.unit_net, minor_units=minor_units)} "
        f"{currency} each: {amount}, less any credit the customer accepted on "
        "this case. You may credit less."
    )


@login_required
@require_POST
def decide_backorder(
    request: AuthenticatedRequest, case_id: int, *, scope: WorkScope = REAL_SCOPE
) -> HttpResponse:
    actor = scope.actor(request.user, Role.SALES_REP)
    case = scope.case(request.user, case_id)
    decision = request.POST.get("decision", "")

    def action() -> object:
        # Whether the rest can ship later comes before its date, as in the
        # service, which checks it again under the lock.
        blocker = (
            backorder_decisions.ship_later_blocker(case)
            if decision == work.SHIP_LATER
            else ""
        )
        if blocker:
            raise work.WorkError(blocker)
        return backorder_decisions.decide_backorder(
            actor=actor,
            case_id=case.pk,
            decision=decision,
            reason=clean_text(request.POST.get("reason", ""))[:2000],
            expected_on=_expected_date(request, decision),
        )

    if _run(request, action, "Recorded the backorder decision."):
        return redirect(scope.url("work_sales", case.pk))
    # Nothing was saved: show the screen again with what was typed.
    case = scope.case(request.user, case_id)
    return _sales_page(request, case, scope, typed=request.POST, status=422)


def _expected_date(request: AuthenticatedRequest, decision: str) -> date | None:
    """Parse the posted day the rest is expected, for a ship-later decision.

    The decision screen always sends the field. A form without it, such as
    an older page, leaves the date out, and ``backorder_decisions.decide_backorder``
    rejects the decision with a message that asks for the date.
    """
    if decision != work.SHIP_LATER or "expected_on" not in request.POST:
        return None
    raw = clean_line(request.POST.get("expected_on", "")).strip()
    if not raw:
        raise work.WorkError(
            "Expected date is missing: enter the day the rest is expected to ship."
        )
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise work.WorkError(
            f"Expected date {raw[:20]!r} is not a date: enter it as YYYY-MM-DD, "
            "such as 2026-03-31."
        ) from None


@login_required
@require_POST
def uphold_price(
    request: AuthenticatedRequest, case_id: int, *, scope: WorkScope = REAL_SCOPE
) -> HttpResponse:
    actor = scope.actor(request.user, Role.SALES_REP)
    case = scope.case(request.user, case_id)
    try:
        upheld = credit_proposals.uphold_invoiced_price(
            actor=actor,
            case_id=case.pk,
            reason=clean_text(request.POST.get("reason", ""))[:2000],
        )
    except (work.WorkError, cases.CaseError) as error:
        messages.error(request, str(error))
        return redirect(scope.url("work_sales", case.pk))
    text = "The invoiced price stands; the case is resolved."
    withdrawn = upheld.withdrawn
    if withdrawn is not None and withdrawn.credit_note is not None:
        text += (
            f" Credit note {withdrawn.credit_note.number}, which waited for the "
            "customer, is withdrawn and can no longer be accepted."
        )
    messages.success(request, text)
    return redirect(scope.url("work_sales", case.pk))


@login_required
@require_POST
def withdraw_proposal(
    request: AuthenticatedRequest, case_id: int, *, scope: WorkScope = REAL_SCOPE
) -> HttpResponse:
    actor = scope.actor(request.user, Role.SALES_REP)
    case = scope.case(request.user, case_id)
    _run(
        request,
        lambda: credit_proposals.withdraw_credit_proposal(
            actor=actor,
            case_id=case.pk,
            reason=clean_text(request.POST.get("reason", ""))[:2000],
        ),
        "Withdrew the proposal: the customer can no longer accept it, and the "
        "case is back in progress.",
    )
    return redirect(scope.url("work_sales", case.pk))


@login_required
@require_POST
def propose_credit_note(
    request: AuthenticatedRequest, case_id: int, *, scope: WorkScope = REAL_SCOPE
) -> HttpResponse:
    actor = scope.actor(request.user, Role.SALES_REP)
    case = scope.case(request.user, case_id)
    back = scope.url("work_sales", case.pk)
    try:
        proposal = credit_proposals.propose_credit_note(
            actor=actor,
            case_id=case.pk,
            amount=work.parse_amount(
                request.POST.get("amount", ""),
                label="Credit note amount",
                currency=case.invoice.currency if case.invoice else None,
            ),
            message=clean_text(request.POST.get("message", ""))[:2000],
        )
    except (work.WorkError, cases.CaseError) as error:
        messages.error(request, str(error))
        return redirect(back)
    if proposal.state != type(proposal).State.AWAITING_APPROVAL:
        messages.success(request, "Proposed the credit note.")
        return redirect(back)
    # ``propose_credit_note`` always drafts the credit note, in the proposal's
    # currency, so its minor unit rounds the amount.
    credit_note = proposal.credit_note
    minor_units = credit_note.currency.minor_units if credit_note else 4
    amount_text = f"{proposal.amount:,.{minor_units}f} {proposal.currency}"
    messages.success(
        request,
        f"The credit note of {amount_text} is above your limit, so it was sent to a "
        "manager for approval. The customer sees it once a manager approves it.",
    )
    return redirect(back)


@login_required
@require_POST
def propose_reship(
    request: AuthenticatedRequest, case_id: int, *, scope: WorkScope = REAL_SCOPE
) -> HttpResponse:
    actor = scope.actor(request.user, Role.SALES_REP)
    case = scope.case(request.user, case_id)
    _run(
        request,
        lambda: reships.propose_reship(
            actor=actor,
            case_id=case.pk,
            qty=work.parse_quantity(
                request.POST.get("qty", ""), label="Replacement quantity"
            ),
            message=clean_text(request.POST.get("message", ""))[:2000],
        ),
        "Offered the replacement shipment to the customer.",
    )
    return redirect(scope.url("work_sales", case.pk))


# Finance clerk


# The most of a rejected amount the cash screen shows again; longer text is
# not an amount anyone meant.
TYPED_AMOUNT_LENGTH = 40


@login_required
def cash_application(
    request: AuthenticatedRequest, *, scope: WorkScope = REAL_SCOPE
) -> HttpResponse:
    """Show the cash application screen; a POST assigns a payer or writes off.

    The screen's allocation tray lives in the address, one ``tray`` value
    ``invoice id:amount`` per line, so it works without JavaScript and keeps
    no state on the server. ``add`` (with ``invoice`` and ``amount``),
    ``pick`` and ``drop`` change the tray and come back to the tray's address.
    """
    actor = scope.actor(request.user, Role.FINANCE_CLERK)
    if request.method == "POST":
        if request.POST.get("action") == "write_off":
            return _write_off(request, actor, scope)
        return _assign_payer(request, actor, scope)
    state = CashState.from_params(request.GET)
    if state.changes_tray(request.GET):
        return _change_tray(request, scope, state, request.GET)
    return _cash_page(request, scope, state)


@dataclass
class CashState:
    """The cash screen's state: the payment, its tray and what was typed.

    ``row_errors`` and ``tray_error`` are messages shown beside the box or
    the tray they are about. ``typed`` is the text of a rejected amount box.
    """

    payment_raw: str = ""
    tray: dict[int, str] = field(default_factory=dict)
    bad_tray: list[str] = field(default_factory=list)
    typed_invoice: str = ""
    typed_amount: str = ""
    row_errors: dict[str, str] = field(default_factory=dict)
    tray_error: str = ""
    writeoff_invoice: str = ""
    # Whether the clerk chose the write-off in its drop-down, "No write-off"
    # included. The tray form sends ``writeoff_set`` from then on; without
    # it an empty choice gets the preset.
    writeoff_chosen: bool = False
    surplus_invoice: str = ""
    reason_code: str = ""
    note: str = ""

    @classmethod
    def from_params(cls, params: QueryDict) -> "CashState":
        state = cls(payment_raw=params.get("payment", "")[:TYPED_AMOUNT_LENGTH])
        for raw in params.getlist("tray")[: cash_work.MAX_TRAY_LINES + 1]:
            state.add_line(raw)
        state.typed_invoice = params.get("invoice", "")[:TYPED_AMOUNT_LENGTH]
        state.typed_amount = clean_line(params.get("amount", ""))[:TYPED_AMOUNT_LENGTH]
        state.writeoff_invoice = params.get("writeoff_invoice", "")[:20]
        state.writeoff_chosen = "writeoff_set" in params
        state.surplus_invoice = params.get("surplus_invoice", "")[:20]
        state.reason_code = params.get("reason_code", "")[:40]
        # The whole note is kept, so a note that is too long is rejected with
        # its real length and stays in its box to be shortened. The request's
        # size limit bounds it.
        state.note = clean_text(params.get("note", ""))
        # A tray line's own box changes its amount, so what the clerk typed
        # there counts, whichever button sent the form.
        for pk in state.tray:
            typed = params.get(f"amount-{pk}")
            if typed is not None:
                state.tray[pk] = clean_line(typed)[:TYPED_AMOUNT_LENGTH]
        return state

    def add_line(self, raw: str) -> None:
        """Keep a ``invoice id:amount`` line; remember text that is not one."""
        invoice, _, amount = clean_line(raw).partition(":")
        if invoice.isascii() and invoice.isdigit() and 0 < len(invoice) < 12:
            self.tray[int(invoice)] = amount[:TYPED_AMOUNT_LENGTH]
        else:
            self.bad_tray.append(clean_line(raw)[:TYPED_AMOUNT_LENGTH])

    def changes_tray(self, params: QueryDict) -> bool:
        return any(name in params for name in ("add", "change", "pick", "drop"))

    def query(self, **extra: str) -> str:
        """Return the screen's address query for the payment and its tray."""
        pairs = [("payment", self.payment_raw)]
        pairs += [("tray", f"{pk}:{amount}") for pk, amount in self.tray.items()]
        pairs += list(extra.items())
        return urlencode(pairs)


@dataclass(frozen=True)
class TrayLine:
    invoice: Invoice
    amount: Decimal | None
    text: str
    error: str
    open_after: Decimal


def _change_tray(
    request: AuthenticatedRequest,
    scope: WorkScope,
    state: CashState,
    params: QueryDict,
) -> HttpResponse:
    """Add, change, pick or drop tray lines, then show the tray's own address.

    A typed amount that is not a usable amount stays in its box with the
    message beside it, and the tray stays as it was. A change of a line's
    amount was read by ``CashState.from_params``; the tray shows it with a
    message beside the line when it is not usable. An htmx request gets the
    page at once, with the tray's address to put in the browser's history,
    and swaps the right panel; a plain request is redirected there.
    """
    url = scope.url("work_cash")
    for raw in params.getlist("pick")[: cash_work.MAX_TRAY_LINES]:
        state.add_line(raw)
    drop = params.get("drop", "")
    if drop.isascii() and drop.isdigit():
        state.tray.pop(int(drop), None)
    if "add" in params:
        payment = _payment_of(state, scope)
        error, amount = _typed_line(payment, state, scope)
        if error:
            state.row_errors[state.typed_invoice] = error
            messages.error(request, error)
            return _cash_page(request, scope, state)
        state.tray[int(state.typed_invoice)] = amount
    address = f"{url}?{state.query()}"
    if request.headers.get("HX-Request") == "true":
        response = _cash_page(request, scope, state)
        response["HX-Push-Url"] = address
        return response
    return redirect(address)


def _payment_of(state: CashState, scope: WorkScope) -> Payment | None:
    raw = state.payment_raw
    if not (raw.isascii() and raw.isdigit() and 0 < len(raw) < 12):
        return None
    return cash_work.payment_for_screen(int(raw), scope.company)


def _typed_line(
    payment: Payment | None, state: CashState, scope: WorkScope
) -> tuple[str, str]:
    """Check the amount typed for an invoice; return an error or the amount."""
    if payment is None:
        return (_cash_id_not_found(_not_a_payment(state.payment_raw)), "")
    invoice = (
        cash_work.open_invoices_for(payment).filter(pk=state.typed_invoice).first()
        if state.typed_invoice.isascii() and state.typed_invoice.isdigit()
        else None
    )
    if invoice is None:
        return (
            f"Invoice {state.typed_invoice[:20]!r} is not an open invoice of "
            f"payment {payment.number}'s customer: pick one from the list.",
            "",
        )
    original = cash_work.held_duplicates(payment).get(invoice.pk)
    if original is not None:
        return (str(cash_work.held_error(payment, invoice, original)), "")
    label = f"Amount from payment {payment.number} to invoice {invoice.number}"
    try:
        amount = work.parse_amount(
            state.typed_amount, label=label, currency=payment.currency
        )
    except work.WorkError as error:
        return str(error), ""
    money = _money(payment)
    if amount <= 0:
        return (f"{label} is {money(amount)}: enter more than 0.", "")
    left = payment_available(payment)
    if amount > left:
        return (
            f"{label} is {money(amount)}, more than the {money(left)} left on the "
            f"payment: enter {money(left)} or less.",
            "",
        )
    if amount > invoice.amount_residual:
        return (
            f"{label} is {money(amount)}, more than the "
            f"{money(invoice.amount_residual)} open on the invoice: enter "
            f"{money(invoice.amount_residual)} or less.",
            "",
        )
    return "", str(amount)


def _not_a_payment(raw: str) -> InvalidNumberError:
    return InvalidNumberError("payment", raw, "a payment id", 1)


def _money(payment: Payment) -> Callable[[Decimal], str]:
    minor_units = payment.currency.minor_units

    def money(value: Decimal) -> str:
        return f"{format_money(value, minor_units=minor_units)} {payment.currency_id}"

    return money


def _tray_lines(
    payment: Payment,
    state: CashState,
    invoices: list[Invoice],
    held: Mapping[int, DuplicateOf],
) -> list[TrayLine]:
    """Read the tray's lines against the payment's open invoices, in tray order.

    A line for an invoice held as a possible duplicate keeps its refusal.
    """
    by_id = {invoice.pk: invoice for invoice in invoices}
    others = {
        invoice.pk: invoice
        for invoice in Invoice.objects.filter(
            pk__in=[pk for pk in state.tray if pk not in by_id],
            company_id=payment.company_id,
        ).select_related("customer")
    }
    money = _money(payment)
    lines = []
    for pk, text in state.tray.items():
        invoice = by_id.get(pk)
        if invoice is None:
            other = others.get(pk)
            if other is None:
                # No invoice to show a line for: the one message goes under
                # the tray.
                state.tray_error = (
                    f"Tray line {pk} names no invoice of payment "
                    f"{payment.number}'s customer: remove it from the tray."
                )
                continue
            lines.append(TrayLine(other, None, text, _not_open(payment, other), ZERO))
            continue
        if pk in held:
            error = str(cash_work.held_error(payment, invoice, held[pk]))
            lines.append(TrayLine(invoice, None, text, error, ZERO))
            continue
        label = f"Amount for invoice {invoice.number} in the tray"
        try:
            amount = work.parse_amount(text, label=label, currency=payment.currency)
        except work.WorkError as error:
            lines.append(TrayLine(invoice, None, text, str(error), ZERO))
            continue
        problem = ""
        if amount <= 0 or amount > invoice.amount_residual:
            problem = (
                f"{label} is {money(amount)}: enter more than 0 and at most the "
                f"{money(invoice.amount_residual)} open, then add it again."
            )
        open_after = max(invoice.amount_residual - amount, ZERO)
        lines.append(TrayLine(invoice, amount, text, problem, open_after))
    return lines


def _not_open(payment: Payment, invoice: Invoice) -> str:
    """Say why a tray line's invoice takes none of ``payment``: whose it is."""
    party = payment.party_id
    customer = invoice.customer
    if party is None or party not in (customer.pk, customer.parent_id):
        return (
            f"Invoice {invoice.number} is not an invoice of payment "
            f"{payment.number}'s customer: remove it from the tray."
        )
    if invoice.currency_id != payment.currency_id:
        return (
            f"Invoice {invoice.number} is in {invoice.currency_id}, not in the "
            f"{payment.currency_id} of payment {payment.number}: remove it from "
            "the tray."
        )
    return (
        f"Invoice {invoice.number} is no longer open: it has nothing left to pay, "
        "or it was cancelled since the tray was filled. Remove it from the tray."
    )


def _cash_page(
    request: AuthenticatedRequest, scope: WorkScope, state: CashState
) -> HttpResponse:
    payments = list(cash_work.open_payments(company=scope.company)[:100])
    unassigned = list(cash_work.unassigned_payments(company=scope.company)[:100])
    selected: Payment | None = next(
        (payment for payment in payments if str(payment.pk) == state.payment_raw),
        None,
    )
    # A payment applied in full stays selectable, for its invoices' write-offs.
    if selected is None and state.payment_raw:
        selected = _payment_of(state, scope)
    context: dict[str, object] = {
        "payments": payments,
        "unassigned": _with_customers(unassigned),
        "selected": selected,
        "state": state,
        "reasons": list(cash_work.WRITE_OFF_REASONS.items()),
        "work_urls": {
            "cash": scope.url("work_cash"),
            "apply_cash": scope.url("work_apply_cash"),
        },
    }
    if selected is not None:
        context.update(_selected_context(selected, state, scope))
    elif state.payment_raw:
        context["payment_error"] = _unknown_payment(state.payment_raw, unassigned)
    return _page(
        request,
        "reconciliation/work/cash.html",
        CASH_CONTEXT,
        # A question asked with a payment selected is about that payment.
        selected.number if selected else "",
        context,
        scope,
        record_kind=RecordKind.PAYMENT,
    )


def _unknown_payment(raw: str, unassigned: list[Payment]) -> str:
    """Say why the address's ``payment`` value shows no payment, and what to do.

    A payment from an unknown payer is listed apart, so it is named: the
    clerk chooses its customer first.
    """
    shown = clean_line(raw)[:20]
    if not (shown.isascii() and shown.isdigit() and 0 < len(shown) < 12):
        return (
            f"The address names payment {shown!r}, which is not a payment id "
            "(a whole number such as 796): pick a payment from the list of "
            "unallocated payments."
        )
    waiting = next((p for p in unassigned if str(p.pk) == shown), None)
    if waiting is not None:
        return (
            f"Payment {waiting.number} has no customer yet: choose its customer "
            "under Payments from an unknown payer, then allocate it."
        )
    return (
        f"The address names payment {shown}, which is not a payment this screen "
        "has: it may be another company's, or not exist. Pick a payment from "
        "the list of unallocated payments."
    )


def _plain(amount: Decimal, minor_units: int) -> str:
    """Write ``amount`` as a tray line takes it: minor units, no separators."""
    return str(quantize_money(amount, minor_units=minor_units))


@dataclass(frozen=True)
class HeldRow:
    """Why an open invoice takes no cash: the original it may repeat, its case."""

    original: DuplicateOf
    case_number: str
    case_url: str
    case_active: bool


def _held_rows(held: Mapping[int, DuplicateOf], scope: WorkScope) -> dict[int, HeldRow]:
    """Describe each held invoice for the open list, with a link to its case."""
    found = cash_work.duplicate_cases(list(held))
    rows = {}
    for pk, original in held.items():
        case = found.get(pk)
        rows[pk] = HeldRow(
            original,
            scope.case_number(case) if case else "",
            _optional_url(scope, "case_detail", case.pk) if case else "",
            case.is_active if case else True,
        )
    return rows


def _selected_context(
    selected: Payment, state: CashState, scope: WorkScope
) -> dict[str, object]:
    """Build the right panel: suggestions, tray, open and partly paid invoices."""
    available = payment_available(selected)
    invoices = list(cash_work.open_invoices_for(selected)[:100])
    held = cash_work.held_duplicates(selected)
    held_rows = _held_rows(
        {pk: held[pk] for pk in (i.pk for i in invoices) if pk in held}, scope
    )
    # A payment with nothing left takes no tray: an address with tray lines
    # is one from before the tray was confirmed, as after a reload or the
    # back button, and the page says what the payment paid instead.
    lines = _tray_lines(selected, state, invoices, held) if available > 0 else []
    total = sum((line.amount or ZERO for line in lines), ZERO)
    left_after = available - total
    minor_units = selected.currency.minor_units
    # Each box starts at the most this allocation can be, the smaller of
    # what the payment has left after the tray and the invoice's open
    # amount, so paying an invoice or spending the rest is one press.
    # After a rejected amount the box of its invoice shows what was typed,
    # beside the message that names it.
    rest = left_after if left_after > 0 else available
    rows = [
        (
            invoice,
            state.typed_amount
            if state.typed_amount and str(invoice.pk) == state.typed_invoice
            else quantize_money(
                min(rest, invoice.amount_residual), minor_units=minor_units
            ),
            state.row_errors.get(str(invoice.pk), ""),
            held_rows.get(invoice.pk),
        )
        for invoice in invoices
    ]
    open_lines = [line for line in lines if line.open_after > 0 and not line.error]
    # What the tray leaves on the payment may be written off when every line
    # pays its invoice in full and it is within the clerk's limit.
    surplus_lines = []
    errors = any(line.error for line in lines)
    settled = bool(lines) and not open_lines and not errors
    if settled and ZERO < left_after <= cash_work.surplus_allowance(selected):
        surplus_lines = lines
    # The write-off is preset for a difference the clerk may write off alone,
    # such as a bank charge. A part payment leaves more open, which the
    # customer still owes, so nothing is preset for it.
    preset = (
        str(open_lines[-1].invoice.pk)
        if open_lines
        and left_after == 0
        and open_lines[-1].open_after <= cash.bank_charge_allowance(selected)
        else ""
    )
    writeoff_choice = state.writeoff_invoice if state.writeoff_chosen else preset
    money = _money(selected)
    tray_note = ""
    if state.bad_tray:
        tray_note = (
            f"Tray line {state.bad_tray[0]!r} is not an invoice and an amount, "
            "so it was left out: add the invoice again from the list."
        )
    if left_after < 0:
        tray_note = (
            f"The tray totals {money(total)}, {money(-left_after)} more than the "
            f"{money(available)} left on payment {selected.number}: lower an "
            "amount or remove a line before you confirm."
        )
    return {
        "available": available,
        "suggestions": [
            (
                suggestion,
                urlencode(
                    [
                        ("pick", f"{invoice.pk}:{_plain(amount, minor_units)}")
                        for invoice, amount in suggestion.lines
                    ]
                ),
            )
            for suggestion in cash.suggest(
                selected, max(left_after, ZERO), taken=state.tray
            )
        ],
        "tray_lines": lines,
        "tray_total": total,
        "tray_left": left_after,
        "tray_note": tray_note,
        "tray_query": state.query(),
        "tray_ok": bool(lines)
        and left_after >= 0
        and not any(line.error for line in lines),
        "open_lines": open_lines,
        "surplus_lines": surplus_lines,
        "surplus_choice": state.surplus_invoice,
        "surplus_reasons": list(cash_work.SURPLUS_REASONS.items()),
        "writeoff_choice": writeoff_choice,
        "invoices": [(invoice, amount) for invoice, amount, _, _ in rows],
        "invoice_rows": rows,
        "partly_paid": _partly_paid_rows(selected, state, scope),
        "write_off_limit": cases.write_off_limit(),
        "stale_tray": available <= 0 and bool(state.tray or state.bad_tray),
        "paid_rows": _paid_rows(selected, scope) if available <= 0 else [],
    }


@dataclass(frozen=True)
class PaidRow:
    """An invoice a payment paid, with its order's page when there is one."""

    invoice: Invoice
    amount: Decimal
    order_url: str


def _paid_rows(payment: Payment, scope: WorkScope) -> list[PaidRow]:
    """List what ``payment`` paid on each invoice, its reversals netted out."""
    totals: dict[int, Decimal] = {}
    invoices: dict[int, Invoice] = {}
    for allocation in (
        Allocation.objects.filter(payment=payment)
        .select_related("invoice__order")
        .order_by("pk")
    ):
        pk = allocation.invoice_id
        totals[pk] = totals.get(pk, ZERO) + allocation.amount
        invoices[pk] = allocation.invoice
    rows = []
    for pk, amount in totals.items():
        if amount <= 0:
            continue
        order = invoices[pk].order
        url = _optional_url(scope, "order_detail", order.number) if order else ""
        rows.append(PaidRow(invoices[pk], amount, url))
    return rows


@dataclass(frozen=True)
class PendingWriteOff:
    """A write-off approval that waits for a manager, as the cash screen names it."""

    approval: Approval
    case_number: str
    case_url: str


def _partly_paid_rows(
    selected: Payment, state: CashState, scope: WorkScope
) -> list[tuple[Invoice, str, bool, PendingWriteOff | None]]:
    """List the invoices the payment paid that keep money open.

    An invoice whose write-off already waits for a manager names that
    approval instead of offering a second request, which the approval
    service would refuse.
    """
    invoices = list(cash_work.partly_paid_invoices(selected)[:50])
    pending = {
        approval.case.invoice_id: approval
        for approval in Approval.objects.filter(
            decision=Approval.Decision.PENDING,
            action=ResolutionCode.WRITE_OFF,
            case__invoice__in=invoices,
        )
        .select_related("case", "currency")
        .order_by("pk")
    }
    rows = []
    for invoice in invoices:
        approval = pending.get(invoice.pk)
        waiting = None
        if approval is not None:
            waiting = PendingWriteOff(
                approval,
                scope.case_number(approval.case),
                _optional_url(scope, "case_detail", approval.case_id),
            )
        rows.append(
            (
                invoice,
                state.row_errors.get(f"writeoff-{invoice.pk}", ""),
                str(invoice.pk) == state.writeoff_invoice,
                waiting,
            )
        )
    return rows


def _with_customers(payments: list[Payment]) -> list[tuple[Payment, list[Party]]]:
    """Pair each payment with the customers of its company, read once a company."""
    by_company: dict[int, list[Party]] = {}
    for payment in payments:
        if payment.company_id not in by_company:
            by_company[payment.company_id] = cash_work.customers_in_reading_order(
                payment
            )
    return [(payment, by_company[payment.company_id]) for payment in payments]


# Messages of the cash screen for a hidden id that is not a whole number. The
# screen writes only ids from its lists, so such text names no row, whatever
# its format.
CASH_ID_NOT_FOUND = {
    "payment": "Payment {value!r} was not found among the open payments: "
    "reload the cash screen and pick a payment from the list.",
    "invoice": "Invoice {value!r} was not found among the open invoices of "
    "the payment: pick an invoice from the list.",
    "party": "Customer {value!r} was not found: choose the payment's customer "
    "from the list.",
}


def _cash_id_not_found(error: InvalidNumberError) -> str:
    return CASH_ID_NOT_FOUND[error.name].format(value=clean_line(error.raw)[:20])


def _invoice_id_not_found(
    error: InvalidNumberError, payment_id: int, scope: WorkScope
) -> str:
    """Say that the invoice text names no open invoice, naming the payment."""
    payment = cash_work.open_payments(scope.company).filter(pk=payment_id).first()
    if payment is None:
        return _cash_id_not_found(error)
    return (
        f"Invoice {clean_line(error.raw)[:20]!r} was not found among the open "
        f"invoices of payment {payment.number}: pick an invoice from the list."
    )


def _assign_payer(
    request: AuthenticatedRequest, actor: User, scope: WorkScope
) -> HttpResponse:
    url = scope.url("work_cash")
    raw_party = request.POST.get("party", "")
    try:
        payment_id = parse_positive_int(
            request.POST.get("payment", ""), name="payment", expected="a payment id"
        )
        # An empty party becomes 0, so the service's message names the payment.
        party_id = (
            parse_positive_int(raw_party, name="party", expected="a customer id")
            if raw_party
            else 0
        )
        payment = cash_work.assign_payer(
            actor=actor,
            payment_id=payment_id,
            party_id=party_id,
            company=scope.company,
        )
    except InvalidNumberError as error:
        messages.error(request, _cash_id_not_found(error))
        return redirect(url)
    except work.WorkError as error:
        messages.error(request, str(error))
        return redirect(url)
    # The party is set by now, and its string is its name.
    messages.success(
        request,
        f"Payment {payment.number} now belongs to {payment.party}: "
        "allocate it to one of the customer's open invoices.",
    )
    return redirect(f"{url}?payment={payment.pk}")


@login_required
@require_POST
def apply_cash(
    request: AuthenticatedRequest, *, scope: WorkScope = REAL_SCOPE
) -> HttpResponse:
    """Allocate one typed amount, or confirm the tray when ``tray`` lines come."""
    actor = scope.actor(request.user, Role.FINANCE_CLERK)
    url = scope.url("work_cash")
    try:
        payment_id = parse_positive_int(
            request.POST.get("payment", ""), name="payment", expected="a payment id"
        )
    except InvalidNumberError as error:
        messages.error(request, _cash_id_not_found(error))
        return redirect(url)
    if "confirm_tray" in request.POST:
        return _confirm_tray(request, actor, scope, payment_id)
    if "add" in request.POST or "change" in request.POST:
        state = CashState.from_params(request.POST)
        state.payment_raw = str(payment_id)
        return _change_tray(request, scope, state, request.POST)
    try:
        invoice_id = parse_positive_int(
            request.POST.get("invoice", ""), name="invoice", expected="an invoice id"
        )
    except InvalidNumberError as error:
        # Back to the payment, whose open invoices the screen lists.
        messages.error(request, _invoice_id_not_found(error, payment_id, scope))
        return redirect(f"{url}?payment={payment_id}")
    try:
        allocation = cash_work.apply_cash(
            actor=actor,
            payment_id=payment_id,
            invoice_id=invoice_id,
            amount=work.parse_amount(
                request.POST.get("amount", ""),
                label=cash_work.amount_label(payment_id, invoice_id, scope.company),
                currency=cash_work.payment_currency(payment_id, scope.company),
            ),
            company=scope.company,
        )
    except (work.WorkError, cases.CaseError) as error:
        # The screen again, with the typed amount in its box and the message
        # beside it as well as at the top.
        messages.error(request, str(error))
        state = CashState.from_params(request.POST)
        state.payment_raw = str(payment_id)
        state.typed_invoice = str(invoice_id)
        state.row_errors[str(invoice_id)] = str(error)
        return _cash_page(request, scope, state)
    messages.success(request, _applied_message(allocation, scope))
    return redirect(f"{url}?payment={payment_id}")


def _confirm_tray(
    request: AuthenticatedRequest, actor: User, scope: WorkScope, payment_id: int
) -> HttpResponse:
    """Allocate the posted tray and its write-off in one go, or show why not."""
    url = scope.url("work_cash")
    state = CashState.from_params(request.POST)
    state.payment_raw = str(payment_id)
    currency = cash_work.payment_currency(payment_id, scope.company)
    try:
        lines = [
            (
                pk,
                work.parse_amount(
                    text,
                    label=f"Amount in the tray for invoice {pk}",
                    currency=currency,
                ),
            )
            for pk, text in state.tray.items()
        ]
        if state.bad_tray:
            raise work.WorkError(
                f"Tray line {state.bad_tray[0]!r} is not an invoice and an amount: "
                "remove it and add the invoice again from the list."
            )
        write_off = None
        if state.writeoff_invoice:
            write_off = cash_work.WriteOffRequest(
                invoice_id=_whole(state.writeoff_invoice),
                reason_code=state.reason_code,
                note=state.note,
            )
        elif state.surplus_invoice:
            write_off = cash_work.WriteOffRequest(
                invoice_id=_whole(state.surplus_invoice),
                reason_code=state.reason_code,
                note=state.note,
                surplus=True,
            )
        outcome = cash_work.apply_tray(
            actor=actor,
            payment_id=payment_id,
            lines=lines,
            write_off=write_off,
            company=scope.company,
        )
    except (work.WorkError, cases.CaseError) as error:
        messages.error(request, str(error))
        state.tray_error = str(error)
        return _cash_page(request, scope, state)
    messages.success(request, _tray_message(outcome, scope))
    return redirect(f"{url}?payment={payment_id}")


def _whole(raw: str) -> int:
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 12 else 0


def _tray_message(outcome: cash_work.TrayOutcome, scope: WorkScope) -> str:
    """Say what the tray allocated, what the payment has left, and the write-off."""
    payment = outcome.payment
    money = _money(payment)
    total = sum((a.amount for a in outcome.allocations), ZERO)
    numbers = ", ".join(
        Invoice.objects.filter(
            pk__in=[a.invoice_id for a in outcome.allocations]
        ).values_list("number", flat=True)
    )
    text = f"Applied {money(total)} of payment {payment.number} to {numbers}."
    left = payment_available(payment)
    text += (
        f" Payment {payment.number} has {money(left)} left to allocate."
        if left > 0
        else f" Payment {payment.number} is applied in full."
    )
    if outcome.write_off is not None:
        text += " " + _write_off_message(outcome.write_off, payment, scope)
    return text


def _write_off_message(
    outcome: cash_work.WriteOffOutcome, payment: Payment, scope: WorkScope
) -> str:
    money = _money(payment)
    number = outcome.invoice.number
    if outcome.case is None:
        return (
            f"Kept the {money(outcome.amount)} that payment {payment.number} paid "
            f"beyond invoice {number}. The check after the allocation wrote it "
            f"off at once: {outcome.check_reason}"
        )
    case = f"case {scope.case_number(outcome.case)}"
    if outcome.approval is None and outcome.kept:
        return (
            f"Kept the {money(outcome.amount)} that payment {payment.number} paid "
            f"beyond invoice {number} as a write-off; {case} is resolved."
        )
    if outcome.approval is None:
        return (
            f"Wrote off {money(outcome.amount)} on invoice {outcome.invoice.number}; "
            f"{case} is resolved."
        )
    return (
        f"The write-off of {money(outcome.amount)} on invoice "
        f"{outcome.invoice.number} is above your limit, so it was sent to a manager "
        f"for approval on {case}."
    )


def _write_off(
    request: AuthenticatedRequest, actor: User, scope: WorkScope
) -> HttpResponse:
    """Write off what an invoice the payment paid still has open."""
    url = scope.url("work_cash")
    state = CashState.from_params(request.POST)
    payment_id = _whole(state.payment_raw)
    invoice_raw = request.POST.get("invoice", "")[:20]
    try:
        outcome = cash_work.write_off_rest(
            actor=actor,
            payment_id=payment_id,
            invoice_id=_whole(invoice_raw),
            reason_code=state.reason_code,
            note=state.note,
            company=scope.company,
        )
    except (work.WorkError, cases.CaseError) as error:
        messages.error(request, str(error))
        state.row_errors[f"writeoff-{invoice_raw}"] = str(error)
        state.writeoff_invoice = invoice_raw
        return _cash_page(request, scope, state)
    payment = Payment.objects.select_related("currency").get(pk=payment_id)
    messages.success(request, _write_off_message(outcome, payment, scope))
    return redirect(f"{url}?payment={payment_id}")


def _applied_message(allocation: Allocation, scope: WorkScope) -> str:
    """Build the message on what an allocation applied and what stays open.

    An invoice that keeps an open amount after its payment is spent, as with
    a bank charge or a short payment, is named with that amount. The message
    links the open case on the invoice, if any.
    """
    payment = Payment.objects.select_related("currency").get(pk=allocation.payment_id)
    invoice = Invoice.objects.select_related("currency").get(pk=allocation.invoice_id)
    code = payment.currency_id
    minor_units = payment.currency.minor_units
    applied = format_html(
        "Applied {} {} of payment {} to invoice {}.",
        format_money(allocation.amount, minor_units=minor_units),
        code,
        payment.number,
        invoice.number,
    )
    if invoice.amount_residual > 0:
        applied = format_html(
            "{} Invoice {} still has {} {} open",
            applied,
            invoice.number,
            format_money(
                invoice.amount_residual, minor_units=invoice.currency.minor_units
            ),
            invoice.currency_id,
        )
    left = payment_available(payment)
    if left > 0:
        # The clerk goes on allocating, so the screen lists the rest.
        return format_html(
            "{}{} Payment {} has {} {} left to allocate.",
            applied,
            "." if invoice.amount_residual > 0 else "",
            payment.number,
            format_money(left, minor_units=minor_units),
            code,
        )
    if invoice.amount_residual <= 0:
        return applied
    # The payment is spent and the invoice is not paid in full: a bank
    # charge or a short payment, which the check after the allocation keeps
    # as a case.
    still_open = applied
    case = (
        Discrepancy.objects.filter(
            invoice=invoice, state__in=sorted(ACTIVE_CASE_STATES)
        )
        .order_by("-pk")
        .first()
    )
    if case is None:
        return format_html("{}: no case is open for it.", still_open)
    return format_html(
        '{}: see <a href="{}">case {} ({})</a>.',
        still_open,
        scope.url("case_detail", case.pk),
        scope.case_number(case),
        case.get_code_display(),
    )


# Finance manager


@login_required
def approval_list(request: AuthenticatedRequest) -> HttpResponse:
    require_role(request.user, Role.MANAGER)
    return _page(
        request,
        "reconciliation/work/approvals.html",
        APPROVALS_CONTEXT,
        "",
        {
            "approval_rows": [
                (approval, work.case_open_text(approval.case))
                for approval in approval_decisions.pending_approvals()
            ]
        },
    )


@login_required
@require_POST
def decide_approval(request: AuthenticatedRequest, approval_id: int) -> HttpResponse:
    require_role(request.user, Role.MANAGER)
    if not approval_decisions.pending_approvals().filter(pk=approval_id).exists():
        raise Http404("No pending approval with that number.")
    try:
        approval = approval_decisions.decide_approval(
            approval_id=approval_id,
            approver=request.user,
            approve=approval_decisions.parse_decision(request.POST.get("decision", "")),
            reason=clean_text(request.POST.get("reason", ""))[:2000],
        )
    except (work.WorkError, cases.CaseError) as error:
        messages.error(request, str(error))
    else:
        messages.success(request, decided_message(approval))
    return redirect(reverse("reconciliation:work_approvals"))
