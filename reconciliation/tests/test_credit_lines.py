"""A credit note of units names the order line of the units it credits.

Carla (Alfreds Futterkiste) ordered 10 boxes of Chai at 36.36 and 6 of Tofu
at 20.00. Both shipped on SH-CL-1 and INV-CL-1 billed them. Sally, the sales
rep, offers credit notes from the sales decision screen and Carla accepts
them in the portal. The matching pass then counts the units each credit
note credits on its order line, so a return of credited units needs no
further credit note and the invoiced quantity stays right. A price credit
or a credit of money names no order line and takes no units back. Each
test builds its case by hand and checks as of a day past the 14 days a
return may wait for its credit note.
"""

from decimal import Decimal

import pytest

from portal.models import ResolutionProposal
from portal.services import accept_proposal
from reconciliation.credit_proposals import propose_credit_note
from reconciliation.matching import match_order
from reconciliation.models import (
    Discrepancy,
    Invoice,
    InvoiceLine,
    MatchGroup,
    SalesOrder,
    ShipmentLine,
)
from reconciliation.tests.conftest import make_case
from reconciliation.tests.factories import (
    create_invoice,
    create_order,
    create_shipment,
    receive_return,
    report_damaged,
)

pytestmark = pytest.mark.django_db

RETURN = "RETURN_NOT_CREDITED"
QTY = "INVOICE_QTY_MISMATCH"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.SALES_REP_CREDIT_LIMIT = "1000.00"


@pytest.fixture
def order(customer_party, sales_rep) -> SalesOrder:
    order = create_order(
        lines=[("10", "36.36"), ("6", "20.00")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
        number="SO-CL",
    )
    create_shipment(order=order, number="SH-CL-1")
    return order


@pytest.fixture
def invoice(order) -> Invoice:
    return create_invoice(order=order, number="INV-CL-1")


def damaged(customer, order: SalesOrder, qty: str, *, line_no: int = 1) -> Discrepancy:
    return report_damaged(
        customer, order, qty, shipment_number="SH-CL-1", line_no=line_no
    )


def credit(sales_rep, customer, case: Discrepancy, amount: str) -> Invoice:
    """Propose ``amount`` on ``case`` as sally, accept as carla: the credit note."""
    proposal = propose_credit_note(
        actor=sales_rep, case_id=case.pk, amount=Decimal(amount), message="Sorry"
    )
    accept_proposal(customer=customer, proposal_id=proposal.pk)
    proposal.refresh_from_db()
    assert proposal.state == ResolutionProposal.State.ACCEPTED
    assert proposal.credit_note is not None
    return proposal.credit_note


def active(order: SalesOrder, code: str) -> list[Discrepancy]:
    """Return the order's cases of ``code`` that are not resolved or closed."""
    done = (Discrepancy.State.RESOLVED, Discrepancy.State.CLOSED)
    return list(
        Discrepancy.objects.filter(order=order, code=code)
        .exclude(state__in=done)
        .order_by("order_line__line_no")
    )


def billing_line(order: SalesOrder, line_no: int) -> dict[str, str]:
    group = MatchGroup.objects.get(kind=MatchGroup.Kind.BILLING, order=order)
    [line] = [row for row in group.compared["lines"] if row["line"] == line_no]
    return dict(line)


# Goods credits


def test_goods_credit_names_order_and_shipment_line(
    order, invoice, customer, sales_rep
):
    case = damaged(customer, order, "2")

    note = credit(sales_rep, customer, case, "72.72")

    [line] = note.lines.all()
    shipment_line = ShipmentLine.objects.get(
        shipment__number="SH-CL-1", order_line__line_no=1
    )
    assert (line.qty, line.order_line, line.shipment_line) == (
        Decimal(2),
        order.lines.get(line_no=1),
        shipment_line,
    )
    assert not line.amount_only


def test_credited_damaged_return_settled(order, invoice, customer, sales_rep):
    case = damaged(customer, order, "2")
    credit(sales_rep, customer, case, "72.72")
    receive_return(order, {1: "2"}, "RMA-CL-1")

    match_order(order)

    assert active(order, RETURN) == []
    assert active(order, QTY) == []


def test_return_beyond_credit_needs_credit(order, invoice, customer, sales_rep):
    case = damaged(customer, order, "2")
    credit(sales_rep, customer, case, "72.72")
    receive_return(order, {1: "3"}, "RMA-CL-1")

    match_order(order)

    [open_case] = active(order, RETURN)
    assert open_case.difference == Decimal(-1)
    assert open_case.explanation.endswith(
        "came back and were accepted, but only 2 units were credited: 1 unit "
        "still needs a credit note."
    )


def test_goods_credit_keeps_billing_right(order, invoice, customer, sales_rep):
    case = damaged(customer, order, "2")
    credit(sales_rep, customer, case, "72.72")

    match_order(order)

    assert active(order, QTY) == []
    compared = billing_line(order, 1)
    assert compared["invoiced_qty"] == "8.0000"
    assert compared["expected_qty"] == "8.0000"
    assert compared["credited_not_whole_qty"] == "2.0000"
    assert "credited_not_whole_qty" not in billing_line(order, 2)


def test_goods_credit_keeps_the_order_invoiced(order, invoice, customer, sales_rep):
    order.refresh_from_db()
    assert order.invoice_status == SalesOrder.InvoiceStatus.INVOICED
    case = damaged(customer, order, "2")

    credit(sales_rep, customer, case, "72.72")

    order.refresh_from_db()
    assert order.lines.get(line_no=1).qty_invoiced == Decimal(8)
    assert order.invoice_status == SalesOrder.InvoiceStatus.INVOICED


def test_goods_money_credit_settles_no_return(order, invoice, customer, sales_rep):
    case = damaged(customer, order, "2")
    note = credit(sales_rep, customer, case, "50.00")
    receive_return(order, {1: "2"}, "RMA-CL-1")

    match_order(order)

    [line] = note.lines.all()
    assert line.amount_only
    assert (line.order_line_id, line.shipment_line_id) == (None, None)
    [open_case] = active(order, RETURN)
    assert open_case.difference == Decimal(-2)
    assert active(order, QTY) == []


def test_return_on_another_line_is_not_settled(order, invoice, customer, sales_rep):
    case = damaged(customer, order, "2")
    credit(sales_rep, customer, case, "72.72")
    receive_return(order, {2: "2"}, "RMA-CL-1")

    match_order(order)

    [open_case] = active(order, RETURN)
    assert open_case.order_line == order.lines.get(line_no=2)
    assert open_case.difference == Decimal(-2)


# Other unit cases, price cases and money cases


def test_over_invoice_credit_clears_mismatch(order, customer, sales_rep):
    invoice = create_invoice(order=order, number="INV-CL-1", quantities={1: "12"})
    match_order(order)
    assert [case.order_line.line_no for case in active(order, QTY)] == [1]
    case = make_case(
        order,
        code=QTY,
        invoice=invoice,
        order_line=order.lines.get(line_no=1),
        difference="2",
    )
    # The invoiced-quantity check states the difference in the product's unit.
    case.unit = "unit"
    case.save(update_fields=["unit"])

    note = credit(sales_rep, customer, case, "72.72")
    match_order(order)

    [line] = note.lines.all()
    assert (line.qty, line.order_line_id) == (Decimal(2), case.order_line_id)
    assert line.shipment_line_id is None
    assert active(order, QTY) == []
    compared = billing_line(order, 1)
    assert (compared["invoiced_qty"], compared["expected_qty"]) == (
        "10.0000",
        "10.0000",
    )


def test_price_credit_names_no_order_line(order, customer, sales_rep):
    invoice = create_invoice(order=order, number="INV-CL-1", unit_prices={1: "37.72"})
    case = make_case(
        order,
        code="PRICE_MISMATCH",
        invoice=invoice,
        order_line=order.lines.get(line_no=1),
        difference="1.36",
    )
    case.expected_value = Decimal("36.36")
    case.save(update_fields=["expected_value"])

    note = credit(sales_rep, customer, case, "13.60")
    receive_return(order, {1: "10"}, "RMA-CL-1")
    match_order(order)

    [line] = note.lines.all()
    assert (line.qty, line.unit_price) == (Decimal(10), Decimal("1.36"))
    assert line.order_line_id is None
    assert not line.amount_only
    # The 10 units stay billed: the price credit takes none of them back,
    # so the returned units still need their credit note.
    [open_case] = active(order, RETURN)
    assert open_case.difference == Decimal(-10)
    assert billing_line(order, 1)["invoiced_qty"] == "10.0000"
    assert order.lines.get(line_no=1).qty_invoiced == Decimal(10)


def test_money_case_credits_money(order, invoice, sales_rep):
    case = make_case(
        order,
        code="TAX_MISMATCH",
        invoice=invoice,
        order_line=order.lines.get(line_no=2),
        difference="40.00",
    )

    proposal = propose_credit_note(
        actor=sales_rep, case_id=case.pk, amount=Decimal("40.00"), message="Tax"
    )

    assert proposal.credit_note is not None
    [line] = proposal.credit_note.lines.all()
    assert line.amount_only
    assert (line.qty, line.subtotal, line.order_line_id) == (
        Decimal(1),
        Decimal("40.00"),
        None,
    )


def test_imported_unit_credit_still_counts(order, invoice):
    """An imported credit note of the returned units settles the return."""
    note = Invoice.objects.create(
        company=order.company,
        kind=Invoice.Kind.CREDIT_NOTE,
        number="CN-IMP-1",
        customer=order.customer,
        order=order,
        origin_invoice=invoice,
        currency=invoice.currency,
        invoice_date=invoice.invoice_date,
        due_date=invoice.due_date,
        state=Invoice.State.POSTED,
        amount_total=Decimal("72.72"),
        amount_residual=Decimal("72.72"),
    )
    line = order.lines.get(line_no=1)
    InvoiceLine.objects.create(
        invoice=note,
        order_line=line,
        product=line.product,
        qty=Decimal(2),
        unit_price=Decimal("36.36"),
        subtotal=Decimal("72.72"),
    )
    receive_return(order, {1: "2"}, "RMA-CL-1")

    match_order(order)

    assert active(order, RETURN) == []
    assert active(order, QTY) == []


def test_second_pass_writes_nothing(order, invoice, customer, sales_rep):
    case = damaged(customer, order, "2")
    credit(sales_rep, customer, case, "72.72")
    receive_return(order, {1: "2"}, "RMA-CL-1")
    match_order(order)

    summary = match_order(order)

    assert summary.orders_skipped == 1
