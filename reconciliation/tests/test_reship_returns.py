"""Returned units that a replacement shipment replaced need no credit note.

Carla (Alfreds Futterkiste) reports boxes of Chai damaged. Sally, the sales
rep, offers to ship them again, and Wanda (warehouse) ships the
replacement. When the damaged boxes then come back on a return that is
received and accepted, the customer owes nothing and is owed nothing,
because the replacement settled those units. The return check counts shipped replacement units, and
the units of an accepted replacement still waiting in the warehouse, as
settled for their order line. Only units returned beyond those replaced
and credited need a credit note (``RETURN_NOT_CREDITED``). Each test builds
its case by hand and runs the pass as of a day past the 14 days a return
may wait for its credit note.
"""

from decimal import Decimal

import pytest
from django.test import Client

from core.models import AuditEvent
from reconciliation.matching import match_order
from reconciliation.models import (
    Discrepancy,
    Invoice,
    SalesOrder,
    Shipment,
)
from reconciliation.reships import accept_reship, propose_reship
from reconciliation.tests.factories import (
    create_invoice,
    create_order,
    open_codes,
    receive_return,
    report_damaged,
)
from reconciliation.tests.factories import create_shipment as ship_order
from reconciliation.tests.shipment_forms import with_form_token
from reconciliation.warehouse_work import (
    LineQuantities,
    discard_draft_shipment,
    record_shipment,
)

pytestmark = pytest.mark.django_db

CODE = "RETURN_NOT_CREDITED"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.SALES_REP_CREDIT_LIMIT = "1000.00"


@pytest.fixture
def order(customer_party, sales_rep) -> SalesOrder:
    """Order 10 Chai and 6 Tofu, both shipped on SH-RET-1 and invoiced."""
    order = create_order(
        lines=[("10", "36.36"), ("6", "20.00")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
        number="SO-RET",
    )
    ship_order(order=order, number="SH-RET-1")
    create_invoice(order=order, number="INV-RET-1")
    return order


def report(customer, order: SalesOrder, qty: str, *, line_no: int = 1) -> Discrepancy:
    return report_damaged(
        customer, order, qty, shipment_number="SH-RET-1", line_no=line_no
    )


def replacement(customer, sales_rep, case: Discrepancy, qty: str) -> Shipment:
    """Offer ``qty`` units again and accept as the customer: the draft replacement."""
    proposal = propose_reship(
        actor=sales_rep,
        case_id=case.pk,
        qty=Decimal(qty),
        message="We send the crushed boxes again.",
    )
    accept_reship(customer=customer, proposal_id=proposal.pk)
    return Shipment.objects.get(replaces_case=case, state=Shipment.State.DRAFT)


def ship(warehouse, order: SalesOrder, shipment: Shipment, qty: str) -> None:
    line_no = shipment.replacement_line.line_no if shipment.replacement_line else 1
    record_shipment(
        actor=warehouse,
        order=order,
        quantities={line_no: LineQuantities(picked=Decimal(qty), shipped=Decimal(qty))},
        shipment_number=shipment.number,
    )


def not_credited(order: SalesOrder) -> list[Discrepancy]:
    return list(
        Discrepancy.objects.filter(order=order, code=CODE)
        .exclude(state__in=(Discrepancy.State.RESOLVED, Discrepancy.State.CLOSED))
        .order_by("order_line__line_no")
    )


def test_replaced_return_needs_no_credit(order, customer, sales_rep, warehouse):
    case = report(customer, order, "3")
    ship(warehouse, order, replacement(customer, sales_rep, case, "3"), "3")
    receive_return(order, {1: "3"}, "RMA-1")

    match_order(order)

    assert not_credited(order) == []
    assert CODE not in open_codes(order.company)


def test_unreplaced_return_needs_credit(order, customer):
    # The same return with no replacement: the check still finds it.
    report(customer, order, "3")
    receive_return(order, {1: "3"}, "RMA-1")

    match_order(order)

    [found] = not_credited(order)
    assert (found.expected_value, found.actual_value) == (Decimal(3), Decimal(0))
    assert found.explanation.endswith(
        "only 0 units were credited: 3 units still need a credit note."
    )


def test_excess_return_needs_credit(order, customer, sales_rep, warehouse):
    case = report(customer, order, "3")
    ship(warehouse, order, replacement(customer, sales_rep, case, "3"), "3")
    # The 3 damaged boxes and 2 good ones come back.
    receive_return(order, {1: "5"}, "RMA-1")

    match_order(order)

    [found] = not_credited(order)
    assert found.order_line.line_no == 1
    assert (found.expected_value, found.actual_value, found.difference) == (
        Decimal(5),
        Decimal(3),
        Decimal(-2),
    )
    assert found.explanation.endswith(
        "only 0 units were credited and 3 units replaced by a replacement "
        "shipment: 2 units still need a credit note."
    )


def test_return_before_replacement_ships(order, customer, sales_rep, warehouse):
    case = report(customer, order, "3")
    draft = replacement(customer, sales_rep, case, "3")
    receive_return(order, {1: "3"}, "RMA-1")

    # The customer accepted the replacement, so a credit note now would
    # settle the same units twice: the return waits for the replacement.
    match_order(order)
    assert not_credited(order) == []

    ship(warehouse, order, draft, "3")
    match_order(order)
    assert not_credited(order) == []
    case.refresh_from_db()
    assert case.state == Discrepancy.State.RESOLVED


def test_discarded_replacement_settles_nothing(order, customer, sales_rep, warehouse):
    case = report(customer, order, "3")
    draft = replacement(customer, sales_rep, case, "3")
    receive_return(order, {1: "3"}, "RMA-1")
    match_order(order)
    assert not_credited(order) == []

    discard_draft_shipment(actor=warehouse, order=order, shipment_number=draft.number)
    match_order(order)

    [found] = not_credited(order)
    assert (found.expected_value, found.actual_value) == (Decimal(3), Decimal(0))


def test_shipped_fewer_settles_shipped_units(order, customer, sales_rep, warehouse):
    case = report(customer, order, "3")
    ship(warehouse, order, replacement(customer, sales_rep, case, "3"), "1")
    receive_return(order, {1: "3"}, "RMA-1")

    match_order(order)

    [found] = not_credited(order)
    assert (found.expected_value, found.actual_value) == (Decimal(3), Decimal(1))
    assert "2 units still need a credit note" in found.explanation


def test_replacement_plus_credit_settle_return(order, customer, sales_rep, warehouse):
    case = report(customer, order, "3")
    ship(warehouse, order, replacement(customer, sales_rep, case, "2"), "2")
    case.refresh_from_db()
    # One reported unit is left, and a credit note on the order line
    # credits it. A credit note the sales decision screen writes names no
    # order line yet (docs/reconciliation.md, "Known gaps"), so this one is
    # written as an import would.
    assert case.state == Discrepancy.State.IN_PROGRESS
    create_invoice(
        order=order,
        number="CN-RET-1",
        kind=Invoice.Kind.CREDIT_NOTE,
        quantities={1: "1"},
    )
    receive_return(order, {1: "3"}, "RMA-1")

    match_order(order)

    assert not_credited(order) == []
    # A fourth box back is neither replaced nor credited.
    receive_return(order, {1: "1"}, "RMA-2")
    match_order(order)
    [found] = not_credited(order)
    assert (found.expected_value, found.actual_value) == (Decimal(4), Decimal(3))
    assert found.explanation.endswith(
        "only 1 unit was credited and 2 units replaced by a replacement "
        "shipment: 1 unit still needs a credit note."
    )


def test_two_lines_settled_apart(order, customer, sales_rep, warehouse):
    case = report(customer, order, "3")
    ship(warehouse, order, replacement(customer, sales_rep, case, "3"), "3")
    # Line 2 had no replacement: its 2 returned units need a credit note,
    # and line 1's replacement does not settle them.
    receive_return(order, {1: "3", 2: "2"}, "RMA-1")

    match_order(order)

    [found] = not_credited(order)
    assert found.order_line.line_no == 2
    assert (found.expected_value, found.actual_value) == (Decimal(2), Decimal(0))


def test_second_pass_writes_nothing(order, customer, sales_rep, warehouse):
    case = report(customer, order, "3")
    ship(warehouse, order, replacement(customer, sales_rep, case, "3"), "3")
    receive_return(order, {1: "5"}, "RMA-1")
    match_order(order)
    events = AuditEvent.objects.count()
    rows = list(
        Discrepancy.objects.filter(order=order)
        .order_by("pk")
        .values_list("pk", "state", "updated_at", "actual_value")
    )

    summary = match_order(order)

    assert (summary.opened, summary.reopened, summary.updated, summary.resolved) == (
        0,
        0,
        0,
        0,
    )
    assert AuditEvent.objects.count() == events
    assert (
        list(
            Discrepancy.objects.filter(order=order)
            .order_by("pk")
            .values_list("pk", "state", "updated_at", "actual_value")
        )
        == rows
    )


def test_form_shipped_replacement_settles_return(order, customer, sales_rep, warehouse):
    # Line 1 shipped in full before, so the form's line check must leave
    # the replacement's units out of the over-shipment limit, as the
    # service does.
    case = report(customer, order, "3")
    draft = replacement(customer, sales_rep, case, "3")
    client = Client()
    client.force_login(warehouse)

    done = client.post(
        f"/reconciliation/work/orders/{order.number}/shipments/",
        with_form_token(
            {"picked_1": "3", "shipped_1": "3", "ship": "1", "shipment": draft.number}
        ),
    )

    assert done.status_code == 302
    draft.refresh_from_db()
    assert draft.state == Shipment.State.SHIPPED
    case.refresh_from_db()
    assert case.state == Discrepancy.State.RESOLVED
    receive_return(order, {1: "3"}, "RMA-1")
    match_order(order)
    assert not_credited(order) == []
