"""The demo's purchase screens: the accounts payable clerk, help panels, receipts.

Each test loads the whole demo as of today, as `make run` does, so the
people and help content are there. The purchase documents and their cases
are those of ``test_demo_purchases``.
"""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client, override_settings
from django.utils import timezone

from accounts.models import User
from communities.models import Community
from reconciliation.models import (
    Discrepancy,
    GoodsReceipt,
    GoodsReceiptLine,
    PurchaseOrder,
    VendorBill,
)
from reconciliation.purchase_selectors import compare_bill

pytestmark = pytest.mark.django_db

LIST_URL = "/reconciliation/work/purchasing/"


@pytest.fixture(autouse=True)
def _pinned_settings(settings, tmp_path):
    settings.RECONCILIATION_LATE_DAYS = 0
    settings.RECONCILIATION_PAYMENT_TOLERANCE = "0.01"
    settings.COMMONPLACE_COMPANY_NAME = "Company X"
    settings.VAR_DIR = tmp_path


def run_load_demo() -> str:
    output = StringIO()
    with override_settings(DEBUG=True):
        call_command("load_demo", stdout=output)
    return output.getvalue()


def signed_in(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def test_ap_clerk_works_in_invoicing():
    output = run_load_demo()

    amir = User.objects.get(username="amir")
    assert amir.role == "finance_clerk"
    assert amir.title == "Accounts payable clerk and buyer"
    assert list(amir.crm_functions.values_list("slug", flat=True)) == ["invoicing"]
    invoicing = Community.objects.get(slug="invoicing")
    payments = Community.objects.get(slug="payments")
    assert invoicing.memberships.filter(person=amir).exists()
    assert not payments.memberships.filter(person=amir).exists()
    assert (
        "  Operations/finance clerk   amir       Amir Rahman  "
        "(accounts payable: purchase orders and vendor bills)"
    ) in output
    assert (
        "Purchase side: sign in as amir and open vendor bill BILL-1009, priced "
        "above its purchase order: /reconciliation/work/purchasing/bills/BILL-1009/"
    ) in output


def test_purchase_list_shows_cases():
    run_load_demo()

    page = signed_in("amir").get(LIST_URL, {"match": "exception"})

    assert page.status_code == 200
    listed = [order.number for order in page.context["page"]]
    assert listed == ["PUR-1032", "PUR-1020", "PUR-1009", "PUR-1007"]
    everything = signed_in("amir").get(LIST_URL)
    assert len(everything.context["page"]) == 36


def test_bill_panel_shows_vendor_bill_help():
    run_load_demo()

    page = signed_in("amir").get("/reconciliation/work/purchasing/bills/BILL-1001/")

    assert page.status_code == 200
    assert page.context["help_context"] == "reconciliation.work.purchasing.bill"
    assert (page.context["record_kind"], page.context["record_ref"]) == (
        "vendor_bill",
        "BILL-1001",
    )
    panel = page.context["panel"]
    assert [entry.question for entry in panel.faq_entries] == [
        "What does the three-way match of a vendor bill compare?"
    ]
    assert [document.title for document in panel.documents] == [
        "The three-way match: purchase order, goods receipt, vendor bill"
    ]
    html = page.content.decode()
    assert "What does the three-way match of a vendor bill compare?" in html


def test_case_bill_panel_follows_its_case():
    run_load_demo()

    page = signed_in("amir").get("/reconciliation/work/purchasing/bills/BILL-1009/")

    assert page.status_code == 200
    assert page.context["help_context"] == "reconciliation.order.bill_price_variance"
    questions = [entry.question for entry in page.context["panel"].faq_entries]
    assert questions == [
        "The vendor bill charges more than the purchase order. What do I do?"
    ]


def test_order_panel_is_about_the_order():
    run_load_demo()
    url = "/reconciliation/work/purchasing/orders/PUR-1007/"

    page = signed_in("amir").get(url)

    assert page.status_code == 200
    assert (page.context["record_kind"], page.context["record_ref"]) == (
        "purchase_order",
        "PUR-1007",
    )
    # Each role sees the cases it owns: the bill's for accounts payable, the
    # receipt's for the warehouse, and a manager both.
    assert [case.code for case in page.context["cases"]] == ["BILL_QTY_OVER_RECEIVED"]
    warehouse = signed_in("walter").get(url)
    assert [case.code for case in warehouse.context["cases"]] == ["RECEIPT_SHORT"]
    manager = signed_in("andrew").get(url)
    assert sorted(case.code for case in manager.context["cases"]) == [
        "BILL_QTY_OVER_RECEIVED",
        "RECEIPT_SHORT",
    ]
    titles = [document.title for document in page.context["panel"].documents]
    assert titles == ["The three-way match: purchase order, goods receipt, vendor bill"]


def test_customer_gets_no_purchase_screen():
    run_load_demo()

    customer = signed_in("wandk")

    assert customer.get(LIST_URL).status_code == 404
    assert (
        customer.get("/reconciliation/work/purchasing/bills/BILL-1001/").status_code
        == 404
    )
    assert signed_in("margaret").get(LIST_URL).status_code == 403


def test_receipt_releases_the_held_bill():
    run_load_demo()
    order = PurchaseOrder.objects.get(number="PUR-1032")
    line = order.lines.get()

    response = signed_in("walter").post(
        f"/reconciliation/work/purchasing/orders/{order.number}/receipt/",
        {f"received_{line.line_no}": str(line.qty_ordered)},
    )

    assert response.status_code == 302
    receipt = GoodsReceipt.objects.get(purchase_order=order)
    assert receipt.number == "PUR-1032-GR1"
    assert receipt.received_at == timezone.localdate()
    assert GoodsReceiptLine.objects.get(receipt=receipt).qty_received == 30
    assert compare_bill(VendorBill.objects.get(number="BILL-1028")).release == "yes"
    hold_case = Discrepancy.objects.get(code="BILL_BEFORE_RECEIPT")
    assert hold_case.state == Discrepancy.State.RESOLVED
