"""Actions that lock a case or a match first check their order after commit.

Unreconciling, a write-off booked on a resolved case, a customer's
confirmation of receipt and acceptance of a proposal change an order's
documents. Once their transaction commits, the order is checked again, so
its status and cases change at once instead of at the next pass.
"""

import logging

import pytest
from django.utils import timezone

from accounts.models import Role
from conftest import make_person
from portal.services import confirm_receipt
from reconciliation import matching
from reconciliation.cases import resolve_case
from reconciliation.matches import unreconcile
from reconciliation.matching import check_order_after_commit, run_matching
from reconciliation.models import Discrepancy, MatchGroup, ReconStatus, SalesOrder
from reconciliation.tests.factories import (
    create_invoice,
    create_order,
    create_payment,
    create_shipment,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _pinned_settings(settings):
    settings.RECONCILIATION_LATE_DAYS = 0
    settings.RECONCILIATION_PAYMENT_TOLERANCE = "0.01"


def paid_order(total="100.00", paid="100.00", customer=None):
    order = create_order(lines=[("1", total)], customer=customer)
    create_shipment(order=order)
    invoice = create_invoice(order=order)
    create_payment(invoice=invoice, amount=paid)
    run_matching(company=order.company, as_of=timezone.localdate())
    order.refresh_from_db()
    return order, invoice


def open_codes(order):
    active = Discrepancy.objects.filter(order=order).exclude(
        state__in=[Discrepancy.State.RESOLVED, Discrepancy.State.CLOSED]
    )
    return sorted(active.values_list("code", flat=True))


def test_unreconcile_checks_order(clerk, django_capture_on_commit_callbacks):
    order, invoice = paid_order()
    assert order.recon_status == ReconStatus.CLEAN
    group = MatchGroup.objects.get(key=f"D:invoice:{invoice.pk}")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        unreconcile(group_id=group.pk, actor=clerk, reason="Wrong customer")

    order.refresh_from_db()
    assert len(callbacks) == 1
    assert order.recon_status == ReconStatus.EXCEPTION
    assert "MISSING_PAYMENT" in open_codes(order)

    # The check stores no new cash match for the reversed allocations.
    groups = MatchGroup.objects.filter(key=f"D:invoice:{invoice.pk}")
    assert list(groups.values_list("state", flat=True)) == [MatchGroup.State.REVERSED]


def test_pass_after_unreconcile_stores_no_new_match(clerk):
    _, invoice = paid_order()
    group = MatchGroup.objects.get(key=f"D:invoice:{invoice.pk}")
    unreconcile(group_id=group.pk, actor=clerk, reason="Wrong customer")

    run_matching(company=invoice.company, as_of=timezone.localdate())

    groups = MatchGroup.objects.filter(key=f"D:invoice:{invoice.pk}")
    assert list(groups.values_list("state", flat=True)) == [MatchGroup.State.REVERSED]


def test_write_off_checks_order(clerk, django_capture_on_commit_callbacks):
    order, _ = paid_order(paid="90.00")
    case = Discrepancy.objects.get(order=order, code="SHORT_PAYMENT")
    assert order.recon_status == ReconStatus.EXCEPTION
    # The clerk works the case: resolving needs a case in progress.
    Discrepancy.objects.filter(pk=case.pk).update(
        state=Discrepancy.State.IN_PROGRESS, assignee=clerk
    )

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        resolve_case(
            case_id=case.pk,
            actor=clerk,
            resolution_code="write_off",
            note="Bank fee",
        )

    order.refresh_from_db()
    assert len(callbacks) == 1
    assert open_codes(order) == []
    assert order.recon_status != ReconStatus.EXCEPTION


def test_receipt_checks_order(customer_party, django_capture_on_commit_callbacks):
    order, _ = paid_order(customer=customer_party)
    customer = make_person("wanda", Role.CUSTOMER, customer=customer_party)
    before = order.match_fingerprint

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        confirm_receipt(customer=customer, shipment=order.shipments.get())

    order.refresh_from_db()
    assert len(callbacks) == 1
    assert order.match_fingerprint != before


def test_failed_check_keeps_action(
    clerk, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    _, invoice = paid_order()
    group = MatchGroup.objects.get(key=f"D:invoice:{invoice.pk}")

    def fail(order):
        raise RuntimeError("check failed")

    monkeypatch.setattr(matching, "match_order", fail)
    with (
        caplog.at_level(logging.ERROR),
        django_capture_on_commit_callbacks(execute=True),
    ):
        unreconcile(group_id=group.pk, actor=clerk, reason="Wrong customer")

    group.refresh_from_db()
    assert group.state == MatchGroup.State.REVERSED
    assert "check failed" in caplog.text


def test_no_order_no_check(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        check_order_after_commit(None)

    assert callbacks == []
    assert SalesOrder.objects.count() == 0
