"""The discrepancies injected into the Northwind demo orders, chosen by seed.

Northwind itself supplies the unshipped orders and the late shipments. This
module picks, with the loader's ``random.Random``, the few orders that get a
short shipment, a price mismatch, a duplicate invoice, a short or missing
payment, or a one-cent residue. ``docs/demo-data.md`` lists the numbers.
"""

import random
from dataclasses import dataclass, field
from decimal import Decimal

from reconciliation.models import SalesOrderLine
from reconciliation.money import quantize_money

SHORT_PAYMENTS = 10
MISSING_PAYMENTS = 15


@dataclass
class Mix:
    """The orders chosen for each injected discrepancy, by Northwind order id."""

    short_ship: tuple[int, int, Decimal] = (0, 0, Decimal(0))  # order, line, qty
    price_mismatch: tuple[int, int] = (0, 0)  # order, line billed without discount
    duplicate: int = 0
    missing: set[int] = field(default_factory=set)
    short_paid: dict[int, int] = field(default_factory=dict)  # order -> percent paid
    cent_under: int = 0
    cent_over: int = 0


def choose_mix(
    *,
    orders: list[dict[str, str]],
    lines: dict[int, list[SalesOrderLine]],
    quoting: set[int],
    rng: random.Random,
) -> Mix:
    """Pick the orders that carry each injected discrepancy.

    The shipment and invoice faults go to orders that Northwind shipped on
    time, so each of them shows one discrepancy besides any payment finding.
    ``quoting`` contains the orders that carry the customer's own purchase
    order number, because the duplicate invoice retypes that reference.
    """
    mix = Mix()
    on_time = [
        int(row["order_id"])
        for row in orders
        if row["shipped_date"] and row["shipped_date"] <= row["required_date"]
    ]

    short_order = rng.choice(
        [o for o in on_time if any(line.qty_ordered >= 2 for line in lines[o])]
    )
    short_line = rng.choice([ln for ln in lines[short_order] if ln.qty_ordered >= 2])
    missing_qty = rng.randint(1, int(short_line.qty_ordered) // 2)
    mix.short_ship = (
        short_order,
        short_line.line_no,
        short_line.qty_ordered - missing_qty,
    )

    discounted = [
        o
        for o in on_time
        if o != short_order and any(line.discount_pct for line in lines[o])
    ]
    price_order = rng.choice(discounted)
    price_line = rng.choice([ln for ln in lines[price_order] if ln.discount_pct])
    mix.price_mismatch = (price_order, price_line.line_no)

    with_reference = [
        o for o in on_time if o not in (short_order, price_order) and o in quoting
    ]
    mix.duplicate = rng.choice(with_reference)
    picked = {short_order, price_order, mix.duplicate}

    _choose_payments(mix, orders, picked, rng)
    return mix


def _choose_payments(
    mix: Mix, orders: list[dict[str, str]], picked: set[int], rng: random.Random
) -> None:
    """Leave the latest invoices unpaid and pick short and one-cent payments."""
    shipped = sorted(
        (row["shipped_date"], int(row["order_id"]))
        for row in orders
        if row["shipped_date"]
    )
    candidates = [order_id for _, order_id in shipped if order_id not in picked]
    mix.missing = set(candidates[-MISSING_PAYMENTS:])

    rest = sorted(order_id for order_id in candidates if order_id not in mix.missing)
    for order_id in sorted(rng.sample(rest, SHORT_PAYMENTS)):
        mix.short_paid[order_id] = rng.randint(50, 95)
    remaining = [order_id for order_id in rest if order_id not in mix.short_paid]
    mix.cent_under, mix.cent_over = rng.sample(remaining, 2)


def payment_amount(order_id: int, total: Decimal, mix: Mix) -> Decimal:
    """Return what the customer paid on the order's invoice of ``total`` USD."""
    if order_id in mix.short_paid:
        paid = total * mix.short_paid[order_id] / 100
        return quantize_money(paid, minor_units=2)
    if order_id == mix.cent_under:
        return total - Decimal("0.01")
    if order_id == mix.cent_over:
        return total + Decimal("0.01")
    return total


@dataclass
class WaitingPayments:
    """The missing-payment orders whose payments no cash rule can place.

    Each value is a Northwind order id. The customers of these orders have no
    other open invoice, so the clerk sees only the invoices the payment pays.
    """

    part_paid: int = 0
    part_paid_percent: int = 0
    # Two orders of one customer, paid by one payment less a bank charge.
    paid_together: tuple[int, int] = (0, 0)
    # Paid in full from a bank account that names no customer.
    unknown_payer: int = 0


def choose_waiting_payments(
    *, orders: list[dict[str, str]], mix: Mix, rng: random.Random
) -> WaitingPayments:
    """Pick the missing-payment orders that get a payment the clerk must apply.

    The loader calls this after every other draw of ``rng``, so the rest of
    the company is the same as without these payments.
    """
    customer_of = {int(row["order_id"]): row["customer_id"] for row in orders}
    # A customer with another open invoice could let a cash rule combine it
    # with the new payment, or show the clerk invoices the payment does not pay.
    with_open_invoices = {
        customer_of[order_id] for order_id in [*mix.short_paid, mix.duplicate]
    }
    missing_by_customer: dict[str, list[int]] = {}
    for order_id in sorted(mix.missing):
        if customer_of[order_id] not in with_open_invoices:
            missing_by_customer.setdefault(customer_of[order_id], []).append(order_id)

    pairs = [ids for _, ids in sorted(missing_by_customer.items()) if len(ids) == 2]
    singles = [
        ids[0] for _, ids in sorted(missing_by_customer.items()) if len(ids) == 1
    ]
    if not pairs or len(singles) < 2:
        raise ValueError(
            f"The missing-payment orders {sorted(mix.missing)} have "
            f"{len(pairs)} customers with two of them and {len(singles)} with "
            "one; the waiting payments need one and two. Load with another seed."
        )

    waiting = WaitingPayments()
    first, second = rng.choice(pairs)
    waiting.paid_together = (first, second)
    waiting.part_paid, waiting.unknown_payer = rng.sample(singles, 2)
    waiting.part_paid_percent = rng.randint(30, 70)
    return waiting
