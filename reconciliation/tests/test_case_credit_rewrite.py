"""A case's credit bound after the pass rewrites its difference.

The bound of a money case other than a payment one is its stored difference
less the credit notes accepted from the case. That is right only while the
pass's difference leaves those credit notes out: were the pass to count an
accepted credit note in the difference it stores, the bound would subtract
it a second time. These tests build such a case by hand through the real
pass and show what the pass stores after an accepted credit, and the bound
when later documents change the difference.

The invoice bills 10 units at 36.36, 363.60 USD, with a tax rate of 10 %,
which is 36.36 tax, but charges 40.00, so the pass finds a tax difference
of 3.64. Named people: sally (sales rep on the order), carla (customer).
"""

from decimal import Decimal

import pytest
from django.utils import timezone

from portal.services import accept_proposal
from reconciliation.case_credit import case_open_amount
from reconciliation.credit_proposals import propose_credit_note
from reconciliation.matching import run_matching
from reconciliation.models import Discrepancy, Invoice, InvoiceLine
from reconciliation.services import refresh_order
from reconciliation.tests.factories import (
    create_invoice,
    create_order,
    create_shipment,
)
from reconciliation.work import WorkError

pytestmark = pytest.mark.django_db

State = Discrepancy.State


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.SALES_REP_CREDIT_LIMIT = "1000.00"


@pytest.fixture
def order(customer_party, sales_rep):
    order = create_order(
        lines=[("10", "36.36")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    create_shipment(order=order)
    return order


def charge_tax(invoice: Invoice, tax_amount: str) -> None:
    """Set the tax of the invoice's line, as a corrected invoice would."""
    line = InvoiceLine.objects.get(invoice=invoice)
    line.tax_rate = Decimal(10)
    line.tax_amount = Decimal(tax_amount)
    line.save(update_fields=["tax_rate", "tax_amount"])
    assert invoice.order is not None
    refresh_order(order=invoice.order)
    invoice.refresh_from_db()


@pytest.fixture
def invoice(order):
    invoice = create_invoice(order=order)
    charge_tax(invoice, "40.00")
    return invoice


def match(order) -> None:
    run_matching(company=order.company, as_of=timezone.localdate())


def tax_case(order) -> Discrepancy:
    return Discrepancy.objects.get(order=order, code="TAX_MISMATCH")


@pytest.fixture
def credited_case(order, invoice, sales_rep, customer):
    """Return the tax case after the customer accepted 1.00 of credit on it."""
    match(order)
    case = tax_case(order)
    assert case.difference == Decimal("3.64")
    proposal = propose_credit_note(
        actor=sales_rep, case_id=case.pk, amount=Decimal("1.00"), message="Tax"
    )
    accept_proposal(customer=customer, proposal_id=proposal.pk)
    case.refresh_from_db()
    assert case.state == State.RESOLVED
    return case


def test_pass_leaves_case_credit_out(credited_case, order, invoice):
    match(order)

    case = tax_case(order)
    assert case.pk == credited_case.pk
    assert case.difference == Decimal("3.64")
    assert case.state == State.RESOLVED
    assert case_open_amount(case, invoice) == Decimal("2.64")


def test_case_credit_note_has_no_order_line(credited_case, invoice):
    # The quantity checks read order lines and the freight check freight. A
    # case's credit note carries neither, so those checks never count it.
    note = Invoice.objects.get(kind=Invoice.Kind.CREDIT_NOTE, origin_invoice=invoice)

    assert note.freight_amount == Decimal(0)
    assert not InvoiceLine.objects.filter(
        invoice=note, order_line__isnull=False
    ).exists()


def test_rewritten_difference_keeps_bound(credited_case, order, invoice, sales_rep):
    # The invoice is corrected to 42.00 tax: the difference is now 5.64, of
    # which the customer was credited 1.00.
    charge_tax(invoice, "42.00")
    match(order)

    case = tax_case(order)
    assert case.difference == Decimal("5.64")
    assert case.state == State.REOPENED
    assert case_open_amount(case, invoice) == Decimal("4.64")
    with pytest.raises(WorkError) as error:
        propose_credit_note(
            actor=sales_rep, case_id=case.pk, amount=Decimal("4.65"), message="x"
        )
    assert "leaves open: credit at most 4.64 USD." in str(error.value)
    proposal = propose_credit_note(
        actor=sales_rep, case_id=case.pk, amount=Decimal("4.64"), message="Rest"
    )
    assert proposal.amount == Decimal("4.64")


def test_lower_difference_lowers_bound(credited_case, order, invoice):
    # The invoice is corrected to 37.00 tax: the pass now finds 0.64, which
    # the customer's accepted credit of 1.00 covers.
    charge_tax(invoice, "37.00")
    match(order)

    case = tax_case(order)
    assert case.difference == Decimal("0.64")
    assert case_open_amount(case, invoice) == Decimal("0.00")
