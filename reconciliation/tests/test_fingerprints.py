"""Order fingerprints: a pass skips the orders whose inputs did not change."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import AuditEvent
from reconciliation.cases import reopen_case
from reconciliation.matching import run_matching
from reconciliation.models import (
    Discrepancy,
    MatchGroup,
    SalesOrder,
    ShipmentLine,
    ToleranceProfile,
)
from reconciliation.tests.factories import (
    CompanyFactory,
    PartyFactory,
    create_invoice,
    create_order,
    create_payment,
    create_shipment,
    open_codes,
)

pytestmark = pytest.mark.django_db

# The factories promise orders for 2024-03-15 and date invoices that day,
# due 30 days later, on 2024-04-14.
BEFORE_PROMISE = date(2024, 3, 10)
AFTER_PROMISE = date(2024, 3, 20)
BEFORE_DUE = date(2024, 4, 10)
ON_DUE = date(2024, 4, 14)
AFTER_DUE = date(2024, 4, 15)


@pytest.fixture(autouse=True)
def _pinned_settings(settings):
    settings.RECONCILIATION_LATE_DAYS = 0
    settings.RECONCILIATION_PAYMENT_TOLERANCE = "0.01"


def writes_of(captured):
    return [
        query["sql"]
        for query in captured.captured_queries
        if query["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]


def shipped_orders(company, count):
    customer = PartyFactory.create(company=company)
    orders = []
    for _ in range(count):
        order = create_order(
            lines=[("4", "10.00"), ("2", "5.00")], company=company, customer=customer
        )
        create_shipment(order=order)
        invoice = create_invoice(order=order)
        create_payment(invoice=invoice, amount=str(invoice.amount_total))
        orders.append(order)
    return orders


def test_first_pass_stores_fingerprints():
    company = CompanyFactory.create()
    shipped_orders(company, 2)

    summary = run_matching(company=company, as_of=AFTER_DUE)

    rows = SalesOrder.objects.filter(company=company).values_list(
        "match_fingerprint", "match_findings"
    )
    assert summary.orders_skipped == 0
    assert [len(fingerprint) for fingerprint, _ in rows] == [32, 32]
    assert [findings for _, findings in rows] == ["", ""]


def test_unchanged_orders_are_skipped():
    company = CompanyFactory.create()
    shipped_orders(company, 3)
    first = run_matching(company=company, as_of=AFTER_DUE)
    events = AuditEvent.objects.count()

    with CaptureQueriesContext(connection) as captured:
        second = run_matching(company=company, as_of=AFTER_DUE)

    assert second.orders_checked == 3
    assert second.orders_skipped == 3
    assert writes_of(captured) == []
    assert AuditEvent.objects.count() == events
    assert second.open_by_code == first.open_by_code


def test_changed_document_rechecks_only_its_order():
    company = CompanyFactory.create()
    first, changed, last = shipped_orders(company, 3)
    run_matching(company=company, as_of=AFTER_DUE)
    untouched = {
        order.pk: order.match_fingerprint
        for order in SalesOrder.objects.filter(pk__in=[first.pk, last.pk])
    }
    ShipmentLine.objects.filter(shipment__order=changed, order_line__line_no=1).update(
        qty_shipped=Decimal(3)
    )

    summary = run_matching(company=company, as_of=AFTER_DUE)

    assert summary.orders_checked == 3
    assert summary.orders_skipped == 2
    assert summary.open_by_code == {"INVOICE_QTY_MISMATCH": 1, "SHORT_SHIP": 1}
    case = Discrepancy.objects.get(company=company, code="SHORT_SHIP")
    assert case.order_id == changed.pk
    assert {
        order.pk: order.match_fingerprint
        for order in SalesOrder.objects.filter(pk__in=[first.pk, last.pk])
    } == untouched
    changed.refresh_from_db()
    assert changed.match_findings == "INVOICE_QTY_MISMATCH SHORT_SHIP"

    again = run_matching(company=company, as_of=AFTER_DUE)

    assert again.orders_skipped == 3
    assert again.open_by_code == {"INVOICE_QTY_MISMATCH": 1, "SHORT_SHIP": 1}
    assert again.unchanged == 2


def test_due_date_crossing_as_of_rechecks():
    order = create_order(lines=[("1", "10.00")])
    create_shipment(order=order)
    create_invoice(order=order)
    run_matching(company=order.company, as_of=BEFORE_DUE)
    assert open_codes(order.company) == []

    # A later day on the same side of every date changes nothing.
    summary = run_matching(company=order.company, as_of=ON_DUE)
    assert summary.orders_skipped == 1
    assert open_codes(order.company) == []

    summary = run_matching(company=order.company, as_of=AFTER_DUE)

    assert summary.orders_skipped == 0
    assert open_codes(order.company) == ["MISSING_PAYMENT"]


def test_promised_date_crossing_as_of_rechecks():
    order = create_order(lines=[("1", "10.00")])
    run_matching(company=order.company, as_of=BEFORE_PROMISE)
    assert open_codes(order.company) == []

    summary = run_matching(company=order.company, as_of=AFTER_PROMISE)

    assert summary.orders_skipped == 0
    assert open_codes(order.company) == ["NOT_SHIPPED"]


def test_profile_change_rechecks_order():
    order = create_order(lines=[("10", "1.00")])
    create_shipment(order=order, quantities={1: "11"})
    run_matching(company=order.company, as_of=BEFORE_PROMISE)
    assert open_codes(order.company) == ["OVER_SHIP"]

    ToleranceProfile.objects.create(
        company=order.company, name="loose", qty_over_pct=Decimal(10)
    )
    summary = run_matching(company=order.company, as_of=BEFORE_PROMISE)

    assert summary.orders_skipped == 0
    assert open_codes(order.company) == []
    shipped = MatchGroup.objects.get(key=f"A:order:{order.pk}")
    assert shipped.outcome == MatchGroup.Outcome.IN_TOLERANCE


def test_reopened_settled_case_stays_open(clerk):
    order = create_order(lines=[("1", "42.42")])
    create_shipment(order=order)
    invoice = create_invoice(order=order)
    create_payment(invoice=invoice, amount="42.41")
    run_matching(company=order.company, as_of=AFTER_DUE)
    rounding = Discrepancy.objects.get(code="ROUNDING")
    assert rounding.state == Discrepancy.State.RESOLVED

    reopen_case(case_id=rounding.pk, actor=clerk, reason="Check the cent")
    summary = run_matching(company=order.company, as_of=AFTER_DUE)

    rounding.refresh_from_db()
    assert summary.orders_skipped == 0
    # A person reopened it, so a person resolves it: the pass leaves it open.
    assert rounding.state == Discrepancy.State.REOPENED
    assert rounding.resolved_by_id is None
