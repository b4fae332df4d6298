"""Template filters that show money with its currency's decimals.

``{{ invoice.amount_total|money:invoice.currency }}`` renders ``83.63`` for a
stored ``83.6300`` in USD, and ``1,480`` in JPY. A price keeps up to four
decimals (``format_price``) and a quantity drops trailing zeros.
"""

from decimal import Decimal

from django import template

from reconciliation.models import Currency, Discrepancy, DiscrepancyCode, InvoiceLine
from reconciliation.money import (
    format_money,
    format_number,
    format_price,
    format_quantity,
    format_shortfall,
    unit_name,
)

register = template.Library()


def _minor_units(currency: Currency | int) -> int:
    return currency if isinstance(currency, int) else currency.minor_units


@register.filter
def money(amount: Decimal | None, currency: Currency | int) -> str:
    """Format ``amount`` rounded to the currency's minor unit, with separators."""
    if amount is None:
        return ""
    return format_money(amount, minor_units=_minor_units(currency))


@register.filter
def price(amount: Decimal | None, currency: Currency | int) -> str:
    """Format a unit price with the currency's decimals, or four where needed."""
    if amount is None:
        return ""
    return format_price(amount, minor_units=_minor_units(currency))


@register.filter
def case_amount(value: Decimal | None, currency: Currency | int | None) -> str:
    """Format a case's expected, actual or difference value.

    A case's ``unit`` is a currency code or a unit of measure. With its
    currency the value is money rounded to the minor unit (``400.00``).
    Without one (None) it is a quantity without trailing zeros (``8``).
    A missing value shows a dash.
    """
    if value is None:
        return "—"
    if currency is None:
        return format_number(value)
    return format_money(value, minor_units=_minor_units(currency))


@register.filter
def quantity(value: Decimal | None) -> str:
    """Format a quantity without trailing zeros: ``10`` for a stored ``10.0000``."""
    if value is None:
        return ""
    return format_number(value)


@register.filter
def unit_after(unit: str, value: Decimal | None) -> str:
    """Write a unit as it reads after ``value``: "units" after 2, "kg" after 2.

    ``{{ case.unit|unit_after:case.actual_value }}``. A currency code and
    any unit that is not counted in pieces stay as they are.
    """
    if value is None:
        return unit
    return unit_name(value, unit)


@register.filter
def shortfall(difference: Decimal | None, unit: str) -> str:
    """Say a quantity case's difference in words: "5 units short", "2 kg over"."""
    if difference is None:
        return "—"
    return format_shortfall(difference, unit)


@register.filter
def case_difference(case: Discrepancy) -> str:
    """Show a case's difference: money with its currency, a quantity in words.

    ``-83.63 USD`` for a case about money, ``5 units short`` for one about
    goods, where a sign on a quantity would leave the reader to work out
    which way it goes. A case with no difference shows a dash.
    """
    if case.difference is None:
        return "—"
    currency = Currency.objects.filter(code=case.unit).first()
    if currency is None:
        if case.code == DiscrepancyCode.DAMAGED:
            # Its difference counts damaged units against none expected, so
            # "over" would read as units delivered beyond the order.
            return f"{format_quantity(abs(case.difference), case.unit)} damaged"
        return format_shortfall(case.difference, case.unit)
    return (
        f"{format_money(case.difference, minor_units=currency.minor_units)} {case.unit}"
    )


# The sign between a credited quantity and its unit price, as on an invoice.
TIMES = "\u00d7"


def _credited_what(line: InvoiceLine, minor_units: int) -> str:
    what = line.description or line.product.name
    tax = _tax_text(line, minor_units)
    if line.amount_only:
        if tax:
            net = format_money(line.subtotal, minor_units=minor_units)
            return f"{what}, {net}{tax}"
        return what
    return (
        f"{what}: {format_number(line.qty)} {TIMES} "
        f"{format_price(line.unit_price, minor_units=minor_units)}{tax}"
    )


def _tax_text(line: InvoiceLine, minor_units: int) -> str:
    """Say the tax a goods credit line carries, as its invoice line did, or ""."""
    if line.tax_amount == 0:
        return ""
    tax = format_money(line.tax_amount, minor_units=minor_units)
    return f" plus {tax} tax at {format_number(line.tax_rate)}%"


@register.filter
def credited_amount(line: InvoiceLine) -> Decimal:
    """Return what a credit note's line credits, tax included."""
    return line.subtotal + line.tax_amount


@register.filter
def credited_label(line: InvoiceLine, currency: Currency | int) -> str:
    """Say what a credit note's line credits, for a table with an amount column.

    A line that credits units reads "3 of Chai from invoice INV-1: 3 x 12.24";
    a line that credits an amount of money (``amount_only``) reads as its
    description alone, with no made-up "1 x amount".
    """
    return _credited_what(line, _minor_units(currency))


@register.filter
def credited_line(line: InvoiceLine, currency: Currency | int) -> str:
    """Say what a credit note's line credits and how much, in one sentence.

    "Share of the 83.63 USD credit on Chai, invoice INV-10348: 42.23 USD" for
    an amount of money, and "3 of Chai from invoice INV-1: 3 x 12.24 = 36.72
    USD" (with ``TIMES`` for the x) for whole units.
    """
    minor_units = _minor_units(currency)
    money = format_money(line.subtotal + line.tax_amount, minor_units=minor_units)
    amount = f"{money} {line.invoice.currency_id}"
    if line.amount_only:
        return f"{_credited_what(line, minor_units)}: {amount}"
    return f"{_credited_what(line, minor_units)} = {amount}"
