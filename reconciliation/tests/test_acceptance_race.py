"""A customer accepts a credit note while a clerk writes money off its invoice.

Each writer runs on its own database connection, started together on a
barrier (``race`` from the concurrency tests). The invoice is 10 Chai at
36.36, 363.60 USD. The acceptance locks the order, then the invoice. The
write-off must lock them in the same order. Otherwise each waits for the
row the other holds, and PostgreSQL aborts one of them as a deadlock. Whatever the
timing, the credit posted and the money forgiven stay within the invoice
total, and each side is written whole or not at all. Named people: fiona
(finance clerk), sally (sales rep on the order), carla (the customer).
"""

from decimal import Decimal

import pytest
from django.db import OperationalError, connection
from django.db.models import Sum

from portal.models import ResolutionProposal
from portal.services import accept_proposal
from reconciliation import cases
from reconciliation.credit_notes import forgiven_on_invoice
from reconciliation.credit_proposals import propose_credit_note
from reconciliation.models import Discrepancy, Invoice
from reconciliation.services import refresh_order
from reconciliation.tests.conftest import make_case
from reconciliation.tests.factories import create_invoice, create_payment
from reconciliation.tests.test_concurrency import race

pytestmark = pytest.mark.django_db(transaction=True)

# Races per test: the deadlock needs each writer to take its first lock
# before the other takes its second, which one run does not always give.
ROUNDS = 4
TOTAL = Decimal("363.60")


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.RECONCILIATION_WRITE_OFF_LIMIT = "100.00"
    settings.SALES_REP_CREDIT_LIMIT = "1000.00"


def posted_credit(invoice: Invoice) -> Decimal:
    notes = Invoice.objects.filter(
        kind=Invoice.Kind.CREDIT_NOTE,
        origin_invoice=invoice,
        state=Invoice.State.POSTED,
    )
    return notes.aggregate(total=Sum("amount_total"))["total"] or Decimal(0)


def race_acceptance_and_write_off(
    shipped_order, clerk, sales_rep, customer, *, paid: str, credit: str
) -> tuple[list[BaseException], Invoice, Discrepancy, ResolutionProposal]:
    """Offer ``credit`` on a price case and race its acceptance with a write-off.

    The short-payment case writes off 83.63 on an invoice of which the
    customer paid ``paid``.
    """
    invoice = create_invoice(order=shipped_order)
    create_payment(invoice=invoice, amount=paid)
    refresh_order(order=shipped_order)
    short_case = make_case(shipped_order, invoice=invoice)
    price_case = make_case(
        shipped_order, code="PRICE_MISMATCH", invoice=invoice, difference=None
    )
    proposal = propose_credit_note(
        actor=sales_rep,
        case_id=price_case.pk,
        amount=Decimal(credit),
        message="For the price.",
    )
    assert proposal.state == ResolutionProposal.State.AWAITING_CUSTOMER
    cases.start_case(case_id=short_case.pk, actor=clerk)

    def accept() -> object:
        return accept_proposal(customer=customer, proposal_id=proposal.pk)

    def write_off() -> object:
        return cases.resolve_case(
            case_id=short_case.pk,
            actor=clerk,
            resolution_code="write_off",
            note="Bank fee.",
        )

    errors = race(accept, write_off)
    invoice.refresh_from_db()
    short_case.refresh_from_db()
    proposal.refresh_from_db()
    return errors, invoice, short_case, proposal


@pytest.mark.parametrize("round_number", range(ROUNDS))
def test_both_fit_and_both_land(
    shipped_order, clerk, sales_rep, customer, round_number
):
    # Paid 200.00, so 163.60 is open: a credit of 50.00 and a write-off of
    # 83.63 both fit, in either order.
    errors, invoice, short_case, proposal = race_acceptance_and_write_off(
        shipped_order, clerk, sales_rep, customer, paid="200.00", credit="50.00"
    )

    deadlocks = [e for e in errors if isinstance(e, OperationalError)]
    if connection.vendor == "postgresql":
        assert deadlocks == []
        assert errors == []
    else:
        # SQLite lets one writer in at a time, and the other may find the
        # database locked. That writer's transaction writes nothing.
        assert len(errors) <= 1
    assert posted_credit(invoice) + forgiven_on_invoice(invoice) <= TOTAL
    if proposal.state == ResolutionProposal.State.ACCEPTED:
        assert posted_credit(invoice) == Decimal("50.00")
    else:
        assert proposal.state == ResolutionProposal.State.AWAITING_CUSTOMER
        assert posted_credit(invoice) == Decimal(0)
    if short_case.state == Discrepancy.State.RESOLVED:
        assert forgiven_on_invoice(invoice) == Decimal("83.63")
    else:
        assert short_case.state == Discrepancy.State.IN_PROGRESS
        assert forgiven_on_invoice(invoice) == Decimal(0)
    assert invoice.amount_residual == (
        TOTAL
        - Decimal("200.00")
        - posted_credit(invoice)
        - forgiven_on_invoice(invoice)
    )


@pytest.mark.parametrize("round_number", range(ROUNDS))
def test_only_one_fits_and_total_holds(
    shipped_order, clerk, sales_rep, customer, round_number
):
    # Paid 279.97, so 83.63 is open: the credit of 300.00 settles it when
    # accepted, and a write-off of the same money would forgive it twice.
    errors, invoice, short_case, proposal = race_acceptance_and_write_off(
        shipped_order, clerk, sales_rep, customer, paid="279.97", credit="300.00"
    )

    if connection.vendor == "postgresql":
        # The write-off either reads the open offer and is rejected, or reads
        # the posted credit note and finds nothing left to write off.
        assert [e for e in errors if isinstance(e, OperationalError)] == []
        assert proposal.state == ResolutionProposal.State.ACCEPTED
    assert posted_credit(invoice) + forgiven_on_invoice(invoice) <= TOTAL
    assert forgiven_on_invoice(invoice) == Decimal(0)
    # Resolved when the write-off came second and found nothing open.
    assert short_case.state in (
        Discrepancy.State.RESOLVED,
        Discrepancy.State.IN_PROGRESS,
    )
    if proposal.state == ResolutionProposal.State.ACCEPTED:
        assert posted_credit(invoice) == Decimal("300.00")
        assert invoice.amount_residual == Decimal(0)
    else:
        assert posted_credit(invoice) == Decimal(0)
        assert invoice.amount_residual == Decimal("83.63")
