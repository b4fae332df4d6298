"""Productivity measures read from the case services' audit events."""

from datetime import UTC, date, datetime, timedelta

import pytest

from accounts.models import Role, User
from conftest import make_person
from core.audit import record_event
from core.models import AuditEvent
from practice import services
from practice.measures import productivity_report, report_companies
from practice.tests.conftest import signed_in, work
from reconciliation import cases
from reconciliation.models import Discrepancy
from reconciliation.tests.conftest import make_case

pytestmark = pytest.mark.django_db

State = Discrepancy.State
# 2026-03-10 23:30 UTC is already 2026-03-11 in Auckland (UTC+13 in March).
LATE_EVENING_UTC = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)


def resolve_after(case, person, *, hours):
    Discrepancy.objects.filter(pk=case.pk).update(
        state=State.IN_PROGRESS,
        assignee=person,
        created_at=case.created_at - timedelta(hours=hours),
    )
    cases.resolve_case(
        case_id=case.pk, actor=person, resolution_code="refund", note="Refunded."
    )
    return last_event()


def last_event():
    return AuditEvent.objects.latest("pk")


def at(event, when):
    AuditEvent.objects.filter(pk=event.pk).update(occurred_at=when)


@pytest.fixture
def team(company, make_order, customer_party, learner):
    company.timezone = "Pacific/Auckland"
    company.save()
    order = make_order("10248", customer_party)
    ada = make_person("ada", Role.FINANCE_CLERK, group="operations")
    bea = make_person("bea", Role.FINANCE_CLERK, group="operations")
    cy = make_person("cy", Role.FINANCE_CLERK, group="warehouse")
    dee = make_person("dee", Role.FINANCE_CLERK)

    day = LATE_EVENING_UTC
    at(resolve_after(make_case(order), ada, hours=2), day)
    reopened = make_case(order)
    at(resolve_after(reopened, ada, hours=4), day)
    cases.reopen_case(case_id=reopened.pk, actor=ada, reason="Customer objected.")
    cases.start_case(case_id=reopened.pk, actor=ada)
    at(resolve_after(reopened, ada, hours=5), day)
    at(resolve_after(make_case(order), ada, hours=9), day)
    # The matching pass reopens a case whose documents changed after bea
    # resolved it: her resolution was wrong too.
    changed = make_case(order)
    at(resolve_after(changed, bea, hours=1), day)
    record_event(
        actor=None,
        action="discrepancy.reopened",
        target=changed,
        source=AuditEvent.Source.RULE,
        after={"state": State.REOPENED},
    )
    at(resolve_after(make_case(order), cy, hours=8), day)
    # Outside the range: the local day before.
    at(resolve_after(make_case(order), cy, hours=6), day - timedelta(days=1))
    at(resolve_after(make_case(order), dee, hours=3), day)
    # A practice session of the learner, in the same hours: left out.
    session = services.start_session(learner=learner, scenario_key="duplicate-invoice")
    work(session, learner, "DUPLICATE_INVOICE", "duplicate_cancelled")
    at(last_event(), day)
    return company


def rows(measures):
    return [
        (row.label, row.people, row.resolutions, row.median_hours, row.errors)
        for row in measures
    ]


def test_per_person_and_group_on_the_local_day(team):
    report = productivity_report(
        company=team, start=date(2026, 3, 11), end=date(2026, 3, 11)
    )

    assert rows(report.people) == [
        ("Ada Tester", 1, 4, 4.5, 1),
        ("Bea Tester", 1, 1, 1.0, 1),
        ("Cy Tester", 1, 1, 8.0, 0),
        ("Dee Tester", 1, 1, 3.0, 0),
    ]
    assert [row.error_rate for row in report.people] == [0.25, 1.0, 0.0, 0.0]
    assert rows(report.groups) == [
        ("No group", 1, 1, 3.0, 0),
        ("Operations", 2, 5, 4.0, 2),
        ("Warehouse", 1, 1, 8.0, 0),
    ]
    assert report.groups[1].error_rate == 0.4


def test_report_uses_local_day(team):
    report = productivity_report(
        company=team, start=date(2026, 3, 10), end=date(2026, 3, 10)
    )

    assert rows(report.people) == [("Cy Tester", 1, 1, 6.0, 0)]


def test_bad_range_and_sandbox_rejected(team, learner):
    with pytest.raises(ValueError) as error:
        productivity_report(company=team, start=date(2026, 3, 2), end=date(2026, 3, 1))
    assert str(error.value) == (
        "The range ends on 2026-03-01, before it starts on 2026-03-02: put the "
        "earlier day first."
    )
    with pytest.raises(ValueError) as error:
        productivity_report(company=team, start=date(2025, 1, 1), end=date(2026, 3, 1))
    assert str(error.value) == (
        "The range from 2025-01-01 to 2026-03-01 is longer than 366 days: choose "
        "a year or less."
    )
    sandbox = learner.practice_sessions.get().company
    with pytest.raises(ValueError) as error:
        productivity_report(
            company=sandbox, start=date(2026, 3, 1), end=date(2026, 3, 1)
        )
    assert str(error.value) == (
        f"Practice session {learner.practice_sessions.get().pk} is a practice "
        "sandbox: productivity is measured on real companies only."
    )
    assert report_companies() == [team]


def test_report_page_is_for_managers_hr_and_facilitators(team, facilitator, customer):
    url = "/practice/measures/"
    params = {"company": team.pk, "start": "2026-03-11", "end": "2026-03-11"}
    for role in (Role.MANAGER, Role.HR):
        response = signed_in(make_person(f"p-{role}", role)).get(url, params)
        assert response.status_code == 200
    User.objects.filter(username="ada").update(manager=facilitator)
    page = signed_in(facilitator).get(url, params).content.decode()
    # Ada reports to the facilitator; the two-person group is not shown.
    assert (
        "<tr><td>Ada Tester</td><td>4</td><td>4.5</td><td>1</td><td>0.25</td></tr>"
        in page
    )
    assert "<tr><td>Operations</td>" not in page
    assert "Bea Tester" not in page

    clerk = make_person("clara", Role.FINANCE_CLERK, group="operations")
    assert signed_in(clerk).get(url, params).status_code == 403
    assert signed_in(customer).get(url, params).status_code == 404

    bad = signed_in(facilitator).get(url, {"start": "yesterday"})
    assert bad.status_code == 400
    assert (
        "&#x27;yesterday&#x27; is not a date: write it as YYYY-MM-DD."
        in bad.content.decode()
    )
    trailing = signed_in(facilitator).get(url, {"start": "2024-06-30junk"})
    assert trailing.status_code == 400
    assert (
        "&#x27;2024-06-30junk&#x27; is not a date: write it as YYYY-MM-DD."
        in trailing.content.decode()
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"end": "9999-12-31"},
            "&#x27;9999-12-31&#x27; is outside the days that can be measured: "
            "choose a day from 0001-01-02 to 9999-12-30.",
        ),
        (
            {"start": "0001-01-01", "end": "0001-01-05"},
            "&#x27;0001-01-01&#x27; is outside the days that can be measured: "
            "choose a day from 0001-01-02 to 9999-12-30.",
        ),
    ],
    ids=["last-day", "first-day"],
)
def test_report_page_rejects_days_at_the_calendar_ends(
    team, facilitator, params, message
):
    response = signed_in(facilitator).get(
        "/practice/measures/", {"company": team.pk, **params}
    )

    assert response.status_code == 400
    assert message in response.content.decode()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"from": "2030-01-01", "to": "2020-01-01"},
            "Parameter &#x27;from&#x27; is unknown: choose the days with start "
            "and end, as YYYY-MM-DD, and the company with company.",
        ),
        (
            {"start": "2030-01-01", "end": "2020-01-01"},
            "The range ends on 2020-01-01, before it starts on 2030-01-01: put "
            "the earlier day first.",
        ),
        (
            {"company": "999999"},
            "Company &#x27;999999&#x27; is not one you can report on: choose a "
            "company from the list.",
        ),
    ],
    ids=["unknown-names", "reversed", "unknown-company"],
)
def test_report_page_rejects_bad_filters(team, facilitator, params, message):
    response = signed_in(facilitator).get("/practice/measures/", params)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert response.context["report"] is None


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "America/New_York"])
@pytest.mark.parametrize(
    "params",
    [
        {"end": "0001-01-05"},
        {"start": "0001-01-02", "end": "0001-01-02"},
        {"start": "9999-12-30", "end": "9999-12-30"},
    ],
    ids=["short-default-range", "first-day", "last-day"],
)
def test_report_page_measures_days_near_the_calendar_ends(
    team, facilitator, zone, params
):
    team.timezone = zone
    team.save(update_fields=["timezone"])

    response = signed_in(facilitator).get(
        "/practice/measures/", {"company": team.pk, **params}
    )

    assert response.status_code == 200


def test_a_manager_reads_only_their_reports_and_large_groups(team):
    manager = make_person("max", Role.MANAGER)
    User.objects.filter(username__in=["ada", "bea"]).update(manager=manager)

    report = productivity_report(
        company=team, start=date(2026, 3, 11), end=date(2026, 3, 11), reader=manager
    )

    assert [row.label for row in report.people] == ["Ada Tester", "Bea Tester"]
    # Every group here has fewer than three people, so none is shown.
    assert report.groups == []


def test_a_reader_without_reports_sees_only_their_own_row(team):
    ada = User.objects.get(username="ada")
    report = productivity_report(
        company=team, start=date(2026, 3, 11), end=date(2026, 3, 11), reader=ada
    )
    assert [row.label for row in report.people] == ["Ada Tester"]


def test_page_says_how_many_rows_are_hidden(team, facilitator):
    """Ada reports to the facilitator; Bea, Cy and Dee and all three groups are hidden."""
    User.objects.filter(username="ada").update(manager=facilitator)
    params = {"company": team.pk, "start": "2026-03-11", "end": "2026-03-11"}
    report = productivity_report(
        company=team, start=date(2026, 3, 11), end=date(2026, 3, 11), reader=facilitator
    )

    page = signed_in(facilitator).get("/practice/measures/", params).content.decode()

    assert (report.hidden_people, report.hidden_groups) == (3, 3)
    assert (
        "3 other people resolved cases in these days. You see your own figures "
        "and those of the people who report to you."
    ) in page
    assert (
        "3 groups with fewer than 3 people resolving cases are not shown, so "
        "that no row points at one person."
    ) in page
    assert "No group to show for these days." in page
