"""The case page's history: the events on the case and on what belongs to it."""

import pytest

from accounts.models import Role
from conftest import make_person
from core.audit import record_event
from core.models import AuditEvent
from core.testing import signed_in
from reconciliation.tests.conftest import make_case
from reconciliation.timeline import Entry

pytestmark = pytest.mark.django_db


def case_url(case) -> str:
    return f"/reconciliation/cases/{case.pk}/"


def entries_of(response) -> list[Entry]:
    entries: list[Entry] = response.context["timeline"].entries
    return entries


def test_history_lists_case_events_newest_first(
    clerk, manager, second_manager, short_payment_case
):
    case = short_payment_case
    record_event(
        actor=clerk,
        action="case.assigned",
        target=case,
        source=AuditEvent.Source.SCREEN,
        before={"assignee_id": None},
        after={"assignee_id": manager.pk},
        reason="Needs a manager",
    )
    approval = case.approvals.create(
        amount="83.63",
        currency_id="USD",
        requested_by=clerk,
        request_reason="Bank fee deducted by the customer's bank",
    )
    record_event(
        actor=clerk,
        action="approval.requested",
        target=approval,
        source=AuditEvent.Source.SCREEN,
        after={"case_id": case.pk, "amount": "83.63", "currency": "USD"},
        reason="Bank fee deducted by the customer's bank",
    )
    record_event(
        actor=second_manager,
        action="approval.approved",
        target=approval,
        source=AuditEvent.Source.API,
        before={"decision": "pending"},
        after={"decision": "approved", "case_id": case.pk},
        reason="Agreed with the customer",
    )
    response = signed_in(manager).get(case_url(case))

    entries = entries_of(response)
    assert [entry.title for entry in entries] == [
        "Approval granted",
        "Approval requested",
        "Case assigned",
    ]
    granted, requested, assigned = entries
    assert granted.actor == "Max Tester"
    assert granted.role == "Manager"
    assert granted.source == "API"
    assert [(c.label, c.before, c.after) for c in granted.changes] == [
        ("Decision", "Pending", "Approved")
    ]
    assert requested.subject == f"Approval on Case #{case.pk} Short payment"
    assert [(c.label, c.after) for c in requested.changes] == [("Amount", "83.63 USD")]
    assert [(c.label, c.before, c.after) for c in assigned.changes] == [
        ("Assignee", "—", "Mona Tester")
    ]
    assert assigned.why == "Needs a manager"
    assert b'id="timeline"' in response.content


def test_history_leaves_out_other_cases(manager, clerk, short_payment_case):
    other = make_case(short_payment_case.order, code="LATE_SHIP")
    for case, text in ((short_payment_case, "this case"), (other, "other case")):
        record_event(
            actor=clerk,
            action="case.commented",
            target=case,
            source=AuditEvent.Source.SCREEN,
            after={"comment_id": 1, "body": text},
        )
    response = signed_in(manager).get(case_url(short_payment_case))

    comments = [entry.changes[0].after for entry in entries_of(response)]
    assert comments == ["this case"]


def test_comment_body_is_escaped(clerk, short_payment_case):
    record_event(
        actor=clerk,
        action="case.commented",
        target=short_payment_case,
        source=AuditEvent.Source.SCREEN,
        after={"comment_id": 1, "body": '<a href="javascript:alert(1)">x</a>'},
    )
    html = signed_in(clerk).get(case_url(short_payment_case)).content.decode()
    assert '<a href="javascript:alert(1)">' not in html
    assert "&lt;a href=&quot;javascript:alert(1)&quot;&gt;x&lt;/a&gt;" in html


def test_matching_event_on_case_names_rule(clerk, short_payment_case):
    record_event(
        actor=None,
        action="discrepancy.opened",
        target=short_payment_case,
        source=AuditEvent.Source.RULE,
        after={
            "code": "SHORT_PAYMENT",
            "severity": "medium",
            "owner_role": "finance_clerk",
            "difference": "-83.63",
            "unit": "USD",
            "rule": "payment.short@1",
            "explanation": "Invoice INV-1 was paid 279.97 of 363.60 USD.",
        },
        reason="payment.short@1",
    )
    entry = entries_of(signed_in(clerk).get(case_url(short_payment_case)))[0]
    assert entry.title == "Case opened by the matching"
    assert entry.source_detail == "payment.short@1"
    assert entry.why == "Invoice INV-1 was paid 279.97 of 363.60 USD."
    assert [(c.label, c.after) for c in entry.changes] == [
        ("Type", "Short payment"),
        ("Severity", "Medium"),
        ("Owner role", "Operations/finance clerk"),
        ("Difference", "-83.63 USD"),
    ]


def test_people_without_the_case_get_no_history(
    warehouse, customer, short_payment_case
):
    record_event(
        actor=None,
        action="case.commented",
        target=short_payment_case,
        source=AuditEvent.Source.SCREEN,
        after={"body": "internal margin note"},
    )
    other_rep = make_person("sam", Role.SALES_REP, group="sales")
    for person in (warehouse, customer, other_rep):
        response = signed_in(person).get(case_url(short_payment_case))
        assert response.status_code == 404, person.username
        assert b"internal margin note" not in response.content


def test_empty_history_says_so(clerk, short_payment_case):
    response = signed_in(clerk).get(case_url(short_payment_case))
    assert entries_of(response) == []
    assert b"Nothing recorded yet." in response.content
