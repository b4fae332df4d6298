"""Parsing whole numbers from request text."""

import pytest

from core.numbers import MAX_DATABASE_INT, InvalidNumberError, parse_positive_int


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
