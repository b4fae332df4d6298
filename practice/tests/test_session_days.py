"""Each scenario plays out as written on whatever day a session starts.

The seed moves the scenario's dates to the session's day, and the work
screens date their work by the clock. So each test sets the clock to a day,
starts a session, does the scenario's expected work on the real screens,
and then looks at every case the sandbox has.
"""

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from portal.models import ResolutionProposal
from practice import services
from practice.models import SandboxSession
from practice.scenarios import AS_OF, SCENARIOS
from practice.seed import fingerprint
from practice.tests.conftest import case_number, only_case, signed_in
from reconciliation.matching import run_matching
from reconciliation.models import (
    Discrepancy,
    Invoice,
    Party,
    Payment,
    SalesOrder,
    Shipment,
)
from reconciliation.tests.shipment_forms import with_form_token

pytestmark = pytest.mark.django_db


def next_week() -> str:
    """Return the day a backorder's rest is expected: a week from today."""
    return (timezone.localdate() + timedelta(days=7)).isoformat()


# Today, as the tests were written, and a day years later.
DAYS = (date(2026, 12, 5), date(2031, 3, 1))
RESOLVED_STATES = {Discrepancy.State.RESOLVED, Discrepancy.State.CLOSED}
REAL_NOW = timezone.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[date], None]:
    """Return a function that sets the clock to 09:00 UTC of a day.

    The clock keeps running from there, so rows written one after another
    still get later times.
    """

    def set_day(day: date) -> None:
        started = REAL_NOW()
        at = datetime.combine(day, time(9), tzinfo=UTC)
        monkeypatch.setattr(timezone, "now", lambda: at + (REAL_NOW() - started))

    return set_day


def base(session: SandboxSession) -> str:
    return f"/practice/sessions/{session.pk}/"


def write_off(session: SandboxSession, client: Client) -> None:
    case = only_case(session, "SHORT_PAYMENT")
    url = f"{base(session)}cases/{case_number(session, case)}/move/"
    client.post(url, {"to": "in_progress"})
    client.post(
        url, {"to": "resolved", "resolution_code": "write_off", "note": "Bank fee."}
    )


def credit_note(session: SandboxSession, client: Client) -> None:
    case = only_case(session, "SHORT_PAYMENT")
    client.post(
        f"{base(session)}work/cases/{case_number(session, case)}/credit-note/",
        {"amount": "180.00", "message": "We credit the broken olive oil."},
    )
    proposal = ResolutionProposal.objects.get(case=case)
    client.post(
        f"{base(session)}proposals/{proposal.pk}/answer/", {"decision": "accept"}
    )


def approved_credit_note(session: SandboxSession, client: Client) -> None:
    case = only_case(session, "SHORT_PAYMENT")
    # Above the credit limit, so the scripted manager approves it first.
    client.post(
        f"{base(session)}work/cases/{case_number(session, case)}/credit-note/",
        {"amount": "292.50", "message": "We credit the broken olive oil."},
    )
    proposal = ResolutionProposal.objects.get(case=case)
    client.post(
        f"{base(session)}proposals/{proposal.pk}/answer/", {"decision": "accept"}
    )


def backorder(session: SandboxSession, client: Client) -> None:
    case = only_case(session, "NOT_SHIPPED")
    client.post(
        f"{base(session)}work/cases/{case_number(session, case)}/backorder/",
        {
            "decision": "ship_later",
            "reason": "Honey arrives next week.",
            "expected_on": next_week(),
        },
    )


def ship_honey(session: SandboxSession, client: Client, draft: str = "") -> None:
    client.post(
        f"{base(session)}work/orders/PR-SO-3001/shipments/",
        with_form_token(
            {"picked_2": "24", "shipped_2": "24", "ship": "1", "shipment": draft}
        ),
    )


def backorder_then_ship(session: SandboxSession, client: Client) -> None:
    backorder(session, client)
    draft = Shipment.objects.get(company=session.company, state=Shipment.State.DRAFT)
    ship_honey(session, client, draft.number)


def cancel_duplicate(session: SandboxSession, client: Client) -> None:
    case = only_case(session, "DUPLICATE_INVOICE")
    url = f"{base(session)}cases/{case_number(session, case)}/move/"
    client.post(url, {"to": "in_progress"})
    client.post(
        url,
        {
            "to": "resolved",
            "resolution_code": "duplicate_cancelled",
            "note": "PR-INV-4002 repeats PR-INV-4001.",
        },
    )


def apply_payment(session: SandboxSession, client: Client) -> None:
    payment = Payment.objects.get(company=session.company, number="PR-PAY-5001")
    alpen = Party.objects.get(company=session.company, code="ALPEN")
    invoice = Invoice.objects.get(company=session.company, number="PR-INV-5001")
    client.post(
        f"{base(session)}work/cash/", {"payment": payment.pk, "party": alpen.pk}
    )
    client.post(
        f"{base(session)}work/cash/apply/",
        {"payment": payment.pk, "invoice": invoice.pk, "amount": "208.50"},
    )


def replace_damaged(session: SandboxSession, client: Client) -> None:
    case = only_case(session, "DAMAGED")
    # The scenario's customer accepts the replacement at once.
    client.post(
        f"{base(session)}work/cases/{case_number(session, case)}/reship/",
        {"qty": "3", "message": "We send the dented tins again."},
    )
    draft = Shipment.objects.get(company=session.company, state=Shipment.State.DRAFT)
    client.post(
        f"{base(session)}work/orders/PR-SO-7001/shipments/",
        with_form_token(
            {"picked_1": "3", "shipped_1": "3", "ship": "1", "shipment": draft.number}
        ),
    )


# Every way to reach full marks that the scenarios and the docs describe.
EXPECTED_WORK: tuple[tuple[str, Callable[[SandboxSession, Client], None]], ...] = (
    ("short-payment-write-off", write_off),
    ("short-payment-dispute", credit_note),
    ("unshipped-backorder", backorder),
    ("unshipped-backorder", ship_honey),
    ("unshipped-backorder", backorder_then_ship),
    ("duplicate-invoice", cancel_duplicate),
    ("unapplied-payment", apply_payment),
    ("broken-goods-credit", approved_credit_note),
    ("damaged-goods-replacement", replace_damaged),
)


def test_expected_work_covers_catalogue():
    assert {key for key, _ in EXPECTED_WORK} == set(SCENARIOS)


@pytest.mark.parametrize("day", DAYS, ids=str)
@pytest.mark.parametrize(
    ("key", "work"), EXPECTED_WORK, ids=[work.__name__ for _, work in EXPECTED_WORK]
)
def test_expected_work_opens_no_surprise(clock, learner, day, key, work):
    clock(day)
    scenario = SCENARIOS[key]
    session = services.start_session(learner=learner, scenario_key=key)

    work(session, signed_in(learner))

    expected = {item.code for item in scenario.resolutions}
    follow_ups = {item.code for item in scenario.follow_ups}
    cases = list(Discrepancy.objects.filter(company=session.company).order_by("pk"))
    for case in cases:
        assert case.code in expected | follow_ups, case.explanation
        if case.code in expected:
            assert case.state in RESOLVED_STATES, case.explanation
        if case.code == "LATE_SHIP":
            # The honey was promised 49 days before the session's day.
            assert case.actual_value == Decimal(49), case.explanation
            assert f"{day.isoformat()}, 49 days after" in case.explanation
    results = services.check_session(session_id=session.pk, learner=learner)
    assert [item.label for item in results if not item.passed] == []


@pytest.mark.parametrize("day", DAYS, ids=str)
def test_seed_dates_follow_session_day(clock, learner, day):
    clock(day)
    shift = day - AS_OF
    for key, scenario in SCENARIOS.items():
        session = services.start_session(learner=learner, scenario_key=key)
        company = session.company
        for spec in scenario.orders:
            order = SalesOrder.objects.get(company=company, number=spec.number)
            assert order.order_date == spec.order_date + shift, key
            assert order.promised_date == spec.promised_date + shift, key
            for line in order.lines.all():
                assert line.promised_date == spec.promised_date + shift, key
            for shipment_spec in spec.shipments:
                shipment = Shipment.objects.get(
                    company=company, number=shipment_spec.number
                )
                assert shipment.shipped_at == shipment_spec.shipped_at + shift, key
            for invoice_spec in spec.invoices:
                invoice = Invoice.objects.get(
                    company=company, number=invoice_spec.number
                )
                assert invoice.invoice_date == invoice_spec.invoice_date + shift, key
                assert invoice.due_date == invoice_spec.due_date + shift, key
        for payment_spec in scenario.payments:
            payment = Payment.objects.get(company=company, number=payment_spec.number)
            assert payment.value_date == payment_spec.value_date + shift, key


def test_case_text_names_shifted_promise(clock, learner):
    day = DAYS[1]
    clock(day)
    session = services.start_session(
        learner=learner, scenario_key="unshipped-backorder"
    )

    case = only_case(session, "NOT_SHIPPED")

    promised = (day - timedelta(days=49)).isoformat()
    assert f"promised for {promised}." in case.explanation
    assert "2025" not in case.explanation


def test_reset_on_later_day_moves_seed(learner):
    session = services.start_session(
        learner=learner, scenario_key="unshipped-backorder", today=DAYS[0]
    )
    fresh = services.start_session(
        learner=learner, scenario_key="unshipped-backorder", today=DAYS[1]
    )
    first_seed = fingerprint(session.company)

    services.reset_session(session_id=session.pk, learner=learner, today=DAYS[1])

    assert fingerprint(session.company) == fingerprint(fresh.company)
    assert fingerprint(session.company) != first_seed
    order = SalesOrder.objects.get(company=session.company)
    assert order.promised_date == DAYS[1] - timedelta(days=49)


def test_allocate_service_checks_as_of_today(clock, learner):
    day = DAYS[1]
    clock(day)
    session = services.start_session(learner=learner, scenario_key="unapplied-payment")

    services.allocate(
        session=session,
        learner=learner,
        payment_number="PR-PAY-5001",
        invoice_number="PR-INV-5001",
        amount=Decimal("208.50"),
    )

    codes = Discrepancy.objects.filter(company=session.company).values_list(
        "code", "state"
    )
    assert sorted(codes) == [
        ("MISSING_PAYMENT", Discrepancy.State.RESOLVED),
        ("UNAPPLIED_PAYMENT", Discrepancy.State.RESOLVED),
    ]


def test_backorder_shipped_early_not_late(learner):
    session = services.start_session(
        learner=learner, scenario_key="unshipped-backorder"
    )
    client = signed_in(learner)
    # The backorder is expected next week and the honey ships today, before
    # that date, so neither BACKORDER_OPEN nor LATE_SHIP opens.
    backorder_then_ship(session, client)

    html = client.get(base(session)).content.decode()
    codes = set(
        Discrepancy.objects.filter(company=session.company).values_list(
            "code", flat=True
        )
    )

    assert "LATE_SHIP" not in codes
    assert "BACKORDER_OPEN" not in codes
    assert "Not scored:" not in html


def test_backorder_follow_up_after_expected_date(learner):
    session = services.start_session(
        learner=learner, scenario_key="unshipped-backorder"
    )
    client = signed_in(learner)
    backorder(session, client)
    owed_at_once = Discrepancy.objects.filter(
        company=session.company, code="BACKORDER_OPEN"
    ).exists()
    expected_on = date.fromisoformat(next_week())

    # The pass a month on finds the honey still owed after its expected date.
    run_matching(company=session.company, as_of=expected_on + timedelta(days=30))
    html = client.get(base(session)).content.decode()

    assert not owed_at_once
    follow_up = only_case(session, "BACKORDER_OPEN")
    assert follow_up.state == Discrepancy.State.OPEN
    assert (
        '<p class="muted" data-testid="follow-up-2">Not scored: The honey on the '
        "backorder was still not shipped after the date it was expected"
    ) in html
