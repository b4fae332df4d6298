"""A customer's problem report notifies the people who handle its case."""

from decimal import Decimal

import pytest

from accounts.models import Role
from conftest import make_person
from notifications.models import Notification
from portal.models import ProblemReport
from portal.services import ProblemInput, Repeat, report_problem
from reconciliation.models import ShipmentLine
from reconciliation.tests.factories import create_order, create_shipment

pytestmark = pytest.mark.django_db

Kind = ProblemReport.Kind


@pytest.fixture
def order(customer_party, sales_rep):
    order = create_order(
        lines=[("10", "36.36")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    create_shipment(order=order, number="SH-NOTE-1")
    return order


def report_damaged(customer, order, qty: str = "3", repeat: str = "") -> ProblemReport:
    return report_problem(
        customer=customer,
        order=order,
        problem=ProblemInput(
            kind=Kind.DAMAGED,
            message="Crushed boxes",
            shipment_line=ShipmentLine.objects.get(shipment__order=order),
            quantity=Decimal(qty),
            repeat=repeat,
        ),
        evidence=[],
    )


def notified(kind=Notification.Kind.PROBLEM_REPORTED) -> set[str]:
    rows = Notification.objects.filter(kind=kind)
    return set(rows.values_list("recipient__username", flat=True))


def test_damaged_report_notifies_warehouse_and_rep(
    customer, order, sales_rep, outsider
):
    make_person("fina", Role.FINANCE_CLERK, group="operations")

    report = report_damaged(customer, order)

    assert notified() == {"sally", "otto"}
    notice = Notification.objects.get(recipient=sales_rep)
    assert notice.message == (
        f"Carla Tester reported a problem on order {order.number} "
        f"(Goods damaged): case {report.case_id}."
    )
    assert notice.url == f"/reconciliation/cases/{report.case_id}/"


def test_assigned_case_notifies_assignee(customer, order, sales_rep, outsider):
    first = report_damaged(customer, order, "1")
    walt = make_person("walt", Role.WAREHOUSE, group="warehouse")
    first.case.assignee = walt
    first.case.save(update_fields=["assignee"])
    Notification.objects.all().delete()

    second = report_damaged(customer, order, "2", repeat=Repeat.MORE)

    assert second.case_id == first.case_id
    assert notified() == {"sally", "walt"}


def test_inactive_people_not_notified(customer, order, sales_rep, outsider):
    sales_rep.is_active = False
    sales_rep.save(update_fields=["is_active"])

    report_damaged(customer, order)

    assert notified() == {"otto"}


def test_other_customer_not_notified(customer, order, other_party, outsider):
    make_person("olga", Role.CUSTOMER, customer=other_party, group="customers")

    report_damaged(customer, order)

    assert "olga" not in notified()
    assert "carla" not in notified()


def addition_notices() -> dict[str, str]:
    rows = Notification.objects.filter(subject_key__contains=":added:")
    return dict(rows.values_list("recipient__username", "message"))


def test_added_description_notifies_assignee(customer, order, sales_rep, outsider):
    first = report_damaged(customer, order)
    walt = make_person("walt", Role.WAREHOUSE, group="warehouse")
    first.case.assignee = walt
    first.case.save(update_fields=["assignee"])

    report_problem(
        customer=customer,
        order=order,
        problem=ProblemInput(
            kind=Kind.DAMAGED,
            message="Crushed boxes, and the pallet was wet",
            shipment_line=ShipmentLine.objects.get(shipment__order=order),
            quantity=Decimal(3),
            repeat=Repeat.SAME,
        ),
        evidence=[],
    )

    assert addition_notices() == {
        "walt": (
            f"Carla Tester added a description to the report on order "
            f"{order.number} (Goods damaged): case {first.case_id}."
        )
    }
    notice = Notification.objects.get(subject_key__contains=":added:")
    assert notice.url == f"/reconciliation/cases/{first.case_id}/"


def test_addition_without_assignee_notifies_owner_role(
    customer, order, sales_rep, outsider
):
    report_damaged(customer, order)
    make_person("olga", Role.CUSTOMER, customer=customer.customer, group="customers")

    report_problem(
        customer=customer,
        order=order,
        problem=ProblemInput(
            kind=Kind.DAMAGED,
            message="Crushed boxes, photo follows",
            shipment_line=ShipmentLine.objects.get(shipment__order=order),
            quantity=Decimal(3),
            repeat=Repeat.SAME,
        ),
        evidence=[],
    )

    # otto is the warehouse worker, the owner role of a damage case. Neither
    # customer account (carla, who added it, nor her colleague olga) is told.
    assert set(addition_notices()) == {"otto"}
