from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured

from reconciliation.money import (
    TolerancePolicy,
    format_money,
    format_price,
    format_quantity,
    format_shortfall,
    line_subtotal,
    payment_tolerance,
    quantize_money,
    unit_net,
    within_tolerance,
)


@pytest.mark.parametrize(
    ("amount", "minor_units", "expected"),
    [
        ("42.415", 2, "42.42"),
        ("42.414", 2, "42.41"),
        ("0.125", 2, "0.13"),
        ("1234.5", 0, "1235"),
        ("1.0005", 3, "1.001"),
        ("-0.005", 2, "-0.01"),
    ],
)
def test_quantize_money_rounds_half_up(amount, minor_units, expected):
    assert quantize_money(Decimal(amount), minor_units=minor_units) == Decimal(expected)
    assert str(quantize_money(Decimal(amount), minor_units=minor_units)) == expected


def test_line_totals_add_up_in_decimal():
    subtotals = [
        line_subtotal(
            qty=Decimal(1),
            unit_price=Decimal(price),
            discount_pct=Decimal(0),
            minor_units=2,
        )
        for price in ("0.1", "0.2")
    ]

    assert sum(subtotals, Decimal(0)) == Decimal("0.30")
    assert 0.1 + 0.2 != 0.3  # the float sum these helpers avoid


def test_line_subtotal_rounds_once_per_line():
    subtotal = line_subtotal(
        qty=Decimal(3),
        unit_price=Decimal("14.40"),
        discount_pct=Decimal(15),
        minor_units=2,
    )

    assert subtotal == Decimal("36.72")


def test_unit_net_keeps_four_decimals():
    assert unit_net(unit_price=Decimal("14.40"), discount_pct=Decimal(15)) == Decimal(
        "12.2400"
    )
    assert unit_net(unit_price=Decimal("0.1234"), discount_pct=Decimal(0)) == Decimal(
        "0.1234"
    )


@pytest.mark.parametrize(
    ("difference", "inside"),
    [
        ("0.01", True),
        ("-0.01", True),
        ("0.00", True),
        ("0.02", False),
        ("-0.011", False),
    ],
)
def test_within_tolerance_is_inclusive_both_ways(difference, inside):
    assert within_tolerance(Decimal(difference), Decimal("0.01")) is inside


def test_tolerance_policy_price_allowance_takes_larger_bound():
    policy = TolerancePolicy(price_pct=Decimal(1), price_abs=Decimal("0.01"))

    assert policy.price_allowance(Decimal("100.00")) == Decimal("1.00")
    assert policy.price_allowance(Decimal("0.50")) == Decimal("0.01")
    assert policy.price_matches(expected=Decimal("100.00"), actual=Decimal("101.00"))
    assert not policy.price_matches(
        expected=Decimal("100.00"), actual=Decimal("101.01")
    )


def test_tolerance_policy_default_price_bounds():
    policy = TolerancePolicy()

    assert policy.price_matches(expected=Decimal("12.24"), actual=Decimal("12.25"))
    assert not policy.price_matches(expected=Decimal("12.24"), actual=Decimal("12.26"))


def test_tolerance_policy_quantity_bounds():
    policy = TolerancePolicy(qty_over_pct=Decimal(10))

    assert not policy.is_over(ordered=Decimal(10), actual=Decimal(11))
    assert policy.is_over(ordered=Decimal(10), actual=Decimal("11.01"))
    assert policy.is_under(ordered=Decimal(10), actual=Decimal("9.99"))


def test_payment_tolerance_reads_setting(settings):
    settings.RECONCILIATION_PAYMENT_TOLERANCE = " 0.05 "

    assert payment_tolerance() == Decimal("0.05")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            "one cent",
            "RECONCILIATION_PAYMENT_TOLERANCE='one cent' is not a decimal amount: "
            "set it to an amount in the invoice currency, for example 0.01.",
        ),
        (
            "-0.01",
            "RECONCILIATION_PAYMENT_TOLERANCE='-0.01' is invalid: "
            "use zero or a positive amount, for example 0.01.",
        ),
        (
            "NaN",
            "RECONCILIATION_PAYMENT_TOLERANCE='NaN' is invalid: "
            "use zero or a positive amount, for example 0.01.",
        ),
    ],
)
def test_payment_tolerance_rejects_bad_setting(settings, raw, message):
    settings.RECONCILIATION_PAYMENT_TOLERANCE = raw

    with pytest.raises(ImproperlyConfigured) as error:
        payment_tolerance()

    assert str(error.value) == message


def test_format_money_and_price():
    assert format_money(Decimal("1480"), minor_units=2) == "1,480.00"
    assert format_money(Decimal("1234.5"), minor_units=0) == "1,235"
    assert format_price(Decimal("12.2400"), minor_units=2) == "12.24"
    assert format_price(Decimal("0.1234"), minor_units=2) == "0.1234"


def test_format_quantity_drops_trailing_zeros():
    assert format_quantity(Decimal("250000.0000"), "mm") == "250,000 mm"
    assert format_quantity(Decimal("2.5000"), "kg") == "2.5 kg"
    assert format_quantity(Decimal("1.0000"), "unit") == "1 unit"
    assert format_quantity(Decimal("12"), "unit") == "12 units"


@pytest.mark.parametrize(
    ("qty", "uom", "expected"),
    [
        ("1", "unit", "1 unit"),
        ("3", "unit", "3 units"),
        ("-1", "unit", "-1 unit"),
        ("0", "unit", "0 units"),
        ("2", "box", "2 boxes"),
        ("1", "kg", "1 kg"),
        ("2.5", "kg", "2.5 kg"),
        ("4", "USD", "4 USD"),
    ],
)
def test_format_quantity_plural_units(qty, uom, expected):
    assert format_quantity(Decimal(qty), uom) == expected


@pytest.mark.parametrize(
    ("difference", "uom", "expected"),
    [
        ("-5", "unit", "5 units short"),
        ("-1", "unit", "1 unit short"),
        ("2", "unit", "2 units over"),
        ("-2.5", "kg", "2.5 kg short"),
        ("0", "unit", "nothing short"),
    ],
)
def test_format_shortfall_has_no_sign(difference, uom, expected):
    assert format_shortfall(Decimal(difference), uom) == expected
