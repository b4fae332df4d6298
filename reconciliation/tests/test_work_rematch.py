"""Work screens check the order again at once, and the checks around them.

Named people: wanda (warehouse), sally (sales rep on the order), fiona
(finance clerk) and mona (manager). The order ships 10 units, promised on
2024-03-15, so by today an order with nothing shipped is late.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Role
from conftest import make_person
from core.models import AuditEvent
from core.testing import messages_of, signed_in
from reconciliation.findings import RULE_RESOLUTION_NOTE
from reconciliation.matching import match_order, run_matching
from reconciliation.models import (
    Allocation,
    Discrepancy,
    Payment,
    Shipment,
    ToleranceProfile,
)
from reconciliation.tests.factories import (
    PaymentFactory,
    create_invoice,
    create_order,
    create_shipment,
)
from reconciliation.tests.shipment_forms import with_form_token

pytestmark = pytest.mark.django_db


def next_week() -> str:
    """Return the day a backorder's rest is expected: a week from today."""
    return (timezone.localdate() + timedelta(days=7)).isoformat()


State = Discrepancy.State
CASH_URL = "/reconciliation/work/cash/"


def line_errors_of(response) -> dict[int, str]:
    """Return the messages shown beside the lines of a rejected pick and ship form."""
    assert response.status_code == 422
    return dict(response.context["line_errors"])


def cases_by_state(order) -> list[tuple[str, str]]:
    rows = Discrepancy.objects.filter(order=order).order_by("code", "pk")
    return list(rows.values_list("code", "state"))


@pytest.fixture
def order(customer_party, sales_rep):
    return create_order(
        lines=[("10", "36.36")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )


def ship(client, order, picked: str, shipped: str, **extra: str):
    return client.post(
        f"/reconciliation/work/orders/{order.number}/shipments/",
        with_form_token(
            {"picked_1": picked, "shipped_1": shipped, "ship": "1", **extra}
        ),
        follow=True,
    )


# The per-order check


def test_shipping_resolves_not_shipped_at_once(order, warehouse):
    run_matching(company=order.company, as_of=timezone.localdate())
    assert cases_by_state(order) == [("NOT_SHIPPED", State.OPEN)]

    ship(signed_in(warehouse), order, "10", "10")

    assert cases_by_state(order) == [
        ("LATE_SHIP", State.OPEN),
        ("NOT_SHIPPED", State.RESOLVED),
    ]
    resolved = Discrepancy.objects.get(order=order, code="NOT_SHIPPED")
    assert resolved.resolution_note == RULE_RESOLUTION_NOTE


def test_partial_shipment_opens_short_ship_at_once(order, warehouse):
    ship(signed_in(warehouse), order, "7", "7")

    assert cases_by_state(order) == [
        ("LATE_SHIP", State.OPEN),
        ("SHORT_SHIP", State.OPEN),
    ]
    short = Discrepancy.objects.get(order=order, code="SHORT_SHIP")
    assert short.difference == Decimal("-3")


def test_backorder_decision_checks_order_at_once(order, sales_rep):
    create_shipment(order=order, quantities={1: "7"})
    run_matching(company=order.company, as_of=timezone.localdate())
    assert cases_by_state(order) == [
        ("SHORT_SHIP", State.OPEN),
        ("UNINVOICED_DELIVERY", State.OPEN),
    ]
    short = Discrepancy.objects.get(order=order, code="SHORT_SHIP")

    signed_in(sales_rep).post(
        f"/reconciliation/work/cases/{short.pk}/backorder/",
        {
            "decision": "ship_later",
            "reason": "Stock arrives Monday",
            "expected_on": next_week(),
        },
    )

    # The rest is judged against its expected date, a week away, so the
    # check at once records a partial shipment instead of a late backorder,
    # and a pass after it finds nothing new.
    assert cases_by_state(order) == [
        ("PARTIAL_SHIP", State.OPEN),
        ("SHORT_SHIP", State.RESOLVED),
        ("UNINVOICED_DELIVERY", State.OPEN),
    ]
    summary = run_matching(company=order.company, as_of=timezone.localdate())
    assert (summary.orders_skipped, summary.opened) == (1, 0)


def test_pass_after_the_check_changes_nothing(order, warehouse):
    ship(signed_in(warehouse), order, "10", "10")
    events = AuditEvent.objects.count()

    summary = run_matching(company=order.company, as_of=timezone.localdate())

    assert (summary.orders_skipped, summary.opened, summary.resolved) == (1, 0, 0)
    assert AuditEvent.objects.count() == events


def test_check_of_an_unchanged_order_skips_it(order):
    first = match_order(order)
    second = match_order(order)

    assert (first.orders_checked, first.opened) == (1, 1)
    assert (second.orders_skipped, second.opened, second.updated) == (1, 0, 0)


def test_check_leaves_other_orders_alone(order, customer_party):
    other = create_order(company=order.company, customer=customer_party)

    match_order(order)

    assert cases_by_state(order) == [("NOT_SHIPPED", State.OPEN)]
    assert cases_by_state(other) == []


# Over-shipment


def test_check_finds_a_duplicate_of_another_order(order, customer_party):
    first = create_invoice(
        order=create_order(customer=customer_party), reference="REF-7"
    )
    copy = create_invoice(order=order, reference="REF-7")

    match_order(order)

    case = Discrepancy.objects.get(order=order, code="DUPLICATE_INVOICE")
    assert case.invoice_id == copy.pk
    assert first.number in case.explanation


def test_over_shipment_is_rejected_and_writes_nothing(order, warehouse):
    response = ship(signed_in(warehouse), order, "11", "11")

    assert line_errors_of(response) == {
        1: "Line 1: 10 units ordered and 0 units already shipped, so shipping 11 "
        "units now makes 11 units, more than was ordered: ship at most 10 units."
    }
    assert not Shipment.objects.filter(order=order).exists()
    assert not AuditEvent.objects.filter(action="shipment.recorded").exists()


def test_over_shipment_counts_what_already_shipped(order, warehouse):
    create_shipment(order=order, quantities={1: "7"})

    response = ship(signed_in(warehouse), order, "4", "4")

    assert line_errors_of(response) == {
        1: "Line 1: 10 units ordered and 7 units already shipped, so shipping 4 "
        "units now makes 11 units, more than was ordered: ship at most 3 units."
    }
    assert Shipment.objects.filter(order=order).count() == 1


def test_over_shipment_within_the_profile_is_allowed(order, warehouse):
    ToleranceProfile.objects.create(
        company=order.company, name="Bulk goods", qty_over_pct=Decimal("10")
    )
    client = signed_in(warehouse)

    allowed = ship(client, order, "11", "11")
    assert messages_of(allowed) == [f"Recorded the shipment of order {order.number}."]

    rejected = ship(client, order, "1", "1")
    assert line_errors_of(rejected) == {
        1: "Line 1: 10 units ordered and 11 units already shipped, so shipping 1 "
        "unit now makes 12 units, more than 10 % over the order: nothing is left to ship on this line, so leave its "
        "Shipped box empty."
    }
    assert order.lines.get().qty_shipped == Decimal("11")


def test_save_picked_only_says_nothing_shipped(order, warehouse):
    response = signed_in(warehouse).post(
        f"/reconciliation/work/orders/{order.number}/shipments/",
        with_form_token({"picked_1": "10", "shipped_1": "", "ship": "0"}),
        follow=True,
    )

    assert messages_of(response) == [
        f"Saved the picked quantities of order {order.number} on draft shipment "
        f"{order.number}-S1. Nothing has shipped yet: choose the draft and press "
        "Ship when the goods leave."
    ]
    shipment = Shipment.objects.get(order=order)
    assert shipment.state == Shipment.State.DRAFT
    assert order.lines.get().qty_shipped == Decimal("0")


# Cash application


@pytest.fixture
def open_invoice(order):
    create_shipment(order=order)
    return create_invoice(order=order)


def allocate(client, payment, invoice, amount: str):
    return client.post(
        "/reconciliation/work/cash/apply/",
        {"payment": payment.pk, "invoice": invoice.pk, "amount": amount},
        follow=True,
    )


def test_allocation_resolves_the_payment_cases_at_once(clerk, order, open_invoice):
    payment = PaymentFactory.create(
        company=order.company,
        party=None,
        amount=Decimal("363.60"),
        reference="no match here",
    )
    run_matching(company=order.company, as_of=timezone.localdate())
    assert Discrepancy.objects.get(payment=payment).code == "UNAPPLIED_PAYMENT"
    assert "MISSING_PAYMENT" in [code for code, _ in cases_by_state(order)]
    client = signed_in(clerk)
    client.post(
        CASH_URL, {"payment": payment.pk, "party": order.customer_id}, follow=True
    )

    response = allocate(client, payment, open_invoice, "363.60")

    assert messages_of(response) == [
        f"Applied 363.60 USD of payment {payment.number} to invoice "
        f"{open_invoice.number}."
    ]
    unapplied = Discrepancy.objects.get(payment=payment)
    assert (unapplied.state, unapplied.resolution_note) == (
        State.RESOLVED,
        RULE_RESOLUTION_NOTE,
    )
    missing = Discrepancy.objects.get(order=order, code="MISSING_PAYMENT")
    assert missing.state == State.RESOLVED


def test_partial_allocation_keeps_the_unapplied_case(clerk, order, open_invoice):
    payment = PaymentFactory.create(
        company=order.company, party=order.customer, amount=Decimal("500.00")
    )
    unapplied = Discrepancy.objects.create(
        company=order.company,
        payment=payment,
        code="UNAPPLIED_PAYMENT",
        severity="medium",
        owner_role=Role.FINANCE_CLERK,
        explanation="Payment has 500.00 that no rule could match.",
        rule="cash.unapplied@1",
        fingerprint=f"UNAPPLIED_PAYMENT:payment:{payment.pk}",
        due_at=timezone.now(),
    )

    allocate(signed_in(clerk), payment, open_invoice, "100.00")

    unapplied.refresh_from_db()
    assert unapplied.state == State.OPEN


# Payments from an unknown payer


@pytest.fixture
def unknown_payment(order):
    return PaymentFactory.create(
        company=order.company,
        party=None,
        amount=Decimal("42.42"),
        reference="unknown payer",
    )


def test_cash_screen_lists_unknown_payers_apart(clerk, unknown_payment, order):
    page = signed_in(clerk).get(CASH_URL)

    assert [p.pk for p in page.context["payments"]] == []
    assert [p.pk for p, _ in page.context["unassigned"]] == [unknown_payment.pk]
    customers = page.context["unassigned"][0][1]
    assert order.customer in customers
    assert "Payments from an unknown payer" in page.content.decode()


def test_clerk_assigns_a_payer_then_allocates(
    clerk, unknown_payment, order, open_invoice
):
    client = signed_in(clerk)

    response = client.post(
        CASH_URL,
        {"payment": unknown_payment.pk, "party": order.customer_id},
        follow=True,
    )

    assert messages_of(response) == [
        f"Payment {unknown_payment.number} now belongs to {order.customer.name}: "
        "allocate it to one of the customer's open invoices."
    ]
    assert response.context["selected"] == unknown_payment
    assert [i.pk for i, _ in response.context["invoices"]] == [open_invoice.pk]
    unknown_payment.refresh_from_db()
    assert unknown_payment.party == order.customer
    event = AuditEvent.objects.get(action="payment.payer_assigned")
    assert (event.actor, event.source, event.before, event.after) == (
        clerk,
        AuditEvent.Source.SCREEN,
        {"party": None},
        {"party": order.customer.code, "party_name": order.customer.name},
    )

    allocate(client, unknown_payment, open_invoice, "42.42")
    assert Allocation.objects.get().amount == Decimal("42.42")


def test_assign_without_a_customer_is_rejected(clerk, unknown_payment):
    response = signed_in(clerk).post(
        CASH_URL, {"payment": unknown_payment.pk, "party": ""}, follow=True
    )

    assert messages_of(response) == [
        "Customer is missing: choose the customer of payment "
        f"{unknown_payment.number} from the list."
    ]
    unknown_payment.refresh_from_db()
    assert unknown_payment.party is None
    assert not AuditEvent.objects.filter(action="payment.payer_assigned").exists()


def test_assign_a_customer_of_another_company_is_rejected(clerk, unknown_payment):
    stranger = create_order().customer

    response = signed_in(clerk).post(
        CASH_URL, {"payment": unknown_payment.pk, "party": stranger.pk}, follow=True
    )

    assert messages_of(response) == [
        f"Customer {stranger.pk} was not found among the customers of the "
        f"company of payment "
        f"{unknown_payment.number}: choose one from the list."
    ]
    unknown_payment.refresh_from_db()
    assert unknown_payment.party is None


def test_assign_of_a_known_payer_is_rejected(clerk, order, other_party):
    payment = PaymentFactory.create(company=order.company, party=order.customer)

    response = signed_in(clerk).post(
        CASH_URL, {"payment": payment.pk, "party": other_party.pk}, follow=True
    )

    assert messages_of(response) == [
        f"Payment {payment.number} already belongs to {order.customer.name}: "
        "allocate it under Unallocated payments instead."
    ]
    payment.refresh_from_db()
    assert payment.party == order.customer


@pytest.mark.parametrize("person", ["warehouse", "sales_rep", "manager", "customer"])
def test_only_a_finance_clerk_assigns_payers(person, request, unknown_payment, order):
    client = signed_in(request.getfixturevalue(person))

    response = client.post(
        CASH_URL, {"payment": unknown_payment.pk, "party": order.customer_id}
    )

    assert response.status_code == 403
    assert Payment.objects.get(pk=unknown_payment.pk).party is None


# The top bar


@pytest.mark.parametrize(
    ("role", "present", "absent"),
    [
        (
            Role.MANAGER,
            ["Approvals", "Productivity", "Imports"],
            ["Cash application", "Missed searches"],
        ),
        (Role.FINANCE_CLERK, ["Cash application", "Imports"], ["Approvals"]),
        (
            Role.HR,
            ["Productivity"],
            ["Approvals", "Cash application", "Imports", "Missed searches"],
        ),
        (
            Role.FACILITATOR,
            ["Productivity", "Missed searches"],
            ["Approvals", "Imports"],
        ),
        (Role.WAREHOUSE, ["Purchasing"], ["Approvals", "Productivity"]),
        (Role.SALES_REP, ["Cases"], ["Approvals", "Productivity", "Imports"]),
    ],
)
def test_top_bar_links_each_roles_screens(role, present, absent):
    person = make_person(f"someone_{role}", role)

    page = signed_in(person).get("/").content.decode()
    nav = page[page.index('<nav class="mainnav"') : page.index("</nav>")]

    for label in present:
        assert f">{label}</a>" in nav
    for label in absent:
        assert f">{label}</a>" not in nav
