"""Purchase orders, goods receipts and vendor bills of the demo company.

Northwind has suppliers and the supplier of each product, but no purchases.
The loader derives 36 purchase orders from them, one every second day in the
ten weeks before Northwind's last day, with their goods receipts and vendor
bills. It injects four three-way-match faults with the loader's
``random.Random``: a receipt short of the order that the vendor billed in
full, a bill priced above the order, a bill before any receipt, and a bill
entered twice. ``docs/demo-data.md`` lists every rule and number.
"""

import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from reconciliation.models import (
    Company,
    GoodsReceipt,
    GoodsReceiptLine,
    Party,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    VendorBill,
    VendorBillLine,
)
from reconciliation.money import quantize_money

CURRENCY = "USD"
# Northwind day of the first purchase order. One more follows every
# ORDER_INTERVAL, so the last is placed the day before Northwind's last day.
FIRST_ORDER_DAY = date(1998, 4, 20)
ORDER_INTERVAL = timedelta(days=2)
ORDER_COUNT = 36
LEAD_TIME = timedelta(days=14)
# An order is sized to about a month of the product's sales in Northwind's
# 1998 order lines, which run from 1 January to 6 May, about four months.
SALES_YEAR = "1998-"
SALES_MONTHS = 4
ORDER_MULTIPLE = 10
# Northwind has no cost prices, so Company X buys at this share of the list price.
PURCHASE_PRICE_SHARE = Decimal("0.70")
# The last received orders, whose bills have not arrived by the load day.
UNBILLED_RECEIVED = 2
FIRST_ORDER_NUMBER = 1001
FIRST_BILL_NUMBER = 1001

TableReader = Callable[[str], list[dict[str, str]]]


@dataclass
class PlannedOrder:
    """A purchase order before it is written, with Northwind's dates."""

    index: int
    supplier_id: str
    order_day: date
    product_ids: list[str]

    @property
    def number(self) -> str:
        return f"PUR-{FIRST_ORDER_NUMBER + self.index}"

    @property
    def promised_day(self) -> date:
        return self.order_day + LEAD_TIME


@dataclass
class PurchaseMix:
    """The purchase orders chosen for each injected fault, by plan index."""

    received: list[int] = field(default_factory=list)
    billed: list[int] = field(default_factory=list)
    # Order, line number and the quantity received on that line.
    short_receipt: tuple[int, int, Decimal] = (0, 0, Decimal(0))
    # Order, line number and the percent the bill adds to the order price.
    price_variance: tuple[int, int, int] = (0, 0, 0)
    billed_before_receipt: int = 0
    duplicate_bill: int = 0


def create_purchases(
    *,
    company: Company,
    products: dict[str, Product],
    read_table: TableReader,
    shift: timedelta,
    as_of: date,
    rng: random.Random,
) -> PurchaseMix:
    """Create the vendors, purchase orders, goods receipts and vendor bills.

    ``products`` maps each Northwind product id to its loaded product, and
    every Northwind date moves by ``shift`` to keep its distance from the
    load day ``as_of``. The caller runs the matching pass afterwards.
    """
    northwind_last_day = as_of - shift
    plans = plan_orders(read_table("products"), rng)
    quantities = order_quantities(read_table("order_details"), read_table("orders"))
    mix = choose_purchase_mix(plans, quantities, northwind_last_day, rng)

    suppliers = {row["supplier_id"]: row for row in read_table("suppliers")}
    vendors = _create_vendors(company, suppliers, plans)
    orders, lines = _create_orders(company, plans, vendors, products, quantities, shift)
    _create_receipts(company, plans, mix, orders, lines, shift, rng)
    _create_bills(company, plans, mix, orders, lines, suppliers, shift, as_of, rng)
    return mix


def plan_orders(
    products: list[dict[str, str]], rng: random.Random
) -> list[PlannedOrder]:
    """Order from every supplier of a product still sold, then from some again.

    Each order covers all of its supplier's products that Northwind has not
    discontinued. Suppliers come in an order drawn by ``rng``, and the
    orders beyond the first round go to suppliers it samples.
    """
    active: dict[str, list[str]] = {}
    for row in products:
        if row["discontinued"] == "0":
            active.setdefault(row["supplier_id"], []).append(row["product_id"])
    suppliers = sorted(active, key=int)
    if len(suppliers) > ORDER_COUNT:
        raise ValueError(
            f"{len(suppliers)} suppliers sell active products, more than the "
            f"{ORDER_COUNT} purchase orders: raise ORDER_COUNT."
        )
    sequence = list(suppliers)
    rng.shuffle(sequence)
    sequence += rng.sample(suppliers, ORDER_COUNT - len(suppliers))
    return [
        PlannedOrder(
            index=index,
            supplier_id=supplier,
            order_day=FIRST_ORDER_DAY + index * ORDER_INTERVAL,
            product_ids=sorted(active[supplier], key=int),
        )
        for index, supplier in enumerate(sequence)
    ]


def order_quantities(
    order_details: list[dict[str, str]], orders: list[dict[str, str]]
) -> dict[str, Decimal]:
    """Return the quantity to buy of each product: a month of its 1998 sales.

    The quantity is rounded up to a multiple of ten, and is at least ten.
    """
    in_year = {
        row["order_id"] for row in orders if row["order_date"].startswith(SALES_YEAR)
    }
    sold: Counter[str] = Counter()
    for row in order_details:
        if row["order_id"] in in_year:
            sold[row["product_id"]] += int(row["quantity"])
    products = {row["product_id"] for row in order_details}
    return {
        product: Decimal(
            max(
                ORDER_MULTIPLE,
                math.ceil(sold[product] / SALES_MONTHS / ORDER_MULTIPLE)
                * ORDER_MULTIPLE,
            )
        )
        for product in products
    }


def _fewest_lines(plans: list[PlannedOrder], indexes: list[int]) -> list[int]:
    fewest = min(len(plans[index].product_ids) for index in indexes)
    return [index for index in indexes if len(plans[index].product_ids) == fewest]


def choose_purchase_mix(
    plans: list[PlannedOrder],
    quantities: dict[str, Decimal],
    northwind_last_day: date,
    rng: random.Random,
) -> PurchaseMix:
    """Pick the orders that carry each injected three-way-match fault.

    Orders promised by Northwind's last day are received, and the rest wait
    for their goods. The duplicate bill and the bill before receipt go to an
    order with the fewest lines, because the pass reports their quantity on
    every line of the order.
    """
    mix = PurchaseMix()
    mix.received = [p.index for p in plans if p.promised_day <= northwind_last_day]
    waiting = [p.index for p in plans if p.promised_day > northwind_last_day]
    mix.billed = mix.received[:-UNBILLED_RECEIVED]

    mix.duplicate_bill = rng.choice(_fewest_lines(plans, mix.billed))
    rest = [index for index in mix.billed if index != mix.duplicate_bill]
    short_order = rng.choice(rest)
    short_line = rng.randint(1, len(plans[short_order].product_ids))
    ordered = quantities[plans[short_order].product_ids[short_line - 1]]
    missing = rng.randint(1, int(ordered) // 2)
    mix.short_receipt = (short_order, short_line, ordered - missing)

    rest = [index for index in rest if index != short_order]
    price_order = rng.choice(rest)
    price_line = rng.randint(1, len(plans[price_order].product_ids))
    mix.price_variance = (price_order, price_line, rng.randint(5, 15))

    mix.billed_before_receipt = rng.choice(_fewest_lines(plans, waiting))
    return mix


def _create_vendors(
    company: Company, suppliers: dict[str, dict[str, str]], plans: list[PlannedOrder]
) -> dict[str, Party]:
    """Create one party per supplier ordered from, coded ``SUP-<id>``."""
    used = sorted({plan.supplier_id for plan in plans}, key=int)
    vendors = {
        supplier_id: Party(
            company=company,
            code=f"SUP-{int(supplier_id):02d}",
            name=suppliers[supplier_id]["company_name"],
            country=suppliers[supplier_id]["country"],
            city=suppliers[supplier_id]["city"],
            currency_id=CURRENCY,
        )
        for supplier_id in used
    }
    Party.objects.bulk_create(list(vendors.values()))
    return vendors


def _create_orders(
    company: Company,
    plans: list[PlannedOrder],
    vendors: dict[str, Party],
    products: dict[str, Product],
    quantities: dict[str, Decimal],
    shift: timedelta,
) -> tuple[list[PurchaseOrder], list[list[PurchaseOrderLine]]]:
    orders = [
        PurchaseOrder(
            company=company,
            number=plan.number,
            vendor=vendors[plan.supplier_id],
            currency_id=CURRENCY,
            order_date=plan.order_day + shift,
            promised_date=plan.promised_day + shift,
        )
        for plan in plans
    ]
    PurchaseOrder.objects.bulk_create(orders)
    lines = [
        [
            PurchaseOrderLine(
                order=order,
                line_no=line_no,
                product=products[product_id],
                qty_ordered=quantities[product_id],
                unit_price=quantize_money(
                    products[product_id].list_price * PURCHASE_PRICE_SHARE,
                    minor_units=2,
                ),
            )
            for line_no, product_id in enumerate(plan.product_ids, start=1)
        ]
        for plan, order in zip(plans, orders, strict=True)
    ]
    PurchaseOrderLine.objects.bulk_create([line for row in lines for line in row])
    return orders, lines


def _create_receipts(
    company: Company,
    plans: list[PlannedOrder],
    mix: PurchaseMix,
    orders: list[PurchaseOrder],
    lines: list[list[PurchaseOrderLine]],
    shift: timedelta,
    rng: random.Random,
) -> None:
    """Receive each order due by the last day in one receipt, 0 to 3 days early."""
    short_order, short_line, short_qty = mix.short_receipt
    receipts = {
        index: GoodsReceipt(
            company=company,
            # The numbering of purchase_work, so a later receipt is GR2.
            number=f"{orders[index].number}-GR1",
            purchase_order=orders[index],
            received_at=plans[index].promised_day
            - timedelta(days=rng.randint(0, 3))
            + shift,
        )
        for index in mix.received
    }
    GoodsReceipt.objects.bulk_create(list(receipts.values()))
    GoodsReceiptLine.objects.bulk_create(
        GoodsReceiptLine(
            receipt=receipt,
            order_line=line,
            qty_received=short_qty
            if (index, line.line_no) == (short_order, short_line)
            else line.qty_ordered,
        )
        for index, receipt in receipts.items()
        for line in lines[index]
    )


def _vendor_initials(name: str) -> str:
    """Return the initials of a vendor's name, for its invoice numbers."""
    letters = [word[0] for word in name.split() if word[0].isalpha()]
    return "".join(letters[:3]).upper()


def _create_bills(
    company: Company,
    plans: list[PlannedOrder],
    mix: PurchaseMix,
    orders: list[PurchaseOrder],
    lines: list[list[PurchaseOrderLine]],
    suppliers: dict[str, dict[str, str]],
    shift: timedelta,
    as_of: date,
    rng: random.Random,
) -> None:
    """Bill the billed orders, bill one waiting order early, then copy one bill.

    A bill bills every ordered quantity at the order price. That includes
    the short receipt, because its vendor bills what its delivery note
    lists. Bill dates follow the receipt dates, so the receipts are read back.
    """
    received_at = dict(
        GoodsReceipt.objects.filter(company=company).values_list(
            "purchase_order_id", "received_at"
        )
    )
    price_order, price_line, price_percent = mix.price_variance
    bills: list[VendorBill] = []
    bill_lines: list[VendorBillLine] = []
    for index in sorted([*mix.billed, mix.billed_before_receipt]):
        order = orders[index]
        plan = plans[index]
        if index == mix.billed_before_receipt:
            day = plan.order_day + shift + timedelta(days=rng.randint(1, 3))
        else:
            day = received_at[order.pk] + timedelta(days=rng.randint(0, 4))
        initials = _vendor_initials(suppliers[plan.supplier_id]["company_name"])
        bill = VendorBill(
            company=company,
            number=f"BILL-{FIRST_BILL_NUMBER + len(bills)}",
            vendor=order.vendor,
            purchase_order=order,
            supplier_ref=f"{initials}-{5000 + 10 * index + rng.randint(0, 9)}",
            currency_id=CURRENCY,
            bill_date=min(day, as_of),
        )
        bills.append(bill)
        for line in lines[index]:
            price = line.unit_price
            if (index, line.line_no) == (price_order, price_line):
                price = quantize_money(
                    price * (100 + price_percent) / 100, minor_units=2
                )
            bill_lines.append(
                VendorBillLine(
                    bill=bill,
                    order_line=line,
                    product=line.product,
                    qty=line.qty_ordered,
                    unit_price=price,
                )
            )

    # The copy is entered last, with the next number and the vendor's
    # reference typed again in lower case with a trailing space.
    original = next(
        bill for bill in bills if bill.purchase_order == orders[mix.duplicate_bill]
    )
    copy = VendorBill(
        company=company,
        number=f"BILL-{FIRST_BILL_NUMBER + len(bills)}",
        vendor=original.vendor,
        purchase_order=original.purchase_order,
        supplier_ref=f"{original.supplier_ref.lower()} ",
        currency_id=CURRENCY,
        bill_date=original.bill_date,
    )
    bill_lines += [
        VendorBillLine(
            bill=copy,
            order_line=line.order_line,
            product=line.product,
            qty=line.qty,
            unit_price=line.unit_price,
        )
        for line in bill_lines
        if line.bill is original
    ]
    VendorBill.objects.bulk_create([*bills, copy])
    VendorBillLine.objects.bulk_create(bill_lines)
