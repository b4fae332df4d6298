"""Deciding a duplicate-invoice case ends or keeps its invoice's hold.

Named person: fiona (finance clerk). Hanari Carnes owes invoice 1 of
1,332.00 USD with reference PO-77, and invoice 3 of 1,332.00 on another
order repeats that reference (``build_held``), so the pass and the cash
screen hold invoice 3 until fiona decides its case:

- not a duplicate (the case rejected, or resolved "Accepted as is"): the
  hold is lifted and invoice 3 takes cash again;
- a real duplicate (resolved "Duplicate cancelled"): invoice 3 is
  cancelled, or, when something was paid on it already, credited in full.
"""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import Role
from conftest import make_person
from core.models import AuditEvent
from core.testing import signed_in
from portal.models import ProblemReport
from portal.services import ProblemInput, report_problem
from reconciliation import cases, cash_work, work
from reconciliation.cash import suggest
from reconciliation.duplicates import find_duplicate_invoices
from reconciliation.matching import match_order
from reconciliation.models import Discrepancy, Invoice
from reconciliation.services import allocate_payment, refresh_order
from reconciliation.tests.factories import PaymentFactory
from reconciliation.tests.test_cash_held_duplicates import build_held, duplicate_case

pytestmark = pytest.mark.django_db

CASE_URL = "/reconciliation/cases/{}/"


@pytest.fixture(autouse=True)
def _pinned_settings(settings):
    settings.RECONCILIATION_PAYMENT_TOLERANCE = "0.01"
    settings.RECONCILIATION_WRITE_OFF_LIMIT = "50.00"


def started(case: Discrepancy, clerk) -> Discrepancy:
    return cases.start_case(case_id=case.pk, actor=clerk)


def events(invoice: Invoice, action: str) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            object_type="reconciliation.invoice",
            object_id=str(invoice.pk),
            action=action,
        )
    )


def now_text(clerk, case: Discrepancy) -> str:
    page = signed_in(clerk).get(CASE_URL.format(case.pk))
    assert page.status_code == 200
    html = page.content.decode()
    start = html.index('data-testid="case-now">')
    return html[start : html.index("</p>", start)]


@pytest.mark.parametrize("how", ["reject", "accepted_as_is"])
def test_not_a_duplicate_lifts_the_hold(clerk, how):
    payment, first, copy = build_held(amount="1332.00")
    case = duplicate_case(copy)
    reason = "Two deliveries of one standing order share the PO number."

    if how == "reject":
        # An open case is rejected as it is; resolving needs work started.
        cases.reject_case(case_id=case.pk, actor=clerk, reason=reason)
    else:
        started(case, clerk)
        cases.resolve_case(
            case_id=case.pk, actor=clerk, resolution_code=how, note=reason
        )

    copy.refresh_from_db()
    assert copy.duplicate_kept_reason == reason
    assert copy.state == Invoice.State.POSTED
    assert find_duplicate_invoices(company=copy.company) == {}
    assert cash_work.held_duplicates(payment) == {}
    offered = {i for s in suggest(payment, Decimal("1332.00")) for i, _ in s.lines}
    assert copy in offered
    [kept] = events(copy, "invoice.duplicate_kept")
    assert kept.actor == clerk
    assert kept.before == {"duplicate_kept_reason": ""}
    assert kept.after == {"duplicate_kept_reason": reason, "case": case.pk}
    assert now_text(clerk, case).endswith(
        f"Invoice {copy.number} is not a duplicate of invoice {first.number} "
        f"({reason}), so it is owed and takes payments like any invoice. "
        f"Invoice {copy.number}: open 1,332.00 USD"
    )

    allocation = cash_work.apply_cash(
        actor=clerk, payment_id=payment.pk, invoice_id=copy.pk, amount=Decimal("1332")
    )
    assert allocation.invoice == copy
    # The pass agrees: no duplicate finding reopens the case.
    assert copy.order is not None
    match_order(copy.order)
    case.refresh_from_db()
    assert case.state == (
        Discrepancy.State.REJECTED if how == "reject" else Discrepancy.State.RESOLVED
    )
    assert not Discrepancy.objects.filter(
        invoice=copy, code="DUPLICATE_INVOICE", state=Discrepancy.State.OPEN
    ).exists()


def test_real_duplicate_with_nothing_paid_is_cancelled(clerk):
    payment, first, copy = build_held(amount="1332.00")
    case = started(duplicate_case(copy), clerk)
    note = "Entered twice from one delivery note."

    cases.resolve_case(
        case_id=case.pk,
        actor=clerk,
        resolution_code="duplicate_cancelled",
        note=note,
    )

    copy.refresh_from_db()
    assert copy.state == Invoice.State.CANCELLED
    assert copy.duplicate_kept_reason == ""
    [cancelled] = events(copy, "invoice.cancelled_as_duplicate")
    assert cancelled.before == {"state": "posted"}
    assert cancelled.after == {
        "state": "cancelled",
        "case": case.pk,
        "original": first.number,
    }
    assert cancelled.reason == note
    assert now_text(clerk, case).endswith(
        f"Invoice {copy.number} was cancelled as a duplicate of invoice "
        f"{first.number}: nothing is owed on it and it takes no payment."
    )
    with pytest.raises(work.WorkError):
        cash_work.apply_cash(
            actor=clerk,
            payment_id=payment.pk,
            invoice_id=copy.pk,
            amount=Decimal("100.00"),
        )
    assert copy.order is not None
    copy.order.refresh_from_db()
    assert copy.order.invoice_status == "to_invoice"
    match_order(copy.order)
    case.refresh_from_db()
    assert case.state == Discrepancy.State.RESOLVED


def test_real_duplicate_already_paid_is_credited_in_full(clerk):
    _payment, first, copy = build_held(amount="1332.00")
    case = started(duplicate_case(copy), clerk)
    # 400.00 reached the copy before the hold (an import placed it).
    early = PaymentFactory.create(
        company=copy.company,
        party=copy.customer,
        amount=Decimal("400.00"),
        reference=copy.number,
        number="PAY-EARLY",
    )
    allocate_payment(payment=early, invoice=copy, amount=Decimal("400.00"))
    assert copy.order is not None
    refresh_order(order=copy.order)

    cases.resolve_case(
        case_id=case.pk,
        actor=clerk,
        resolution_code="duplicate_cancelled",
        note="Entered twice; the 400.00 belongs on the original.",
    )

    copy.refresh_from_db()
    assert copy.state == Invoice.State.POSTED
    credit_note = Invoice.objects.get(origin_invoice=copy)
    assert credit_note.kind == Invoice.Kind.CREDIT_NOTE
    assert credit_note.state == Invoice.State.POSTED
    assert credit_note.amount_total == Decimal("1332.00")
    # The credit settles what was open; the paid 400.00 stays as credit.
    assert (copy.amount_credited, copy.amount_residual) == (
        Decimal("932.00"),
        Decimal("0.00"),
    )
    credit_note.refresh_from_db()
    assert credit_note.amount_residual == Decimal("400.00")
    [line] = credit_note.lines.all()
    assert line.amount_only
    assert line.order_line_id is None
    # Still a duplicate: held, and the pass does not reopen the case.
    assert copy.pk in find_duplicate_invoices(company=copy.company)
    match_order(copy.order)
    case.refresh_from_db()
    assert case.state == Discrepancy.State.RESOLVED
    [credited] = events(copy, "invoice.credited_as_duplicate")
    assert credited.after["credit_note"] == credit_note.number
    assert credited.after["amount"] == "1332.00"
    assert now_text(clerk, case).startswith(
        f'data-testid="case-now"><strong>Now:</strong> Invoice {copy.number} '
        f"(1,332.00 USD) is a duplicate of invoice {first.number}, credited by "
        f"credit note {credit_note.number}: it takes no more payment, and what "
        "was paid on it stays on the credit note as credit."
    )


def test_reopening_puts_the_hold_back(clerk):
    payment, _first, copy = build_held(amount="1332.00")
    case = duplicate_case(copy)
    cases.reject_case(case_id=case.pk, actor=clerk, reason="Not a copy.")
    assert cash_work.held_duplicates(payment) == {}

    cases.reopen_case(case_id=case.pk, actor=clerk, reason="It is a copy after all.")

    copy.refresh_from_db()
    assert copy.duplicate_kept_reason == ""
    assert set(cash_work.held_duplicates(payment)) == {copy.pk}
    assert len(events(copy, "invoice.duplicate_hold_restored")) == 1

    started(case, clerk)
    cases.resolve_case(
        case_id=case.pk,
        actor=clerk,
        resolution_code="duplicate_cancelled",
        note="Entered twice.",
    )
    cases.reopen_case(case_id=case.pk, actor=clerk, reason="Cancelled the wrong one.")

    copy.refresh_from_db()
    assert copy.state == Invoice.State.POSTED
    assert set(cash_work.held_duplicates(payment)) == {copy.pk}
    assert len(events(copy, "invoice.duplicate_cancel_reversed")) == 1


def test_other_resolutions_keep_the_hold(clerk):
    payment, _first, copy = build_held(amount="1332.00")
    case = started(duplicate_case(copy), clerk)

    cases.resolve_case(
        case_id=case.pk, actor=clerk, resolution_code="refund", note="Refunded."
    )

    copy.refresh_from_db()
    assert (copy.state, copy.duplicate_kept_reason) == (Invoice.State.POSTED, "")
    assert set(cash_work.held_duplicates(payment)) == {copy.pk}


def test_customer_sees_the_cancelled_copy(clerk):
    _payment, first, copy = build_held(amount="1332.00")
    customer = make_person(
        "hana", Role.CUSTOMER, customer=copy.customer, group="customers"
    )
    assert copy.order is not None
    report = report_problem(
        customer=customer,
        order=copy.order,
        problem=ProblemInput(
            kind=ProblemReport.Kind.DUPLICATE_INVOICE,
            message="We got this invoice twice.",
            invoice=copy,
        ),
        evidence=[],
    )
    case = started(Discrepancy.objects.get(pk=report.case_id), clerk)
    cases.resolve_case(
        case_id=case.pk,
        actor=clerk,
        resolution_code="duplicate_cancelled",
        note="Entered twice.",
    )

    page = signed_in(customer).get(
        reverse("reconciliation:portal_case", args=[case.pk])
    )

    assert page.status_code == 200
    html = page.content.decode()
    assert (
        f"Invoice {copy.number} was cancelled as a duplicate of invoice "
        f"{first.number}: nothing is owed on it and it takes no payment."
    ) in html
    order_page = signed_in(customer).get(
        reverse("reconciliation:portal_order", args=[copy.order.number])
    )
    assert copy.number not in {
        invoice.number for invoice in order_page.context["invoices"]
    }


def reported_duplicate(invoice: Invoice, clerk) -> Discrepancy:
    """Return the started case of a customer's report that ``invoice`` came twice."""
    customer = make_person(
        "hana", Role.CUSTOMER, customer=invoice.customer, group="customers"
    )
    assert invoice.order is not None
    report = report_problem(
        customer=customer,
        order=invoice.order,
        problem=ProblemInput(
            kind=ProblemReport.Kind.DUPLICATE_INVOICE,
            message="This one came twice.",
            invoice=invoice,
        ),
        evidence=[],
    )
    return started(Discrepancy.objects.get(pk=report.case_id), clerk)


def test_original_is_not_cancelled(clerk):
    """The customer reports the first invoice: cancelling it is refused."""
    _payment, first, copy = build_held(amount="1332.00")
    case = reported_duplicate(first, clerk)

    with pytest.raises(cases.CaseError) as refused:
        cases.resolve_case(
            case_id=case.pk,
            actor=clerk,
            resolution_code="duplicate_cancelled",
            note="Billed twice.",
        )

    assert str(refused.value) == (
        f"Invoice {first.number} is the original: invoice {copy.number} repeats "
        f"its reference 'po-77'. Cancel invoice {copy.number} as the duplicate, "
        f'and resolve case {case.pk} "Accepted as is" or reject it.'
    )
    first.refresh_from_db()
    case.refresh_from_db()
    assert first.state == Invoice.State.POSTED
    assert case.state == Discrepancy.State.IN_PROGRESS
    assert not events(first, "invoice.cancelled_as_duplicate")


def test_kept_later_invoice_is_no_copy(clerk):
    """Once the later invoice is kept, the first may be cancelled as a copy."""
    _payment, first, copy = build_held(amount="1332.00")
    cases.reject_case(
        case_id=duplicate_case(copy).pk, actor=clerk, reason="Two deliveries."
    )
    case = reported_duplicate(first, clerk)

    cases.resolve_case(
        case_id=case.pk,
        actor=clerk,
        resolution_code="duplicate_cancelled",
        note="Billed twice after all.",
    )

    first.refresh_from_db()
    assert first.state == Invoice.State.CANCELLED
