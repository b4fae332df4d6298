"""A credit note from a case credits at most what the case leaves open.

Named people: sally (sales rep on the order), carla (customer) and mona
(manager). The invoice of the shipped order is 10 units at 36.36, 363.60 USD
without tax. The customer paid 279.97 of it, so 83.63 USD is open.
"""

from decimal import Decimal

import pytest

from core.models import AuditEvent
from core.testing import messages_of, signed_in
from portal.models import ResolutionProposal
from portal.services import accept_proposal
from reconciliation.case_credit import case_open_amount
from reconciliation.cases import reopen_case
from reconciliation.credit_proposals import propose_credit_note
from reconciliation.models import Approval, Invoice
from reconciliation.tests.conftest import make_case
from reconciliation.work import WorkError

pytestmark = pytest.mark.django_db


def credit(client, case, amount: str):
    return client.post(
        f"/reconciliation/work/cases/{case.pk}/credit-note/",
        {"amount": amount, "message": "For the short payment"},
        follow=True,
    )


def test_credit_above_open_is_rejected(short_payment_case, sales_rep):
    response = credit(signed_in(sales_rep), short_payment_case, "240.00")

    assert messages_of(response) == [
        f"A credit note of 240.00 USD is more than the 83.63 USD that case "
        f"{short_payment_case.pk} leaves open: credit at most 83.63 USD. If the "
        "customer is owed more, record the rest on a case of its own first."
    ]
    assert not ResolutionProposal.objects.exists()
    assert not Invoice.objects.filter(kind=Invoice.Kind.CREDIT_NOTE).exists()
    assert not AuditEvent.objects.filter(action="credit_note.proposed").exists()


def test_credit_of_open_amount_is_proposed(short_payment_case, sales_rep):
    response = credit(signed_in(sales_rep), short_payment_case, "83.63")

    assert messages_of(response) == ["Proposed the credit note."]
    proposal = ResolutionProposal.objects.get()
    assert proposal.amount == Decimal("83.63")


def test_credit_above_limit_and_open_rejected(short_payment_case, sales_rep, settings):
    settings.SALES_REP_CREDIT_LIMIT = "50.00"

    with pytest.raises(WorkError) as raised:
        propose_credit_note(
            actor=sales_rep,
            case_id=short_payment_case.pk,
            amount=Decimal("250.01"),
            message="Sorry",
        )

    assert "more than the 83.63 USD that case" in str(raised.value)
    assert not Approval.objects.exists()


def test_reopened_paid_case_leaves_nothing(short_payment_case, sales_rep, customer):
    proposal = propose_credit_note(
        actor=sales_rep,
        case_id=short_payment_case.pk,
        amount=Decimal("83.63"),
        message="Sorry",
    )
    accept_proposal(customer=customer, proposal_id=proposal.pk)
    reopen_case(case_id=short_payment_case.pk, actor=sales_rep, reason="Again.")

    with pytest.raises(WorkError) as raised:
        propose_credit_note(
            actor=sales_rep,
            case_id=short_payment_case.pk,
            amount=Decimal("10.00"),
            message="Sorry",
        )

    invoice = short_payment_case.invoice
    assert str(raised.value) == (
        f"Case {short_payment_case.pk} leaves nothing open on invoice "
        f"{invoice.number}, so a credit note of 10.00 USD has nothing to settle: "
        "resolve the case without a credit note."
    )


def test_damaged_units_are_valued_at_invoiced_price(short_payment_case):
    order = short_payment_case.order
    case = make_case(
        order,
        code="DAMAGED",
        difference="2",
        invoice=short_payment_case.invoice,
        order_line=order.lines.get(),
    )
    case.unit = "unit"

    assert case_open_amount(case, short_payment_case.invoice) == Decimal("72.72")


def test_price_difference_counts_every_billed_unit(short_payment_case):
    order = short_payment_case.order
    case = make_case(
        order,
        code="PRICE_MISMATCH",
        difference="0.50",
        invoice=short_payment_case.invoice,
        order_line=order.lines.get(),
    )

    assert case_open_amount(case, short_payment_case.invoice) == Decimal("5.00")


def test_days_late_have_no_money_value(short_payment_case):
    order = short_payment_case.order
    case = make_case(
        order,
        code="LATE_SHIP",
        difference="3",
        invoice=short_payment_case.invoice,
        order_line=order.lines.get(),
    )
    case.unit = "days"

    assert case_open_amount(case, short_payment_case.invoice) is None


def test_approval_row_shows_case_open_amount(
    short_payment_case, sales_rep, manager, settings
):
    settings.SALES_REP_CREDIT_LIMIT = "50.00"
    credit(signed_in(sales_rep), short_payment_case, "80.00")

    response = signed_in(manager).get("/reconciliation/work/approvals/")

    html = response.content.decode()
    assert (
        '<td class="num" data-label="Open on the case" data-testid="case-open">'
        "83.63 USD</td>"
    ) in html
    assert [text for _, text in response.context["approval_rows"]] == ["83.63 USD"]
