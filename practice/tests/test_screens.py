"""The real work screens, opened from a practice session on its sandbox.

Each scenario is worked through the pages a warehouse worker, sales rep or
finance clerk uses, with a finance clerk as the learner, and then scored by
``check_session``. Bad input gets the real screens' messages.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from core.models import AuditEvent
from portal.models import ResolutionProposal
from practice import services
from practice.models import SandboxSession
from practice.scenarios import SHORT_PAYMENT_DISPUTE
from practice.seed import fingerprint
from practice.tests.conftest import case_number, only_case, signed_in
from reconciliation.models import (
    Allocation,
    Approval,
    Discrepancy,
    Invoice,
    Party,
    Payment,
    ResolutionCode,
    Shipment,
)
from reconciliation.tests.shipment_forms import with_form_token

pytestmark = pytest.mark.django_db


def next_week() -> str:
    """Return the day a backorder's rest is expected: a week from today."""
    return (timezone.localdate() + timedelta(days=7)).isoformat()


def base(session: SandboxSession) -> str:
    return f"/practice/sessions/{session.pk}/work/"


def messages_of(response) -> list[str]:
    return [str(item) for item in response.context["messages"]]


def begin(learner, scenario_key: str) -> tuple[SandboxSession, Client]:
    session = services.start_session(learner=learner, scenario_key=scenario_key)
    return session, signed_in(learner)


def score(session: SandboxSession) -> int | None:
    services.check_session(session_id=session.pk, learner=session.learner)
    session.refresh_from_db()
    return session.score


# Pick and ship


def test_fulfilment_page_posts_to_sandbox(learner):
    session, client = begin(learner, "unshipped-backorder")
    url = f"{base(session)}orders/PR-SO-3001/fulfilment/"

    page = client.get(url)

    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="practice-banner"' in html
    assert f'href="/practice/sessions/{session.pk}/"' in html
    assert f'action="{base(session)}orders/PR-SO-3001/shipments/"' in html
    assert f'action="{base(session)}orders/PR-SO-3001/shortage/"' in html
    assert 'name="record_ref" value=""' in html
    assert 'action="/reconciliation/' not in html


def test_fulfilment_rejects_over_shipment(learner):
    session, client = begin(learner, "unshipped-backorder")

    response = client.post(
        f"{base(session)}orders/PR-SO-3001/shipments/",
        with_form_token({"picked_2": "30", "shipped_2": "30", "ship": "1"}),
        follow=True,
    )

    # The form is shown again where it was sent, with what was typed.
    assert response.status_code == 422
    assert 'name="shipped_2" value="30"' in response.content.decode()
    [message] = response.context["line_errors"].values()
    assert "Line 2" in message
    assert "24" in message
    assert not Shipment.objects.filter(
        company=session.company, state=Shipment.State.SHIPPED
    ).exclude(number="PR-SH-3001")


def test_fulfilment_without_token_ships_nothing(learner):
    session, client = begin(learner, "unshipped-backorder")
    form = {"picked_2": "24", "shipped_2": "24", "ship": "1"}

    responses = [
        client.post(f"{base(session)}orders/PR-SO-3001/shipments/", form)
        for _ in range(2)
    ]

    assert [response.status_code for response in responses] == [422, 422]
    assert "is missing its form token" in messages_of(responses[0])[0]
    assert not Shipment.objects.filter(
        company=session.company, state=Shipment.State.SHIPPED
    ).exclude(number="PR-SH-3001")


def test_fulfilment_ships_rest_in_sandbox(learner):
    session, client = begin(learner, "unshipped-backorder")

    response = client.post(
        f"{base(session)}orders/PR-SO-3001/shipments/",
        with_form_token(
            {"picked_2": "24", "shipped_2": "24", "ship": "1", "carrier": "DHL"}
        ),
        follow=True,
    )

    assert messages_of(response) == ["Recorded the shipment of order PR-SO-3001."]
    shipped = Shipment.objects.filter(
        company=session.company, state=Shipment.State.SHIPPED
    )
    assert shipped.count() == 2
    case = only_case(session, "NOT_SHIPPED")
    assert case.state == Discrepancy.State.RESOLVED
    assert case.resolution_code == ""
    # The honey reached the customer, which is what they asked for.
    assert score(session) == 100


def test_fulfilment_reports_shortage(learner):
    # An earlier session takes the first case ids, so ids and numbers differ.
    begin(learner, "duplicate-invoice")
    session, client = begin(learner, "unshipped-backorder")
    url = f"{base(session)}orders/PR-SO-3001/shortage/"

    missing_note = client.post(url, {"line": "2", "qty": "24"}, follow=True)
    reported = client.post(
        url, {"line": "2", "qty": "24", "note": "No honey in stock."}, follow=True
    )

    assert messages_of(missing_note) == [
        "Say why the goods are short, for the sales rep who decides."
    ]
    [case] = Discrepancy.objects.filter(company=session.company, code="SHORT_SHIP")
    assert case.pk != case_number(session, case)
    assert messages_of(reported) == [
        "Reported line 2 of order PR-SO-3001 as 24 units short "
        f"(case {case_number(session, case)}); the sales rep decides next."
    ]
    case = Discrepancy.objects.get(company=session.company, code="SHORT_SHIP")
    assert "No honey in stock." in case.explanation
    # The session page shows the difference in words, without a sign.
    cases_table = client.get(f"/practice/sessions/{session.pk}/").content.decode()
    assert "24 units short" in cases_table
    assert "-24.00 unit" not in cases_table


# Sales decision: backorder and credit note


def test_backorder_decision_scores_full(learner):
    session, client = begin(learner, "unshipped-backorder")
    case = only_case(session, "NOT_SHIPPED")
    url = f"{base(session)}cases/{case_number(session, case)}/"

    page = client.get(url).content.decode()
    without_reason = client.post(
        f"{url}backorder/", {"decision": "ship_later"}, follow=True
    )
    decided = client.post(
        f"{url}backorder/",
        {
            "decision": "ship_later",
            "reason": "Honey arrives next week.",
            "expected_on": next_week(),
        },
        follow=True,
    )

    assert f'action="{url}backorder/"' in page
    assert 'data-testid="practice-banner"' in page
    assert messages_of(without_reason) == [
        "A backorder decision needs a reason: enter one for the customer."
    ]
    assert messages_of(decided) == ["Recorded the backorder decision."]
    assert decided.redirect_chain[-1][0] == url
    case.refresh_from_db()
    assert (case.state, case.resolution_code) == ("resolved", ResolutionCode.BACKORDER)
    assert case.assignee_id == learner.pk
    assert Shipment.objects.get(
        company=session.company, state=Shipment.State.DRAFT
    ).backorder_of.number == ("PR-SH-3001")
    assert score(session) == 100


def test_credit_note_then_customer_accepts(learner):
    session, client = begin(learner, "short-payment-dispute")
    case = only_case(session, "SHORT_PAYMENT")
    url = f"{base(session)}cases/{case_number(session, case)}/"

    page = client.get(url).content.decode()
    misread = client.post(
        f"{url}credit-note/",
        {"amount": "180,5", "message": "Broken bottles."},
        follow=True,
    )
    proposed = client.post(
        f"{url}credit-note/",
        {"amount": "180.00", "message": "We credit the broken olive oil."},
        follow=True,
    )

    assert 'value="180.00"' in page
    assert messages_of(misread) == [
        "Credit note amount in EUR '180,5' uses a decimal comma: write it with a "
        "point, as 180.5."
    ]
    assert messages_of(proposed) == ["Proposed the credit note."]
    proposal = ResolutionProposal.objects.get(case=case)
    assert proposal.state == ResolutionProposal.State.AWAITING_CUSTOMER
    session_page = client.get(f"/practice/sessions/{session.pk}/").content.decode()
    assert "Accept as the customer" in session_page
    assert score(session) == 0

    accepted = client.post(
        f"/practice/sessions/{session.pk}/proposals/{proposal.pk}/answer/",
        {"decision": "accept"},
        follow=True,
    )

    assert messages_of(accepted) == [
        "As the customer, you accepted the proposal: the credit note is posted."
    ]
    case.refresh_from_db()
    assert (case.state, case.resolution_code) == ("resolved", "credit_note")
    credit_note = proposal.credit_note
    credit_note.refresh_from_db()
    assert credit_note.state == Invoice.State.POSTED
    assert score(session) == 100


def test_customer_answer_needs_valid_decision(learner):
    session, client = begin(learner, "short-payment-dispute")
    case = only_case(session, "SHORT_PAYMENT")
    client.post(
        f"{base(session)}cases/{case_number(session, case)}/credit-note/",
        {"amount": "180.00", "message": "We credit the broken olive oil."},
        follow=True,
    )
    proposal = ResolutionProposal.objects.get(case=case)
    answer = f"/practice/sessions/{session.pk}/proposals/{proposal.pk}/answer/"

    unknown = client.post(answer, {"decision": "maybe"}, follow=True)
    no_reason = client.post(answer, {"decision": "reject"}, follow=True)
    rejected = client.post(
        answer, {"decision": "reject", "reason": "We want a refund."}, follow=True
    )

    assert messages_of(unknown) == [
        "Answer 'maybe' is not valid: press Accept or Reject."
    ]
    assert messages_of(no_reason) == [
        "Say why you reject the proposal, so we can do better."
    ]
    assert messages_of(rejected) == [
        "As the customer, you rejected the proposal: the case is back with the "
        "sales rep."
    ]
    proposal.refresh_from_db()
    assert proposal.state == ResolutionProposal.State.REJECTED


# Cash application


def test_cash_screen_lists_sandbox_only(learner, make_order, customer_party):
    make_order("10248", customer_party)
    Payment.objects.create(
        company=customer_party.company,
        number="REAL-PAY-1",
        party=customer_party,
        amount=Decimal("50.00"),
        amount_unallocated=Decimal("50.00"),
        currency_id=customer_party.currency_id,
        value_date="2025-03-01",
    )
    session, client = begin(learner, "unapplied-payment")

    html = client.get(f"{base(session)}cash/").content.decode()

    assert "PR-PAY-5001" in html
    assert "REAL-PAY-1" not in html
    assert f'action="{base(session)}cash/"' in html
    assert 'data-testid="practice-banner"' in html


def test_cash_assign_and_apply_scores_full(learner):
    session, client = begin(learner, "unapplied-payment")
    payment = Payment.objects.get(company=session.company, number="PR-PAY-5001")
    alpen = Party.objects.get(company=session.company, code="ALPEN")
    invoice = Invoice.objects.get(company=session.company, number="PR-INV-5001")
    url = f"{base(session)}cash/"

    assigned = client.post(url, {"payment": payment.pk, "party": alpen.pk}, follow=True)
    listed = client.get(url, {"payment": payment.pk}).content.decode()
    applied = client.post(
        f"{url}apply/",
        {"payment": payment.pk, "invoice": invoice.pk, "amount": "208.50"},
        follow=True,
    )

    assert messages_of(assigned) == [
        "Payment PR-PAY-5001 now belongs to Alpenblick Feinkost: allocate it to "
        "one of the customer's open invoices."
    ]
    assert assigned.redirect_chain[-1][0] == f"{url}?payment={payment.pk}"
    assert f'action="{url}apply/"' in listed
    assert messages_of(applied) == [
        "Applied 208.50 EUR of payment PR-PAY-5001 to invoice PR-INV-5001."
    ]
    for code in ("UNAPPLIED_PAYMENT", "MISSING_PAYMENT"):
        assert only_case(session, code).state == Discrepancy.State.RESOLVED, code
    assert score(session) == 100


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (
            "208,5",
            "Amount from payment PR-PAY-5001 to invoice PR-INV-5001 in EUR "
            "'208,5' uses a decimal comma: write it with a point, as 208.5.",
        ),
        (
            "0.001",
            "Amount from payment PR-PAY-5001 to invoice PR-INV-5001 in EUR "
            "'0.001' has 3 decimal places; the limit is 2, so enter a multiple "
            "of 0.01.",
        ),
        (
            "300.00",
            "Amount 300.00 EUR is more than the 208.50 EUR left on payment "
            "PR-PAY-5001: allocate 208.50 EUR or less.",
        ),
    ],
)
def test_cash_apply_rejects_bad_amount(learner, amount, message):
    session, client = begin(learner, "unapplied-payment")
    payment = Payment.objects.get(company=session.company, number="PR-PAY-5001")
    alpen = Party.objects.get(company=session.company, code="ALPEN")
    invoice = Invoice.objects.get(company=session.company, number="PR-INV-5001")
    client.post(
        f"{base(session)}cash/", {"payment": payment.pk, "party": alpen.pk}, follow=True
    )

    response = client.post(
        f"{base(session)}cash/apply/",
        {"payment": payment.pk, "invoice": invoice.pk, "amount": amount},
        follow=True,
    )

    assert messages_of(response) == [message]
    assert not Allocation.objects.filter(payment=payment).exists()


# The learner plays the roles


def test_played_role_leaves_learner_role(learner):
    session, client = begin(learner, "unshipped-backorder")
    case = only_case(session, "NOT_SHIPPED")

    client.post(
        f"{base(session)}cases/{case_number(session, case)}/backorder/",
        {
            "decision": "ship_later",
            "reason": "Honey arrives next week.",
            "expected_on": next_week(),
        },
    )

    learner.refresh_from_db()
    assert learner.role == Role.FINANCE_CLERK
    event = AuditEvent.objects.filter(action="shipment.backorder_created").get()
    assert event.actor_id == learner.pk
    assert event.actor_role == Role.SALES_REP


def test_finished_session_rejects_work(learner):
    session, client = begin(learner, "unshipped-backorder")
    case = only_case(session, "NOT_SHIPPED")
    url = f"{base(session)}cases/{case_number(session, case)}/backorder/"
    client.post(
        url,
        {"decision": "ship_later", "reason": "Next week.", "expected_on": next_week()},
        follow=True,
    )
    assert score(session) == 100

    response = client.post(
        f"{base(session)}orders/PR-SO-3001/shipments/",
        with_form_token({"picked_2": "24", "shipped_2": "24", "ship": "1"}),
        follow=True,
    )

    assert response.redirect_chain[-1][0] == f"/practice/sessions/{session.pk}/"
    assert messages_of(response) == [
        f"Session {session.pk} is finished, so it cannot be worked: start a new "
        "session of the scenario to practise again."
    ]
    assert not Shipment.objects.filter(
        company=session.company, state=Shipment.State.SHIPPED
    ).exclude(number="PR-SH-3001")


def test_finished_session_screens_say_so(learner):
    session, client = begin(learner, "unshipped-backorder")
    case = only_case(session, "NOT_SHIPPED")
    active_page = client.get(f"{base(session)}orders/PR-SO-3001/fulfilment/")
    client.post(
        f"{base(session)}cases/{case_number(session, case)}/backorder/",
        {"decision": "ship_later", "reason": "Next week.", "expected_on": next_week()},
    )
    assert score(session) == 100

    finished_page = client.get(f"{base(session)}orders/PR-SO-3001/fulfilment/")

    assert 'data-testid="practice-finished"' not in active_page.content.decode()
    assert session.status == SandboxSession.Status.FINISHED
    assert finished_page.status_code == 200
    assert 'data-testid="practice-finished"' in finished_page.content.decode()
    assert "This session is finished" in finished_page.content.decode()


def test_reset_after_screen_work_restores_seed(learner):
    session, client = begin(learner, "unapplied-payment")
    payment = Payment.objects.get(company=session.company, number="PR-PAY-5001")
    alpen = Party.objects.get(company=session.company, code="ALPEN")
    invoice = Invoice.objects.get(company=session.company, number="PR-INV-5001")
    seeded = fingerprint(session.company)
    client.post(f"{base(session)}cash/", {"payment": payment.pk, "party": alpen.pk})
    client.post(
        f"{base(session)}cash/apply/",
        {"payment": payment.pk, "invoice": invoice.pk, "amount": "208.50"},
    )
    assert fingerprint(session.company) != seeded

    services.reset_session(session_id=session.pk, learner=learner)

    assert fingerprint(session.company) == seeded


# The case page


def test_case_page_opens_in_sandbox(learner):
    session, client = begin(learner, "short-payment-dispute")
    case = only_case(session, "SHORT_PAYMENT")
    url = f"/practice/sessions/{session.pk}/cases/{case_number(session, case)}/"

    page = client.get(url)

    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="practice-banner"' in html
    assert f'href="/practice/sessions/{session.pk}/"' in html
    assert f'action="{url}move/"' in html
    assert f'action="{url}comments/"' in html
    assert f'action="{url}write-off/"' in html
    assert 'action="/reconciliation/' not in html
    assert 'href="/reconciliation/orders/PR-' not in html
    assert 'href="/reconciliation/cases/"' not in html.split("<article", 1)[1]
    # Assigning would hand a sandbox case to a real colleague.
    assert 'data-testid="assign"' not in html
    assert 'name="record_ref" value=""' in html


def test_session_page_links_case_page(learner):
    session, client = begin(learner, "duplicate-invoice")
    case = only_case(session, "DUPLICATE_INVOICE")

    html = client.get(f"/practice/sessions/{session.pk}/").content.decode()

    assert (
        f'href="/practice/sessions/{session.pk}/cases/{case_number(session, case)}/"'
        in html
    )
    # The case page's forms replace the session page's own case actions.
    assert 'name="action"' not in html
    assert "Start work" not in html


def test_write_off_on_case_page_scores_full(learner):
    session, client = begin(learner, "short-payment-write-off")
    case = only_case(session, "SHORT_PAYMENT")
    url = f"/practice/sessions/{session.pk}/cases/{case_number(session, case)}/"

    started = client.post(f"{url}move/", {"to": "in_progress"}, follow=True)
    resolved = client.post(
        f"{url}move/",
        {"to": "resolved", "resolution_code": "write_off", "note": "Bank fee."},
        follow=True,
    )

    assert started.redirect_chain[-1][0] == url
    assert messages_of(started) == ["You started work on case 1."]
    assert messages_of(resolved) == ["Resolved case 1 with Write-off."]
    case.refresh_from_db()
    assert (case.state, case.assignee_id) == ("resolved", learner.pk)
    event = AuditEvent.objects.filter(
        action="case.state_changed", object_id=str(case.pk)
    ).latest("pk")
    assert event.actor_id == learner.pk
    assert event.actor_role == case.owner_role
    learner.refresh_from_db()
    assert learner.role == Role.FINANCE_CLERK
    assert score(session) == 100


def test_duplicate_invoice_on_case_page_scores_full(learner):
    session, client = begin(learner, "duplicate-invoice")
    case = only_case(session, "DUPLICATE_INVOICE")
    url = f"/practice/sessions/{session.pk}/cases/{case_number(session, case)}/"

    client.post(f"{url}move/", {"to": "in_progress"}, follow=True)
    resolved = client.post(
        f"{url}move/",
        {
            "to": "resolved",
            "resolution_code": "duplicate_cancelled",
            "note": "PR-INV-4002 repeats PR-INV-4001.",
        },
        follow=True,
    )

    assert messages_of(resolved) == ["Resolved case 1 with Duplicate cancelled."]
    assert score(session) == 100


def test_case_page_comment_and_write_off_request(learner):
    session, client = begin(learner, "short-payment-dispute")
    case = only_case(session, "SHORT_PAYMENT")
    url = f"/practice/sessions/{session.pk}/cases/{case_number(session, case)}/"

    commented = client.post(f"{url}comments/", {"body": "Asked the bank."}, follow=True)
    requested = client.post(
        f"{url}write-off/", {"reason": "The customer will not pay."}, follow=True
    )

    assert messages_of(commented) == ["Added your comment to case 1."]
    assert "Asked the bank." in commented.content.decode()
    reason = SHORT_PAYMENT_DISPUTE.manager.write_off
    assert messages_of(requested) == [
        f"Ines Walch rejected the write-off of 180.00 EUR on "
        f"case 1: {reason} Nothing was booked, and the case stays with you."
    ]
    # The manager's answer is the scenario's: no approval waits for anyone.
    assert not Approval.objects.filter(case=case).exists()
    assert 'data-testid="approve"' not in requested.content.decode()
    # The page's message states the answer, so the banner leaves it out
    # until the next page.
    assert 'data-testid="manager-decision"' not in requested.content.decode()
    assert 'data-testid="manager-decision"' in client.get(url).content.decode()


def test_case_numbers_follow_session_page(learner):
    # An earlier session takes the first case ids, so ids and numbers differ.
    begin(learner, "duplicate-invoice")
    session, client = begin(learner, "unshipped-backorder")
    case = only_case(session, "NOT_SHIPPED")
    assert case.pk != 1

    case_page = f"/practice/sessions/{session.pk}/cases/1/"

    sales = client.get(f"{base(session)}cases/1/").content.decode()
    page = client.get(case_page)
    by_id = client.get(f"/practice/sessions/{session.pk}/cases/{case.pk}/")

    assert f'<a href="{case_page}">Case #1</a> / sales decision' in sales
    assert f'action="{base(session)}cases/1/backorder/"' in sales
    assert f"Case #{case.pk}" not in sales
    assert "<title>Case 1 " in page.content.decode()
    assert page.context["case_number"] == "1"
    assert f'action="{case_page}move/"' in page.content.decode()
    assert by_id.status_code == 404
    moved = client.post(f"{case_page}move/", {"to": "in_progress"}, follow=True)
    assert messages_of(moved) == ["You started work on case 1."]
    assert moved.redirect_chain[-1][0] == case_page


# The missing goods shipped


def test_backorder_then_shipped_scores_full(learner):
    session, client = begin(learner, "unshipped-backorder")
    case = only_case(session, "NOT_SHIPPED")
    client.post(
        f"{base(session)}cases/{case_number(session, case)}/backorder/",
        {
            "decision": "ship_later",
            "reason": "Honey arrives next week.",
            "expected_on": next_week(),
        },
    )
    draft = Shipment.objects.get(company=session.company, state=Shipment.State.DRAFT)

    client.post(
        f"{base(session)}orders/PR-SO-3001/shipments/",
        with_form_token(
            {"picked_2": "24", "shipped_2": "24", "ship": "1", "shipment": draft.number}
        ),
    )

    draft.refresh_from_db()
    assert draft.state == Shipment.State.SHIPPED
    assert score(session) == 100


def test_started_case_shipped_then_resolved(learner):
    session, client = begin(learner, "unshipped-backorder")
    case = only_case(session, "NOT_SHIPPED")
    case_url = f"/practice/sessions/{session.pk}/cases/{case_number(session, case)}/"
    client.post(f"{case_url}move/", {"to": "in_progress"})

    client.post(
        f"{base(session)}orders/PR-SO-3001/shipments/",
        with_form_token({"picked_2": "24", "shipped_2": "24", "ship": "1"}),
    )
    case.refresh_from_db()
    # A case someone works is only flagged, and its worker resolves it.
    assert (case.state, case.finding_holds) == ("in_progress", False)
    client.post(
        f"{case_url}move/",
        {"to": "resolved", "resolution_code": "reship", "note": "Honey shipped."},
    )

    assert score(session) == 100


def test_wrong_code_without_shipping_scores_zero(learner):
    session, client = begin(learner, "unshipped-backorder")
    case = only_case(session, "NOT_SHIPPED")
    case_url = f"/practice/sessions/{session.pk}/cases/{case_number(session, case)}/"
    client.post(f"{case_url}move/", {"to": "in_progress"})

    client.post(
        f"{case_url}move/",
        {"to": "resolved", "resolution_code": "accepted_as_is", "note": "Fine."},
    )

    case.refresh_from_db()
    assert (case.state, case.finding_holds) == ("resolved", True)
    assert score(session) == 0


def test_case_page_errors_name_case_number(learner):
    # An earlier session takes the first case ids, so ids and numbers differ.
    begin(learner, "duplicate-invoice")
    session, client = begin(learner, "short-payment-dispute")
    case = only_case(session, "SHORT_PAYMENT")
    assert case.pk != 1
    url = f"/practice/sessions/{session.pk}/cases/{case_number(session, case)}/move/"

    not_started = client.post(
        url,
        {"to": "resolved", "resolution_code": "credit_note", "note": "Broken."},
        follow=True,
    )
    client.post(url, {"to": "in_progress"}, follow=True)
    no_note = client.post(
        url, {"to": "resolved", "resolution_code": "credit_note"}, follow=True
    )
    above_limit = client.post(
        url,
        {"to": "resolved", "resolution_code": "write_off", "note": "Broken."},
        follow=True,
    )

    assert messages_of(not_started) == [
        "Cannot move case 1 from open to resolved: the allowed next states are "
        "assigned, in_progress, rejected, escalated."
    ]
    assert messages_of(no_note) == ["Resolving case 1 needs a resolution note."]
    assert messages_of(above_limit) == [
        "A write-off of 180.00 EUR on case 1 is above the 50.00 limit: request an "
        "approval and wait for a manager to approve it."
    ]


def test_sales_decision_errors_name_case_number(learner):
    begin(learner, "duplicate-invoice")
    session, client = begin(learner, "unshipped-backorder")
    case = only_case(session, "NOT_SHIPPED")
    url = f"{base(session)}cases/{case_number(session, case)}/backorder/"
    client.post(
        url,
        {"decision": "ship_later", "reason": "Next week.", "expected_on": next_week()},
        follow=True,
    )

    again = client.post(
        url,
        {"decision": "ship_later", "reason": "Next week.", "expected_on": next_week()},
        follow=True,
    )

    assert messages_of(again) == ["Case 1 is resolved: reopen it first."]


@pytest.mark.parametrize("number", ["0", "2", "99999999999999999999"])
def test_case_number_outside_session_404(learner, number):
    session, client = begin(learner, "duplicate-invoice")

    page = client.get(f"/practice/sessions/{session.pk}/cases/{number}/")
    sales = client.get(f"{base(session)}cases/{number}/")
    moved = client.post(
        f"/practice/sessions/{session.pk}/cases/{number}/move/", {"to": "in_progress"}
    )

    assert page.status_code == 404
    assert sales.status_code == 404
    assert moved.status_code == 404
    assert only_case(session, "DUPLICATE_INVOICE").state == Discrepancy.State.OPEN
