"""Starting, checking and resetting practice sessions through the services."""

from datetime import date
from decimal import Decimal

import pytest
from django.db.models import ProtectedError
from django.http import Http404

from core.models import AuditEvent
from practice import services
from practice.models import SandboxSession
from practice.scenarios import SCENARIOS, get_scenario
from practice.seed import fingerprint, wipe_company
from practice.seed_version import seed_code_version
from practice.tests.conftest import only_case, work
from reconciliation.cases import CaseError
from reconciliation.models import (
    Allocation,
    Company,
    Discrepancy,
    Invoice,
    Party,
    Payment,
    SalesOrder,
)

pytestmark = pytest.mark.django_db

State = Discrepancy.State
# The day a test seeds its session on, passed in so that a test running
# across midnight seeds and resets on the same day.
DAY = date(2026, 12, 5)


def events(session, action):
    return list(
        AuditEvent.objects.filter(
            action=action,
            object_type="practice.sandboxsession",
            object_id=str(session.pk),
        ).values_list("actor_id", "source", "after")
    )


def test_catalogue_has_the_four_required_kinds_and_more():
    assert sorted(SCENARIOS) == [
        "broken-goods-credit",
        "damaged-goods-replacement",
        "duplicate-invoice",
        "short-payment-dispute",
        "short-payment-write-off",
        "unapplied-payment",
        "unshipped-backorder",
    ]
    assert [scenario.check_count for scenario in SCENARIOS.values()] == [
        2,
        1,
        1,
        1,
        3,
        1,
        1,
    ]


def test_start_gives_the_learner_an_own_sandbox_company(learner):
    session = services.start_session(
        learner=learner, scenario_key="short-payment-write-off", today=DAY
    )

    session.refresh_from_db()
    assert session.learner == learner
    assert session.scenario_key == "short-payment-write-off"
    assert session.scenario_version == 1
    assert session.status == SandboxSession.Status.ACTIVE
    assert (session.score, session.attempts) == (None, 0)
    company = session.company
    assert company.is_sandbox is True
    assert company.name == f"Practice session {session.pk}"
    assert company.base_currency_id == "EUR"
    assert list(
        SalesOrder.objects.filter(company=company).values_list("number", flat=True)
    ) == ["PR-SO-1001"]
    case = only_case(session, "SHORT_PAYMENT")
    assert (case.state, case.difference, case.assignee_id) == (
        State.OPEN,
        Decimal("-12.5000"),
        None,
    )
    invoice = Invoice.objects.get(company=company)
    assert (invoice.amount_total, invoice.amount_residual) == (
        Decimal("367.0000"),
        Decimal("12.5000"),
    )
    assert events(session, "practice.started") == [
        (
            learner.pk,
            AuditEvent.Source.SCREEN,
            {
                "scenario": "short-payment-write-off",
                "version": 1,
                "company_id": company.pk,
                "as_of": "2026-12-05",
                "seed_version": seed_code_version(),
            },
        )
    ]


@pytest.mark.parametrize(
    ("key", "code", "difference"),
    [
        ("short-payment-dispute", "SHORT_PAYMENT", "-180.0000"),
        ("unshipped-backorder", "NOT_SHIPPED", "-24.0000"),
        ("duplicate-invoice", "DUPLICATE_INVOICE", "320.0000"),
        ("damaged-goods-replacement", "DAMAGED", "3.0000"),
    ],
)
def test_each_scenario_seeds_its_fault(learner, key, code, difference):
    session = services.start_session(learner=learner, scenario_key=key)

    cases = Discrepancy.objects.filter(company=session.company)
    assert list(cases.values_list("code", "difference")) == [
        (code, Decimal(difference))
    ]


def test_unknown_scenario_names_the_key_and_the_choices(learner):
    with pytest.raises(LookupError) as error:
        services.start_session(learner=learner, scenario_key="month-end")

    assert str(error.value) == (
        "There is no practice scenario 'month-end': choose one of "
        "broken-goods-credit, damaged-goods-replacement, duplicate-invoice, "
        "short-payment-dispute, short-payment-write-off, unapplied-payment, "
        "unshipped-backorder."
    )
    assert SandboxSession.objects.count() == 0
    assert Company.objects.filter(is_sandbox=True).count() == 0


def test_write_off_inside_the_limit_scores_full_marks(learner):
    session = services.start_session(
        learner=learner, scenario_key="short-payment-write-off"
    )
    work(session, learner, "SHORT_PAYMENT", "write_off", note="Bank charge.")

    results = services.check_session(session_id=session.pk, learner=learner)

    assert [(r.label, r.passed, r.expected, r.found) for r in results] == [
        (
            "Short payment on PR-SO-1001 / PR-INV-1001",
            True,
            "resolved with Write-off, writing off 12.50",
            "resolved with Write-off, writing off 12.50",
        ),
        (
            "Allocation of PR-PAY-1001 to PR-INV-1001",
            True,
            "354.50 allocated",
            "354.50 allocated",
        ),
    ]
    session.refresh_from_db()
    assert (session.score, session.attempts, session.status) == (
        100,
        1,
        SandboxSession.Status.FINISHED,
    )
    assert session.last_check[0]["feedback"] == "Correct."
    assert events(session, "practice.checked") == [
        (
            learner.pk,
            AuditEvent.Source.SCREEN,
            {
                "score": 100,
                "attempts": 1,
                "status": "finished",
                "passed": 2,
                "checks": 2,
            },
        )
    ]


def test_check_untouched_case_fails(learner):
    session = services.start_session(
        learner=learner, scenario_key="short-payment-write-off"
    )
    case = only_case(session, "SHORT_PAYMENT")
    # Taking the case changes the sandbox without settling the case.
    services.start_case(session=session, case_id=case.pk, learner=learner)

    results = services.check_session(session_id=session.pk, learner=learner)

    case.refresh_from_db()
    assert case.state == "in_progress"
    assert (results[0].passed, results[0].found, results[0].feedback) == (
        False,
        "the case is in progress",
        "The case is not resolved yet. Compare the difference with the amount "
        "you may settle on your own, and reread why the customer kept the "
        "money back.",
    )
    # The seed's allocation passes, but it is no work of the learner's.
    assert (results[1].passed, results[1].scored) == (True, False)
    session.refresh_from_db()
    assert (session.score, session.attempts, session.status) == (0, 1, "active")


def test_write_off_above_limit_rejected(learner):
    session = services.start_session(
        learner=learner, scenario_key="short-payment-dispute"
    )
    case = only_case(session, "SHORT_PAYMENT")
    services.start_case(session=session, case_id=case.pk, learner=learner)

    with pytest.raises(CaseError) as error:
        services.resolve_case(
            session=session,
            case_id=case.pk,
            learner=learner,
            resolution_code="write_off",
            note="Too small to chase.",
        )
    assert str(error.value) == (
        f"A write-off of 180.00 EUR on case {case.pk} is above the 50.00 limit: "
        "request an approval and wait for a manager to approve it."
    )
    services.resolve_case(
        session=session,
        case_id=case.pk,
        learner=learner,
        resolution_code="accepted_as_is",
        note="Fine.",
    )
    first = services.check_session(session_id=session.pk, learner=learner)
    assert (first[0].passed, first[0].expected, first[0].found) == (
        False,
        "resolved with Credit note",
        "resolved with Accepted as is",
    )
    services.reopen_case(
        session=session, case_id=case.pk, learner=learner, reason="Wrong code."
    )
    services.start_case(session=session, case_id=case.pk, learner=learner)
    services.resolve_case(
        session=session,
        case_id=case.pk,
        learner=learner,
        resolution_code="credit_note",
        note="Credit the broken oil.",
    )
    second = services.check_session(session_id=session.pk, learner=learner)

    assert [result.passed for result in second] == [True]
    session.refresh_from_db()
    assert (session.score, session.attempts, session.status) == (100, 2, "finished")


def test_backorder_and_duplicate_scenarios_pass_with_their_codes(learner):
    backorder = services.start_session(
        learner=learner, scenario_key="unshipped-backorder"
    )
    work(backorder, learner, "NOT_SHIPPED", "backorder")
    duplicate = services.start_session(
        learner=learner, scenario_key="duplicate-invoice"
    )
    work(duplicate, learner, "DUPLICATE_INVOICE", "duplicate_cancelled")

    assert [
        r.passed
        for r in services.check_session(session_id=backorder.pk, learner=learner)
    ] == [True]
    assert [
        r.passed
        for r in services.check_session(session_id=duplicate.pk, learner=learner)
    ] == [True]


def test_allocation_clears_unapplied_payment(learner):
    session = services.start_session(learner=learner, scenario_key="unapplied-payment")

    with pytest.raises(services.PracticeError) as error:
        services.allocate(
            session=session,
            learner=learner,
            payment_number="PAY-1",
            invoice_number="PR-INV-5001",
            amount=None,
        )
    assert str(error.value) == (
        "There is no payment 'PAY-1' in this session: pick one from the list."
    )
    services.allocate(
        session=session,
        learner=learner,
        payment_number="PR-PAY-5001",
        invoice_number="PR-INV-5001",
        amount=None,
    )
    results = services.check_session(session_id=session.pk, learner=learner)

    assert [(r.label, r.passed, r.found) for r in results] == [
        (
            "Unapplied payment on PR-PAY-5001",
            True,
            "resolved, because the documents now agree",
        ),
        (
            "Missing payment on PR-SO-5001 / PR-INV-5001",
            True,
            "resolved, because the documents now agree",
        ),
        ("Allocation of PR-PAY-5001 to PR-INV-5001", True, "208.50 allocated"),
    ]


def real_rows():
    return {
        model.__name__: list(model.objects.order_by("pk").values_list("pk", flat=True))
        for model in (
            Company,
            Party,
            SalesOrder,
            Invoice,
            Payment,
            Allocation,
            Discrepancy,
        )
    }


def test_reset_restores_seed_exactly(learner, make_order, customer_party):
    make_order("10248", customer_party)
    before_real = real_rows()
    session = services.start_session(
        learner=learner, scenario_key="short-payment-write-off", today=DAY
    )
    seeded = fingerprint(session.company)
    work(session, learner, "SHORT_PAYMENT", "accepted_as_is")
    services.check_session(session_id=session.pk, learner=learner)
    assert fingerprint(session.company) != seeded

    services.reset_session(session_id=session.pk, learner=learner, today=DAY)

    assert fingerprint(session.company) == seeded
    # 2 parties, 3 products, the order with 2 lines, the shipment with 2
    # lines, the invoice with 2 lines, the payment, its allocation, 3 match
    # groups (shipment and billing per order, cash per invoice) and the case.
    assert {name: len(rows) for name, rows in seeded.items() if rows} == {
        "reconciliation.Allocation": 1,
        "reconciliation.Discrepancy": 1,
        "reconciliation.Invoice": 1,
        "reconciliation.InvoiceLine": 2,
        "reconciliation.MatchGroup": 3,
        "reconciliation.Party": 2,
        "reconciliation.Payment": 1,
        "reconciliation.Product": 3,
        "reconciliation.SalesOrder": 1,
        "reconciliation.SalesOrderLine": 2,
        "reconciliation.Shipment": 1,
        "reconciliation.ShipmentLine": 2,
    }
    after = real_rows()
    sandbox = session.company_id
    for name, ids in before_real.items():
        assert [pk for pk in after[name] if pk in set(ids)] == ids, name
    assert after["Company"] == [*before_real["Company"], sandbox]
    assert set(
        SalesOrder.objects.exclude(pk__in=before_real["SalesOrder"]).values_list(
            "company_id", flat=True
        )
    ) == {sandbox}
    session.refresh_from_db()
    assert (session.score, session.attempts, session.status) == (None, 1, "active")
    assert session.last_check == []
    assert [after for _, _, after in events(session, "practice.reset")] == [
        {
            "scenario": "short-payment-write-off",
            "rows_deleted": 20,
            "as_of": "2026-12-05",
            "seed_version": seed_code_version(),
        }
    ]


def test_real_table_counts_do_not_change_with_reset(
    learner, make_order, customer_party
):
    make_order("10248", customer_party)
    real = SalesOrder.objects.filter(company__is_sandbox=False)
    counts = (real.count(), Party.objects.filter(company__is_sandbox=False).count())
    session = services.start_session(learner=learner, scenario_key="duplicate-invoice")
    services.reset_session(session_id=session.pk, learner=learner)

    assert (
        real.count(),
        Party.objects.filter(company__is_sandbox=False).count(),
    ) == counts


def test_finished_session_rejects_reset_and_check(learner):
    session = services.start_session(
        learner=learner, scenario_key="unshipped-backorder"
    )
    work(session, learner, "NOT_SHIPPED", "backorder")
    services.check_session(session_id=session.pk, learner=learner)

    message = (
        f"Session {session.pk} is finished, so it cannot be {{}}: start a new "
        "session of the scenario to practise again."
    )
    with pytest.raises(services.PracticeError) as error:
        services.reset_session(session_id=session.pk, learner=learner)
    assert str(error.value) == message.format("reset")
    with pytest.raises(services.PracticeError) as error:
        services.check_session(session_id=session.pk, learner=learner)
    assert str(error.value) == message.format("checked")


def test_another_persons_session_is_not_found(learner, other_learner):
    session = services.start_session(learner=learner, scenario_key="duplicate-invoice")

    with pytest.raises(Http404):
        services.check_session(session_id=session.pk, learner=other_learner)
    with pytest.raises(Http404):
        services.reset_session(session_id=session.pk, learner=other_learner)
    session.refresh_from_db()
    assert session.attempts == 0


def test_changed_scenario_version_rejected(learner):
    session = services.start_session(learner=learner, scenario_key="duplicate-invoice")
    SandboxSession.objects.filter(pk=session.pk).update(scenario_version=0)

    with pytest.raises(services.PracticeError) as error:
        services.check_session(session_id=session.pk, learner=learner)

    assert str(error.value) == (
        f"Session {session.pk} was started on version 0 of 'duplicate-invoice', and "
        f"the catalogue now has version {get_scenario('duplicate-invoice').version}: "
        "start a new session."
    )


def test_only_a_sandbox_company_may_be_wiped(company):
    with pytest.raises(ValueError) as error:
        wipe_company(company)

    assert str(error.value) == (
        f"Company {company.pk} (Test Company) is not a sandbox: only a practice "
        "company may be wiped."
    )


def test_learner_with_session_not_deletable(learner):
    session = services.start_session(learner=learner, scenario_key="duplicate-invoice")

    with pytest.raises(ProtectedError):
        learner.delete()

    assert SandboxSession.objects.get().company_id == session.company_id
