"""Decimal money: quantize to a currency's minor unit, compare within tolerance.

Amounts are rounded half up (0.005 becomes 0.01), the rule invoices and
statements use. Floats never enter: every helper takes and returns ``Decimal``.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# Unit prices keep the four decimal places the database stores, because a
# price such as 0.1234 per gram is legitimate and rounding it to cents would
# hide a real price difference.
UNIT_PRICE_QUANTUM = Decimal("0.0001")
HUNDRED = Decimal(100)


def quantum(minor_units: int) -> Decimal:
    """Return the smallest amount of a currency with ``minor_units`` decimals."""
    return Decimal(1).scaleb(-minor_units)


def quantize_money(amount: Decimal, *, minor_units: int) -> Decimal:
    return amount.quantize(quantum(minor_units), rounding=ROUND_HALF_UP)


def unit_net(*, unit_price: Decimal, discount_pct: Decimal) -> Decimal:
    """Return the unit price after the line discount, to four decimals."""
    net = unit_price * (1 - discount_pct / HUNDRED)
    return net.quantize(UNIT_PRICE_QUANTUM, rounding=ROUND_HALF_UP)


def line_subtotal(
    *, qty: Decimal, unit_price: Decimal, discount_pct: Decimal, minor_units: int
) -> Decimal:
    """Return quantity times discounted price, rounded once per line."""
    gross = qty * unit_price * (1 - discount_pct / HUNDRED)
    return quantize_money(gross, minor_units=minor_units)


def cancelled_amount(
    *,
    subtotal: Decimal,
    qty_ordered: Decimal,
    qty_cancelled: Decimal,
    unit_price: Decimal,
    discount_pct: Decimal,
    minor_units: int,
) -> Decimal:
    """Return the part of a line's ``subtotal`` that its cancelled units make up.

    The rest of the subtotal is the line's value after cancellations, rounded
    once as ``line_subtotal`` rounds an invoice line for the same units, so an
    invoice of every unit still due bills exactly that rest.
    """
    if qty_cancelled <= 0:
        return Decimal(0)
    due = line_subtotal(
        qty=qty_ordered - qty_cancelled,
        unit_price=unit_price,
        discount_pct=discount_pct,
        minor_units=minor_units,
    )
    return subtotal - due


def within_tolerance(difference: Decimal, tolerance: Decimal) -> bool:
    """Return whether ``difference`` is no larger than ``tolerance`` either way."""
    return abs(difference) <= tolerance


def payment_tolerance() -> Decimal:
    """Read ``RECONCILIATION_PAYMENT_TOLERANCE`` as a non-negative Decimal."""
    raw = settings.RECONCILIATION_PAYMENT_TOLERANCE
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise ImproperlyConfigured(
            f"RECONCILIATION_PAYMENT_TOLERANCE={raw!r} is not a decimal amount: "
            "set it to an amount in the invoice currency, for example 0.01."
        ) from None
    if not value.is_finite() or value < 0:
        raise ImproperlyConfigured(
            f"RECONCILIATION_PAYMENT_TOLERANCE={raw!r} is invalid: "
            "use zero or a positive amount, for example 0.01."
        )
    return value


@dataclass(frozen=True)
class TolerancePolicy:
    """How far an invoice may stray from its order before it is a discrepancy.

    A price is within tolerance when the difference per unit is at most
    ``price_abs`` or at most ``price_pct`` percent of the order's unit price,
    whichever allows more. Quantity percentages apply to the ordered quantity.
    """

    price_pct: Decimal = Decimal(0)
    price_abs: Decimal = Decimal("0.01")
    qty_over_pct: Decimal = Decimal(0)
    qty_under_pct: Decimal = Decimal(0)

    def price_allowance(self, expected: Decimal) -> Decimal:
        return max(self.price_abs, abs(expected) * self.price_pct / HUNDRED)

    def price_matches(self, *, expected: Decimal, actual: Decimal) -> bool:
        return within_tolerance(actual - expected, self.price_allowance(expected))

    def is_over(self, *, ordered: Decimal, actual: Decimal) -> bool:
        return actual > ordered + ordered * self.qty_over_pct / HUNDRED

    def is_under(self, *, ordered: Decimal, actual: Decimal) -> bool:
        return actual < ordered - ordered * self.qty_under_pct / HUNDRED


DEFAULT_TOLERANCE = TolerancePolicy()


def format_money(amount: Decimal, *, minor_units: int) -> str:
    """Format an amount with thousands separators: ``1,480.00``."""
    return f"{quantize_money(amount, minor_units=minor_units):,.{minor_units}f}"


def format_number(value: Decimal) -> str:
    """Format a quantity without trailing zeros: ``1,250`` for ``1250.0000``."""
    return f"{value.normalize():,f}"


# Units of measure that are counted things, so a person reads "3 boxes".
# Any other unit is a symbol ("kg", "mm", "l") or a currency code, which stays
# as it is: "2.5 kg", "1 kg".
COUNTED_UNITS = frozenset(
    {"unit", "piece", "box", "case", "bottle", "can", "jar", "bag", "pack"}
    | {"carton", "pallet", "crate", "tin", "roll", "set", "pair", "dozen"}
)


def is_counted(uom: str) -> bool:
    """Return whether ``uom`` counts whole things, of which no fraction exists."""
    return uom.lower() in COUNTED_UNITS


def unit_name(qty: Decimal, uom: str) -> str:
    """Return ``uom`` as it reads after ``qty``: "1 unit", "3 units", "2.5 kg".

    A counted unit (``COUNTED_UNITS``, in any case) takes a plural for any
    quantity but 1 and -1; a symbol or any other unit is left as it is.
    """
    if not is_counted(uom) or abs(qty) == 1:
        return uom
    return f"{uom}es" if uom.lower().endswith(("x", "s", "ch", "sh")) else f"{uom}s"


def format_quantity(qty: Decimal, uom: str) -> str:
    """Format a quantity with its unit, without trailing zeros: ``250,000 mm``."""
    return f"{format_number(qty)} {unit_name(qty, uom)}"


def format_shortfall(difference: Decimal, uom: str) -> str:
    """Say a quantity difference in words, without a sign: "5 units short".

    ``difference`` is actual minus expected, as a case stores it, so a
    negative difference is a shortage and a positive one an excess.
    """
    if difference == 0:
        return "nothing short"
    amount = format_quantity(abs(difference), uom)
    return f"{amount} short" if difference < 0 else f"{amount} over"


def format_price(amount: Decimal, *, minor_units: int) -> str:
    """Format a unit price with the currency's decimals, or up to four if needed."""
    price = amount.quantize(UNIT_PRICE_QUANTUM, rounding=ROUND_HALF_UP)
    exponent = price.normalize().as_tuple().exponent
    if not isinstance(exponent, int):
        raise ValueError(f"Unit price {amount} is not a finite number.")
    places = max(minor_units, -exponent)
    return f"{price:,.{min(places, 4)}f}"
