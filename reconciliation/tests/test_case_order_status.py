"""An order's status follows its cases at once, not at the next pass.

Carla, the customer, disputes the price of a clean, fully paid order's
invoice, and the order is an exception while her case is open. Sally, the
sales rep, rejects the case: the order reads "Clean" as soon as the
rejection commits. Sally reopens it: the order is an exception again.
"""

import pytest
from django.db import transaction

from portal.models import ProblemReport
from portal.services import ProblemInput, report_problem
from reconciliation.cases import reject_case, reopen_case
from reconciliation.matching import check_order_after_commit, match_order
from reconciliation.models import Discrepancy, ReconStatus, SalesOrder
from reconciliation.tests.factories import (
    create_invoice,
    create_order,
    create_payment,
    create_shipment,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(customer_party, sales_rep):
    order = create_order(
        lines=[("10", "36.36")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    create_shipment(order=order)
    invoice = create_invoice(order=order)
    create_payment(invoice=invoice, amount=str(invoice.amount_total))
    match_order(order)
    return order


def status(order: SalesOrder) -> str:
    return SalesOrder.objects.values_list("recon_status", flat=True).get(pk=order.pk)


def dispute_price(customer, order: SalesOrder) -> Discrepancy:
    report = report_problem(
        customer=customer,
        order=order,
        problem=ProblemInput(
            kind=ProblemReport.Kind.WRONG_PRICE,
            message="We agreed 30.00 a unit",
            invoice=order.invoices.get(),
            quantity=None,
        ),
        evidence=[],
    )
    return Discrepancy.objects.get(pk=report.case_id)


def test_rejected_case_clears_exception(
    order, customer, sales_rep, django_capture_on_commit_callbacks
):
    assert status(order) == ReconStatus.CLEAN
    case = dispute_price(customer, order)
    assert status(order) == ReconStatus.EXCEPTION

    with django_capture_on_commit_callbacks(execute=True):
        reject_case(case_id=case.pk, actor=sales_rep, reason="30.00 was never agreed")

    assert status(order) == ReconStatus.CLEAN


@pytest.mark.django_db(transaction=True)
def test_reopened_case_marks_exception(order, customer, sales_rep):
    # Each move commits here and runs its check, as on the case page. A test
    # in one transaction would keep the first move's check pending, and
    # the reopen's check would wait on it.
    case = dispute_price(customer, order)
    reject_case(case_id=case.pk, actor=sales_rep, reason="30.00 was never agreed")
    assert status(order) == ReconStatus.CLEAN

    reopen_case(case_id=case.pk, actor=sales_rep, reason="The quote says 30.00")

    assert status(order) == ReconStatus.EXCEPTION
    assert Discrepancy.objects.get(pk=case.pk).is_active


def test_one_check_per_order_and_transaction(order, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        check_order_after_commit(order.pk)
        check_order_after_commit(order.pk)

    assert len(callbacks) == 1


def test_check_asked_again_after_rollback(order, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        try:
            with transaction.atomic():
                check_order_after_commit(order.pk)
                raise RuntimeError("the move failed")
        except RuntimeError:
            pass
        check_order_after_commit(order.pk)

    assert len(callbacks) == 1
