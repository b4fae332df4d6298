"""Every discrepancy code, each from a small hand-built case.

Each test builds the least that shows one fault and checks the case the
matching pass stores: code, severity, owner role, the due time its severity
gives, the values compared and, for a rule that settles itself, its state.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from accounts.models import Role
from reconciliation.matching import run_matching
from reconciliation.models import (
    Company,
    Currency,
    Discrepancy,
    DiscrepancyCode,
    GoodsReceipt,
    GoodsReceiptLine,
    Invoice,
    InvoiceLine,
    PurchaseOrder,
    PurchaseOrderLine,
    ReturnAuthorization,
    ReturnLine,
    SalesOrder,
    Shipment,
    ShipmentLine,
    VendorBill,
    VendorBillLine,
)
from reconciliation.services import allocate_payment, refresh_order
from reconciliation.taxonomy import CONTROL_POINTS, RULES, TAXONOMY
from reconciliation.tests.factories import (
    PROMISED_DATE,
    CompanyFactory,
    PartyFactory,
    PaymentFactory,
    ProductFactory,
    create_invoice,
    create_order,
    create_payment,
    create_shipment,
)

pytestmark = pytest.mark.django_db

AS_OF = date(2024, 6, 30)
SHIP_AS_OF = date(2024, 3, 22)
DUE_DAYS = {"high": 1, "medium": 3, "low": 10}


@pytest.fixture(autouse=True)
def _pinned_settings(settings):
    settings.RECONCILIATION_LATE_DAYS = 0
    settings.RECONCILIATION_PAYMENT_TOLERANCE = "0.01"
    settings.RECONCILIATION_CASE_DUE_DAYS = DUE_DAYS


def the_case(company, code):
    rows = list(Discrepancy.objects.filter(company=company, code=code))
    assert len(rows) == 1, [row.code for row in rows]
    row = rows[0]
    rule = RULES[code]
    assert row.severity == rule.severity
    assert row.owner_role == rule.owner_role
    assert row.control_point == rule.control_point
    assert row.rule == rule.name
    assert row.due_at is not None
    days = (row.due_at.date() - row.created_at.date()).days
    assert days == DUE_DAYS[row.severity] + 1
    return row


def codes(company):
    rows = Discrepancy.objects.filter(company=company).order_by("code")
    return sorted({row.code for row in rows})


# The taxonomy table itself


def test_every_code_has_one_rule():
    assert sorted(RULES) == sorted(DiscrepancyCode.values)
    assert len(TAXONOMY) == len(DiscrepancyCode.values)


def test_rules_name_known_roles_and_points():
    roles = {Role.WAREHOUSE, Role.SALES_REP, Role.FINANCE_CLERK}
    for rule in TAXONOMY:
        assert rule.owner_role in roles, rule.code
        assert rule.control_point in CONTROL_POINTS, rule.code
        assert rule.severity in DUE_DAYS, rule.code
        assert rule.name.endswith("@1"), rule.code


def test_money_without_goods_is_high():
    high = sorted(rule.code for rule in TAXONOMY if rule.severity == "high")
    assert high == [
        "BILL_NO_PO",
        "BILL_QTY_OVER_RECEIVED",
        "DUPLICATE_INVOICE",
        "MISSING_PAYMENT",
        "PAYMENT_NO_ORDER",
    ]


# A: order to shipment


def test_not_shipped():
    order = create_order(lines=[("4", "5.00")])
    run_matching(company=order.company, as_of=SHIP_AS_OF)
    row = the_case(order.company, "NOT_SHIPPED")
    assert row.difference == Decimal(-4)


def test_short_ship():
    order = create_order(lines=[("10", "5.00")])
    create_shipment(order=order, quantities={1: "6"})
    run_matching(company=order.company, as_of=SHIP_AS_OF)
    assert codes(order.company) == ["SHORT_SHIP"]
    assert the_case(order.company, "SHORT_SHIP").difference == Decimal(-4)


def test_over_ship():
    order = create_order(lines=[("10", "5.00")])
    create_shipment(order=order, quantities={1: "11"})
    run_matching(company=order.company, as_of=SHIP_AS_OF)
    assert codes(order.company) == ["OVER_SHIP"]
    assert the_case(order.company, "OVER_SHIP").difference == Decimal(1)


def backordered(company=None):
    order = create_order(lines=[("10", "5.00")], company=company)
    first = create_shipment(order=order, quantities={1: "7"})
    create_shipment(
        order=order, quantities={1: "3"}, state=Shipment.State.DRAFT, backorder_of=first
    )
    return order


def test_partial_ship():
    order = backordered()
    run_matching(company=order.company, as_of=PROMISED_DATE)
    row = the_case(order.company, "PARTIAL_SHIP")
    order.refresh_from_db()
    assert row.state == Discrepancy.State.OPEN
    assert order.recon_status == "clean"


def test_backorder_open():
    order = backordered()
    run_matching(company=order.company, as_of=SHIP_AS_OF)
    assert codes(order.company) == ["BACKORDER_OPEN"]
    assert the_case(order.company, "BACKORDER_OPEN").difference == Decimal(-3)


def test_wrong_item():
    order = create_order(lines=[("5", "5.00")])
    shipment = Shipment.objects.create(
        company=order.company, order=order, number="SH-W", shipped_at=PROMISED_DATE
    )
    other = ProductFactory.create(company=order.company, sku="SKU-OTHER")
    ShipmentLine.objects.create(
        shipment=shipment,
        order_line=order.lines.get(),
        product=other,
        qty_shipped=Decimal(5),
    )
    refresh_order(order=order)
    run_matching(company=order.company, as_of=SHIP_AS_OF)
    row = the_case(order.company, "WRONG_ITEM")
    assert row.shipment == shipment
    assert row.actual_value == Decimal(5)
    assert "sent 5 units of SKU-OTHER" in row.explanation
    # The wrong product does not count as shipped for the line.
    assert codes(order.company) == ["NOT_SHIPPED", "WRONG_ITEM"]


def test_late_ship():
    order = create_order()
    create_shipment(order=order, shipped_at=date(2024, 3, 18))
    run_matching(company=order.company, as_of=SHIP_AS_OF)
    assert the_case(order.company, "LATE_SHIP").actual_value == Decimal(3)


def test_late_delivery():
    order = create_order()
    create_shipment(
        order=order,
        expected_delivery=date(2024, 3, 17),
        delivered_at=date(2024, 3, 20),
        state=Shipment.State.DELIVERED,
    )
    run_matching(company=order.company, as_of=SHIP_AS_OF)
    assert codes(order.company) == ["LATE_DELIVERY"]
    assert the_case(order.company, "LATE_DELIVERY").actual_value == Decimal(3)


# B: shipment to customer receipt


def confirmed(received, damaged="0"):
    order = create_order(lines=[("10", "5.00")])
    shipment = create_shipment(order=order)
    ShipmentLine.objects.filter(shipment=shipment).update(
        qty_received=Decimal(received), qty_damaged=Decimal(damaged)
    )
    run_matching(company=order.company, as_of=SHIP_AS_OF)
    return order


def test_not_received():
    order = confirmed("8")
    assert codes(order.company) == ["NOT_RECEIVED"]
    row = the_case(order.company, "NOT_RECEIVED")
    assert row.explanation.startswith("The customer confirmed 8 of 10 units shipped")
    assert row.expected_value == Decimal(10)
    assert row.actual_value == Decimal(8)
    assert row.difference == Decimal(-2)


def test_damaged():
    order = confirmed("9", damaged="1")
    assert codes(order.company) == ["DAMAGED"]
    case = the_case(order.company, "DAMAGED")
    assert case.actual_value == Decimal(1)
    assert case.explanation.startswith("The customer reported 1 of 10 units damaged")


# C: order and shipment to invoice


def invoiced(**invoice_fields):
    order = create_order(lines=[("10", "1.00")])
    create_shipment(order=order)
    invoice = create_invoice(order=order, **invoice_fields)
    return order, invoice


def test_invoice_qty_mismatch():
    order, invoice = invoiced(quantities={1: "12"})
    create_payment(invoice=invoice, amount="12.00")
    run_matching(company=order.company, as_of=AS_OF)
    assert codes(order.company) == ["INVOICE_QTY_MISMATCH"]
    assert the_case(order.company, "INVOICE_QTY_MISMATCH").difference == Decimal(2)


def test_price_mismatch():
    order, invoice = invoiced(unit_prices={1: "1.20"})
    create_payment(invoice=invoice, amount="12.00")
    run_matching(company=order.company, as_of=AS_OF)
    assert codes(order.company) == ["PRICE_MISMATCH"]
    assert the_case(order.company, "PRICE_MISMATCH").difference == Decimal("0.2")


def taxed(tax_amount):
    order, invoice = invoiced()
    InvoiceLine.objects.filter(invoice=invoice).update(
        tax_rate=Decimal(20), tax_amount=Decimal(tax_amount)
    )
    refresh_order(order=order)
    invoice.refresh_from_db()
    create_payment(invoice=invoice, amount=str(invoice.amount_total))
    run_matching(company=order.company, as_of=AS_OF)
    return order, invoice


def test_tax_mismatch():
    order, invoice = taxed("2.50")
    assert invoice.amount_total == Decimal("12.50")
    assert codes(order.company) == ["TAX_MISMATCH"]
    row = the_case(order.company, "TAX_MISMATCH")
    assert row.expected_value == Decimal("2.00")
    assert row.difference == Decimal("0.50")


def test_tax_rounding_is_settled():
    order, _ = taxed("2.01")
    row = the_case(order.company, "ROUNDING")
    order.refresh_from_db()
    assert row.state == Discrepancy.State.RESOLVED
    assert row.resolution_code == "accepted_as_is"
    assert row.difference == Decimal("0.01")
    assert order.recon_status == "in_tolerance"


def test_freight_mismatch():
    order, invoice = invoiced()
    SalesOrder.objects.filter(pk=order.pk).update(freight=Decimal("10.00"))
    Invoice.objects.filter(pk=invoice.pk).update(freight_amount=Decimal("15.00"))
    refresh_order(order=order)
    invoice.refresh_from_db()
    assert invoice.amount_total == Decimal("25.00")
    create_payment(invoice=invoice, amount="25.00")
    run_matching(company=order.company, as_of=AS_OF)
    assert codes(order.company) == ["FREIGHT_MISMATCH"]
    assert the_case(order.company, "FREIGHT_MISMATCH").difference == Decimal(5)


def test_duplicate_invoice():
    order, invoice = invoiced(reference="PO-1")
    create_payment(invoice=invoice, amount="10.00")
    create_invoice(order=order, reference="po-1 ")
    run_matching(company=order.company, as_of=AS_OF)
    assert codes(order.company) == ["DUPLICATE_INVOICE"]
    assert the_case(order.company, "DUPLICATE_INVOICE").actual_value == Decimal(10)


def test_uninvoiced_delivery():
    order = create_order(lines=[("3", "1.00")])
    create_shipment(order=order)
    run_matching(company=order.company, as_of=PROMISED_DATE + timedelta(days=7))
    assert codes(order.company) == []

    run_matching(company=order.company, as_of=PROMISED_DATE + timedelta(days=8))
    row = the_case(order.company, "UNINVOICED_DELIVERY")
    assert row.expected_value == Decimal(3)
    assert row.explanation.endswith("and not invoiced after 7 days.")


# D: invoice to payment


def test_missing_payment():
    order, _ = invoiced()
    run_matching(company=order.company, as_of=AS_OF)
    assert codes(order.company) == ["MISSING_PAYMENT"]
    assert the_case(order.company, "MISSING_PAYMENT").difference == Decimal(-10)


def test_short_payment():
    order, invoice = invoiced()
    create_payment(invoice=invoice, amount="7.00")
    run_matching(company=order.company, as_of=AS_OF)
    assert codes(order.company) == ["SHORT_PAYMENT"]
    assert the_case(order.company, "SHORT_PAYMENT").difference == Decimal(-3)


def test_over_payment():
    order, invoice = invoiced()
    create_payment(invoice=invoice, amount="12.00")
    run_matching(company=order.company, as_of=AS_OF)
    assert codes(order.company) == ["OVER_PAYMENT"]
    assert the_case(order.company, "OVER_PAYMENT").difference == Decimal(2)


def test_payment_rounding_is_written_off():
    order, invoice = invoiced()
    create_payment(invoice=invoice, amount="9.99")
    run_matching(company=order.company, as_of=AS_OF)
    row = the_case(order.company, "ROUNDING")
    invoice.refresh_from_db()
    assert row.state == Discrepancy.State.RESOLVED
    assert row.resolution_code == "write_off"
    assert invoice.amount_written_off == Decimal("0.01")
    assert invoice.amount_residual == Decimal(0)


def test_unapplied_payment():
    company = CompanyFactory.create()
    payer = PartyFactory.create(company=company)
    payment = PaymentFactory.create(
        company=company, party=payer, amount=Decimal("75.00"), reference="no idea"
    )
    run_matching(company=company, as_of=AS_OF)
    row = the_case(company, "UNAPPLIED_PAYMENT")
    assert row.payment == payment
    assert row.order is None
    assert row.difference == Decimal("75.00")


@pytest.mark.parametrize("spelling", [str, lambda number: f" {number.lower()}."])
def test_unapplied_payment_names_the_duplicate_that_holds_it(spelling):
    order, original = invoiced(reference="PO-7")
    create_payment(invoice=original, amount="10.00")
    copy = create_invoice(order=order, reference="PO-7")
    payment = PaymentFactory.create(
        company=order.company,
        party=copy.customer,
        currency=copy.currency,
        amount=Decimal("10.00"),
        reference=spelling(copy.number),
    )
    run_matching(company=order.company, as_of=AS_OF)
    row = the_case(order.company, "UNAPPLIED_PAYMENT")
    assert row.payment == payment
    assert row.explanation.endswith(
        f"Its reference names invoice {copy.number}, which is held as a possible "
        f"duplicate of {original.number}: decide the duplicate-invoice case "
        "first, and the next check applies the payment."
    )


def test_payment_no_order():
    order, invoice = invoiced()
    create_payment(invoice=invoice, amount="10.00")
    SalesOrder.objects.filter(pk=order.pk).update(state=SalesOrder.State.CANCELLED)
    run_matching(company=order.company, as_of=AS_OF)
    assert codes(order.company) == ["PAYMENT_NO_ORDER"]
    assert the_case(order.company, "PAYMENT_NO_ORDER").actual_value == Decimal(10)


def foreign_invoice(payment_rates):
    """Invoice USD 1,000 at 0.90 EUR per USD, paid in parts at other rates."""
    company = Company.objects.create(
        name="Euro company", base_currency=Currency.objects.get(code="EUR")
    )
    usd = Currency.objects.get(code="USD")
    customer = PartyFactory.create(company=company, currency=usd)
    order = create_order(lines=[("1", "1000.00")], customer=customer, currency=usd)
    create_shipment(order=order)
    invoice = create_invoice(order=order, currency=usd, fx_rate=Decimal("0.90"))
    for amount, rate in payment_rates:
        payment = PaymentFactory.create(
            company=company,
            party=customer,
            currency=usd,
            amount=Decimal(amount),
            fx_rate=Decimal(rate),
        )
        allocate_payment(payment=payment, invoice=invoice)
    run_matching(company=company, as_of=AS_OF)
    invoice.refresh_from_db()
    return company, invoice


def test_fx_difference_inside_tolerance_is_booked():
    company, invoice = foreign_invoice([("600.00", "0.92"), ("400.00", "0.92")])
    row = the_case(company, "FX_DIFFERENCE")
    assert row.state == Discrepancy.State.RESOLVED
    assert row.unit == "EUR"
    assert row.difference == Decimal("20.00")
    assert invoice.amount_residual == Decimal(0)
    assert invoice.payment_state == Invoice.PaymentState.PAID


def test_fx_difference_beyond_tolerance_is_open():
    company, _ = foreign_invoice([("1000.00", "0.99")])
    row = the_case(company, "FX_DIFFERENCE")
    assert row.state == Discrepancy.State.OPEN
    assert row.difference == Decimal("90.00")


# F: returns


def returned(*, credit_qty=None, refund_requested=False):
    order, invoice = invoiced()
    create_payment(invoice=invoice, amount="10.00")
    authorization = ReturnAuthorization.objects.create(
        company=order.company,
        number="RMA-1",
        order=order,
        state=ReturnAuthorization.State.INSPECTED,
        received_at=date(2024, 4, 1),
    )
    line = order.lines.get()
    ReturnLine.objects.create(
        authorization=authorization,
        order_line=line,
        qty_received=Decimal(2),
        qty_accepted=Decimal(2),
    )
    if credit_qty is not None:
        create_invoice(
            order=order,
            kind=Invoice.Kind.CREDIT_NOTE,
            quantities={1: credit_qty},
            invoice_date=date(2024, 4, 2),
            refund_requested=refund_requested,
        )
    run_matching(company=order.company, as_of=AS_OF)
    return order


def test_return_not_credited():
    order = returned()
    assert codes(order.company) == ["RETURN_NOT_CREDITED"]
    row = the_case(order.company, "RETURN_NOT_CREDITED")
    assert row.expected_value == Decimal(2)
    assert row.actual_value == Decimal(0)


def test_credited_return_is_clean():
    order = returned(credit_qty="2")
    assert codes(order.company) == []


def test_credit_not_refunded():
    order = returned(credit_qty="2", refund_requested=True)
    assert codes(order.company) == ["CREDIT_NOT_REFUNDED"]
    assert the_case(order.company, "CREDIT_NOT_REFUNDED").difference == Decimal(-2)


# The purchase side: three-way match


def purchase(*, received="0", rejected="0", billed=None, price="5.00", promised=None):
    company = CompanyFactory.create()
    vendor = PartyFactory.create(company=company, name="Acme GmbH")
    order = PurchaseOrder.objects.create(
        company=company,
        number="PO-1",
        vendor=vendor,
        currency=company.base_currency,
        order_date=date(2024, 3, 1),
        promised_date=promised or date(2024, 12, 31),
    )
    line = PurchaseOrderLine.objects.create(
        order=order,
        line_no=1,
        product=ProductFactory.create(company=company),
        qty_ordered=Decimal(10),
        unit_price=Decimal("5.00"),
    )
    if received != "0":
        receipt = GoodsReceipt.objects.create(
            company=company,
            number="GR-1",
            purchase_order=order,
            received_at=date(2024, 3, 10),
        )
        GoodsReceiptLine.objects.create(
            receipt=receipt,
            order_line=line,
            qty_received=Decimal(received),
            qty_rejected=Decimal(rejected),
        )
    if billed is not None:
        bill = VendorBill.objects.create(
            company=company,
            number="BILL-1",
            vendor=vendor,
            purchase_order=order,
            supplier_ref="INV-2024-001",
            currency=company.base_currency,
            bill_date=date(2024, 3, 12),
        )
        VendorBillLine.objects.create(
            bill=bill,
            order_line=line,
            product=line.product,
            qty=Decimal(billed),
            unit_price=Decimal(price),
        )
    run_matching(company=company, as_of=AS_OF)
    return company


def test_three_way_match_clean():
    company = purchase(received="10", billed="10")
    assert codes(company) == []


def test_bill_before_receipt():
    company = purchase(billed="10")
    assert codes(company) == ["BILL_BEFORE_RECEIPT"]
    assert the_case(company, "BILL_BEFORE_RECEIPT").actual_value == Decimal(10)


def test_bill_qty_over_received():
    company = purchase(received="6", billed="10", promised=date(2024, 12, 31))
    assert codes(company) == ["BILL_QTY_OVER_RECEIVED"]
    row = the_case(company, "BILL_QTY_OVER_RECEIVED")
    assert row.expected_value == Decimal(6)
    assert row.difference == Decimal(4)


def test_bill_price_variance():
    company = purchase(received="10", billed="10", price="5.50")
    assert codes(company) == ["BILL_PRICE_VARIANCE"]
    assert the_case(company, "BILL_PRICE_VARIANCE").difference == Decimal("0.5")


def test_bill_no_po():
    company = CompanyFactory.create()
    vendor = PartyFactory.create(company=company)
    bill = VendorBill.objects.create(
        company=company,
        number="BILL-9",
        vendor=vendor,
        currency=company.base_currency,
        bill_date=date(2024, 3, 12),
    )
    VendorBillLine.objects.create(
        bill=bill,
        product=ProductFactory.create(company=company),
        qty=Decimal(2),
        unit_price=Decimal("7.50"),
    )
    run_matching(company=company, as_of=AS_OF)
    row = the_case(company, "BILL_NO_PO")
    assert row.vendor_bill == bill
    assert row.actual_value == Decimal("15.00")


def test_receipt_short():
    company = purchase(received="6", promised=date(2024, 4, 1))
    assert codes(company) == ["RECEIPT_SHORT"]
    assert the_case(company, "RECEIPT_SHORT").difference == Decimal(-4)


def test_receipt_rejected():
    company = purchase(received="10", rejected="2")
    assert codes(company) == ["RECEIPT_REJECTED"]
    assert the_case(company, "RECEIPT_REJECTED").actual_value == Decimal(2)
