"""A shortage the warehouse reports goes to the sales rep who decides it.

Named people: wanda (warehouse) reports the shortage, sally (sales rep on
the order) decides it, sam (another sales rep) is told only when the order
has no sales rep, and carla (the order's customer) is never told.
"""

from decimal import Decimal

import pytest

from accounts.models import Role
from conftest import make_person
from core.models import AuditEvent
from core.testing import signed_in
from notifications.models import Notification
from reconciliation import cases, warehouse_work
from reconciliation.models import Discrepancy
from reconciliation.tests.factories import create_order

State = Discrepancy.State

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_rep(db):
    return make_person("sam", Role.SALES_REP, group="sales")


def report(order, warehouse):
    # The report itself hands the case over: nothing else is called.
    return warehouse_work.report_shortage(
        actor=warehouse,
        order=order,
        line_no=1,
        qty_missing=Decimal("5"),
        note="Only 15 on shelf",
    )


@pytest.fixture
def rep_order(customer_party, sales_rep):
    return create_order(
        lines=[("20", "5.00")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )


def test_case_goes_to_order_sales_rep(rep_order, warehouse, sales_rep):
    case = report(rep_order, warehouse)
    case.refresh_from_db()
    assert case.owner_role == Role.SALES_REP
    assert case.assignee_id == sales_rep.pk
    assert case.state == State.ASSIGNED


def test_sales_rep_sally_is_notified(
    rep_order, warehouse, sales_rep, other_rep, customer
):
    case = report(rep_order, warehouse)
    notice = Notification.objects.get(kind=Notification.Kind.DECISION_NEEDED)
    assert notice.recipient == sales_rep
    assert f"order {rep_order.number} (case {case.pk})" in notice.message
    assert notice.url == f"/reconciliation/work/cases/{case.pk}/"
    assert not Notification.objects.filter(recipient=other_rep).exists()
    assert not Notification.objects.filter(recipient=customer).exists()
    page = signed_in(sales_rep).get("/notifications/").content.decode()
    assert f"case {case.pk}" in page


def test_sally_inbox_lists_case_as_hers(rep_order, warehouse, sales_rep):
    case = report(rep_order, warehouse)
    page = signed_in(sales_rep).get("/reconciliation/cases/?assignee=me")
    assert f"/reconciliation/cases/{case.pk}/" in page.content.decode()
    detail = signed_in(sales_rep).get(f"/reconciliation/cases/{case.pk}/")
    text = detail.content.decode()
    assert "<dt>Owner role</dt><dd>Sales representative<" in text
    assert f'data-testid="assignee">{sales_rep.display_name}<' in text


def test_order_without_rep_tells_every_rep(
    customer_party, warehouse, sales_rep, other_rep
):
    order = create_order(
        lines=[("20", "5.00")],
        company=customer_party.company,
        customer=customer_party,
    )
    case = report(order, warehouse)
    case.refresh_from_db()
    assert case.owner_role == Role.SALES_REP
    assert case.assignee_id is None
    notified = set(
        Notification.objects.filter(kind=Notification.Kind.DECISION_NEEDED).values_list(
            "recipient__username", flat=True
        )
    )
    assert notified == {"sally", "sam"}


def test_handing_over_again_changes_nothing(rep_order, warehouse, sales_rep):
    case = report(rep_order, warehouse)
    events = AuditEvent.objects.filter(object_id=str(case.pk)).count()
    notices = Notification.objects.count()

    cases.hand_shortage_to_sales(case_id=case.pk, actor=warehouse)

    assert AuditEvent.objects.filter(object_id=str(case.pk)).count() == events
    assert Notification.objects.count() == notices


def test_other_case_is_left_alone(rep_order, warehouse):
    from reconciliation.tests.conftest import make_case

    case = make_case(rep_order)
    cases.hand_shortage_to_sales(case_id=case.pk, actor=warehouse)
    case.refresh_from_db()
    assert case.owner_role == Role.FINANCE_CLERK
    assert not Notification.objects.exists()
