"""Cancelled units in a real browser at 1366 px: the warehouse cannot ship them.

Sally, the sales rep of order SO-11076, decides "Cancel the rest" on its
short shipment (6 of 10 units shipped). Walter, a warehouse worker, opens
Pick and ship, reads that 4 units are cancelled and none is left to ship,
tries to ship 4 anyway and reads the reason beside the line. Carla, the
customer's contact, sees the 4 units as cancelled on her order page, with
nothing to come. The screenshots land in ``test-artifacts/``.
"""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Role
from conftest import make_person
from e2e.pages import signed_in_page
from reconciliation.matching import run_matching
from reconciliation.models import Discrepancy, Shipment
from reconciliation.tests.factories import create_order, create_shipment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_cancelled_units_cannot_ship(
    new_context, artifacts, customer_party, sales_rep, customer
):
    make_person("walter", Role.WAREHOUSE, group="warehouse")
    order = create_order(
        number="SO-11076",
        lines=[("10", "36.36")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    create_shipment(order=order, quantities={1: "6"})
    run_matching(company=order.company, as_of=timezone.localdate())
    case = Discrepancy.objects.get(order=order, code="SHORT_SHIP")

    rep = signed_in_page(new_context, "sally")
    rep.goto(f"/reconciliation/work/cases/{case.pk}/")
    form = rep.get_by_test_id("backorder-form")
    form.get_by_label("Reason").fill("The customer no longer needs the rest.")
    form.get_by_role("button", name="Cancel the rest").click()
    expect(rep.locator(".message").first).to_have_text(
        "Recorded the backorder decision."
    )

    warehouse = signed_in_page(new_context, "walter")
    warehouse.goto(f"/reconciliation/work/orders/{order.number}/fulfilment/")
    expect(warehouse.get_by_test_id("cancelled-1")).to_have_text("4")
    expect(warehouse.get_by_test_id("to-ship-1")).to_have_text("0")
    warehouse.get_by_label("Shipped on line 1").fill("4")
    warehouse.get_by_role("button", name="Ship", exact=True).click()

    expect(warehouse.get_by_test_id("line-error-1")).to_have_text(
        "Line 1: 10 units ordered, 4 units of them cancelled by the sales rep, "
        "and 6 units already shipped, so shipping 4 units now makes 10 units, "
        "more than was ordered: "
        "nothing is left to ship on this line, so leave its Shipped box empty."
    )
    warehouse.screenshot(path=artifacts / "cancelled-units-1366.png", full_page=True)
    assert Shipment.objects.filter(order=order).count() == 1

    portal = signed_in_page(new_context, "carla")
    portal.goto(f"/reconciliation/portal/orders/{order.number}/")
    expect(portal.get_by_test_id("cancelled-1")).to_have_text("cancelled 4")
    expect(portal.get_by_test_id("to-come-1")).to_have_text("0")
