"""The case inbox and case page: visibility per role, filters, query counts."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from core.testing import signed_in
from reconciliation import approvals, cases
from reconciliation.models import Approval, CaseComment, Discrepancy
from reconciliation.tests.conftest import make_case
from reconciliation.tests.factories import create_order

pytestmark = pytest.mark.django_db

State = Discrepancy.State
INBOX = "/reconciliation/cases/"


def inbox_ids(client, **params):
    response = client.get(INBOX, params)
    assert response.status_code == 200
    return [case.pk for case in response.context["page"]]


@pytest.fixture
def mixed_cases(shipped_order, other_party):
    """A finance case and a warehouse case on sally's order, one elsewhere."""
    finance = make_case(shipped_order, severity="high")
    warehouse = make_case(
        shipped_order,
        code="SHORT_SHIP",
        owner_role=Role.WAREHOUSE,
        severity="low",
        difference="-3",
    )
    elsewhere_order = create_order(company=shipped_order.company, customer=other_party)
    elsewhere = make_case(elsewhere_order, owner_role=Role.FINANCE_CLERK)
    return finance, warehouse, elsewhere


def test_inbox_shows_cases_of_viewer_role(mixed_cases, clerk, warehouse):
    finance, shipping, elsewhere = mixed_cases

    assert set(inbox_ids(signed_in(clerk))) == {finance.pk, elsewhere.pk}
    assert inbox_ids(signed_in(warehouse)) == [shipping.pk]


def test_manager_sees_every_case(mixed_cases, manager):
    assert len(inbox_ids(signed_in(manager))) == 3


def test_sales_rep_sees_cases_on_own_orders(mixed_cases, sales_rep):
    finance, shipping, _ = mixed_cases

    assert set(inbox_ids(signed_in(sales_rep))) == {finance.pk, shipping.pk}


def test_inbox_sorted_by_due_time(shipped_order, clerk):
    now = timezone.now()
    later = make_case(shipped_order, due_at=now + timedelta(days=5))
    none = make_case(shipped_order, due_at=None)
    sooner = make_case(shipped_order, due_at=now + timedelta(hours=2))

    assert inbox_ids(signed_in(clerk)) == [sooner.pk, later.pk, none.pk]


def test_inbox_filters(shipped_order, clerk, super_user):
    now = timezone.now()
    overdue = make_case(shipped_order, due_at=now - timedelta(hours=1))
    high = make_case(shipped_order, severity="high", code="MISSING_PAYMENT")
    mine = make_case(shipped_order, assignee=clerk, state=State.ASSIGNED)
    make_case(shipped_order, assignee=super_user, state=State.ASSIGNED)
    closed = make_case(shipped_order, state=State.CLOSED)
    client = signed_in(clerk)

    assert inbox_ids(client, overdue="1") == [overdue.pk]
    assert inbox_ids(client, severity="high") == [high.pk]
    assert inbox_ids(client, code="MISSING_PAYMENT") == [high.pk]
    assert inbox_ids(client, assignee="me") == [mine.pk]
    assert inbox_ids(client, state="closed") == [closed.pk]
    assert closed.pk not in inbox_ids(client)


def test_inbox_bad_severity_is_400(shipped_order, clerk):
    case = make_case(shipped_order)

    response = signed_in(clerk).get(INBOX, {"severity": "bogus"})

    assert response.status_code == 400
    assert response.context["errors"] == [
        "Severity 'bogus' is invalid: use one of high, medium, low, or leave it "
        "empty for any."
    ]
    assert "Severity &#x27;bogus&#x27; is invalid" in response.content.decode()
    assert [item.pk for item in response.context["page"]] == [case.pk]


@pytest.mark.parametrize(
    ("params", "error"),
    [
        (
            {"state": "<b>"},
            "State '<b>' is invalid: use one of open, assigned, in_progress, "
            "waiting_customer, waiting_internal, proposed_resolution, resolved, "
            "closed, rejected, reopened, escalated, or leave it empty for any.",
        ),
        (
            {"code": "SHORT"},
            "Code 'SHORT' is invalid: use a value from the list, such as "
            "NOT_SHIPPED, or leave it empty for any.",
        ),
        (
            {"overdue": "yes"},
            "Overdue 'yes' is invalid: use 1, or leave it out.",
        ),
        (
            {"assignee": "sally"},
            "Assignee 'sally' is invalid: use me, or leave it out.",
        ),
    ],
)
def test_inbox_bad_filter_is_400(shipped_order, clerk, params, error):
    response = signed_in(clerk).get(INBOX, params)

    assert response.status_code == 400
    assert response.context["errors"] == [error]


def test_inbox_empty_filters_are_200(shipped_order, clerk):
    case = make_case(shipped_order)

    params = {"code": "", "severity": "", "state": "", "overdue": ""}
    assert inbox_ids(signed_in(clerk), **params) == [case.pk]


def test_inbox_is_paged(shipped_order, clerk):
    for _ in range(53):
        make_case(shipped_order)
    client = signed_in(clerk)

    assert len(inbox_ids(client)) == 50
    assert len(inbox_ids(client, page="2")) == 3


@pytest.mark.parametrize("count", [3, 30])
def test_inbox_query_count_is_constant(
    count, shipped_order, clerk, other_party, django_assert_num_queries
):
    for _ in range(count):
        order = create_order(company=shipped_order.company, customer=other_party)
        make_case(order, assignee=clerk, state=State.ASSIGNED)
    client = signed_in(clerk)
    client.get(INBOX)

    with django_assert_num_queries(QUERIES_PER_INBOX):
        response = client.get(INBOX)

    assert len(response.context["page"]) == count


# Session, user, the count, the help panel's version row (a warm cache serves
# the rest), the unread-notification badge, and the page of cases joined to
# their orders, customers and assignees.
QUERIES_PER_INBOX = 6


def test_customer_gets_404_everywhere(short_payment_case, customer, clerk):
    approval = approvals.request_write_off(
        case_id=_worked(short_payment_case, clerk).pk,
        actor=clerk,
        reason="Freight deduction.",
    )
    client = signed_in(customer)
    case_url = f"{INBOX}{short_payment_case.pk}/"

    assert client.get(INBOX).status_code == 404
    assert client.get(case_url).status_code == 404
    for action in ("move/", "assign/", "comments/", "write-off/"):
        assert client.post(case_url + action, {"to": "closed"}).status_code == 404
    decide = f"/reconciliation/approvals/{approval.pk}/decide/"
    assert client.post(decide, {"decision": "approve"}).status_code == 404
    assert CaseComment.objects.count() == 0
    assert Approval.objects.get().decision == Approval.Decision.PENDING


def test_customer_order_page_has_no_case_links(short_payment_case, customer):
    response = signed_in(customer).get(
        f"/reconciliation/orders/{short_payment_case.order.number}/", follow=True
    )

    assert response.status_code == 200
    assert response.redirect_chain[0][1] == 302
    assert b"/reconciliation/cases/" not in response.content


def test_other_role_gets_404_for_case(short_payment_case, warehouse):
    response = signed_in(warehouse).get(f"{INBOX}{short_payment_case.pk}/")

    assert response.status_code == 404


def _worked(case, clerk):
    return cases.start_case(case_id=case.pk, actor=clerk)


def test_case_page_shows_buttons_thread_and_panel(short_payment_case, clerk):
    cases.add_comment(case_id=short_payment_case.pk, author=clerk, body="Called.")

    response = signed_in(clerk).get(f"{INBOX}{short_payment_case.pk}/")

    assert response.status_code == 200
    assert response.context["transitions"] == (
        "assigned",
        "in_progress",
        "rejected",
        "escalated",
    )
    assert response.context["help_context"] == "reconciliation.order.short_payment"
    assert response.context["panel"].context.key == (
        "reconciliation.order.short_payment"
    )
    html = response.content.decode()
    assert 'data-testid="move-in_progress"' in html
    assert 'data-testid="move-closed"' not in html
    assert "Called." in html
    assert 'data-testid="help-panel"' in html


def test_sales_rep_works_sales_case_of_other_order(
    shipped_order, other_party, sales_rep
):
    order = create_order(company=shipped_order.company, customer=other_party)
    case = make_case(order, owner_role=Role.SALES_REP)
    response = signed_in(sales_rep).get(f"{INBOX}{case.pk}/")

    assert response.status_code == 200
    assert response.context["may_work"] is True


def test_post_move_runs_transition(short_payment_case, clerk):
    client = signed_in(clerk)
    url = f"{INBOX}{short_payment_case.pk}/move/"

    response = client.post(url, {"to": "in_progress"})

    assert response.status_code == 302
    short_payment_case.refresh_from_db()
    assert short_payment_case.state == State.IN_PROGRESS


def test_post_invalid_move_shows_message(short_payment_case, clerk):
    client = signed_in(clerk)
    url = f"{INBOX}{short_payment_case.pk}/move/"

    response = client.post(url, {"to": "closed"}, follow=True)

    messages = [str(message) for message in response.context["messages"]]
    assert messages == [
        f"Cannot move case {short_payment_case.pk} from open to closed: the "
        "allowed next states are assigned, in_progress, rejected, escalated."
    ]


def test_post_resolve_with_code_and_note(short_payment_case, clerk):
    client = signed_in(clerk)
    _worked(short_payment_case, clerk)

    client.post(
        f"{INBOX}{short_payment_case.pk}/move/",
        {"to": "resolved", "resolution_code": "refund", "note": "Refunded."},
    )

    short_payment_case.refresh_from_db()
    assert short_payment_case.state == State.RESOLVED
    assert short_payment_case.resolution_code == "refund"


def test_post_assign_and_comment(short_payment_case, clerk, super_user):
    client = signed_in(clerk)
    base = f"{INBOX}{short_payment_case.pk}/"

    client.post(base + "assign/", {"assignee": str(super_user.pk)})
    client.post(base + "comments/", {"body": "Over to Petra."})

    short_payment_case.refresh_from_db()
    assert short_payment_case.assignee == super_user
    assert short_payment_case.state == State.ASSIGNED
    assert CaseComment.objects.get().body == "Over to Petra."


def test_post_write_off_request_and_decision(
    short_payment_case, clerk, manager, second_manager
):
    _worked(short_payment_case, clerk)
    signed_in(clerk).post(
        f"{INBOX}{short_payment_case.pk}/write-off/", {"reason": "Freight."}
    )
    approval = Approval.objects.get()
    decide = f"/reconciliation/approvals/{approval.pk}/decide/"

    signed_in(manager).post(decide, {"decision": "approve", "reason": "Fine."})

    approval.refresh_from_db()
    assert approval.decision == Approval.Decision.APPROVED
    assert approval.approver == manager


def test_warehouse_cannot_decide_approval(short_payment_case, clerk, warehouse):
    _worked(short_payment_case, clerk)
    approval = approvals.request_write_off(
        case_id=short_payment_case.pk, actor=clerk, reason="Freight."
    )

    response = signed_in(warehouse).post(
        f"/reconciliation/approvals/{approval.pk}/decide/", {"decision": "approve"}
    )

    assert response.status_code == 404


def test_order_page_links_discrepancy_to_case(short_payment_case, clerk):
    response = signed_in(clerk).get(
        f"/reconciliation/orders/{short_payment_case.order.number}/"
    )

    assert f"/reconciliation/cases/{short_payment_case.pk}/".encode() in (
        response.content
    )


def test_order_page_keeps_worked_case_listed(short_payment_case, clerk):
    _worked(short_payment_case, clerk)

    response = signed_in(clerk).get(
        f"/reconciliation/orders/{short_payment_case.order.number}/"
    )

    assert [item.pk for item in response.context["discrepancies"]] == [
        short_payment_case.pk
    ]


@pytest.mark.parametrize("count", [2, 20])
def test_case_page_query_count_is_constant(
    count, short_payment_case, clerk, django_assert_num_queries
):
    for index in range(count):
        cases.add_comment(
            case_id=short_payment_case.pk, author=clerk, body=f"Note {index}"
        )
    client = signed_in(clerk)
    url = f"{INBOX}{short_payment_case.pk}/"
    client.get(url)

    with django_assert_num_queries(QUERIES_PER_CASE_PAGE):
        response = client.get(url)

    assert len(response.context["comments"]) == count


# Session, user, the case with its joins, its comments, its approvals, its
# customer problem reports, the people it can be assigned to, the currency
# of its figures, the check that the viewer may see the record the help
# panel offers, the help panel's version row, the badge, the proposal
# that waits on the case, and the 9 of its history (reconciliation.timeline).
QUERIES_PER_CASE_PAGE = 21
