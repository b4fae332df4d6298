"""Work screens per role: shipping, shortages, backorders, credit notes, cash.

Named people: wanda (warehouse), sally (sales rep on the order), sam (another
sales rep), fiona (finance clerk), mona and max (managers), carla (customer
of the order's company), bruno (customer of another company) and olga (HR,
no part in reconciliation).
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Role
from conftest import make_person
from core.models import AuditEvent
from core.testing import messages_of, signed_in
from portal.models import PickedQuantity, ResolutionProposal
from reconciliation.matching import run_matching
from reconciliation.models import (
    Allocation,
    Approval,
    Discrepancy,
    Invoice,
    Shipment,
)
from reconciliation.tests.conftest import make_case
from reconciliation.tests.factories import (
    PaymentFactory,
    create_invoice,
    create_order,
    create_payment,
    create_shipment,
)
from reconciliation.tests.shipment_forms import with_form_token

pytestmark = pytest.mark.django_db


def next_week() -> str:
    """Return the day a backorder's rest is expected: a week from today."""
    return (timezone.localdate() + timedelta(days=7)).isoformat()


State = Discrepancy.State


def line_errors_of(response) -> dict[int, str]:
    """Return the messages shown beside the lines of a rejected pick and ship form."""
    assert response.status_code == 422
    return dict(response.context["line_errors"])


@pytest.fixture
def other_rep(db):
    return make_person("sam", Role.SALES_REP, group="sales")


@pytest.fixture
def other_customer(other_party):
    return make_person("bruno", Role.CUSTOMER, customer=other_party)


@pytest.fixture
def stranger(db):
    return make_person("olga", Role.HR)


@pytest.fixture
def order(customer_party, sales_rep):
    return create_order(
        lines=[("10", "36.36")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )


def fulfilment_url(order) -> str:
    return f"/reconciliation/work/orders/{order.number}/fulfilment/"


def ship_url(order) -> str:
    return f"/reconciliation/work/orders/{order.number}/shipments/"


# Warehouse


def test_warehouse_worker_records_picked_and_shipped_quantities(order, warehouse):
    client = signed_in(warehouse)
    assert client.get(fulfilment_url(order)).status_code == 200

    response = client.post(
        ship_url(order),
        with_form_token(
            {
                "picked_1": "8",
                "shipped_1": "8",
                "carrier": "DHL",
                "tracking_no": "JD0146",
                "ship": "1",
            }
        ),
        follow=True,
    )

    assert messages_of(response) == [f"Recorded the shipment of order {order.number}."]
    shipment = Shipment.objects.get(order=order)
    assert (shipment.number, shipment.state, shipment.tracking_no) == (
        f"{order.number}-S1",
        Shipment.State.SHIPPED,
        "JD0146",
    )
    shipment_line = shipment.lines.get()
    assert shipment_line.qty_shipped == Decimal("8")
    assert PickedQuantity.objects.get(shipment_line=shipment_line).qty_picked == 8
    order.refresh_from_db()
    line = order.lines.get()
    assert line.qty_shipped == Decimal("8")
    assert order.delivery_status == "partial"
    event = AuditEvent.objects.get(action="shipment.recorded")
    assert (event.actor, event.source, event.after["lines"]) == (
        warehouse,
        AuditEvent.Source.SCREEN,
        {"1": {"picked": "8", "shipped": "8"}},
    )


def test_shipping_more_than_picked_is_refused_and_writes_nothing(order, warehouse):
    response = signed_in(warehouse).post(
        ship_url(order),
        with_form_token({"picked_1": "5", "shipped_1": "6", "ship": "1"}),
        follow=True,
    )

    assert line_errors_of(response) == {
        1: "Line 1: shipped 6 is more than the 5 picked; pick the goods before "
        "shipping them."
    }
    assert not Shipment.objects.filter(order=order).exists()
    assert not AuditEvent.objects.filter(action="shipment.recorded").exists()


def test_a_quantity_that_is_not_a_number_is_named(order, warehouse):
    response = signed_in(warehouse).post(
        ship_url(order),
        with_form_token({"picked_1": "ten", "shipped_1": "1", "ship": "1"}),
        follow=True,
    )

    assert line_errors_of(response) == {
        1: "Line 1 picked 'ten' is not a number: enter digits such as 12.5."
    }
    assert not Shipment.objects.filter(order=order).exists()


@pytest.mark.parametrize(
    "person", ["sales_rep", "clerk", "manager", "customer", "stranger"]
)
def test_only_the_warehouse_records_shipments(order, person, request):
    client = signed_in(request.getfixturevalue(person))

    assert client.get(fulfilment_url(order)).status_code == 403
    assert (
        client.post(ship_url(order), with_form_token({"picked_1": "1"})).status_code
        == 403
    )
    assert not Shipment.objects.filter(order=order).exists()


def test_fulfilment_of_a_missing_order_is_404(warehouse):
    response = signed_in(warehouse).get("/reconciliation/work/orders/NOPE/fulfilment/")

    assert response.status_code == 404


def test_reported_shortage_opens_the_case_the_matching_keeps(order, warehouse):
    create_shipment(order=order, quantities={1: "7"})
    client = signed_in(warehouse)

    response = client.post(
        f"/reconciliation/work/orders/{order.number}/shortage/",
        {"line": "1", "qty": "3", "note": "Stock-out at the shelf"},
        follow=True,
    )

    assert messages_of(response) == [
        f"Reported line 1 of order {order.number} as 3 units short (case "
        f"{Discrepancy.objects.get(order=order).pk}); the sales rep decides next."
    ]
    case = Discrepancy.objects.get(order=order)
    line = order.lines.get()
    # The sales rep decides next, so the case is theirs now.
    assert (case.code, case.owner_role, case.fingerprint, case.difference) == (
        "SHORT_SHIP",
        Role.SALES_REP,
        f"SHORT_SHIP:line:{line.pk}",
        Decimal("-3"),
    )
    assert case.explanation == (
        "Wanda Tester reported 3 units of line 1 short: Stock-out at the shelf"
    )
    run_matching(company=order.company, as_of=date(2024, 3, 20))
    assert list(
        Discrepancy.objects.filter(order=order, code="SHORT_SHIP").values_list(
            "pk", flat=True
        )
    ) == [case.pk]


def test_a_shortage_larger_than_what_is_left_is_refused(order, warehouse):
    create_shipment(order=order, quantities={1: "7"})

    response = signed_in(warehouse).post(
        f"/reconciliation/work/orders/{order.number}/shortage/",
        {"line": "1", "qty": "4", "note": "gone"},
        follow=True,
    )

    assert messages_of(response) == [
        "Line 1: a shortage of 4 units is more than the 3 units still to ship: "
        "enter the quantity you cannot ship."
    ]
    assert not Discrepancy.objects.exists()


@pytest.mark.parametrize(
    ("qty", "message"),
    [
        ("", "Short quantity is missing: enter a number such as 12.5."),
        (
            "0",
            "Line 1: the shortage is 0 units: enter how many you cannot ship, "
            "more than 0.",
        ),
        (
            "-2.50",
            "Line 1: the shortage is -2.5 units: enter how many you cannot "
            "ship, more than 0.",
        ),
    ],
)
def test_shortage_missing_or_zero_rejected(order, warehouse, qty, message):
    response = signed_in(warehouse).post(
        f"/reconciliation/work/orders/{order.number}/shortage/",
        {"line": "1", "qty": qty, "note": "gone"},
        follow=True,
    )

    assert messages_of(response) == [message]
    assert not Discrepancy.objects.exists()


# Sales rep: backorders


@pytest.fixture
def short_case(order):
    create_shipment(order=order, quantities={1: "7"})
    line = order.lines.get()
    return make_case(
        order,
        code="SHORT_SHIP",
        owner_role=Role.WAREHOUSE,
        order_line=line,
        difference="-3",
    )


def test_sales_rep_backorders_the_rest_and_the_warehouse_ships_it(
    order, short_case, sales_rep, warehouse
):
    client = signed_in(sales_rep)
    assert client.get(f"/reconciliation/work/cases/{short_case.pk}/").status_code == 200

    client.post(
        f"/reconciliation/work/cases/{short_case.pk}/backorder/",
        {
            "decision": "ship_later",
            "reason": "Stock arrives Monday",
            "expected_on": next_week(),
        },
    )

    short_case.refresh_from_db()
    backorder = Shipment.objects.get(order=order, state=Shipment.State.DRAFT)
    assert backorder.backorder_of == Shipment.objects.get(state="shipped")
    assert (short_case.state, short_case.resolution_code, short_case.resolved_by) == (
        State.RESOLVED,
        "backorder",
        sales_rep,
    )
    assert short_case.resolution_note == (
        f"Backorder {backorder.number} ships 3 units later, expected on "
        f"{next_week()}: Stock arrives Monday"
    )
    assert order.lines.get().qty_shipped == Decimal("7")

    signed_in(warehouse).post(
        ship_url(order),
        with_form_token(
            {
                "picked_1": "3",
                "shipped_1": "3",
                "shipment": backorder.number,
                "ship": "1",
            }
        ),
    )
    backorder.refresh_from_db()
    assert backorder.state == Shipment.State.SHIPPED
    assert order.lines.get().qty_shipped == Decimal("10")


def test_sales_rep_cancels_the_rest(short_case, sales_rep):
    signed_in(sales_rep).post(
        f"/reconciliation/work/cases/{short_case.pk}/backorder/",
        {"decision": "cancel_rest", "reason": "Customer no longer needs them"},
    )

    short_case.refresh_from_db()
    assert (short_case.state, short_case.resolution_code) == (
        State.RESOLVED,
        "cancel_remainder",
    )
    assert not Shipment.objects.filter(state=Shipment.State.DRAFT).exists()


@pytest.mark.parametrize("person", ["warehouse", "clerk", "manager", "customer"])
def test_only_a_sales_rep_decides_backorders(short_case, person, request):
    client = signed_in(request.getfixturevalue(person))

    response = client.post(
        f"/reconciliation/work/cases/{short_case.pk}/backorder/",
        {"decision": "cancel_rest", "reason": "x"},
    )

    assert response.status_code == 403
    short_case.refresh_from_db()
    assert short_case.state == State.OPEN


# Sales rep: credit notes


@pytest.fixture
def short_payment(order):
    create_shipment(order=order)
    invoice = create_invoice(order=order)
    create_payment(invoice=invoice, amount="279.97")
    return make_case(order, invoice=invoice)


def credit(client, case, amount: str, message: str = "For the damaged box"):
    return client.post(
        f"/reconciliation/work/cases/{case.pk}/credit-note/",
        {"amount": amount, "message": message},
        follow=True,
    )


def test_credit_note_under_the_limit_goes_to_the_customer(short_payment, sales_rep):
    response = credit(signed_in(sales_rep), short_payment, "83.63")

    assert messages_of(response) == ["Proposed the credit note."]
    proposal = ResolutionProposal.objects.get(case=short_payment)
    credit_note = proposal.credit_note
    assert (proposal.state, proposal.amount, proposal.currency) == (
        ResolutionProposal.State.AWAITING_CUSTOMER,
        Decimal("83.63"),
        "USD",
    )
    assert (credit_note.kind, credit_note.state, credit_note.amount_total) == (
        Invoice.Kind.CREDIT_NOTE,
        Invoice.State.DRAFT,
        Decimal("83.63"),
    )
    assert credit_note.origin_invoice == short_payment.invoice
    short_payment.refresh_from_db()
    assert (short_payment.state, short_payment.resolution_code) == (
        State.PROPOSED_RESOLUTION,
        "credit_note",
    )
    assert list(
        AuditEvent.objects.filter(
            action="case.state_changed", object_id=str(short_payment.pk)
        )
        .order_by("pk")
        .values_list("after__state", flat=True)
    ) == ["in_progress", "proposed_resolution"]


def test_credit_note_above_the_limit_waits_for_a_manager(
    short_payment, sales_rep, manager, settings
):
    settings.SALES_REP_CREDIT_LIMIT = "50.00"
    credit(signed_in(sales_rep), short_payment, "83.63")

    proposal = ResolutionProposal.objects.get(case=short_payment)
    approval = Approval.objects.get(case=short_payment)
    assert proposal.state == ResolutionProposal.State.AWAITING_APPROVAL
    assert (approval.action, approval.amount, approval.decision) == (
        "credit_note",
        Decimal("83.63"),
        "pending",
    )
    short_payment.refresh_from_db()
    assert short_payment.state == State.WAITING_INTERNAL

    client = signed_in(manager)
    page = client.get("/reconciliation/work/approvals/")
    assert [item.pk for item, _ in page.context["approval_rows"]] == [approval.pk]
    client.post(
        f"/reconciliation/work/approvals/{approval.pk}/decide/",
        {"decision": "approve", "reason": "Long-standing customer"},
    )

    proposal.refresh_from_db()
    short_payment.refresh_from_db()
    assert proposal.state == ResolutionProposal.State.AWAITING_CUSTOMER
    assert short_payment.state == State.PROPOSED_RESOLUTION


def test_a_rejected_credit_note_is_withdrawn_and_cancelled(
    short_payment, sales_rep, manager, settings
):
    settings.SALES_REP_CREDIT_LIMIT = "50.00"
    credit(signed_in(sales_rep), short_payment, "83.63")
    approval = Approval.objects.get(case=short_payment)

    signed_in(manager).post(
        f"/reconciliation/work/approvals/{approval.pk}/decide/",
        {"decision": "reject", "reason": "Bank fee, not a dispute"},
    )

    proposal = ResolutionProposal.objects.get(case=short_payment)
    assert proposal.state == ResolutionProposal.State.WITHDRAWN
    assert proposal.credit_note.state == Invoice.State.CANCELLED
    short_payment.refresh_from_db()
    assert short_payment.state == State.IN_PROGRESS


def test_credit_note_above_the_invoice_total_is_refused(short_payment, sales_rep):
    response = credit(signed_in(sales_rep), short_payment, "400.00")

    assert messages_of(response) == [
        f"A credit note of 400.00 USD is more than invoice "
        f"{short_payment.invoice.number}'s total of 363.60 USD: credit at most "
        "the invoice total."
    ]
    assert not ResolutionProposal.objects.exists()
    assert not Invoice.objects.filter(kind=Invoice.Kind.CREDIT_NOTE).exists()


def test_another_rep_cannot_open_a_finance_case_on_sallys_order(
    short_payment, other_rep
):
    response = signed_in(other_rep).get(
        f"/reconciliation/work/cases/{short_payment.pk}/"
    )

    assert response.status_code == 404


@pytest.mark.parametrize("person", ["warehouse", "clerk", "manager", "customer"])
def test_only_a_sales_rep_issues_credit_notes(short_payment, person, request):
    response = credit(signed_in(request.getfixturevalue(person)), short_payment, "1")

    assert response.status_code == 403
    assert not ResolutionProposal.objects.exists()


def test_only_a_manager_sees_approvals(sales_rep, clerk, customer, stranger):
    for person in (sales_rep, clerk, customer, stranger):
        response = signed_in(person).get("/reconciliation/work/approvals/")
        assert response.status_code == 403


# Finance clerk


@pytest.fixture
def open_invoice(order):
    create_shipment(order=order)
    return create_invoice(order=order)


@pytest.fixture
def unallocated(open_invoice):
    return PaymentFactory.create(
        company=open_invoice.company,
        party=open_invoice.customer,
        amount=Decimal("300.00"),
        amount_unallocated=Decimal("300.00"),
        reference="remittance 17",
    )


def test_cash_screen_shows_payments_left_and_same_customer_invoices_right(
    clerk, unallocated, open_invoice, other_party
):
    foreign = create_invoice(
        order=create_order(company=other_party.company, customer=other_party)
    )
    client = signed_in(clerk)

    page = client.get("/reconciliation/work/cash/", {"payment": unallocated.pk})

    assert [p.pk for p in page.context["payments"]] == [unallocated.pk]
    assert [i.pk for i, _ in page.context["invoices"]] == [open_invoice.pk]
    assert foreign.number not in page.content.decode()
    assert page.context["available"] == Decimal("300.00")


def test_clerk_allocates_part_of_a_payment(clerk, unallocated, open_invoice):
    response = signed_in(clerk).post(
        "/reconciliation/work/cash/apply/",
        {"payment": unallocated.pk, "invoice": open_invoice.pk, "amount": "120.50"},
        follow=True,
    )

    assert messages_of(response) == [
        f"Applied 120.50 USD of payment {unallocated.number} to invoice "
        f"{open_invoice.number}. Invoice {open_invoice.number} still has 243.10 "
        f"USD open. Payment {unallocated.number} has 179.50 USD left to allocate."
    ]
    allocation = Allocation.objects.get()
    assert (allocation.amount, allocation.payment, allocation.invoice) == (
        Decimal("120.50"),
        unallocated,
        open_invoice,
    )
    open_invoice.refresh_from_db()
    unallocated.refresh_from_db()
    assert open_invoice.amount_residual == Decimal("243.10")
    assert unallocated.amount_unallocated == Decimal("179.50")
    event = AuditEvent.objects.get(action="allocation.created")
    assert (event.actor, event.source) == (clerk, AuditEvent.Source.SCREEN)


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (
            "300.01",
            "Amount 300.01 USD is more than the 300.00 USD left on payment "
            "{payment}: allocate 300.00 USD or less.",
        ),
        (
            "0",
            "Amount 0.00 USD from payment {payment} to invoice {invoice} is not "
            "positive: enter more than 0.",
        ),
        (
            "1.005",
            "Amount from payment {payment} to invoice {invoice} in USD '1.005' has "
            "3 decimal places; the limit is 2, so enter a multiple of 0.01.",
        ),
        (
            "lots",
            "Amount from payment {payment} to invoice {invoice} in USD 'lots' is "
            "not a number: enter digits such as 12.5.",
        ),
    ],
)
def test_bad_allocation_amounts_are_refused(
    clerk, unallocated, open_invoice, amount, message
):
    response = signed_in(clerk).post(
        "/reconciliation/work/cash/apply/",
        {"payment": unallocated.pk, "invoice": open_invoice.pk, "amount": amount},
        follow=True,
    )

    assert messages_of(response) == [
        message.format(payment=unallocated.number, invoice=open_invoice.number)
    ]
    assert not Allocation.objects.exists()


def test_allocation_above_the_invoice_residual_is_refused(clerk, open_invoice):
    big = PaymentFactory.create(
        company=open_invoice.company,
        party=open_invoice.customer,
        amount=Decimal("500.00"),
        amount_unallocated=Decimal("500.00"),
    )

    response = signed_in(clerk).post(
        "/reconciliation/work/cash/apply/",
        {"payment": big.pk, "invoice": open_invoice.pk, "amount": "400.00"},
        follow=True,
    )

    assert messages_of(response) == [
        f"Amount 400.00 USD is more than the 363.60 USD open on invoice "
        f"{open_invoice.number}: allocate 363.60 USD or less."
    ]
    assert not Allocation.objects.exists()


def test_cash_messages_share_money_format(clerk, open_invoice):
    payment = PaymentFactory.create(
        company=open_invoice.company,
        party=open_invoice.customer,
        amount=Decimal("1382.00"),
        amount_unallocated=Decimal("1382.00"),
    )
    client = signed_in(clerk)
    url = "/reconciliation/work/cash/apply/"

    rejected = client.post(
        url,
        {"payment": payment.pk, "invoice": open_invoice.pk, "amount": "1500"},
        follow=True,
    )
    screen = client.get(f"/reconciliation/work/cash/?payment={payment.pk}")

    assert messages_of(rejected) == [
        "Amount 1,500.00 USD is more than the 1,382.00 USD left on payment "
        f"{payment.number}: allocate 1,382.00 USD or less."
    ]
    assert not Allocation.objects.exists()
    text = screen.content.decode()
    assert "1,382.00 USD left to allocate" in text
    assert ">363.60<" in text


@pytest.mark.parametrize(
    "person", ["warehouse", "sales_rep", "manager", "customer", "stranger"]
)
def test_only_a_finance_clerk_applies_cash(person, request, unallocated, open_invoice):
    client = signed_in(request.getfixturevalue(person))

    assert client.get("/reconciliation/work/cash/").status_code == 403
    response = client.post(
        "/reconciliation/work/cash/apply/",
        {"payment": unallocated.pk, "invoice": open_invoice.pk, "amount": "1.00"},
    )
    assert response.status_code == 403
    assert not Allocation.objects.exists()


def test_customer_of_another_company_cannot_reach_work_screens(order, other_customer):
    client = signed_in(other_customer)

    assert client.get(fulfilment_url(order)).status_code == 403
    assert client.get("/reconciliation/work/cash/").status_code == 403
