"""Units a sales rep cancelled are no longer to ship, bill or wait for.

Named people: sally (sales rep on the order) decides "Cancel the rest" on
the short shipment of order SO-11076, walter (warehouse) works the pick and
ship screen, and carla (the customer's contact) reads the portal. The order
is 10 units at 36.36, of which 6 shipped, long past the promised date.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from conftest import make_person
from core.models import AuditEvent
from core.testing import signed_in
from reconciliation import warehouse_work, work
from reconciliation.matching import run_matching
from reconciliation.models import (
    Discrepancy,
    LineCancellation,
    MatchGroup,
    Product,
    SalesOrder,
    Shipment,
    ShipmentLine,
)
from reconciliation.money import cancelled_amount
from reconciliation.services import allocate_payment, refresh_order
from reconciliation.tests.factories import (
    PaymentFactory,
    create_invoice,
    create_order,
    create_shipment,
)
from reconciliation.tests.shipment_forms import with_form_token

pytestmark = pytest.mark.django_db

State = Discrepancy.State
REASON = "The customer no longer needs the rest."


@pytest.fixture
def walter(db):
    return make_person("walter", Role.WAREHOUSE, group="warehouse")


@pytest.fixture
def order(customer_party, sales_rep) -> SalesOrder:
    order = create_order(
        number="SO-11076",
        lines=[("10", "36.36")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    create_shipment(order=order, quantities={1: "6"})
    run_matching(company=order.company, as_of=timezone.localdate())
    return order


@pytest.fixture
def short_case(order) -> Discrepancy:
    return Discrepancy.objects.get(order=order, code="SHORT_SHIP")


def cancel_rest(rep: Client, case: Discrepancy) -> None:
    response = rep.post(
        f"/reconciliation/work/cases/{case.pk}/backorder/",
        {"decision": work.CANCEL_REST, "reason": REASON},
    )
    assert response.status_code == 302


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def cancelled(short_case: Discrepancy, sales_rep) -> Discrepancy:
    cancel_rest(signed_in(sales_rep), short_case)
    short_case.refresh_from_db()
    return short_case


def test_cancel_rest_records_cancellation(cancelled, order, sales_rep):
    row = LineCancellation.objects.get()
    line = order.lines.get()

    assert cancelled.state == State.RESOLVED
    assert cancelled.resolution_code == "cancel_remainder"
    assert row.order_line == line
    assert row.qty == Decimal("4")
    assert row.case == cancelled
    assert row.cancelled_by == sales_rep
    assert row.reason == REASON
    assert row.reversed_at is None
    assert line.qty_cancelled == Decimal("4")
    assert line.qty_to_ship == Decimal("0")


def test_cancel_rest_audit_event(cancelled, order, sales_rep):
    event = AuditEvent.objects.get(action="order_line.cancelled")

    assert event.actor == sales_rep
    assert event.actor_role == Role.SALES_REP
    assert event.source == AuditEvent.Source.SCREEN
    assert event.object_id == str(order.lines.get().pk)
    assert event.before == {"qty_cancelled": "0"}
    assert event.after["qty_cancelled"] == "4.0000"
    assert event.after["case_id"] == cancelled.pk
    assert event.after["order"] == "SO-11076"
    assert event.reason == REASON


def test_fulfilment_shows_cancelled_units(cancelled, order, walter):
    page = signed_in(walter).get(
        f"/reconciliation/work/orders/{order.number}/fulfilment/"
    )

    text = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="cancelled-1">4<' in text
    assert 'data-testid="to-ship-1">0<' in text


def test_walter_cannot_ship_cancelled_units(cancelled, order, walter):
    response = signed_in(walter).post(
        f"/reconciliation/work/orders/{order.number}/shipments/",
        with_form_token({"picked_1": "4", "shipped_1": "4", "ship": "1"}),
    )

    assert response.status_code == 422
    assert response.context["rows"][0]["error"] == (
        "Line 1: 10 units ordered, 4 units of them cancelled by the sales rep, "
        "and 6 units already shipped, so shipping 4 units now makes 10 units, "
        "more than was ordered: "
        "nothing is left to ship on this line, so leave its Shipped box empty."
    )
    assert Shipment.objects.filter(order=order).count() == 1
    assert order.lines.get().qty_shipped == Decimal("6")


def test_walter_cannot_pick_cancelled_units(cancelled, order, walter):
    response = signed_in(walter).post(
        f"/reconciliation/work/orders/{order.number}/shipments/",
        with_form_token({"picked_1": "4", "ship": "0"}),
    )

    assert response.status_code == 422
    assert "4 units of them cancelled" in response.context["rows"][0]["error"]
    assert not Shipment.objects.filter(state=Shipment.State.DRAFT).exists()


def test_shipping_service_rejects_cancelled_units(cancelled, order, walter):
    with pytest.raises(work.WorkError) as raised:
        warehouse_work.record_shipment(
            actor=walter,
            order=order,
            quantities={
                1: warehouse_work.LineQuantities(
                    picked=Decimal("1"), shipped=Decimal("1")
                )
            },
            carrier="",
            tracking_no="",
            shipment_number="",
            ship=True,
        )

    assert "4 units of them cancelled" in str(raised.value)
    assert Shipment.objects.filter(order=order).count() == 1


def test_shortage_report_counts_cancelled_units(cancelled, order, walter):
    with pytest.raises(work.WorkError) as raised:
        warehouse_work.report_shortage(
            actor=walter, order=order, line_no=1, qty_missing=Decimal("1"), note="x"
        )

    assert str(raised.value) == (
        "Line 1: a shortage of 1 unit is more than the 0 units still to ship: "
        "enter the quantity you cannot ship."
    )


def test_portal_shows_units_cancelled(cancelled, order, customer):
    page = signed_in(customer).get(f"/reconciliation/portal/orders/{order.number}/")

    text = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="cancelled-1">cancelled 4<' in text
    assert 'data-testid="to-come-1">0<' in text
    order.refresh_from_db()
    assert order.delivery_status == SalesOrder.DeliveryStatus.FULL
    assert "Partially shipped" not in text


def test_order_page_shows_cancelled_units(cancelled, order, sales_rep):
    page = signed_in(sales_rep).get(f"/reconciliation/orders/{order.number}/")

    text = page.content.decode()
    assert 'data-testid="cancelled-1">4<' in text
    assert ' short"' not in text


def test_pass_reports_nothing_short_after_cancel(cancelled, order):
    run_matching(company=order.company, as_of=timezone.localdate())

    shipping = Discrepancy.objects.filter(
        order=order,
        code__in=["SHORT_SHIP", "NOT_SHIPPED", "PARTIAL_SHIP", "BACKORDER_OPEN"],
    )
    assert list(shipping.values_list("code", "state")) == [
        ("SHORT_SHIP", State.RESOLVED)
    ]
    cancelled.refresh_from_db()
    assert cancelled.state == State.RESOLVED
    assert cancelled.resolved_by is not None
    match = MatchGroup.objects.get(key=f"A:order:{order.pk}")
    assert match.outcome == MatchGroup.Outcome.CLEAN
    assert match.compared["lines"][0]["cancelled"] == "4.0000"
    assert match.residual == 0


def test_invoicing_cancelled_units_is_over_invoice(cancelled, order):
    Product.objects.filter(pk=order.lines.get().product_id).update(
        invoice_policy=Product.InvoicePolicy.ORDERED
    )
    create_invoice(order=order, quantities={1: "10"})

    run_matching(company=order.company, as_of=timezone.localdate())

    case = Discrepancy.objects.get(order=order, code="INVOICE_QTY_MISMATCH")
    assert case.expected_value == Decimal("6")
    assert case.actual_value == Decimal("10")
    order.refresh_from_db()
    assert order.invoice_status == SalesOrder.InvoiceStatus.UPSELL


def test_invoicing_shipped_units_after_cancel(cancelled, order):
    Product.objects.filter(pk=order.lines.get().product_id).update(
        invoice_policy=Product.InvoicePolicy.ORDERED
    )
    create_invoice(order=order, quantities={1: "6"})

    run_matching(company=order.company, as_of=timezone.localdate())

    assert not Discrepancy.objects.filter(
        order=order, code="INVOICE_QTY_MISMATCH"
    ).exists()
    order.refresh_from_db()
    assert order.invoice_status == SalesOrder.InvoiceStatus.INVOICED


def test_reopen_reverses_cancellation(
    cancelled, order, sales_rep, walter, django_capture_on_commit_callbacks
):
    rep = signed_in(sales_rep)

    with django_capture_on_commit_callbacks(execute=True):
        response = rep.post(
            f"/reconciliation/cases/{cancelled.pk}/move/",
            {"to": State.REOPENED, "reason": "The customer wants the rest after all."},
        )

    assert messages_of(response) == [
        f"Reopened case {cancelled.pk}. The cancellation of 4 units of line 1 is "
        "reversed, so those units are open to ship again."
    ]
    row = LineCancellation.objects.get()
    assert row.reversed_at is not None
    assert row.reversed_by == sales_rep
    assert row.reversal_reason == "The customer wants the rest after all."
    line = order.lines.get()
    assert line.qty_cancelled == Decimal("0")
    assert line.qty_to_ship == Decimal("4")
    event = AuditEvent.objects.get(action="order_line.cancellation_reversed")
    assert event.actor == sales_rep
    assert event.before == {"qty_cancelled": "4.0000"}
    assert event.after["qty_cancelled"] == "0.0000"
    # The order was checked again after the commit: the line is short again,
    # on the reopened case.
    cancelled.refresh_from_db()
    assert cancelled.state == State.REOPENED
    assert cancelled.finding_holds
    assert cancelled.difference == Decimal("-4")


def test_walter_ships_rest_after_reopen(
    cancelled, order, sales_rep, walter, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        signed_in(sales_rep).post(
            f"/reconciliation/cases/{cancelled.pk}/move/",
            {"to": State.REOPENED, "reason": "The customer wants the rest."},
        )

    response = signed_in(walter).post(
        f"/reconciliation/work/orders/{order.number}/shipments/",
        with_form_token({"picked_1": "4", "shipped_1": "4", "ship": "1"}),
    )

    assert response.status_code == 302
    assert order.lines.get().qty_shipped == Decimal("10")


def test_reopen_after_backorder_cancels_nothing(
    short_case, sales_rep, django_capture_on_commit_callbacks
):
    rep = signed_in(sales_rep)
    rep.post(
        f"/reconciliation/work/cases/{short_case.pk}/backorder/",
        {
            "decision": work.SHIP_LATER,
            "reason": "Stock arrives Monday.",
            "expected_on": (timezone.localdate() + timedelta(days=7)).isoformat(),
        },
    )
    short_case.refresh_from_db()
    assert short_case.state == State.RESOLVED

    with django_capture_on_commit_callbacks(execute=True):
        response = rep.post(
            f"/reconciliation/cases/{short_case.pk}/move/",
            {"to": State.REOPENED, "reason": "Look again."},
        )

    assert messages_of(response)[-1] == f"Reopened case {short_case.pk}."
    assert not AuditEvent.objects.filter(
        action="order_line.cancellation_reversed"
    ).exists()


def test_case_page_rejects_cancel_code(short_case, order, walter):
    client = signed_in(walter)
    client.post(
        f"/reconciliation/cases/{short_case.pk}/move/",
        {"to": State.IN_PROGRESS, "reason": "Checking stock."},
    )

    response = client.post(
        f"/reconciliation/cases/{short_case.pk}/move/",
        {
            "to": State.RESOLVED,
            "resolution_code": "cancel_remainder",
            "note": "No stock.",
        },
    )

    assert messages_of(response)[-1] == (
        f"Case {short_case.pk}: cancel the rest on the sales decision screen, "
        "where the order's sales rep records the cancelled units so that they "
        "can no longer ship."
    )
    short_case.refresh_from_db()
    assert short_case.state == State.IN_PROGRESS
    assert order.lines.get().qty_to_ship == Decimal("4")


def test_cancel_rest_cancels_draft_backorder(order, sales_rep):
    shipped = Shipment.objects.get(order=order)
    backorder = Shipment.objects.create(
        company=order.company,
        order=order,
        number=f"{order.number}-S2",
        state=Shipment.State.DRAFT,
        backorder_of=shipped,
    )
    backorder.lines.create(order_line=order.lines.get(), qty_shipped=Decimal("4"))
    run_matching(company=order.company, as_of=timezone.localdate())
    case = Discrepancy.objects.get(order=order, code="BACKORDER_OPEN")

    cancel_rest(signed_in(sales_rep), case)

    backorder.refresh_from_db()
    assert backorder.state == Shipment.State.CANCELLED
    event = AuditEvent.objects.get(action="order_line.cancelled")
    assert event.after["backorders_cancelled"] == [backorder.number]
    assert AuditEvent.objects.filter(
        action="shipment.backorder_cancelled", object_id=str(backorder.pk)
    ).exists()
    run_matching(company=order.company, as_of=timezone.localdate())
    case.refresh_from_db()
    assert case.state == State.RESOLVED


def migrate_to(target: tuple[str, str] | None) -> None:
    """Migrate to ``target``, or every app to its latest migration for None."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = [target] if target else executor.loader.graph.leaf_nodes()
    executor.migrate(targets)


@pytest.mark.django_db(transaction=True)
def test_migration_records_earlier_cancel(short_case, order, walter):
    """A case resolved with the code before cancellations existed gets one."""
    # As older code left it: resolved with the code, no units cancelled.
    Discrepancy.objects.filter(pk=short_case.pk).update(
        state=State.RESOLVED,
        resolution_code="cancel_remainder",
        resolution_note="The remaining 4 units are cancelled: no stock.",
        resolved_by=walter,
        resolved_at=timezone.now(),
    )
    assert not LineCancellation.objects.exists()

    try:
        migrate_to(("reconciliation", "0013_resolution_code_price_kept"))
    finally:
        migrate_to(None)

    row = LineCancellation.objects.get()
    assert row.qty == Decimal("4")
    assert row.case_id == short_case.pk
    assert row.cancelled_by == walter
    assert row.reason == "The remaining 4 units are cancelled: no stock."
    line = order.lines.get()
    assert line.qty_cancelled == Decimal("4")
    order.refresh_from_db()
    assert order.delivery_status == SalesOrder.DeliveryStatus.FULL


def test_cancel_rest_empties_shared_backorder(customer_party, sales_rep):
    order = create_order(
        lines=[("10", "36.36"), ("5", "2.00")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    shipped = create_shipment(order=order, quantities={1: "6", 2: "3"})
    backorder = Shipment.objects.create(
        company=order.company,
        order=order,
        number=f"{order.number}-S2",
        state=Shipment.State.DRAFT,
        backorder_of=shipped,
    )
    first, second = order.lines.order_by("line_no")
    backorder.lines.create(order_line=first, qty_shipped=Decimal("4"))
    backorder.lines.create(order_line=second, qty_shipped=Decimal("2"))
    run_matching(company=order.company, as_of=timezone.localdate())
    case = Discrepancy.objects.get(order_line=first, code="BACKORDER_OPEN")

    cancel_rest(signed_in(sales_rep), case)

    backorder.refresh_from_db()
    assert backorder.state == Shipment.State.DRAFT
    rows = dict(backorder.lines.values_list("order_line__line_no", "qty_shipped"))
    assert rows == {1: Decimal("0"), 2: Decimal("2")}
    event = AuditEvent.objects.get(action="order_line.cancelled")
    assert event.after["backorders_cancelled"] == []
    assert event.after["backorder_rows_emptied"] == [backorder.number]
    emptied = AuditEvent.objects.get(action="shipment.backorder_line_emptied")
    assert emptied.before == {"line": 1, "qty": ["4.0000"]}


def test_cancel_takes_value_out_of_total(cancelled, order):
    order.refresh_from_db()
    line = order.lines.get()

    # 10 units at 36.36 ordered, 4 of them cancelled.
    assert order.amount_ordered == Decimal("363.60")
    assert order.amount_cancelled == Decimal("145.44")
    assert order.amount_total == Decimal("218.16")
    assert line.amount_cancelled == Decimal("145.44")
    assert line.amount_due == Decimal("218.16")


def test_order_page_total_after_cancel(cancelled, order, sales_rep):
    page = signed_in(sales_rep).get(f"/reconciliation/orders/{order.number}/")

    text = page.content.decode()
    assert (
        'data-testid="order-total">218.16 USD <span class="muted">'
        "(ordered 363.60, cancelled 145.44)</span>"
    ) in text


def test_order_list_total_after_cancel(cancelled, order, sales_rep):
    page = signed_in(sales_rep).get("/reconciliation/orders/")

    text = page.content.decode()
    assert "218.16 USD<br>" in text
    assert "after 145.44 cancelled" in text
    assert "363.60" not in text


def test_portal_total_after_cancel(cancelled, order, customer):
    page = signed_in(customer).get(f"/reconciliation/portal/orders/{order.number}/")

    text = page.content.decode()
    assert "total 218.16 USD after 145.44 cancelled" in text
    assert 'data-testid="amount-1">218.16<br>' in text
    assert "ordered 363.60" in text
    assert 'data-testid="portal-lines-ordered">363.60<' in text
    assert 'data-testid="portal-lines-cancelled">−145.44<' in text
    assert 'data-testid="portal-lines-total">218.16 USD<' in text


def test_api_total_after_cancel(cancelled, order, customer):
    client = signed_in(customer)

    listed = client.get("/api/reconciliation/orders").json()
    detail = client.get(f"/api/reconciliation/orders/{order.number}").json()

    assert [(row["amount_total"], row["amount_cancelled"]) for row in listed] == [
        ("218.16", "145.44")
    ]
    assert detail["amount_total"] == "218.16"
    assert detail["amount_cancelled"] == "145.44"
    assert detail["lines"][0]["amount_cancelled"] == "145.44"


def test_payment_keeps_total_after_cancel(cancelled, order):
    invoice = create_invoice(order=order, quantities={1: "6"})
    payment = PaymentFactory.create(
        company=order.company, party=order.customer, amount=Decimal("100.00")
    )

    allocate_payment(payment=payment, invoice=invoice)

    order.refresh_from_db()
    assert order.payment_status == SalesOrder.PaymentStatus.PARTIAL
    assert order.amount_total == Decimal("218.16")
    assert order.amount_cancelled == Decimal("145.44")


def test_reopen_puts_value_back(
    cancelled, order, sales_rep, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        signed_in(sales_rep).post(
            f"/reconciliation/cases/{cancelled.pk}/move/",
            {"to": State.REOPENED, "reason": "The customer wants the rest."},
        )

    order.refresh_from_db()
    assert order.amount_total == Decimal("363.60")
    assert order.amount_cancelled == Decimal("0")
    assert order.lines.get().amount_cancelled == Decimal("0")


def test_cancelled_amount_rounds_rest_once():
    # 3 units at 0.335 are 1.005, billed as 1.01; the 2 units due are 0.67.
    amount = cancelled_amount(
        subtotal=Decimal("1.01"),
        qty_ordered=Decimal("3"),
        qty_cancelled=Decimal("1"),
        unit_price=Decimal("0.335"),
        discount_pct=Decimal("0"),
        minor_units=2,
    )

    assert amount == Decimal("0.34")


@pytest.mark.django_db(transaction=True)
def test_migration_takes_cancelled_value_out(cancelled, order):
    """An order totalled before cancelled amounts existed loses their value."""
    try:
        migrate_to(("reconciliation", "0014_line_cancellation"))
        # As older code left it: the total counts the cancelled units.
        SalesOrder.objects.filter(pk=order.pk).update(amount_total=Decimal("363.60"))
    finally:
        migrate_to(None)

    order.refresh_from_db()
    assert order.amount_total == Decimal("218.16")
    assert order.amount_cancelled == Decimal("145.44")
    assert order.lines.get().amount_cancelled == Decimal("145.44")


@pytest.fixture
def reopened_by_pass(cancelled: Discrepancy, order: SalesOrder) -> Discrepancy:
    """The case after one of the 6 shipped units turns out never to have left."""
    ShipmentLine.objects.filter(order_line__order=order).update(
        qty_shipped=Decimal("5")
    )
    refresh_order(order=order)
    run_matching(company=order.company, as_of=timezone.localdate())
    cancelled.refresh_from_db()
    return cancelled


def test_pass_reopen_keeps_cancellation(reopened_by_pass, order):
    row = LineCancellation.objects.get()

    assert reopened_by_pass.state == State.REOPENED
    assert reopened_by_pass.difference == Decimal("-1")
    assert row.reversed_at is None
    assert order.lines.get().qty_cancelled == Decimal("4")
    assert not AuditEvent.objects.filter(
        action="order_line.cancellation_reversed"
    ).exists()


def test_pass_reopen_event_names_kept_units(reopened_by_pass):
    event = AuditEvent.objects.get(
        action="discrepancy.reopened", object_id=str(reopened_by_pass.pk)
    )

    assert event.actor is None
    assert event.after["cancellations_kept"] == [
        {
            "cancellation_id": LineCancellation.objects.get().pk,
            "line": 1,
            "qty": "4.0000",
        }
    ]


def test_case_page_names_kept_cancellation(reopened_by_pass, sales_rep):
    page = signed_in(sales_rep).get(f"/reconciliation/cases/{reopened_by_pass.pk}/")

    text = page.content.decode()
    assert (
        "The cancellation of 4 units of line 1 that this case recorded stays in "
        "force, so those units are not to ship."
    ) in text
    assert "reopening a case by hand reverses its cancellations." in text


def test_case_page_quiet_while_resolved(cancelled, sales_rep):
    page = signed_in(sales_rep).get(f"/reconciliation/cases/{cancelled.pk}/")

    assert 'data-testid="kept-cancellations"' not in page.content.decode()


def test_resolve_then_reopen_reverses_kept(
    reopened_by_pass, order, sales_rep, walter, django_capture_on_commit_callbacks
):
    warehouse = signed_in(walter)
    warehouse.post(
        f"/reconciliation/cases/{reopened_by_pass.pk}/move/",
        {"to": State.IN_PROGRESS, "reason": "Counting the shipped units."},
    )
    response = warehouse.post(
        f"/reconciliation/cases/{reopened_by_pass.pk}/move/",
        {
            "to": State.RESOLVED,
            "resolution_code": "accepted_as_is",
            "note": "One unit short for now.",
        },
    )
    reopened_by_pass.refresh_from_db()
    assert reopened_by_pass.state == State.RESOLVED, messages_of(response)

    with django_capture_on_commit_callbacks(execute=True):
        signed_in(sales_rep).post(
            f"/reconciliation/cases/{reopened_by_pass.pk}/move/",
            {"to": State.REOPENED, "reason": "The customer wants the rest."},
        )

    assert LineCancellation.objects.get().reversed_at is not None
    assert order.lines.get().qty_cancelled == Decimal("0")
