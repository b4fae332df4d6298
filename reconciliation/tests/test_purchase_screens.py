"""Purchase screens: purchase orders, goods receipts and the vendor bill's match.

Named people: wanda (warehouse), fiona (finance clerk), mona (manager),
sally (sales rep), olga (HR), carla (customer). The vendor is
Exotic Liquids; PO-1001 orders 10 Chai at 18.00 and 5 Aniseed at 10.00, and
bill BILL-1 charges the 10 Chai before anything arrived.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from conftest import make_person
from core.models import AuditEvent
from core.testing import messages_of, signed_in
from reconciliation.matching import run_matching
from reconciliation.models import (
    Discrepancy,
    GoodsReceipt,
    GoodsReceiptLine,
    MatchGroup,
    Party,
    PurchaseOrder,
    PurchaseOrderLine,
    ToleranceProfile,
    VendorBill,
    VendorBillLine,
)
from reconciliation.purchase_selectors import Release, compare_bill
from reconciliation.purchase_work import (
    ReceivedQuantities,
    record_goods_receipt,
)
from reconciliation.tests.factories import ProductFactory, open_codes
from reconciliation.work import WorkError

pytestmark = pytest.mark.django_db

AS_OF = date(2024, 3, 20)
PO_URL = "/reconciliation/work/purchasing/orders/PO-1001/"
RECEIPT_URL = PO_URL + "receipt/"
LIST_URL = "/reconciliation/work/purchasing/"
BILL_URL = "/reconciliation/work/purchasing/bills/BILL-1/"


@pytest.fixture
def wanda(db):
    return make_person("wanda", Role.WAREHOUSE, group="warehouse")


@pytest.fixture
def fiona(db):
    return make_person("fiona", Role.FINANCE_CLERK, group="operations")


@pytest.fixture
def mona(db):
    return make_person("mona", Role.MANAGER)


@pytest.fixture
def olga(db):
    return make_person("olga", Role.HR)


@pytest.fixture
def vendor(company):
    return Party.objects.create(
        company=company, code="EXOTL", name="Exotic Liquids", currency_id="USD"
    )


@pytest.fixture
def purchase_order(company, vendor):
    order = PurchaseOrder.objects.create(
        company=company,
        number="PO-1001",
        vendor=vendor,
        currency_id="USD",
        order_date=date(2024, 3, 1),
        promised_date=date(2099, 12, 31),
    )
    for line_no, sku, name, qty, price in (
        (1, "CHAI", "Chai", "10", "18.00"),
        (2, "ANIS", "Aniseed Syrup", "5", "10.00"),
    ):
        PurchaseOrderLine.objects.create(
            order=order,
            line_no=line_no,
            product=ProductFactory.create(company=company, sku=sku, name=name),
            qty_ordered=Decimal(qty),
            unit_price=Decimal(price),
        )
    return order


def line(order, line_no):
    return order.lines.get(line_no=line_no)


def make_bill(order, number="BILL-1", *, qty="10", price="18.00", ref="EL-77"):
    bill = VendorBill.objects.create(
        company=order.company,
        number=number,
        vendor=order.vendor,
        purchase_order=order,
        supplier_ref=ref,
        currency_id="USD",
        bill_date=date(2024, 3, 12),
    )
    order_line = line(order, 1)
    VendorBillLine.objects.create(
        bill=bill,
        order_line=order_line,
        product=order_line.product,
        qty=Decimal(qty),
        unit_price=Decimal(price),
    )
    return bill


@pytest.fixture
def held_bill(purchase_order):
    bill = make_bill(purchase_order)
    run_matching(company=purchase_order.company, as_of=AS_OF)
    return bill


def receive(order, line_no, received, rejected="0", reason=""):
    receipt = GoodsReceipt.objects.create(
        company=order.company,
        number=f"GR-{GoodsReceipt.objects.count() + 1}",
        purchase_order=order,
        received_at=date(2024, 3, 10),
    )
    GoodsReceiptLine.objects.create(
        receipt=receipt,
        order_line=line(order, line_no),
        qty_received=Decimal(received),
        qty_rejected=Decimal(rejected),
        reason=reason,
    )
    return receipt


# Who may open the screens


@pytest.mark.parametrize("url", [LIST_URL, PO_URL, BILL_URL])
def test_purchase_screens_open_for_purchase_roles(url, held_bill, wanda, fiona, mona):
    for person in (wanda, fiona, mona):
        assert signed_in(person).get(url).status_code == 200


@pytest.mark.parametrize("url", [LIST_URL, PO_URL, BILL_URL, RECEIPT_URL])
def test_purchase_screens_hidden_from_customer(url, held_bill, customer):
    assert signed_in(customer).get(url).status_code == 404


@pytest.mark.parametrize("url", [LIST_URL, PO_URL, BILL_URL])
def test_purchase_screens_forbidden_to_other_roles(url, held_bill, olga, sales_rep):
    assert signed_in(olga).get(url).status_code == 403
    assert signed_in(sales_rep).get(url).status_code == 403


def test_purchase_screens_send_anonymous_to_sign_in(held_bill):
    response = Client().get(LIST_URL)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={LIST_URL}"


def test_unknown_purchase_order_is_404(wanda, purchase_order):
    url = "/reconciliation/work/purchasing/orders/PO-404/"
    assert signed_in(wanda).get(url).status_code == 404


def test_nav_shows_purchasing_to_purchase_roles(wanda, sales_rep, customer):
    link = 'href="/reconciliation/work/purchasing/"'
    assert link in signed_in(wanda).get("/").content.decode()
    assert link not in signed_in(sales_rep).get("/").content.decode()
    assert link not in signed_in(customer).get("/").content.decode()


# The purchase order list


@pytest.fixture
def three_orders(held_bill, purchase_order, company, vendor):
    """PO-1001 waits for goods, PO-1002 is partly and PO-1003 fully received."""
    other_vendor = Party.objects.create(
        company=company, code="TOKYO", name="Tokyo Traders", currency_id="USD"
    )
    for number, party, received in (
        ("PO-1002", vendor, "4"),
        ("PO-1003", other_vendor, "3"),
    ):
        order = PurchaseOrder.objects.create(
            company=company,
            number=number,
            vendor=party,
            currency_id="USD",
            order_date=date(2024, 3, 2),
            promised_date=date(2099, 12, 31),
        )
        PurchaseOrderLine.objects.create(
            order=order,
            line_no=1,
            product=line(purchase_order, 1).product,
            qty_ordered=Decimal(3),
            unit_price=Decimal("18.00"),
        )
        receive(order, 1, received)
    return purchase_order


def listed(person, query="") -> list[str]:
    response = signed_in(person).get(LIST_URL + query)
    return [order.number for order, _ in response.context["rows"]]


def test_list_filters_by_receipt_state(three_orders, fiona):
    assert listed(fiona, "?receipt=waiting") == ["PO-1001"]
    assert listed(fiona, "?receipt=partial") == []
    assert listed(fiona, "?receipt=received") == ["PO-1003", "PO-1002"]


def test_list_counts_a_short_line_as_partial(three_orders, fiona):
    receive(three_orders, 1, "10")
    assert listed(fiona, "?receipt=partial") == ["PO-1001"]


def test_list_filters_by_supplier(three_orders, fiona, vendor):
    assert listed(fiona, f"?vendor={vendor.pk}") == ["PO-1002", "PO-1001"]


def test_list_filters_by_match_status(three_orders, mona):
    assert listed(mona, "?match=exception") == ["PO-1001"]
    assert listed(mona, "?match=clean") == ["PO-1003", "PO-1002"]


def test_list_searches_numbers_suppliers_and_references(three_orders, fiona):
    assert listed(fiona, "?q=tokyo") == ["PO-1003"]
    assert listed(fiona, "?q=PO-1002") == ["PO-1002"]
    assert listed(fiona, "?q=el-77") == ["PO-1001"]


def test_list_ignores_unknown_filter_values(three_orders, fiona):
    assert listed(fiona, "?receipt=lost&match=maybe&vendor=x") == [
        "PO-1003",
        "PO-1002",
        "PO-1001",
    ]


def test_list_declares_its_help_context(held_bill, fiona):
    response = signed_in(fiona).get(LIST_URL)
    assert response.context["help_context"] == "reconciliation.work.purchasing"
    assert response.context["record_ref"] == ""


# The purchase order page


def test_order_page_shows_line_figures(held_bill, purchase_order, wanda):
    receive(purchase_order, 2, "5", rejected="1", reason="Broken bottle")
    response = signed_in(wanda).get(PO_URL)
    rows = [
        (row.line.line_no, row.received, row.rejected, row.billed)
        for row in response.context["rows"]
    ]
    assert rows == [
        (1, Decimal(0), Decimal(0), Decimal(10)),
        (2, Decimal(5), Decimal(1), Decimal(0)),
    ]
    assert response.context["bills"] == [(held_bill, Release.NO)]
    assert response.context["help_context"] == "reconciliation.work.purchasing.order"
    text = response.content.decode()
    assert "rejected 1 (Broken bottle)" in text
    assert "On hold until the goods arrive" in text


def test_order_page_lists_visible_cases(held_bill, fiona, wanda):
    clerk_cases = signed_in(fiona).get(PO_URL).context["cases"]
    assert [case.code for case in clerk_cases] == ["BILL_BEFORE_RECEIPT"]
    # The bill's case is the finance clerk's, so the warehouse does not see it.
    assert signed_in(wanda).get(PO_URL).context["cases"] == []


def test_order_page_offers_receipt_to_warehouse_only(held_bill, wanda, fiona):
    assert signed_in(wanda).get(PO_URL).context["may_receive"] is True
    assert signed_in(fiona).get(PO_URL).context["may_receive"] is False


# Recording a goods receipt


def post_receipt(person, **fields):
    return signed_in(person).post(RECEIPT_URL, fields, follow=True)


def test_receipt_releases_the_held_bill(held_bill, wanda, fiona):
    assert compare_bill(held_bill).release == Release.NO

    response = post_receipt(wanda, received_1="10")

    assert messages_of(response) == [
        "Recorded the goods receipt of purchase order PO-1001."
    ]
    receipt = GoodsReceipt.objects.get()
    assert receipt.number == "PO-1001-GR1"
    assert [
        (r.order_line.line_no, r.qty_received, r.qty_rejected)
        for r in receipt.lines.all()
    ] == [(1, Decimal(10), Decimal(0))]
    assert compare_bill(held_bill).release == Release.YES
    case = Discrepancy.objects.get(code="BILL_BEFORE_RECEIPT")
    assert case.state == Discrepancy.State.RESOLVED
    page = signed_in(fiona).get(BILL_URL)
    assert page.context["release_label"] == "Release to pay"
    assert page.context["cases"] == []


def test_receipt_records_an_audit_event(held_bill, wanda):
    post_receipt(wanda, received_2="5", rejected_2="2", reason_2="Leaking")
    event = AuditEvent.objects.get(action="goods_receipt.recorded")
    assert event.actor == wanda
    assert event.source == AuditEvent.Source.SCREEN
    assert event.after == {
        "purchase_order": "PO-1001",
        "received_at": GoodsReceipt.objects.get().received_at.isoformat(),
        "lines": {"2": {"received": "5", "rejected": "2", "reason": "Leaking"}},
    }


def test_receipt_with_rejection_opens_rejected_case(held_bill, wanda):
    post_receipt(wanda, received_2="5", rejected_2="2", reason_2="Leaking")
    assert open_codes(held_bill.company) == ["BILL_BEFORE_RECEIPT", "RECEIPT_REJECTED"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "Enter a received quantity for a line of purchase order PO-1001."),
        (
            {"received_1": "-2"},
            "Line 1: received quantity -2 is negative; enter 0 or more.",
        ),
        (
            {"received_1": "1.23456"},
            "Line 1 received '1.23456' has 5 decimal places; the limit is 4, so "
            "enter a multiple of 0.0001.",
        ),
        (
            {"received_1": "2", "rejected_1": "3", "reason_1": "Broken"},
            "Line 1: rejected 3 units is more than the 2 units received; reject "
            "only goods that arrived.",
        ),
        (
            {"received_1": "2", "rejected_1": "1"},
            "Line 1: say why 1 unit were rejected (damaged, wrong item, ...), "
            "for the buyer's vendor claim.",
        ),
        (
            {"received_1": "0", "received_2": "0"},
            "Every received quantity is 0: enter what arrived at the warehouse.",
        ),
        (
            {"received_1": "11"},
            "Line 1: accepting 11 units brings it to 11 units of 10 units ordered, "
            "more than was ordered. Receive at most 10 units and reject the rest.",
        ),
        (
            {"received_1": "ten"},
            "Line 1 received 'ten' is not a number: enter digits such as 12.5.",
        ),
    ],
)
def test_receipt_rejects_bad_input(held_bill, wanda, fields, message):
    response = post_receipt(wanda, **fields)
    assert messages_of(response) == [message]
    assert GoodsReceipt.objects.count() == 0
    assert not AuditEvent.objects.filter(action="goods_receipt.recorded").exists()


def test_receipt_form_keeps_what_was_typed(held_bill, wanda):
    response = post_receipt(wanda, received_1="2", rejected_1="3", reason_1="Broken")
    first_row = response.context["rows"][0]
    assert first_row[1] == {"received": "2", "rejected": "3", "reason": "Broken"}


def test_receipt_allows_over_receipt_within_tolerance(held_bill, wanda, company):
    ToleranceProfile.objects.create(
        company=company, name="Bulk", qty_over_pct=Decimal(10)
    )
    post_receipt(wanda, received_1="11")
    assert GoodsReceiptLine.objects.get().qty_received == Decimal(11)


def test_receipt_counts_earlier_receipts(held_bill, purchase_order, wanda):
    receive(purchase_order, 1, "8")
    response = post_receipt(wanda, received_1="3")
    assert messages_of(response) == [
        "Line 1: accepting 3 units brings it to 11 units of 10 units ordered, more "
        "than was ordered. Receive at most 2 units and reject the rest."
    ]


def test_warehouse_wanda_reads_plain_over_receipt_limit(held_bill, wanda, company):
    # The message names no tolerance profile, and counts the allowed 10% over.
    ToleranceProfile.objects.create(
        company=company, name="Bulk", qty_over_pct=Decimal(10)
    )
    response = post_receipt(wanda, received_1="12")
    assert messages_of(response) == [
        "Line 1: accepting 12 units brings it to 12 units of 10 units ordered, more "
        "than the 10% over the order that may be received. Receive at most 11 "
        "units and reject the rest."
    ]


def test_receipt_service_rejects_unknown_line(purchase_order, wanda):
    with pytest.raises(WorkError) as error:
        record_goods_receipt(
            actor=wanda,
            order=purchase_order,
            quantities={7: ReceivedQuantities(Decimal(1), Decimal(0))},
        )
    assert str(error.value) == "Purchase order PO-1001 has no line 7."


def test_receipt_is_warehouse_work(held_bill, fiona, mona):
    assert signed_in(fiona).get(RECEIPT_URL).status_code == 403
    assert signed_in(mona).post(RECEIPT_URL, {"received_1": "10"}).status_code == 403
    assert GoodsReceipt.objects.count() == 0


def test_receipt_form_declares_its_help_context(held_bill, wanda):
    response = signed_in(wanda).get(RECEIPT_URL)
    assert response.context["help_context"] == "reconciliation.work.purchasing.receipt"


# The vendor bill page


def test_bill_page_shows_hold(held_bill, fiona):
    response = signed_in(fiona).get(BILL_URL)
    row = response.context["comparison"].lines[0]
    assert row.codes == ["BILL_BEFORE_RECEIPT"]
    assert row.release == Release.NO
    assert response.context["release_label"] == "On hold until the goods arrive"
    assert (
        response.context["help_context"] == "reconciliation.order.bill_before_receipt"
    )
    assert 'data-testid="hold-banner"' in response.content.decode()
    assert "total 180.00 USD" in response.content.decode()


def test_bill_page_shows_price_variance(purchase_order, fiona):
    receive(purchase_order, 1, "10")
    make_bill(purchase_order, price="18.50")
    run_matching(company=purchase_order.company, as_of=AS_OF)
    response = signed_in(fiona).get(BILL_URL)
    row = response.context["comparison"].lines[0]
    assert row.codes == ["BILL_PRICE_VARIANCE"]
    assert row.price_difference == Decimal("0.50")
    assert response.context["release_label"] == "Exception: do not pay"
    assert "price variance 0.50" in response.content.decode()


def test_bill_line_without_order_line_is_exception(purchase_order, fiona):
    bill = make_bill(purchase_order)
    bill.lines.update(order_line=None)
    comparison = compare_bill(bill)
    assert comparison.lines[0].codes == ["BILL_NO_PO"]
    assert comparison.release == Release.EXCEPTION


def test_bill_with_held_and_released_lines_is_exception(purchase_order):
    receive(purchase_order, 1, "10")
    bill = make_bill(purchase_order)
    second = line(purchase_order, 2)
    VendorBillLine.objects.create(
        bill=bill,
        order_line=second,
        product=second.product,
        qty=Decimal(5),
        unit_price=Decimal("10.00"),
    )
    comparison = compare_bill(bill)
    assert [row.release for row in comparison.lines] == [Release.YES, Release.NO]
    assert comparison.release == Release.EXCEPTION


# Overrides


def post_release(person, reason):
    return signed_in(person).post(
        BILL_URL + "release/", {"reason": reason}, follow=True
    )


def test_release_reason_loses_control_characters(held_bill, mona):
    response = post_release(mona, "Prepayment\x00 agreed")

    assert messages_of(response) == ["Bill BILL-1 is released to pay by your override."]
    held_bill.refresh_from_db()
    assert held_bill.release_override_reason == "Prepayment agreed"


def test_manager_releases_held_bill_with_reason(held_bill, mona):
    response = post_release(mona, "Prepayment agreed with the vendor")
    assert messages_of(response) == ["Bill BILL-1 is released to pay by your override."]
    held_bill.refresh_from_db()
    assert held_bill.release_override_reason == "Prepayment agreed with the vendor"
    assert held_bill.release_override_by == mona
    case = Discrepancy.objects.get(code="BILL_BEFORE_RECEIPT")
    assert case.state == Discrepancy.State.RESOLVED
    assert case.resolution_code == "accepted_as_is"
    assert case.resolved_by == mona
    event = AuditEvent.objects.get(action="vendor_bill.release_overridden")
    assert event.before == {"release_to_pay": "no"}
    assert event.after == {
        "release_to_pay": "yes",
        "codes": ["BILL_BEFORE_RECEIPT"],
        "resolved_cases": [case.pk],
    }
    assert event.reason == "Prepayment agreed with the vendor"
    assert 'data-testid="override-note"' in response.content.decode()


def test_release_needs_reason(held_bill, mona):
    response = post_release(mona, "  ")
    assert messages_of(response) == [
        "Releasing a held bill needs a reason: say why, for the audit trail."
    ]
    held_bill.refresh_from_db()
    assert held_bill.release_override_at is None


def test_release_reason_has_a_maximum_length(held_bill, mona):
    response = post_release(mona, "x" * 201)
    assert messages_of(response) == [
        "The reason has 201 characters; shorten it to 200 or fewer."
    ]


def test_release_is_manager_work(held_bill, fiona):
    assert post_release(fiona, "Vendor is reliable").status_code == 403
    held_bill.refresh_from_db()
    assert held_bill.release_override_at is None


def test_release_of_matching_bill_is_rejected(purchase_order, mona):
    receive(purchase_order, 1, "10")
    make_bill(purchase_order)
    response = post_release(mona, "Just in case")
    assert messages_of(response) == [
        "Bill BILL-1 already matches its purchase order and receipts, so it is "
        "released without an override."
    ]


def test_release_twice_is_rejected(held_bill, mona):
    post_release(mona, "Prepayment agreed")
    response = post_release(mona, "Again")
    day = VendorBill.objects.get().release_override_at.strftime("%Y-%m-%d")
    assert messages_of(response) == [
        f"Bill BILL-1 was already released by override on {day}: Prepayment agreed"
    ]


@pytest.fixture
def repeated_reference(held_bill, purchase_order):
    bill = make_bill(purchase_order, "BILL-2", qty="0", ref=" el-77 ")
    run_matching(company=purchase_order.company, as_of=AS_OF)
    return bill


def post_keep(person, number, reason):
    url = f"/reconciliation/work/purchasing/bills/{number}/keep/"
    return signed_in(person).post(url, {"reason": reason}, follow=True)


def test_clerk_keeps_bill_with_repeated_reference(repeated_reference, fiona):
    case = Discrepancy.objects.get(code="DUPLICATE_INVOICE")
    page = signed_in(fiona).get("/reconciliation/work/purchasing/bills/BILL-2/")
    assert page.context["comparison"].duplicates == [
        VendorBill.objects.get(number="BILL-1")
    ]
    assert page.context["may_keep_duplicate"] is True

    response = post_keep(fiona, "BILL-2", "Vendor restarted its numbering")

    assert messages_of(response) == [
        "Bill BILL-2 is kept; its repeated reference is recorded as checked."
    ]
    repeated_reference.refresh_from_db()
    assert repeated_reference.duplicate_override_reason == (
        "Vendor restarted its numbering"
    )
    case.refresh_from_db()
    assert case.state == Discrepancy.State.RESOLVED
    assert case.resolved_by == fiona
    event = AuditEvent.objects.get(action="vendor_bill.duplicate_kept")
    assert event.after == {
        "duplicate_override_reason": "Vendor restarted its numbering",
        "same_reference_as": ["BILL-1"],
        "resolved_cases": [case.pk],
    }
    run_matching(company=repeated_reference.company, as_of=AS_OF)
    assert not Discrepancy.objects.filter(
        code="DUPLICATE_INVOICE", state=Discrepancy.State.OPEN
    ).exists()


def test_keep_without_duplicate_is_rejected(held_bill, fiona):
    response = post_keep(fiona, "BILL-1", "Looks fine")
    assert messages_of(response) == [
        "No other posted bill of Exotic Liquids has supplier reference 'EL-77', "
        "so there is nothing to override."
    ]


def test_keep_needs_reason(repeated_reference, fiona):
    response = post_keep(fiona, "BILL-2", "")
    assert messages_of(response) == [
        "Keeping a bill with a repeated reference needs a reason: say why, for "
        "the audit trail."
    ]
    repeated_reference.refresh_from_db()
    assert repeated_reference.duplicate_override_reason == ""


def test_keep_is_not_warehouse_work(repeated_reference, wanda):
    assert post_keep(wanda, "BILL-2", "Fine").status_code == 403


def test_keep_on_cancelled_bill_is_rejected(repeated_reference, fiona):
    VendorBill.objects.filter(pk=repeated_reference.pk).update(
        state=VendorBill.State.CANCELLED
    )
    response = post_keep(fiona, "BILL-2", "Fine")
    assert messages_of(response) == [
        "Bill BILL-2 is cancelled: only a posted bill can be released or kept."
    ]


def test_list_query_count_is_fixed(three_orders, fiona, company, vendor):
    client = signed_in(fiona)
    client.get(LIST_URL)
    with CaptureQueriesContext(connection) as three:
        client.get(LIST_URL)
    for number in ("PO-2001", "PO-2002", "PO-2003"):
        PurchaseOrder.objects.create(
            company=company,
            number=number,
            vendor=vendor,
            currency_id="USD",
            order_date=date(2024, 3, 3),
            promised_date=date(2099, 12, 31),
        )
    with CaptureQueriesContext(connection) as six:
        response = client.get(LIST_URL)
    assert len(response.context["rows"]) == 6
    assert len(six) == len(three)


def test_manager_may_keep_repeated_reference(repeated_reference, mona):
    response = post_keep(mona, "BILL-2", "Checked with the vendor")
    assert messages_of(response) == [
        "Bill BILL-2 is kept; its repeated reference is recorded as checked."
    ]


def test_bill_page_offers_forms_by_role(repeated_reference, wanda, fiona, mona):
    url = "/reconciliation/work/purchasing/bills/BILL-2/"
    offered = {
        person.username: (
            response.context["may_override"],
            response.context["may_keep_duplicate"],
        )
        for person in (wanda, fiona, mona)
        for response in [signed_in(person).get(url)]
    }
    assert offered == {
        "wanda": (False, False),
        "fiona": (False, True),
        "mona": (True, True),
    }


# Duplicate bills and price variances in the three-way match


@pytest.fixture
def billed_twice(purchase_order):
    """BILL-1 bills the 10 units received; BILL-2 repeats it with its reference."""
    receive(purchase_order, 1, "10")
    make_bill(purchase_order)
    make_bill(purchase_order, "BILL-2", ref=" el-77 ")
    run_matching(company=purchase_order.company, as_of=AS_OF)
    return purchase_order


def test_duplicate_bill_counts_once(billed_twice):
    codes = open_codes(billed_twice.company)
    match = MatchGroup.objects.get(key=f"P2P:line:{line(billed_twice, 1).pk}")

    assert "DUPLICATE_INVOICE" in codes
    assert "BILL_QTY_OVER_RECEIVED" not in codes
    assert match.outcome == MatchGroup.Outcome.CLEAN
    assert match.compared["billed"] == "10.0000"


def test_duplicate_bill_page_is_exception(billed_twice):
    original = compare_bill(VendorBill.objects.get(number="BILL-1"))
    duplicate = compare_bill(VendorBill.objects.get(number="BILL-2"))

    assert original.release == Release.YES
    assert duplicate.release == Release.EXCEPTION
    assert original.lines[0].figures is not None
    assert original.lines[0].figures.billed == Decimal("10")


def test_kept_duplicate_counts_twice(billed_twice):
    VendorBill.objects.filter(number="BILL-2").update(
        duplicate_override_reason="Vendor restarted its numbering"
    )

    run_matching(company=billed_twice.company, as_of=AS_OF)

    assert "BILL_QTY_OVER_RECEIVED" in open_codes(billed_twice.company)
    kept = compare_bill(VendorBill.objects.get(number="BILL-2"))
    assert kept.release == Release.EXCEPTION
    assert kept.lines[0].codes == ["BILL_QTY_OVER_RECEIVED"]


def test_price_variance_match_is_exception(purchase_order):
    receive(purchase_order, 1, "10")
    make_bill(purchase_order, price="18.50")

    run_matching(company=purchase_order.company, as_of=AS_OF)

    match = MatchGroup.objects.get(key=f"P2P:line:{line(purchase_order, 1).pk}")
    assert match.outcome == MatchGroup.Outcome.EXCEPTION
    assert match.compared["price_variances"] == [
        {
            "bill": "BILL-1",
            "ordered_price": "18.0000",
            "billed_price": "18.5000",
            "qty": "10.0000",
            "amount": "5.00",
            "currency": "USD",
        }
    ]
    assert match.residual == Decimal("5.00")
    assert match.unit == "USD"
