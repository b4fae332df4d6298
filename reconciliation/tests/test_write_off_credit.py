"""Credit notes and write-offs on one invoice count against each other.

Named people: fiona (finance clerk), sally (sales rep on the order), carla
(customer of the order's company), mona (manager). The invoice is 10 Chai at
36.36, 363.60 USD, of which the customer paid 279.97, so 83.63 is open. The
cash-proposal test bills the same order and has the customer pay 362.00.
"""

from decimal import Decimal

import pytest
from django.utils import timezone

from core.models import AuditEvent
from core.testing import messages_of, signed_in
from portal.models import ResolutionProposal
from portal.services import accept_proposal
from reconciliation import approvals, cases
from reconciliation.credit_proposals import propose_credit_note
from reconciliation.matches import MatchError, confirm_match
from reconciliation.matching import run_matching
from reconciliation.models import (
    Allocation,
    Approval,
    Discrepancy,
    Invoice,
    MatchGroup,
)
from reconciliation.tests.conftest import make_case
from reconciliation.tests.factories import (
    PaymentFactory,
    create_invoice,
    create_payment,
)
from reconciliation.work import WorkError

pytestmark = pytest.mark.django_db

Proposal = ResolutionProposal.State
State = Discrepancy.State
INBOX = "/reconciliation/cases/"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.RECONCILIATION_WRITE_OFF_LIMIT = "100.00"
    settings.SALES_REP_CREDIT_LIMIT = "1000.00"


@pytest.fixture
def invoice(short_payment_case):
    return short_payment_case.invoice


@pytest.fixture
def price_case(short_payment_case, invoice):
    # A price dispute without a figure, as a customer reports it: only the
    # invoice total bounds its credit note, which these tests are about.
    return make_case(
        short_payment_case.order,
        code="PRICE_MISMATCH",
        invoice=invoice,
        difference=None,
    )


def started(case, clerk) -> Discrepancy:
    return cases.start_case(case_id=case.pk, actor=clerk)


def write_off(case, clerk) -> Discrepancy:
    return cases.resolve_case(
        case_id=case.pk,
        actor=clerk,
        resolution_code="write_off",
        note="Bank fee.",
    )


def propose(rep, case, amount: str) -> ResolutionProposal:
    return propose_credit_note(
        actor=rep, case_id=case.pk, amount=Decimal(amount), message="Sorry"
    )


def written_off(invoice) -> Decimal:
    allocations = Allocation.objects.filter(invoice=invoice)
    return sum((row.writeoff_net for row in allocations), Decimal(0))


def credit_notes(invoice) -> list[tuple[str, Decimal]]:
    rows = Invoice.objects.filter(
        kind=Invoice.Kind.CREDIT_NOTE, origin_invoice=invoice
    ).order_by("pk")
    return [(note.state, note.amount_total) for note in rows]


def test_credit_note_counts_write_off(
    short_payment_case, price_case, invoice, clerk, sales_rep
):
    write_off(started(short_payment_case, clerk), clerk)

    with pytest.raises(WorkError) as raised:
        propose(sales_rep, price_case, "300.00")

    assert str(raised.value) == (
        f"Invoice {invoice.number} totals 363.60 USD: 0.00 USD of it is credited "
        "already, 0.00 USD is proposed on open proposals and 83.63 USD is "
        "written off. A credit note of 300.00 USD would take 383.63 USD off it: "
        "credit at most 279.97 USD."
    )
    assert credit_notes(invoice) == []
    assert not ResolutionProposal.objects.exists()
    price_case.refresh_from_db()
    assert price_case.state == State.OPEN


def test_write_off_counts_open_proposal(
    short_payment_case, price_case, invoice, clerk, sales_rep
):
    propose(sales_rep, price_case, "300.00")
    started(short_payment_case, clerk)

    with pytest.raises(cases.CaseError) as raised:
        write_off(short_payment_case, clerk)

    assert str(raised.value) == (
        f"Invoice {invoice.number} totals 363.60 USD: 0.00 USD of it is credited "
        "already, 300.00 USD is proposed on open proposals and 0.00 USD is "
        "written off. A write-off of 83.63 USD would take 383.63 USD off it: "
        "a write-off takes the case's whole difference, so wait for the "
        "customer's answer to the open proposals, or withdraw them, first."
    )
    short_payment_case.refresh_from_db()
    assert short_payment_case.state == State.IN_PROGRESS
    assert short_payment_case.resolution_code == ""
    assert written_off(invoice) == Decimal("0.00")
    assert not AuditEvent.objects.filter(action="allocation.written_off").exists()


def test_write_off_leaves_draft_credit_its_open_amount(
    short_payment_case, price_case, invoice, clerk, sales_rep, customer
):
    proposal = propose(sales_rep, price_case, "83.63")
    started(short_payment_case, clerk)

    with pytest.raises(cases.CaseError) as raised:
        write_off(short_payment_case, clerk)

    assert str(raised.value) == (
        f"Invoice {invoice.number} totals 363.60 USD and has 83.63 USD open, and "
        "open proposals offer 83.63 USD of credit on it, which settles the open "
        "amount first when the customer accepts. A write-off of 83.63 USD would "
        "forgive that money twice: wait for the customer's answer to the "
        "proposal, or withdraw it before writing off."
    )
    assert written_off(invoice) == Decimal("0.00")

    accept_proposal(customer=customer, proposal_id=proposal.pk)
    invoice.refresh_from_db()
    assert invoice.amount_residual == Decimal("0.00")
    assert write_off(short_payment_case, clerk).state == State.RESOLVED
    assert written_off(invoice) == Decimal("0.00")


def test_write_off_does_not_use_credit_limit(
    short_payment_case, price_case, clerk, sales_rep, settings
):
    settings.SALES_REP_CREDIT_LIMIT = "250.00"
    write_off(started(short_payment_case, clerk), clerk)

    proposal = propose(sales_rep, price_case, "200.00")

    # 83.63 written off and 200.00 credited is above 250.00, but the
    # write-off has its own limit and approver.
    assert proposal.state == Proposal.AWAITING_CUSTOMER


def test_write_off_request_counts_open_proposal(
    short_payment_case, price_case, invoice, clerk, sales_rep, settings
):
    settings.RECONCILIATION_WRITE_OFF_LIMIT = "50.00"
    propose(sales_rep, price_case, "300.00")
    started(short_payment_case, clerk)

    with pytest.raises(cases.CaseError) as raised:
        approvals.request_write_off(
            case_id=short_payment_case.pk, actor=clerk, reason="Bank fee."
        )

    assert str(raised.value).startswith(
        f"Invoice {invoice.number} totals 363.60 USD: 0.00 USD of it is credited "
        "already, 300.00 USD is proposed on open proposals"
    )
    assert not Approval.objects.exists()
    assert not AuditEvent.objects.filter(action="approval.requested").exists()


def test_case_page_shows_write_off_refusal(
    short_payment_case, price_case, invoice, clerk, sales_rep
):
    propose(sales_rep, price_case, "300.00")
    started(short_payment_case, clerk)

    response = signed_in(clerk).post(
        f"{INBOX}{short_payment_case.pk}/move/",
        {"to": "resolved", "resolution_code": "write_off", "note": "Bank fee."},
        follow=True,
    )

    assert response.status_code == 200
    assert messages_of(response) == [
        f"Invoice {invoice.number} totals 363.60 USD: 0.00 USD of it is credited "
        "already, 300.00 USD is proposed on open proposals and 0.00 USD is "
        "written off. A write-off of 83.63 USD would take 383.63 USD off it: "
        "a write-off takes the case's whole difference, so wait for the "
        "customer's answer to the open proposals, or withdraw them, first."
    ]
    short_payment_case.refresh_from_db()
    assert short_payment_case.state == State.IN_PROGRESS


def test_credit_note_screen_shows_refusal(
    short_payment_case, price_case, invoice, clerk, sales_rep
):
    write_off(started(short_payment_case, clerk), clerk)

    response = signed_in(sales_rep).post(
        f"/reconciliation/work/cases/{price_case.pk}/credit-note/",
        {"amount": "300.00", "message": "For the price"},
        follow=True,
    )

    assert response.status_code == 200
    assert messages_of(response) == [
        f"Invoice {invoice.number} totals 363.60 USD: 0.00 USD of it is credited "
        "already, 0.00 USD is proposed on open proposals and 83.63 USD is "
        "written off. A credit note of 300.00 USD would take 383.63 USD off it: "
        "credit at most 279.97 USD."
    ]
    assert credit_notes(invoice) == []


def test_approvals_screen_counts_write_off_since(
    short_payment_case, price_case, invoice, sales_rep, manager, settings
):
    settings.SALES_REP_CREDIT_LIMIT = "50.00"
    proposal = propose(sales_rep, price_case, "300.00")
    approval = Approval.objects.get(case=price_case)
    # The payment tolerance of a later pass writes the open amount off.
    allocation = Allocation.objects.get(invoice=invoice)
    allocation.writeoff_forgiven = Decimal("83.63")
    allocation.save(update_fields=["writeoff_forgiven"])

    response = signed_in(manager).post(
        f"/reconciliation/work/approvals/{approval.pk}/decide/",
        {"decision": "approve", "reason": "Long-standing customer."},
        follow=True,
    )

    assert response.status_code == 200
    assert messages_of(response) == [
        f"Invoice {invoice.number} totals 363.60 USD, but 0.00 USD of it is "
        "credited already, 300.00 USD is proposed, including this credit note "
        "of 300.00 USD, and 83.63 USD is written off. Approving it would take "
        "more than the invoice total off it: reject this approval."
    ]
    approval.refresh_from_db()
    proposal.refresh_from_db()
    assert approval.decision == Approval.Decision.PENDING
    assert proposal.state == Proposal.AWAITING_APPROVAL


def test_reversed_write_off_frees_its_room(
    short_payment_case, price_case, invoice, sales_rep
):
    allocation = Allocation.objects.get(invoice=invoice)
    allocation.writeoff_forgiven = Decimal("83.63")
    allocation.save(update_fields=["writeoff_forgiven"])
    Allocation.objects.create(
        payment=allocation.payment,
        invoice=invoice,
        amount=-allocation.amount,
        writeoff_forgiven=Decimal("-83.63"),
        reverses=allocation,
    )

    proposal = propose(sales_rep, price_case, "363.60")

    assert proposal.amount == Decimal("363.60")


def test_kept_overpayment_frees_no_room(
    short_payment_case, price_case, invoice, clerk, sales_rep
):
    write_off(started(short_payment_case, clerk), clerk)
    # The customer then pays 10.00 more, and a clerk keeps it.
    create_payment(invoice=invoice, amount="10.00")
    over_case = make_case(
        short_payment_case.order,
        code="OVER_PAYMENT",
        invoice=invoice,
        difference="10.00",
    )
    write_off(started(over_case, clerk), clerk)
    writeoffs = Allocation.objects.filter(invoice=invoice).order_by("pk")
    assert list(writeoffs.values_list("writeoff_forgiven", "writeoff_kept")) == [
        (Decimal("83.63"), Decimal("0.00")),
        (Decimal("0.00"), Decimal("10.00")),
    ]

    with pytest.raises(WorkError) as raised:
        propose(sales_rep, price_case, "285.00")

    # Netting the kept 10.00 against the forgiven 83.63 would leave 289.97.
    assert str(raised.value) == (
        f"Invoice {invoice.number} totals 363.60 USD: 0.00 USD of it is credited "
        "already, 0.00 USD is proposed on open proposals and 83.63 USD is "
        "written off. A credit note of 285.00 USD would take 368.63 USD off it: "
        "credit at most 279.97 USD."
    )
    assert credit_notes(invoice) == []


def test_case_page_shows_request_refusal(
    short_payment_case, price_case, invoice, clerk, sales_rep, settings
):
    settings.RECONCILIATION_WRITE_OFF_LIMIT = "50.00"
    propose(sales_rep, price_case, "83.63")
    started(short_payment_case, clerk)

    response = signed_in(clerk).post(
        f"{INBOX}{short_payment_case.pk}/write-off/",
        {"reason": "Bank fee."},
        follow=True,
    )

    assert response.status_code == 200
    assert messages_of(response) == [
        f"Invoice {invoice.number} totals 363.60 USD and has 83.63 USD open, and "
        "open proposals offer 83.63 USD of credit on it, which settles the open "
        "amount first when the customer accepts. A write-off of 83.63 USD would "
        "forgive that money twice: wait for the customer's answer to the "
        "proposal, or withdraw it before writing off."
    ]
    assert not Approval.objects.exists()


def test_tolerance_match_leaves_offered_credit(
    shipped_order, clerk, sales_rep, settings
):
    settings.RECONCILIATION_PAYMENT_TOLERANCE = "2.00"
    invoice = create_invoice(order=shipped_order)
    # Without a figure the case does not bound the credit note.
    price_case = make_case(
        shipped_order, code="PRICE_MISMATCH", invoice=invoice, difference=None
    )
    propose(sales_rep, price_case, "100.00")
    payment = PaymentFactory.create(
        company=invoice.company,
        party=invoice.customer,
        currency=invoice.currency,
        amount=Decimal("362.00"),
        reference="nothing",
    )
    run_matching(company=invoice.company, as_of=timezone.localdate())
    match = MatchGroup.objects.get(key=f"D:payment:{payment.pk}")
    assert match.rule == "cash.tolerance@1"
    assert Decimal(match.compared["invoices"][0]["writeoff"]) == Decimal("1.60")

    with pytest.raises(MatchError) as raised:
        confirm_match(group_id=match.pk, actor=clerk)

    assert str(raised.value) == (
        f"Match {match.matching_number} would write off 1.60 USD on invoice "
        f"{invoice.number}, but only 0.00 USD of it is free: open proposals offer "
        "100.00 USD of credit, which settles the open amount first when the "
        "customer accepts, 0.00 USD is credited and 0.00 USD written off "
        "already. Wait for the customer's answer to the proposals, or withdraw "
        "them, then run the matching again."
    )
    assert not Allocation.objects.filter(payment=payment).exists()
    match.refresh_from_db()
    assert match.state == MatchGroup.State.PROPOSED
