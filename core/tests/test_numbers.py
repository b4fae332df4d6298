"""Parsing whole numbers and decimals from request text."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from core.numbers import (
    MAX_DATABASE_INT,
    AsciiIntegerField,
    InvalidDecimalError,
    InvalidNumberError,
    parse_decimal,
    parse_positive_int,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", 1), ("42", 42), ("007", 7), ("9223372036854775807", MAX_DATABASE_INT)],
)
def test_parses_ascii_digits(raw, expected):
    assert parse_positive_int(raw, name="post") == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "0",
        "000",
        "-1",
        "+1",
        " 1",
        "1 ",
        "1_000",
        "1.0",
        "1e3",
        "abc",
        "\u00b2",  # superscript two: isdigit() is true, int() raises
        "\u0661",  # Arabic-Indic one: int() accepts it
        "\uff11",  # full-width one: int() accepts it
        "9223372036854775808",
        "99999999999999999999",
        "9" * 5000,  # longer than int() converts by default
    ],
)
def test_rejects_other_text(raw):
    with pytest.raises(InvalidNumberError):
        parse_positive_int(raw, name="post")


def test_maximum_is_inclusive():
    assert parse_positive_int("1000", name="page", maximum=1000) == 1000
    with pytest.raises(InvalidNumberError):
        parse_positive_int("1001", name="page", maximum=1000)


def test_message_names_parameter_and_value():
    with pytest.raises(InvalidNumberError) as caught:
        parse_positive_int(
            "\u00b2", name="page", expected="a page number", maximum=1000
        )
    assert str(caught.value) == (
        "page='²' is not a page number: use a whole number from 1 to 1000, "
        "in the digits 0 to 9."
    )


def test_message_shortens_long_value():
    with pytest.raises(InvalidNumberError) as caught:
        parse_positive_int("x" * 5000, name="vendor")
    message = str(caught.value)
    assert message.startswith(f"vendor='{'x' * 40}...' is not an id:")
    assert len(message) < 200


def quantity(raw: str) -> Decimal:
    return parse_decimal(raw, label="Quantity", max_digits=16, decimal_places=4)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12", Decimal("12")),
        (" 1.5 ", Decimal("1.5")),
        (".5", Decimal("0.5")),
        ("-3", Decimal("-3")),
        ("0.0001", Decimal("0.0001")),
        ("1.50000", Decimal("1.5")),
        ("1,500.25", Decimal("1500.25")),
        ("1,500,000", Decimal("1500000")),
        ("1,500,000.25", Decimal("1500000.25")),
        ("-2,000,000.5", Decimal("-2000000.5")),
        ("0.000", Decimal("0")),
        ("999999999999.9999", Decimal("999999999999.9999")),
    ],
)
def test_parse_decimal_reads_points_and_thousands(raw, expected):
    assert quantity(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "Quantity is missing: enter a number such as 12.5."),
        (
            "1,5",
            "Quantity '1,5' uses a decimal comma: write it with a point, as 1.5.",
        ),
        (
            "1,500",
            "Quantity '1,500' is ambiguous, because a comma can separate thousands "
            "or decimals: write 1500 or 1.500.",
        ),
        (
            "0.00001",
            "Quantity '0.00001' has 5 decimal places; the limit is 4, so enter a "
            "multiple of 0.0001.",
        ),
        (
            "1000000000000",
            "Quantity '1000000000000' is too large: enter at most 12 digits "
            "before the decimal point.",
        ),
        (
            # 30 significant digits: normalize() would round the last place away.
            "1.00000000000000000000000000001",
            "Quantity '1.00000000000000000000000000001' has 29 decimal places; "
            "the limit is 4, so enter a multiple of 0.0001.",
        ),
        ("1e3", "Quantity '1e3' is not a number: enter digits such as 12.5."),
        ("NaN", "Quantity 'NaN' is not a number: enter digits such as 12.5."),
        (
            "1.500,25",
            "Quantity '1.500,25' is not a number: use a point for decimals and "
            "no thousands separator, such as 1234.50.",
        ),
        (
            "1 234.50",
            "Quantity '1 234.50' is not a number: use a point for decimals and "
            "no thousands separator, such as 1234.50.",
        ),
    ],
)
def test_parse_decimal_rejects_with_message(raw, message):
    with pytest.raises(InvalidDecimalError) as caught:
        quantity(raw)

    assert str(caught.value) == message


@pytest.mark.parametrize(
    "raw",
    [
        "\u0661\u0660",  # Arabic-Indic 10
        "\uff11\uff12\uff13",  # full-width 123
        "\u07c1\u07c2",  # NKo 12
        "1\u0660",  # an ASCII 1 and an Arabic-Indic 0
        "1,\u0665\u0660\u0660.25",  # thousands groups in Arabic-Indic digits
        "12.\u0665",  # an Arabic-Indic decimal place
        "\u00b2",  # superscript two
    ],
)
def test_parse_decimal_rejects_non_ascii_digits(raw):
    expected = (
        f"Quantity {raw!r} has digits other than 0 to 9: type the number with "
        "the digits 0 to 9, such as 12.5."
    )

    with pytest.raises(InvalidDecimalError) as caught:
        quantity(raw)

    assert str(caught.value) == expected


def test_parse_decimal_measures_thousands_of_digits():
    # Python refuses to turn a number of more than 4,300 digits into a str.
    with pytest.raises(InvalidDecimalError) as caught:
        quantity("9" * 5000)

    assert "is too large: enter at most 12 digits" in str(caught.value)


@pytest.mark.parametrize("raw", ["\u0661\u0662", "\uff11\uff12", "1\u0662", "\u00b2"])
def test_ascii_integer_field_rejects_other_digits(raw):
    field = AsciiIntegerField(min_value=1)

    with pytest.raises(ValidationError) as caught:
        field.clean(raw)

    assert caught.value.messages == [
        f"{raw!r} has digits other than 0 to 9: type the number with the digits 0 to 9."
    ]


def test_ascii_integer_field_reads_ascii_digits():
    field = AsciiIntegerField(required=False, min_value=1)

    assert field.clean(" 12 ") == 12
    assert field.clean("") is None
