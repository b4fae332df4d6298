"""Sales decisions, proposals and approvals through the screens people use.

Named people: sally (sales rep on the order), carla (the customer's contact),
fiona (finance clerk), mona (manager) and wanda (warehouse). The price case
bills 15 units of an order line at 49.30, where the order agreed 49.30 less
25 %, which is 36.975 per unit.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from core.models import AuditEvent
from core.testing import messages_of, signed_in
from notifications.models import Notification
from portal.models import ResolutionProposal
from reconciliation import approvals, cases
from reconciliation.case_credit import case_open_amount
from reconciliation.matching import match_order, run_matching
from reconciliation.models import (
    Approval,
    Discrepancy,
    Invoice,
    Shipment,
)
from reconciliation.tests.factories import (
    create_invoice,
    create_order,
    create_shipment,
)

pytestmark = pytest.mark.django_db

State = Discrepancy.State
Proposal = ResolutionProposal.State


def sales_url(case: Discrepancy, action: str = "") -> str:
    return f"/reconciliation/work/cases/{case.pk}/{action}"


@pytest.fixture
def price_case(customer_party, sales_rep) -> Discrepancy:
    """Return the price case the matching pass finds on the 15 units billed."""
    order = create_order(
        lines=[("15", "49.30", "unit", "25")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    create_shipment(order=order)
    create_invoice(order=order, unit_prices={1: "49.30"})
    match_order(order)
    return Discrepancy.objects.get(order=order, code="PRICE_MISMATCH")


def propose(client: Client, case: Discrepancy, amount: str = "184.87") -> None:
    client.post(
        sales_url(case, "credit-note/"),
        {"amount": amount, "message": "We billed the list price by mistake."},
        follow=True,
    )


# Keeping the price while a credit note waits


def test_keep_price_withdraws_waiting_credit_note(price_case, sales_rep, customer):
    rep = signed_in(sales_rep)
    propose(rep, price_case)
    proposal = ResolutionProposal.objects.get(case=price_case)
    assert proposal.state == Proposal.AWAITING_CUSTOMER

    kept = rep.post(
        sales_url(price_case, "price/"),
        {"reason": "The discount expired before the order."},
        follow=True,
    )

    proposal.refresh_from_db()
    price_case.refresh_from_db()
    assert proposal.credit_note is not None
    credit_note = Invoice.objects.get(pk=proposal.credit_note.pk)
    assert messages_of(kept) == [
        "The invoiced price stands; the case is resolved. Credit note "
        f"{credit_note.number}, which waited for the customer, is withdrawn and "
        "can no longer be accepted."
    ]
    assert proposal.state == Proposal.WITHDRAWN
    assert credit_note.state == Invoice.State.CANCELLED
    assert (price_case.state, price_case.resolution_code) == (
        State.RESOLVED,
        "price_kept",
    )
    assert AuditEvent.objects.filter(action="proposal.withdrawn").count() == 1


def test_keep_price_reads_as_kept(price_case, sales_rep):
    rep = signed_in(sales_rep)
    rep.post(sales_url(price_case, "price/"), {"reason": "The discount expired."})

    page = rep.get(f"/reconciliation/cases/{price_case.pk}/").content.decode()
    decision = rep.get(sales_url(price_case)).content.decode()

    price_case.refresh_from_db()
    assert price_case.resolution_code == "price_kept"
    assert "Invoiced price kept" in page
    assert "Price fix" not in page
    assert "resolved: Invoiced price kept." in decision
    resolved = (
        AuditEvent.objects.filter(
            object_id=str(price_case.pk), object_type="reconciliation.discrepancy"
        )
        .order_by("pk")
        .last()
    )
    assert resolved is not None
    assert resolved.after["resolution_code"] == "price_kept"


def test_price_page_explains_rounded_credit(price_case, sales_rep):
    page = signed_in(sales_rep).get(sales_url(price_case)).content.decode()

    assert "12.325 more per unit" in page
    assert "184.87 USD (15 × 12.3247 per unit)" in page
    # sally reads the rounding in plain words, not "credits 12.3247 per unit
    # where the prices differ by 12.325".
    assert (
        "The credit is what the invoice line charged less what the order price "
        "gives for the same units: 739.50 less 554.63. Both line totals are "
        "rounded, as on any invoice, so per unit the credit is 12.3247, not "
        "exactly the "
        "12.325 between the two prices."
    ) in page
    assert "where the prices differ by" not in page


def test_second_proposal_points_to_withdraw(price_case, sales_rep):
    rep = signed_in(sales_rep)
    propose(rep, price_case)
    proposal = ResolutionProposal.objects.get(case=price_case)
    assert proposal.credit_note is not None
    number = proposal.credit_note.number

    again = rep.post(
        sales_url(price_case, "credit-note/"),
        {"amount": "10.00", "message": "A second try."},
        follow=True,
    )

    assert messages_of(again) == [
        f"Case {price_case.pk} already has credit note {number} of 184.87 USD "
        "waiting for the customer's answer, so no second credit note can be "
        f"proposed: withdraw it with the “Withdraw credit note {number}” button "
        "on this screen, or wait for the customer."
    ]
    assert f"Withdraw credit note {number}" in again.content.decode()
    assert ResolutionProposal.objects.filter(case=price_case).count() == 1


def test_stale_accept_after_keep_price_writes_nothing(price_case, sales_rep, customer):
    rep = signed_in(sales_rep)
    propose(rep, price_case)
    proposal = ResolutionProposal.objects.get(case=price_case)
    rep.post(sales_url(price_case, "price/"), {"reason": "The price is right."})
    events = AuditEvent.objects.count()

    accepted = signed_in(customer).post(
        f"/reconciliation/portal/proposals/{proposal.pk}/accept/", follow=True
    )

    assert accepted.status_code == 200
    assert messages_of(accepted) == [
        "This proposal is withdrawn: there is nothing to decide on it now."
    ]
    assert AuditEvent.objects.count() == events
    assert not Invoice.objects.filter(
        kind=Invoice.Kind.CREDIT_NOTE, state=Invoice.State.POSTED
    ).exists()


def test_accept_on_resolved_case_writes_nothing(price_case, sales_rep, customer):
    """A proposal left waiting on a resolved case, as older data has it."""
    propose(signed_in(sales_rep), price_case)
    proposal = ResolutionProposal.objects.get(case=price_case)
    Discrepancy.objects.filter(pk=price_case.pk).update(state=State.RESOLVED)
    events = AuditEvent.objects.count()
    portal = signed_in(customer)

    page = portal.get(f"/reconciliation/portal/cases/{price_case.pk}/")
    accepted = portal.post(
        f"/reconciliation/portal/proposals/{proposal.pk}/accept/", follow=True
    )
    rejected = portal.post(
        f"/reconciliation/portal/proposals/{proposal.pk}/reject/",
        {"reason": "Too little."},
        follow=True,
    )

    text = page.content.decode()
    assert f"/reconciliation/portal/proposals/{proposal.pk}/accept/" not in text
    assert "No longer open: the case is resolved" in text
    expected = (
        "This case is resolved, so this proposal is no longer open: there is "
        "nothing to decide on it now."
    )
    assert messages_of(accepted) == [expected]
    assert messages_of(rejected) == [expected]
    proposal.refresh_from_db()
    assert proposal.state == Proposal.AWAITING_CUSTOMER
    assert AuditEvent.objects.count() == events


def test_case_page_resolve_waits_for_proposal(price_case, sales_rep):
    rep = signed_in(sales_rep)
    propose(rep, price_case)
    credit_note = ResolutionProposal.objects.get(case=price_case).credit_note

    response = rep.post(
        f"/reconciliation/cases/{price_case.pk}/move/",
        {"to": "resolved", "resolution_code": "price_fix", "note": "Price is fine."},
        follow=True,
    )

    assert messages_of(response) == [
        f"Case {price_case.pk} has credit note {credit_note.number} of 184.87 USD "
        "waiting for the customer's answer: withdraw the credit note proposal "
        "first, on the case's decision screen, or wait for the customer."
    ]
    price_case.refresh_from_db()
    assert price_case.state == State.PROPOSED_RESOLUTION


def test_keep_price_rejected_while_approval_pends(price_case, sales_rep, settings):
    settings.SALES_REP_CREDIT_LIMIT = "100.00"
    rep = signed_in(sales_rep)
    propose(rep, price_case)
    proposal = ResolutionProposal.objects.get(case=price_case)
    assert proposal.state == Proposal.AWAITING_APPROVAL

    kept = rep.post(
        sales_url(price_case, "price/"), {"reason": "Price is right."}, follow=True
    )

    assert messages_of(kept) == [
        f"Case {price_case.pk} has credit note {proposal.credit_note.number} of "
        "184.87 USD waiting for a manager's approval: wait for the decision, or "
        "ask a manager to reject the approval first."
    ]
    proposal.refresh_from_db()
    price_case.refresh_from_db()
    assert proposal.state == Proposal.AWAITING_APPROVAL
    assert price_case.state == State.WAITING_INTERNAL


def test_rep_withdraws_waiting_proposal(price_case, sales_rep, customer):
    rep = signed_in(sales_rep)
    propose(rep, price_case)
    proposal = ResolutionProposal.objects.get(case=price_case)

    withdrawn = rep.post(
        sales_url(price_case, "withdraw/"),
        {"reason": "Wrong amount."},
        follow=True,
    )
    stale = signed_in(customer).post(
        f"/reconciliation/portal/proposals/{proposal.pk}/accept/", follow=True
    )

    assert messages_of(withdrawn) == [
        "Withdrew the proposal: the customer can no longer accept it, and the "
        "case is back in progress."
    ]
    proposal.refresh_from_db()
    price_case.refresh_from_db()
    assert proposal.state == Proposal.WITHDRAWN
    assert (price_case.state, price_case.resolution_code) == (State.IN_PROGRESS, "")
    assert messages_of(stale) == [
        "This proposal is withdrawn: there is nothing to decide on it now."
    ]
    assert 'data-testid="credit-note-form"' in withdrawn.content.decode()


def test_approve_on_ended_case_is_rejected(
    short_payment_case, clerk, manager, sales_rep
):
    approval = approvals.request_write_off(
        case_id=short_payment_case.pk, actor=clerk, reason="Bank fee."
    )
    cases.start_case(case_id=short_payment_case.pk, actor=clerk)
    cases.resolve_case(
        case_id=short_payment_case.pk,
        actor=clerk,
        resolution_code="accepted_as_is",
        note="The customer pays the rest.",
    )
    boss = signed_in(manager)

    approved = boss.post(
        f"/reconciliation/work/approvals/{approval.pk}/decide/",
        {"decision": "approve", "reason": ""},
        follow=True,
    )
    rejected = boss.post(
        f"/reconciliation/work/approvals/{approval.pk}/decide/",
        {"decision": "reject", "reason": "Not needed."},
        follow=True,
    )

    assert messages_of(approved) == [
        f"Case {short_payment_case.pk} is resolved, so approval {approval.pk} is "
        "no longer needed: reject it with a reason to clear it."
    ]
    assert messages_of(rejected)[0].startswith("Rejected the write-off of 83.63 USD")
    approval.refresh_from_db()
    assert approval.decision == Approval.Decision.REJECTED


# The credit a price case suggests


def test_price_case_prefills_total_credit(price_case, sales_rep, customer):
    rep = signed_in(sales_rep)

    page = rep.get(sales_url(price_case)).content.decode()
    propose(rep, price_case)

    assert 'name="amount" inputmode="decimal" size="10" value="184.87"' in page
    assert "Order price 36.975 · invoiced price 49.30 USD per unit" in page
    assert (
        "Difference on the 15 units invoiced: 184.87 USD (15 × 12.3247 per unit)"
        in page
    )
    assert case_open_amount(price_case, price_case.invoice) == Decimal("184.87")
    proposal = ResolutionProposal.objects.get(case=price_case)
    line = proposal.credit_note.lines.get()
    assert (line.qty, line.unit_price, line.subtotal) == (
        Decimal(15),
        Decimal("12.3247"),
        Decimal("184.87"),
    )


def test_price_case_rejects_cent_over_total(price_case, sales_rep):
    response = signed_in(sales_rep).post(
        sales_url(price_case, "credit-note/"),
        {"amount": "184.88", "message": "Sorry."},
        follow=True,
    )

    assert messages_of(response) == [
        f"A credit note of 184.88 USD is more than the 184.87 USD that case "
        f"{price_case.pk} leaves open: credit at most 184.87 USD. If the customer "
        "is owed more, record the rest on a case of its own first."
    ]


# Write-off approval


def test_approval_books_write_off_and_resolves(short_payment_case, clerk, manager):
    fiona = signed_in(clerk)
    cases.start_case(case_id=short_payment_case.pk, actor=clerk)
    fiona.post(
        f"/reconciliation/cases/{short_payment_case.pk}/write-off/",
        {"reason": "The customer's bank kept it."},
    )
    approval = Approval.objects.get(case=short_payment_case)

    decided = signed_in(manager).post(
        f"/reconciliation/work/approvals/{approval.pk}/decide/",
        {"decision": "approve", "reason": ""},
        follow=True,
    )

    assert messages_of(decided) == [
        f"Approved the write-off of 83.63 USD on case {short_payment_case.pk}. "
        "The write-off is booked and the case is resolved; the requester is told."
    ]
    short_payment_case.refresh_from_db()
    assert short_payment_case.state == State.RESOLVED
    assert short_payment_case.resolution_code == "write_off"
    assert short_payment_case.resolved_by == clerk
    invoice = Invoice.objects.get(pk=short_payment_case.invoice_id)
    assert invoice.amount_residual == Decimal("0")
    notice = Notification.objects.get(recipient=clerk, kind="approval_decided")
    assert notice.message.endswith(
        "The write-off is booked and the case is resolved: nothing is left to do."
    )


# Links to the decision screen


def test_late_shipment_has_no_decide_link(customer_party, sales_rep):
    order = create_order(
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    create_shipment(order=order, shipped_at=timezone.localdate())
    match_order(order)
    late = Discrepancy.objects.get(order=order, code="LATE_SHIP")
    rep = signed_in(sales_rep)

    order_page = rep.get(f"/reconciliation/orders/{order.number}/").content.decode()
    screen = rep.get(sales_url(late)).content.decode()

    assert f'href="/reconciliation/cases/{late.pk}/"' in order_page
    assert f'href="/reconciliation/work/cases/{late.pk}/"' not in order_page
    assert 'data-testid="nothing-to-decide"' in screen
    for form in ("backorder-form", "credit-note-form", "uphold-form"):
        assert f'data-testid="{form}"' not in screen


def test_case_page_links_decision_screen(price_case, sales_rep, clerk):
    rep_page = signed_in(sales_rep).get(f"/reconciliation/cases/{price_case.pk}/")
    clerk_page = signed_in(clerk).get(f"/reconciliation/cases/{price_case.pk}/")

    link = f'href="/reconciliation/work/cases/{price_case.pk}/"'
    assert link in rep_page.content.decode()
    assert link not in clerk_page.content.decode()


# Backorders with an expected date


@pytest.fixture
def short_case(customer_party, sales_rep) -> Discrepancy:
    """Return the short-shipment case of 3 of 10 units, long past the promise."""
    order = create_order(
        lines=[("10", "36.36")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    create_shipment(order=order, quantities={1: "7"})
    run_matching(company=order.company, as_of=timezone.localdate())
    return Discrepancy.objects.get(order=order, code="SHORT_SHIP")


def test_backorder_judged_against_expected_date(short_case, sales_rep):
    expected = timezone.localdate() + timedelta(days=14)
    order = short_case.order

    signed_in(sales_rep).post(
        sales_url(short_case, "backorder/"),
        {
            "decision": "ship_later",
            "reason": "Stock arrives in two weeks",
            "expected_on": expected.isoformat(),
        },
    )

    backorder = Shipment.objects.get(order=order, state=Shipment.State.DRAFT)
    assert backorder.expected_delivery == expected
    event = AuditEvent.objects.get(action="shipment.backorder_created")
    assert event.after["expected_delivery"] == expected.isoformat()
    assert not Discrepancy.objects.filter(order=order, code="BACKORDER_OPEN").exists()
    again = run_matching(company=order.company, as_of=timezone.localdate())
    assert (again.orders_skipped, again.opened) == (1, 0)

    later = run_matching(company=order.company, as_of=expected + timedelta(days=30))
    assert later.opened >= 1
    still = Discrepancy.objects.get(order=order, code="BACKORDER_OPEN")
    assert f"after the expected date {expected.isoformat()}" in still.explanation


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "Expected date is missing: enter the day the rest is expected to ship."),
        (
            "next week",
            "Expected date 'next week' is not a date: enter it as YYYY-MM-DD, "
            "such as 2026-03-31.",
        ),
        (
            "2020-01-01",
            "Expected date 2020-01-01 is in the past: enter the day the rest is "
            "expected, {today} or later.",
        ),
    ],
)
def test_backorder_date_checked(short_case, sales_rep, raw, message):
    response = signed_in(sales_rep).post(
        sales_url(short_case, "backorder/"),
        {"decision": "ship_later", "reason": "Later.", "expected_on": raw},
        follow=True,
    )

    today = timezone.localdate().isoformat()
    assert messages_of(response) == [message.format(today=today)]
    short_case.refresh_from_db()
    assert short_case.state == State.OPEN
    assert not Shipment.objects.filter(state=Shipment.State.DRAFT).exists()


# A resolved case offers nothing to decide


def test_resolved_case_shows_no_actions(short_case, sales_rep):
    rep = signed_in(sales_rep)
    rep.post(
        sales_url(short_case, "backorder/"),
        {"decision": "cancel_rest", "reason": "Customer no longer needs them"},
    )

    page = rep.get(sales_url(short_case)).content.decode()

    assert 'data-testid="nothing-to-decide"' in page
    assert 'data-testid="backorder-form"' not in page
    assert 'data-testid="credit-note-form"' not in page
    assert 'data-testid="uphold-form"' not in page


def test_resolved_price_case_shows_no_credit_form(price_case, sales_rep):
    rep = signed_in(sales_rep)
    rep.post(sales_url(price_case, "price/"), {"reason": "The price is right."})

    page = rep.get(sales_url(price_case)).content.decode()

    assert 'data-testid="credit-note-form"' not in page
    assert 'data-testid="uphold-form"' not in page
    assert 'value="184.87"' not in page


# The backorder form on a case of which nothing has shipped, and after a rejection


@pytest.fixture
def not_shipped_case(customer_party, sales_rep) -> Discrepancy:
    """Return the not-shipped case of an order of 10 units, none shipped."""
    order = create_order(
        lines=[("10", "36.36")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    run_matching(company=order.company, as_of=timezone.localdate())
    return Discrepancy.objects.get(order=order, code="NOT_SHIPPED")


def test_not_shipped_case_offers_no_ship_later(not_shipped_case, sales_rep):
    page = signed_in(sales_rep).get(sales_url(not_shipped_case)).content.decode()

    number = not_shipped_case.order.number
    assert 'data-testid="backorder-form"' in page
    assert 'value="ship_later"' not in page
    assert 'name="expected_on"' not in page
    assert (
        "“Ship the rest later” is not offered: Nothing of order "
        f"{number} has shipped yet, so there is no shipment to back-order from; "
        "the warehouse ships the line as usual."
    ) in page
    assert 'value="cancel_rest"' in page


def test_not_shipped_ship_later_rejected(not_shipped_case, sales_rep):
    # An older page still had the button; the date is left empty.
    response = signed_in(sales_rep).post(
        sales_url(not_shipped_case, "backorder/"),
        {"decision": "ship_later", "reason": "Stock arrives soon.", "expected_on": ""},
    )

    assert response.status_code == 422
    assert messages_of(response) == [
        f"Nothing of order {not_shipped_case.order.number} has shipped yet, so "
        "there is no shipment to back-order from; the warehouse ships the line "
        "as usual."
    ]
    not_shipped_case.refresh_from_db()
    assert not_shipped_case.state == State.OPEN
    assert not Shipment.objects.filter(order=not_shipped_case.order).exists()


def test_rejected_backorder_keeps_typed_reason(short_case, sales_rep):
    response = signed_in(sales_rep).post(
        sales_url(short_case, "backorder/"),
        {
            "decision": "ship_later",
            "reason": "Stock arrives <soon>",
            "expected_on": "2020-01-01",
        },
    )

    page = response.content.decode()
    assert response.status_code == 422
    assert messages_of(response)[0].startswith(
        "Expected date 2020-01-01 is in the past:"
    )
    assert 'value="Stock arrives &lt;soon&gt;"' in page
    assert 'value="2020-01-01"' in page
    short_case.refresh_from_db()
    assert short_case.state == State.OPEN
    assert not Shipment.objects.filter(state=Shipment.State.DRAFT).exists()


def test_cancel_rest_skips_date_check(short_case, sales_rep):
    rep = signed_in(sales_rep)
    page = rep.get(sales_url(short_case)).content.decode()

    # The browser checks the date box's min for every button but one with
    # formnovalidate; cancelling uses no date.
    cancel = page[page.index('value="cancel_rest"') :]
    assert "formnovalidate" in cancel[: cancel.index(">")]
    ship = page[page.index('value="ship_later"') :]
    assert "formnovalidate" not in ship[: ship.index(">")]

    response = rep.post(
        sales_url(short_case, "backorder/"),
        {
            "decision": "cancel_rest",
            "reason": "The customer does not want the rest.",
            "expected_on": "2020-01-01",
        },
    )

    assert response.status_code == 302
    short_case.refresh_from_db()
    assert short_case.state == State.RESOLVED
