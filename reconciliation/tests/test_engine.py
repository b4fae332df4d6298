"""The matching engine: tolerance profiles, match groups, cash rules, unreconcile.

Also the three kinds of fault the engine must handle as classes: a partial
shipment read as complete, one-cent and currency residues, and duplicate
supplier invoices.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.test import Client

from core.models import AuditEvent
from reconciliation.matches import MatchError, confirm_match, unreconcile
from reconciliation.matching import run_matching
from reconciliation.models import (
    Allocation,
    Company,
    Currency,
    Discrepancy,
    Invoice,
    MatchGroup,
    Party,
    Payment,
    Product,
    SalesOrder,
    ToleranceProfile,
    VendorBill,
)
from reconciliation.services import allocate_payment, copy_invoice, copy_vendor_bill
from reconciliation.tests.factories import (
    CompanyFactory,
    PartyFactory,
    PaymentFactory,
    create_invoice,
    create_order,
    create_payment,
    create_shipment,
    open_codes,
)
from reconciliation.tolerances import Tolerance, ToleranceBook

pytestmark = pytest.mark.django_db

AS_OF = date(2024, 6, 30)
SHIP_AS_OF = date(2024, 3, 22)


@pytest.fixture(autouse=True)
def _pinned_settings(settings):
    settings.RECONCILIATION_LATE_DAYS = 0
    settings.RECONCILIATION_PAYMENT_TOLERANCE = "0.01"


def group(key_prefix, **filters):
    found = MatchGroup.objects.filter(key__startswith=key_prefix, **filters)
    rows = list(found.exclude(state=MatchGroup.State.REVERSED))
    assert len(rows) == 1, [row.key for row in rows]
    return rows[0]


def paid_order(company=None, lines=(("1", "100.00"),), amount=None, **fields):
    order = create_order(lines=lines, company=company, **fields)
    create_shipment(order=order)
    invoice = create_invoice(order=order)
    create_payment(invoice=invoice, amount=amount or str(invoice.amount_total))
    invoice.refresh_from_db()
    return order, invoice


# Tolerance profiles


def profile(company, name, **values):
    return ToleranceProfile.objects.create(company=company, name=name, **values)


def test_most_specific_profile_wins():
    company = CompanyFactory.create()
    customer = PartyFactory.create(company=company)
    other = PartyFactory.create(company=company)
    profile(company, "company", qty_over_pct=Decimal(10))
    profile(company, "customer", customer=customer, qty_over_pct=Decimal(20))
    profile(company, "bulk", product_group="bulk", qty_over_pct=Decimal(5))
    profile(
        company,
        "customer bulk",
        customer=customer,
        product_group="bulk",
        qty_over_pct=Decimal(1),
    )
    book = ToleranceBook.for_company(company)

    assert book.for_scope(customer_id=customer.pk, group="bulk").name == "customer bulk"
    assert book.for_scope(customer_id=customer.pk, group="").name == "customer"
    assert book.for_scope(customer_id=customer.pk, group="fresh").name == "customer"
    assert book.for_scope(customer_id=other.pk, group="bulk").name == "bulk"
    assert book.for_scope(customer_id=other.pk, group="").name == "company"
    assert book.for_scope(customer_id=None).name == "company"


def test_no_profile_uses_settings(settings):
    settings.RECONCILIATION_PAYMENT_TOLERANCE = "0.05"
    settings.RECONCILIATION_LATE_DAYS = 2
    book = ToleranceBook.for_company(CompanyFactory.create())

    tolerance = book.for_scope(customer_id=None)
    assert tolerance.name == "built-in default"
    assert tolerance.payment_tolerance_value == Decimal("0.05")
    assert tolerance.late_days == 2


def test_child_contact_uses_parent_profile():
    company = CompanyFactory.create()
    parent = PartyFactory.create(company=company)
    child = PartyFactory.create(company=company, parent=parent)
    profile(company, "parent", customer=parent, qty_over_pct=Decimal(10))
    order = create_order(lines=[("10", "1.00")], company=company, customer=child)
    create_shipment(order=order, quantities={1: "11"})

    run_matching(company=company, as_of=SHIP_AS_OF)

    assert open_codes(company) == []
    shipped = group("A:order:", order=order)
    assert shipped.outcome == MatchGroup.Outcome.IN_TOLERANCE
    assert shipped.residual == Decimal(1)
    [line] = shipped.compared["lines"]
    assert shipped.compared["tolerances"][line["tolerance"]]["name"] == "parent"


def test_over_ship_inside_group_profile():
    company = CompanyFactory.create()
    profile(company, "bulk goods", product_group="bulk", qty_over_pct=Decimal(10))
    order = create_order(lines=[("10", "1.00", "kg")], company=company)
    Product.objects.filter(pk=order.lines.get().product_id).update(group="bulk")
    create_shipment(order=order, quantities={1: "11"})

    run_matching(company=company, as_of=SHIP_AS_OF)
    assert open_codes(company) == []

    create_shipment(order=order, quantities={1: "0.5"})
    run_matching(company=company, as_of=SHIP_AS_OF)
    assert open_codes(company) == ["OVER_SHIP"]


def test_percent_payment_tolerance_writes_off():
    company = CompanyFactory.create()
    profile(
        company,
        "one percent",
        payment_tolerance_type=ToleranceProfile.PaymentToleranceType.PERCENT,
        payment_tolerance_value=Decimal(1),
    )
    order, invoice = paid_order(company, amount="99.10")

    run_matching(company=company, as_of=AS_OF)

    invoice.refresh_from_db()
    order.refresh_from_db()
    allocation = Allocation.objects.get(invoice=invoice)
    assert open_codes(company) == []
    assert allocation.writeoff_net == Decimal("0.90")
    assert allocation.writeoff_reason == (
        "Residual of 0.90 USD is within the payment tolerance of 1.00 USD "
        "(payment.writeoff@1)."
    )
    assert invoice.payment_state == Invoice.PaymentState.PAID
    assert order.recon_status == "in_tolerance"
    cash = group("D:invoice:", invoice=invoice)
    assert cash.outcome == MatchGroup.Outcome.IN_TOLERANCE
    assert cash.compared["written_off"] == "0.90"


def test_rounding_allowance_counts_lines():
    # Three lines allow three cents of rounding; one line allows one.
    three, three_invoice = paid_order(
        lines=[("1", "10.00"), ("1", "10.00"), ("1", "10.00")], amount="29.97"
    )
    run_matching(company=three.company, as_of=AS_OF)
    three_invoice.refresh_from_db()
    assert three_invoice.amount_written_off == Decimal("0.03")
    assert open_codes(three.company) == []

    one, _ = paid_order(lines=[("1", "30.00")], amount="29.97")
    run_matching(company=one.company, as_of=AS_OF)
    assert open_codes(one.company) == ["SHORT_PAYMENT"]


def test_profile_change_updates_rule_version():
    company = CompanyFactory.create()
    order = create_order(lines=[("10", "1.00")], company=company)
    create_shipment(order=order)
    run_matching(company=company, as_of=SHIP_AS_OF)
    before = group("A:order:", order=order).rule_version

    profile(company, "loose", qty_over_pct=Decimal(5))
    run_matching(company=company, as_of=SHIP_AS_OF)

    after = group("A:order:", order=order)
    assert after.rule_version != before
    assert (
        after.rule_version == Tolerance(name="loose", qty_over_pct=Decimal(5)).version
    )
    assert AuditEvent.objects.filter(
        action="match.updated", object_id=str(after.pk)
    ).exists()


def test_profile_rejects_negative_values():
    from django.db import IntegrityError, transaction

    company = CompanyFactory.create()
    with pytest.raises(IntegrityError), transaction.atomic():
        profile(company, "bad", price_pct=Decimal(-1))


# Match groups: stored, idempotent, explainable


def groups_snapshot(company):
    return list(
        MatchGroup.objects.filter(company=company)
        .order_by("pk")
        .values_list("pk", "key", "state", "outcome", "rule", "residual", "compared")
    )


def test_matches_are_stored_per_control_point():
    order, invoice = paid_order(lines=[("2", "50.00")])

    run_matching(company=order.company, as_of=AS_OF)

    line = order.lines.get()
    keys = sorted(
        MatchGroup.objects.filter(order=order).values_list("kind", "key", "state")
    )
    assert keys == [
        ("A", f"A:order:{order.pk}", "confirmed"),
        ("C", f"C:order:{order.pk}", "confirmed"),
        ("D", f"D:invoice:{invoice.pk}", "confirmed"),
    ]
    shipped = group("A:order:", order=order)
    [shipped_line] = shipped.compared["lines"]
    assert shipped_line["line"] == line.line_no
    assert shipped_line["ordered"] == "2.0000"
    assert shipped_line["shipped"] == "2.0000"
    assert shipped_line["outcome"] == MatchGroup.Outcome.CLEAN
    assert shipped.residual == Decimal(0)
    assert shipped.order_line is None
    assert shipped.rule == "shipment.quantity@1"
    cash = group("D:invoice:", order=order)
    allocation = Allocation.objects.get(invoice=invoice)
    assert allocation.match_group == cash
    assert cash.matching_number == f"M{cash.pk}"


def test_exception_is_proposed_not_confirmed():
    order = create_order(lines=[("10", "1.00")])
    create_shipment(order=order, quantities={1: "6"})

    run_matching(company=order.company, as_of=SHIP_AS_OF)

    shipped = group("A:order:", order=order)
    assert shipped.state == MatchGroup.State.PROPOSED
    assert shipped.outcome == MatchGroup.Outcome.EXCEPTION
    assert shipped.residual == Decimal(-4)
    assert shipped.explanation.startswith("Only 6 units of 10 units shipped")


def test_running_twice_gives_same_rows():
    company = CompanyFactory.create()
    paid_order(company, amount="60.00")
    paid_order(company, lines=[("1", "42.42")], amount="42.41")
    short = create_order(company=company, lines=[("10", "5.00")])
    create_shipment(order=short, quantities={1: "7"})
    customer = PartyFactory.create(company=company)
    for total in ("30.00", "70.00"):
        order = create_order(company=company, customer=customer, lines=[("1", total)])
        create_shipment(order=order)
        create_invoice(order=order)
    PaymentFactory.create(company=company, party=customer, amount=Decimal("100.00"))
    run_matching(company=company, as_of=AS_OF)
    groups = groups_snapshot(company)
    cases = list(
        Discrepancy.objects.filter(company=company)
        .order_by("pk")
        .values_list("pk", "fingerprint", "state", "difference")
    )
    allocations = list(Allocation.objects.order_by("pk").values_list())
    events = AuditEvent.objects.count()

    second = run_matching(company=company, as_of=AS_OF)

    assert second.opened == 0
    assert second.updated == 0
    assert second.written_off == 0
    assert groups_snapshot(company) == groups
    assert (
        list(
            Discrepancy.objects.filter(company=company)
            .order_by("pk")
            .values_list("pk", "fingerprint", "state", "difference")
        )
        == cases
    )
    assert list(Allocation.objects.order_by("pk").values_list()) == allocations
    assert AuditEvent.objects.count() == events


def test_order_page_explains_matches(sales_rep):
    order, invoice = paid_order(lines=[("2", "50.00")])
    run_matching(company=order.company, as_of=AS_OF)
    client = Client()
    client.force_login(sales_rep)

    response = client.get(f"/reconciliation/orders/{order.number}/")

    page = response.content.decode()
    cash = group("D:invoice:", invoice=invoice)
    assert response.status_code == 200
    assert 'data-testid="why"' in page
    assert "Why: what the matching compared" in page
    assert cash.matching_number in page
    assert "payment.allocation@1" in page
    assert f"version {cash.rule_version}" in page
    assert "invoice total: 100.00" in page


def test_order_page_explains_each_line(sales_rep):
    order = create_order(lines=[("10", "1.00"), ("4", "2.00")])
    create_shipment(order=order, quantities={1: "6", 2: "4"})
    run_matching(company=order.company, as_of=SHIP_AS_OF)
    client = Client()
    client.force_login(sales_rep)

    response = client.get(f"/reconciliation/orders/{order.number}/")

    page = response.content.decode()
    shipped = group("A:order:", order=order)
    assert page.count(f"<td>{shipped.matching_number}<br>") == 2
    assert '<span class="muted">line 1</span>' in page
    assert '<span class="muted">line 2</span>' in page
    assert "Proposed · exception" in page
    assert "Proposed · clean" in page
    assert "ordered: 10<br>shipped: 6" in page
    assert "tolerance: built-in default" in page


def test_old_per_line_match_is_replaced(sales_rep):
    order = create_order(lines=[("2", "5.00")])
    create_shipment(order=order)
    line = order.lines.get()
    old = MatchGroup.objects.create(
        company=order.company,
        kind=MatchGroup.Kind.SHIPMENT,
        key=f"A:line:{line.pk}",
        state=MatchGroup.State.CONFIRMED,
        outcome=MatchGroup.Outcome.CLEAN,
        origin=MatchGroup.Origin.PERSON,
        rule="shipment.quantity@1",
        rule_version="0123456789ab",
        compared={"ordered": "2.0000", "shipped": "2.0000", "tolerance": "old"},
        residual=Decimal(0),
        unit="pcs",
        order=order,
        order_line=line,
    )
    client = Client()
    client.force_login(sales_rep)

    page = client.get(f"/reconciliation/orders/{order.number}/").content.decode()
    assert f"<td>{old.matching_number}<br>" in page
    assert "ordered: 2<br>shipped: 2<br>tolerance: old" in page
    assert "version 0123456789ab" in page

    run_matching(company=order.company, as_of=SHIP_AS_OF)

    old.refresh_from_db()
    assert old.state == MatchGroup.State.REVERSED
    assert old.reversal_reason == (
        "Replaced by one match per order at this control point."
    )
    event = AuditEvent.objects.get(action="match.reversed", object_id=str(old.pk))
    assert (event.before, event.after) == (
        {"state": "confirmed"},
        {"state": "reversed"},
    )
    assert group("A:", order=order).key == f"A:order:{order.pk}"


def test_customer_page_has_no_why(customer, customer_party):
    order, _ = paid_order(customer=customer_party, company=customer_party.company)
    run_matching(company=order.company, as_of=AS_OF)
    client = Client()
    client.force_login(customer)

    response = client.get(f"/reconciliation/orders/{order.number}/")

    # Customers see their orders in the portal, which has no "Why" section.
    portal_url = f"/reconciliation/portal/orders/{order.number}/"
    assert response.status_code == 302
    assert response.url == portal_url
    portal = client.get(portal_url)
    assert portal.status_code == 200
    assert 'data-testid="why"' not in portal.content.decode()
    assert "shipment.quantity@1" not in portal.content.decode()


# Cash application rules


def open_invoice(company, customer, total, **fields):
    order = create_order(company=company, customer=customer, lines=[("1", total)])
    create_shipment(order=order)
    return create_invoice(order=order, **fields)


def test_reference_rule_allocates_and_confirms():
    company = CompanyFactory.create()
    customer = PartyFactory.create(company=company)
    invoice = open_invoice(company, customer, "80.00", reference="PO-77")
    payment = PaymentFactory.create(
        company=company, party=customer, amount=Decimal("80.00"), reference=" po-77"
    )

    run_matching(company=company, as_of=AS_OF)

    invoice.refresh_from_db()
    payment.refresh_from_db()
    allocation = Allocation.objects.get(payment=payment)
    assert allocation.invoice == invoice
    assert allocation.amount == Decimal("80.00")
    assert invoice.payment_state == Invoice.PaymentState.PAID
    assert payment.amount_unallocated == Decimal(0)
    assert open_codes(company) == []
    event = AuditEvent.objects.get(
        action="allocation.created", object_id=str(allocation.pk)
    )
    assert event.source == AuditEvent.Source.RULE


def test_reference_rule_keeps_excess_on_payment():
    company = CompanyFactory.create()
    customer = PartyFactory.create(company=company)
    invoice = open_invoice(company, customer, "80.00")
    payment = PaymentFactory.create(
        company=company,
        party=customer,
        amount=Decimal("95.00"),
        reference=invoice.number,
    )

    run_matching(company=company, as_of=AS_OF)

    payment.refresh_from_db()
    assert Allocation.objects.get(payment=payment).amount == Decimal("80.00")
    assert payment.amount_unallocated == Decimal("15.00")
    row = Discrepancy.objects.get(company=company, code="OVER_PAYMENT")
    assert row.payment == payment
    assert row.difference == Decimal("15.00")
    assert f"paid its invoices and 15.00 {payment.currency_id} more" in (
        row.explanation
    )


def test_exact_amount_rule():
    company = CompanyFactory.create()
    customer = PartyFactory.create(company=company)
    open_invoice(company, customer, "10.00")
    target = open_invoice(company, customer, "55.55")
    payment = PaymentFactory.create(
        company=company, party=customer, amount=Decimal("55.55")
    )

    run_matching(company=company, as_of=AS_OF)

    assert Allocation.objects.get(payment=payment).invoice == target


def test_combination_is_proposed_then_confirmed(clerk):
    company = CompanyFactory.create()
    customer = PartyFactory.create(company=company)
    first = open_invoice(company, customer, "30.00")
    second = open_invoice(company, customer, "70.00")
    open_invoice(company, customer, "45.00")
    payment = PaymentFactory.create(
        company=company, party=customer, amount=Decimal("100.00")
    )

    run_matching(company=company, as_of=AS_OF)

    proposal = group("D:payment:", payment=payment)
    assert proposal.state == MatchGroup.State.PROPOSED
    assert proposal.rule == "cash.combination@1"
    assert proposal.score == 2
    assert [item["number"] for item in proposal.compared["invoices"]] == [
        first.number,
        second.number,
    ]
    assert not Allocation.objects.filter(payment=payment).exists()

    confirm_match(group_id=proposal.pk, actor=clerk)

    proposal.refresh_from_db()
    first.refresh_from_db()
    second.refresh_from_db()
    assert proposal.state == MatchGroup.State.CONFIRMED
    assert proposal.confirmed_by == clerk
    assert first.payment_state == second.payment_state == Invoice.PaymentState.PAID
    assert AuditEvent.objects.filter(
        action="match.confirmed", object_id=str(proposal.pk), actor=clerk
    ).exists()
    with pytest.raises(MatchError) as error:
        confirm_match(group_id=proposal.pk, actor=clerk)
    assert str(error.value) == (
        f"Match {proposal.matching_number} is confirmed: only a proposed match "
        "can be confirmed."
    )


def test_stale_proposal_is_rejected(clerk):
    company = CompanyFactory.create()
    customer = PartyFactory.create(company=company)
    first = open_invoice(company, customer, "30.00")
    open_invoice(company, customer, "70.00")
    payment = PaymentFactory.create(
        company=company, party=customer, amount=Decimal("100.00")
    )
    run_matching(company=company, as_of=AS_OF)
    proposal = group("D:payment:", payment=payment)
    other = PaymentFactory.create(
        company=company, party=customer, amount=Decimal("10.00")
    )
    allocate_payment(payment=other, invoice=first)

    with pytest.raises(MatchError) as error:
        confirm_match(group_id=proposal.pk, actor=clerk)

    assert str(error.value) == (
        f"Match {proposal.matching_number} would settle 30.00 USD on invoice "
        f"{first.number}, which now owes 20.00: run the matching again for a "
        "new proposal."
    )
    assert not Allocation.objects.filter(payment=payment).exists()


def test_tolerance_rule_proposes_write_off(clerk, settings):
    settings.RECONCILIATION_PAYMENT_TOLERANCE = "2.00"
    company = CompanyFactory.create()
    customer = PartyFactory.create(company=company)
    invoice = open_invoice(company, customer, "500.00")
    payment = PaymentFactory.create(
        company=company, party=customer, amount=Decimal("498.50")
    )

    run_matching(company=company, as_of=AS_OF)
    proposal = group("D:payment:", payment=payment)
    assert proposal.rule == "cash.tolerance@1"
    assert Decimal(proposal.compared["invoices"][0]["writeoff"]) == Decimal("1.50")

    confirm_match(group_id=proposal.pk, actor=clerk)

    invoice.refresh_from_db()
    assert invoice.amount_paid == Decimal("498.50")
    assert invoice.amount_written_off == Decimal("1.50")
    assert invoice.amount_residual == Decimal(0)


# Unreconcile


def test_unreconcile_reverses_and_keeps_rows(clerk):
    order, invoice = paid_order(lines=[("1", "42.42")], amount="42.41")
    run_matching(company=order.company, as_of=AS_OF)
    cash = group("D:invoice:", invoice=invoice)
    payment = Payment.objects.get(allocations__invoice=invoice)

    unreconcile(group_id=cash.pk, actor=clerk, reason="Paid by the wrong customer")

    cash.refresh_from_db()
    invoice.refresh_from_db()
    payment.refresh_from_db()
    order.refresh_from_db()
    original, reversal = Allocation.objects.filter(invoice=invoice).order_by("pk")
    assert cash.state == MatchGroup.State.REVERSED
    assert cash.reversed_by == clerk
    assert cash.reversal_reason == "Paid by the wrong customer"
    assert reversal.reverses == original
    assert reversal.amount == Decimal("-42.41")
    assert reversal.writeoff_net == Decimal("-0.01")
    assert invoice.amount_residual == Decimal("42.42")
    assert invoice.payment_state == Invoice.PaymentState.NOT_PAID
    assert payment.amount_unallocated == Decimal("42.41")
    assert order.payment_status == SalesOrder.PaymentStatus.NOT_PAID
    actions = set(
        AuditEvent.objects.filter(actor=clerk).values_list("action", "reason")
    )
    assert ("match.reversed", "Paid by the wrong customer") in actions
    assert ("allocation.reversed", "Paid by the wrong customer") in actions


def test_unreconciled_pair_is_not_matched_again(clerk):
    order, invoice = paid_order(lines=[("1", "100.00")])
    run_matching(company=order.company, as_of=AS_OF)
    unreconcile(
        group_id=group("D:invoice:", invoice=invoice).pk, actor=clerk, reason="Wrong"
    )

    run_matching(company=order.company, as_of=AS_OF)

    assert Allocation.objects.filter(invoice=invoice).count() == 2
    assert open_codes(order.company) == ["MISSING_PAYMENT", "UNAPPLIED_PAYMENT"]


def test_unreconcile_needs_reason_and_cash_match(clerk):
    order, _ = paid_order()
    run_matching(company=order.company, as_of=AS_OF)

    with pytest.raises(MatchError) as error:
        unreconcile(group_id=group("D:invoice:").pk, actor=clerk, reason=" ")
    assert str(error.value) == "Unreconciling needs a reason."

    shipped = group("A:order:", order=order)
    with pytest.raises(MatchError) as error:
        unreconcile(group_id=shipped.pk, actor=clerk, reason="No")
    assert str(error.value) == (
        f"Match {shipped.matching_number} is a Order to shipment match, which "
        "follows the documents: change the documents instead."
    )


def test_opposite_line_residuals_are_counted():
    order = create_order(lines=[("10", "1.00"), ("10", "2.00")])
    create_shipment(order=order, quantities={1: "8", 2: "12"})

    run_matching(company=order.company, as_of=SHIP_AS_OF)

    assert open_codes(order.company) == ["OVER_SHIP", "SHORT_SHIP"]
    shipped = group("A:order:", order=order)
    short, over = shipped.compared["lines"]
    assert Decimal(short["residual"]) == Decimal(-2)
    assert Decimal(over["residual"]) == Decimal(2)
    # A sum would show -2 and +2 as a residual of 0 in one unit.
    assert (shipped.residual, shipped.unit) == (Decimal(2), "lines")


# A partial shipment is decided per line, however the rows are split


def test_partial_shipment_split_across_documents():
    order = create_order(lines=[("250000", "0.0100", "mm"), ("2", "15.00", "pcs")])
    create_shipment(order=order, quantities={1: "100000"})
    create_shipment(order=order, quantities={1: "100000"})
    create_shipment(order=order, quantities={1: "50000"})
    first = create_invoice(order=order, quantities={1: "150000"})
    second = create_invoice(order=order, quantities={1: "100000"})
    create_payment(invoice=first, amount="1500.00")
    create_payment(invoice=second, amount="1000.00")
    line_a, line_b = order.lines.order_by("line_no")

    run_matching(company=order.company, as_of=SHIP_AS_OF)

    order.refresh_from_db()
    assert order.delivery_status == SalesOrder.DeliveryStatus.PARTIAL
    assert open_codes(order.company) == ["NOT_SHIPPED"]
    row = Discrepancy.objects.get(code="NOT_SHIPPED")
    assert row.order_line == line_b
    shipped = group("A:order:", order=order)
    shipped_a, shipped_b = shipped.compared["lines"]
    assert shipped_a["line"] == line_a.line_no
    assert shipped_a["outcome"] == MatchGroup.Outcome.CLEAN
    assert shipped_a["shipped"] == "250000.0000"
    assert len(shipped_a["shipments"]) == 3
    assert shipped_b["line"] == line_b.line_no
    assert shipped_b["outcome"] == MatchGroup.Outcome.EXCEPTION
    # The lines' units differ, so the residual counts the lines with one.
    assert (shipped.residual, shipped.unit) == (Decimal(1), "lines")
    assert shipped.outcome == MatchGroup.Outcome.EXCEPTION
    billed = group("C:order:", order=order)
    [billed_a] = billed.compared["lines"]
    assert billed_a["line"] == line_a.line_no
    assert billed_a["invoiced_qty"] == "250000.0000"
    assert billed_a["outcome"] == MatchGroup.Outcome.CLEAN
    assert billed.outcome == MatchGroup.Outcome.CLEAN

    # Line B can still ship, and then the order is complete.
    create_shipment(order=order, quantities={2: "1"})
    create_shipment(order=order, quantities={2: "1"})
    run_matching(company=order.company, as_of=SHIP_AS_OF)
    order.refresh_from_db()
    assert order.delivery_status == SalesOrder.DeliveryStatus.FULL
    assert open_codes(order.company) == []


def test_credit_note_nets_invoiced_quantity():
    order = create_order(lines=[("10", "2.00")])
    create_shipment(order=order)
    invoice = create_invoice(order=order, quantities={1: "12"})
    create_invoice(order=order, kind=Invoice.Kind.CREDIT_NOTE, quantities={1: "2"})
    create_payment(invoice=invoice, amount="24.00")

    run_matching(company=order.company, as_of=SHIP_AS_OF)

    billed = group("C:order:", order=order)
    [billed_line] = billed.compared["lines"]
    assert billed_line["invoiced_qty"] == "10.0000"
    assert billed_line["credited_qty"] == "2.0000"
    assert billed.outcome == MatchGroup.Outcome.CLEAN
    assert "INVOICE_QTY_MISMATCH" not in open_codes(order.company)


# One-cent and currency residues


@pytest.mark.parametrize(
    ("total", "paid", "written_off"),
    [("42.42", "42.41", "0.01"), ("42.41", "42.42", "-0.01")],
)
def test_cent_residue_stays_closed(total, paid, written_off):
    order, invoice = paid_order(lines=[("1", total)], amount=paid)

    run_matching(company=order.company, as_of=AS_OF)
    run_matching(company=order.company, as_of=date(2024, 12, 31))

    invoice.refresh_from_db()
    assert invoice.amount_written_off == Decimal(written_off)
    assert invoice.amount_residual == Decimal(0)
    assert invoice.payment_state == Invoice.PaymentState.PAID
    assert open_codes(order.company) == []
    rounding = Discrepancy.objects.get(code="ROUNDING")
    assert rounding.state == Discrepancy.State.RESOLVED


def test_foreign_invoice_closes_on_foreign_residual():
    company = Company.objects.create(
        name="Euro books", base_currency=Currency.objects.get(code="EUR")
    )
    usd = Currency.objects.get(code="USD")
    customer = Party.objects.create(
        company=company, code="US1", name="US buyer", currency=usd
    )
    order = create_order(
        lines=[("1", "1000.00")], company=company, customer=customer, currency=usd
    )
    create_shipment(order=order)
    invoice = create_invoice(order=order, currency=usd, fx_rate=Decimal("0.90"))
    for amount in ("600.00", "400.00"):
        payment = PaymentFactory.create(
            company=company,
            party=customer,
            currency=usd,
            amount=Decimal(amount),
            fx_rate=Decimal("0.92"),
        )
        allocate_payment(payment=payment, invoice=invoice)

    run_matching(company=company, as_of=AS_OF)
    run_matching(company=company, as_of=AS_OF)

    invoice.refresh_from_db()
    fx = sorted(
        Allocation.objects.filter(invoice=invoice).values_list(
            "fx_difference", flat=True
        )
    )
    assert invoice.amount_residual == Decimal(0)
    assert invoice.payment_state == Invoice.PaymentState.PAID
    assert fx == [Decimal("8.00"), Decimal("12.00")]
    case = Discrepancy.objects.get(code="FX_DIFFERENCE")
    assert case.state == Discrepancy.State.RESOLVED
    assert case.difference == Decimal("20.00")
    assert case.explanation == (
        f"Invoice {invoice.number} in USD was booked at rate 0.9 and paid at other "
        "rates: an exchange gain of 20.00 EUR, a rate move of up to 2.22% against "
        "the 3% tolerance."
    )


# Duplicate supplier invoices


def bill(company, vendor, number, reference, bill_date=date(2024, 3, 12), **fields):
    return VendorBill.objects.create(
        company=company,
        number=number,
        vendor=vendor,
        supplier_ref=reference,
        currency=company.base_currency,
        bill_date=bill_date,
        **fields,
    )


def duplicate_cases(company):
    rows = Discrepancy.objects.filter(
        company=company, code="DUPLICATE_INVOICE", state=Discrepancy.State.OPEN
    )
    return {row.vendor_bill.number: row.explanation for row in rows}


def test_duplicate_supplier_invoices_by_partner_and_reference():
    company = CompanyFactory.create()
    acme = PartyFactory.create(company=company, name="Acme GmbH")
    contact = PartyFactory.create(company=company, name="Acme sales", parent=acme)
    bill(company, acme, "BILL-1", "INV-2024-001")
    bill(company, acme, "BILL-2", "inv-2024-001 ", date(2024, 3, 14))
    bill(company, contact, "BILL-3", "INV-2024-001", date(2024, 3, 15))
    bill(company, PartyFactory.create(company=company), "BILL-4", "INV-2024-001")

    run_matching(company=company, as_of=AS_OF)

    assert duplicate_cases(company) == {
        "BILL-2": (
            "Bill BILL-2 from Acme GmbH has supplier reference 'inv-2024-001 ', "
            "which bill BILL-1 of 2024-03-12 already has."
        ),
        "BILL-3": (
            "Bill BILL-3 from Acme sales has supplier reference 'INV-2024-001', "
            "which bill BILL-1 of 2024-03-12, BILL-2 of 2024-03-14 already has."
        ),
    }


def test_reused_reference_next_year_needs_override():
    company = CompanyFactory.create()
    vendor = PartyFactory.create(company=company, name="Small vendor")
    bill(company, vendor, "BILL-23", "001", date(2023, 5, 2))
    later = bill(company, vendor, "BILL-24", "001", date(2024, 5, 2))

    run_matching(company=company, as_of=AS_OF)
    assert duplicate_cases(company) == {
        "BILL-24": (
            "Bill BILL-24 from Small vendor has supplier reference '001', which "
            "bill BILL-23 of 2023-05-02 already has. It was used in another year, "
            "so this may be a reused number: keep the bill with an override "
            "reason if it is."
        )
    }

    VendorBill.objects.filter(pk=later.pk).update(
        duplicate_override_reason="The vendor restarts numbering every January."
    )
    run_matching(company=company, as_of=AS_OF)
    assert duplicate_cases(company) == {}


def test_copying_clears_the_reference():
    company = CompanyFactory.create()
    vendor = PartyFactory.create(company=company)
    original = bill(company, vendor, "BILL-1", "INV-9")
    copy = copy_vendor_bill(bill=original, number="BILL-2")
    assert copy.supplier_ref == ""
    assert copy.state == VendorBill.State.DRAFT

    _, invoice = paid_order(company)
    Invoice.objects.filter(pk=invoice.pk).update(reference="PO-1")
    invoice_copy = copy_invoice(invoice=invoice, number="INV-COPY")
    assert invoice_copy.reference == ""
    assert invoice_copy.amount_total == invoice.amount_total
    assert invoice_copy.lines.count() == 1
