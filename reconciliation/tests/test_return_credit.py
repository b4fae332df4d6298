"""A return that waits for its credit note names the invoice and shipment line.

Carla (Alfreds Futterkiste) ordered 10 boxes of Chai at 36.36, billed with
20% tax. They shipped on SH-RC-1 and INV-RC-1 billed them. Carla sent 2
boxes back, which the warehouse accepted 30 days ago, more than the 14 days
a return may wait for its credit note. The matching pass opens
``RETURN_NOT_CREDITED`` on the line and names the invoice that billed the
units. So Sally, the sales rep, offers the credit from the sales decision
screen, bounded by the returned units, and Carla accepts it in the portal.
The credit names the order line and the shipment line the units came back
from, so the order stays "Invoiced".
"""

from decimal import Decimal

import pytest

from core.testing import signed_in
from portal.models import ResolutionProposal
from portal.services import accept_proposal
from reconciliation.credit_proposals import propose_credit_note
from reconciliation.matching import match_order
from reconciliation.models import (
    Discrepancy,
    Invoice,
    InvoiceLine,
    SalesOrder,
    ShipmentLine,
)
from reconciliation.tests.factories import (
    create_invoice,
    create_order,
    create_shipment,
    receive_return,
)
from reconciliation.work import WorkError

pytestmark = pytest.mark.django_db

RETURN = "RETURN_NOT_CREDITED"
QTY = "INVOICE_QTY_MISMATCH"
# 2 boxes at 36.36 net (72.72) plus 20% tax (14.54).
TWO_BOXES = "87.26"
ONE_BOX = "43.63"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.SALES_REP_CREDIT_LIMIT = "1000.00"


@pytest.fixture
def order(customer_party, sales_rep) -> SalesOrder:
    return create_order(
        lines=[("10", "36.36")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
        number="SO-RC",
    )


def bill(order: SalesOrder, number: str, qty: str | None = None) -> Invoice:
    """Invoice ``qty`` boxes (all shipped by default) at 20% tax."""
    invoice = create_invoice(
        order=order,
        number=number,
        quantities=None if qty is None else {1: qty},
    )
    for line in invoice.lines.all():
        line.tax_rate = Decimal(20)
        line.tax_amount = (line.subtotal * Decimal("0.2")).quantize(Decimal("0.01"))
        line.save(update_fields=["tax_rate", "tax_amount"])
    total = sum(
        (line.subtotal + line.tax_amount for line in invoice.lines.all()), Decimal(0)
    )
    Invoice.objects.filter(pk=invoice.pk).update(
        amount_total=total, amount_residual=total
    )
    invoice.refresh_from_db()
    return invoice


def return_case(order: SalesOrder) -> Discrepancy:
    match_order(order)
    return Discrepancy.objects.get(order=order, code=RETURN)


def credit(sales_rep, customer, case: Discrepancy, amount: str) -> Invoice:
    proposal = propose_credit_note(
        actor=sales_rep, case_id=case.pk, amount=Decimal(amount), message="Thanks"
    )
    accept_proposal(customer=customer, proposal_id=proposal.pk)
    proposal.refresh_from_db()
    assert proposal.state == ResolutionProposal.State.ACCEPTED
    assert proposal.credit_note is not None
    return proposal.credit_note


def active(order: SalesOrder, code: str) -> list[Discrepancy]:
    done = (Discrepancy.State.RESOLVED, Discrepancy.State.CLOSED)
    return list(
        Discrepancy.objects.filter(order=order, code=code).exclude(state__in=done)
    )


def test_return_case_names_the_billing_invoice(order):
    create_shipment(order=order, number="SH-RC-1")
    invoice = bill(order, "INV-RC-1")
    receive_return(order, {1: "2"}, "RMA-RC-1")

    case = return_case(order)

    assert case.invoice == invoice
    assert case.order_line == order.lines.get(line_no=1)
    assert case.difference == Decimal(-2)


def test_return_names_invoice_of_its_shipment_line(order):
    create_shipment(order=order, number="SH-RC-1", quantities={1: "6"})
    first = bill(order, "INV-RC-1", "6")
    create_shipment(order=order, number="SH-RC-2", quantities={1: "4"})
    second = bill(order, "INV-RC-2", "4")
    for invoice, shipment in ((first, "SH-RC-1"), (second, "SH-RC-2")):
        InvoiceLine.objects.filter(invoice=invoice).update(
            shipment_line=ShipmentLine.objects.get(shipment__number=shipment)
        )
    receive_return(order, {1: "2"}, "RMA-RC-1", shipments={1: "SH-RC-2"})

    case = return_case(order)

    # The earliest invoice covers 2 boxes too, but the units came back from
    # the shipment the second invoice billed.
    assert case.invoice == second


def test_sales_screen_offers_the_return_credit(order, sales_rep):
    create_shipment(order=order, number="SH-RC-1")
    bill(order, "INV-RC-1")
    receive_return(order, {1: "2"}, "RMA-RC-1")
    case = return_case(order)

    page = signed_in(sales_rep).get(f"/reconciliation/work/cases/{case.pk}/")

    assert page.status_code == 200
    assert page.context["suggested_amount"] == Decimal(TWO_BOXES)
    form = f'action="/reconciliation/work/cases/{case.pk}/credit-note/"'
    assert form in page.content.decode()


def test_return_credit_is_bounded_by_returned_units(order, sales_rep):
    create_shipment(order=order, number="SH-RC-1")
    bill(order, "INV-RC-1")
    receive_return(order, {1: "2"}, "RMA-RC-1")
    case = return_case(order)

    with pytest.raises(WorkError) as raised:
        propose_credit_note(
            actor=sales_rep,
            case_id=case.pk,
            amount=Decimal("130.89"),
            message="Three boxes",
        )

    assert "87.26" in str(raised.value)
    assert not Invoice.objects.filter(kind=Invoice.Kind.CREDIT_NOTE).exists()


def test_accepted_return_credit_keeps_order_invoiced(order, customer, sales_rep):
    create_shipment(order=order, number="SH-RC-1")
    bill(order, "INV-RC-1")
    receive_return(order, {1: "2"}, "RMA-RC-1")
    case = return_case(order)

    note = credit(sales_rep, customer, case, TWO_BOXES)

    [line] = note.lines.all()
    assert line.qty == Decimal(2)
    assert not line.amount_only
    assert line.order_line == order.lines.get(line_no=1)
    assert line.shipment_line == ShipmentLine.objects.get(shipment__number="SH-RC-1")
    assert (line.subtotal, line.tax_amount) == (Decimal("72.72"), Decimal("14.54"))
    order.refresh_from_db()
    assert order.invoice_status == SalesOrder.InvoiceStatus.INVOICED
    match_order(order)
    order.refresh_from_db()
    assert order.invoice_status == SalesOrder.InvoiceStatus.INVOICED
    assert active(order, RETURN) == []
    assert active(order, QTY) == []


def test_part_credit_leaves_the_rest_open(order, customer, sales_rep):
    create_shipment(order=order, number="SH-RC-1")
    bill(order, "INV-RC-1")
    receive_return(order, {1: "2"}, "RMA-RC-1")
    case = return_case(order)
    credit(sales_rep, customer, case, ONE_BOX)

    # Before the next pass the stored gap is still 2 boxes, but only one is
    # left to credit.
    with pytest.raises(WorkError):
        propose_credit_note(
            actor=sales_rep,
            case_id=case.pk,
            amount=Decimal(TWO_BOXES),
            message="Again",
        )
    match_order(order)
    [reopened] = active(order, RETURN)
    assert reopened.difference == Decimal(-1)
    credit(sales_rep, customer, reopened, ONE_BOX)

    match_order(order)
    assert active(order, RETURN) == []
    order.refresh_from_db()
    assert order.invoice_status == SalesOrder.InvoiceStatus.INVOICED


def test_return_over_two_shipments_names_no_shipment_line(order, customer, sales_rep):
    create_shipment(order=order, number="SH-RC-1", quantities={1: "6"})
    create_shipment(order=order, number="SH-RC-2", quantities={1: "4"})
    bill(order, "INV-RC-1")
    receive_return(order, {1: "2"}, "RMA-RC-1")
    case = return_case(order)

    note = credit(sales_rep, customer, case, TWO_BOXES)

    [line] = note.lines.all()
    assert line.order_line == order.lines.get(line_no=1)
    assert line.shipment_line is None
    match_order(order)
    assert active(order, RETURN) == []


def test_rep_offers_and_customer_accepts_on_screens(order, customer, sales_rep):
    create_shipment(order=order, number="SH-RC-1")
    bill(order, "INV-RC-1")
    receive_return(order, {1: "2"}, "RMA-RC-1")
    case = return_case(order)

    offered = signed_in(sales_rep).post(
        f"/reconciliation/work/cases/{case.pk}/credit-note/",
        {"amount": TWO_BOXES, "message": "Thank you for sending the boxes back."},
    )
    assert offered.status_code == 302
    client = signed_in(customer)
    case_page = client.get(f"/reconciliation/portal/cases/{case.pk}/")
    assert case_page.status_code == 200
    [proposal] = case_page.context["proposals"]
    html = case_page.content.decode()
    assert "Thank you for sending the boxes back." in html
    assert "2 units of" in html
    client.post(f"/reconciliation/portal/proposals/{proposal.pk}/accept/")

    case.refresh_from_db()
    assert case.state == Discrepancy.State.RESOLVED
    assert case.resolution_code == "credit_note"
    order.refresh_from_db()
    assert order.invoice_status == SalesOrder.InvoiceStatus.INVOICED
