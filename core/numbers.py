"""Parse numbers from request text: query strings and form fields.

``str.isdigit()`` accepts characters such as "²" that ``int()`` rejects,
and ``int()`` accepts Arabic-Indic digits, surrounding spaces, signs and
underscores. A number larger than the database's integers overflows when
a query uses it. Views parse ids and page numbers here instead, so bad
text gets one message that names the value.
"""

import re
from decimal import Decimal
from typing import Any

from django import forms

# The largest value of a 64-bit signed integer: PostgreSQL's bigint and
# SQLite's INTEGER, so any id in range can be used in a query.
MAX_DATABASE_INT = 2**63 - 1
MAX_SHOWN_CHARS = 40


class InvalidNumberError(ValueError):
    """Request text that is not a whole number in the allowed range."""

    def __init__(self, name: str, raw: str, expected: str, maximum: int) -> None:
        shown = raw if len(raw) <= MAX_SHOWN_CHARS else f"{raw[:MAX_SHOWN_CHARS]}..."
        super().__init__(
            f"{name}={shown!r} is not {expected}: use a whole number from 1 to "
            f"{maximum}, in the digits 0 to 9."
        )
        self.name = name
        self.raw = raw


def parse_positive_int(
    raw: str, *, name: str, expected: str = "an id", maximum: int = MAX_DATABASE_INT
) -> int:
    """Parse ``raw`` as a whole number from 1 to ``maximum`` in ASCII digits.

    ``name`` is the parameter or field the text came from, and ``expected``
    describes the value, such as "a page number". Both go into the message.
    Raises InvalidNumberError for any other text, the empty string included.
    """
    # The length check comes first, so a long text is never converted.
    if (
        not raw.isascii()
        or not raw.isdecimal()
        or len(raw.lstrip("0")) > len(str(maximum))
    ):
        raise InvalidNumberError(name, raw, expected, maximum)
    number = int(raw)
    if not 1 <= number <= maximum:
        raise InvalidNumberError(name, raw, expected, maximum)
    return number


# The patterns use [0-9], because \d also matches the digits of other scripts
# (Arabic-Indic U+0660 to U+0669, full-width U+FF10 to U+FF19), which
# Decimal() reads as ASCII digits but a reader may not recognize.
PLAIN_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
# Commas that can only separate thousands: two or more groups ("1,500,000",
# "1,500,000.25"), or one group before a decimal point ("1,500.25").
THOUSANDS_GROUPS = re.compile(
    r"[+-]?[0-9]{1,3}(?:(?:,[0-9]{3}){2,}(?:\.[0-9]*)?|,[0-9]{3}\.[0-9]*)"
)
AMBIGUOUS_THOUSANDS = re.compile(r"[+-]?[0-9]{1,3},[0-9]{3}")
DECIMAL_COMMA = re.compile(r"[+-]?[0-9]*,[0-9]+")
# Digits grouped by points, commas, spaces or apostrophes in a way that
# none of the forms above reads, such as "1.234,50", "1 234.50", "1'234".
SEPARATED_DIGITS = re.compile(r"[+-]?[0-9]+(?:[.,' \u00a0\u202f][0-9]+)+")


class InvalidDecimalError(ValueError):
    """Request text that is not a decimal the database column can store."""


def parse_decimal(
    raw: str, *, label: str, max_digits: int, decimal_places: int
) -> Decimal:
    """Parse a decimal a person typed, for a column of the given precision.

    The decimal separator is a point. A comma is read as a thousands
    separator only where it cannot be a decimal comma ("1,500.25",
    "1,500,000"). "1,5" and "1,500" are rejected with a message that shows
    how to write them, because reading them either way would be a guess.
    A value with more decimal places or integer digits than the column
    stores is rejected instead of rounded. Raises InvalidDecimalError with
    ``label`` and the text in its message.
    """
    text = raw.strip()
    shown = text if len(text) <= MAX_SHOWN_CHARS else f"{text[:MAX_SHOWN_CHARS]}..."
    if not text:
        raise InvalidDecimalError(f"{label} is missing: enter a number such as 12.5.")
    if has_non_ascii_digit(text):
        raise InvalidDecimalError(
            f"{label} {shown!r} has digits other than 0 to 9: type the number "
            "with the digits 0 to 9, such as 12.5."
        )
    if THOUSANDS_GROUPS.fullmatch(text):
        text = text.replace(",", "")
    elif AMBIGUOUS_THOUSANDS.fullmatch(text):
        raise InvalidDecimalError(
            f"{label} {shown!r} is ambiguous, because a comma can separate "
            f"thousands or decimals: write {text.replace(',', '')} or "
            f"{text.replace(',', '.')}."
        )
    elif DECIMAL_COMMA.fullmatch(text):
        raise InvalidDecimalError(
            f"{label} {shown!r} uses a decimal comma: write it with a point, "
            f"as {text.replace(',', '.')}."
        )
    if SEPARATED_DIGITS.fullmatch(text) and not PLAIN_DECIMAL.fullmatch(text):
        # Digits with points and commas in another order, such as 1.234,50
        # or 1 234.50: the way to write it is the point and no separator.
        raise InvalidDecimalError(
            f"{label} {shown!r} is not a number: use a point for decimals and "
            "no thousands separator, such as 1234.50."
        )
    if not PLAIN_DECIMAL.fullmatch(text):
        raise InvalidDecimalError(
            f"{label} {shown!r} is not a number: enter digits such as 12.5."
        )

    value = Decimal(text)
    places = _decimal_places(value)
    if places > decimal_places:
        unit = "place" if places == 1 else "places"
        raise InvalidDecimalError(
            f"{label} {shown!r} has {places} decimal {unit}; the limit is "
            f"{decimal_places}, so enter a multiple of "
            f"{Decimal(1).scaleb(-decimal_places):f}."
        )
    # adjusted() reads the exponent, so a number of thousands of digits is
    # measured without converting it to an int, which Python refuses.
    integer_digits = value.adjusted() + 1 if abs(value) >= 1 else 0
    if integer_digits > max_digits - decimal_places:
        raise InvalidDecimalError(
            f"{label} {shown!r} is too large: enter at most "
            f"{max_digits - decimal_places} digits before the decimal point."
        )
    return value


def has_non_ascii_digit(text: str) -> bool:
    """Return whether ``text`` has a digit outside ASCII 0 to 9, such as U+0661."""
    return any(character.isdigit() and not character.isascii() for character in text)


def _decimal_places(value: Decimal) -> int:
    """Return the places after the point that ``value`` needs, without trailing zeros.

    Read from the digits, not with ``normalize()``, which rounds a value to
    the context's 28 significant digits.
    """
    _, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):  # pragma: no cover (PLAIN_DECIMAL admits none)
        raise ValueError(f"{value} is not a finite number.")
    significant = "".join(map(str, digits)).rstrip("0")
    if not significant:
        return 0
    trailing_zeros = len(digits) - len(significant)
    return max(-(exponent + trailing_zeros), 0)


class AsciiIntegerField(forms.IntegerField):
    """A form ``IntegerField`` that accepts only the digits 0 to 9.

    Django's field converts with ``int()``, which reads the Arabic-Indic and
    full-width digits "\\u0661\\u0662" and "\\uff11\\uff12" as 12.
    """

    default_error_messages = {
        "non_ascii_digits": (
            "%(value)r has digits other than 0 to 9: type the number with the "
            "digits 0 to 9."
        ),
    }

    def to_python(self, value: Any) -> int | None:
        if isinstance(value, str) and has_non_ascii_digit(value):
            raise forms.ValidationError(
                self.error_messages["non_ascii_digits"],
                code="non_ascii_digits",
                params={"value": value[:MAX_SHOWN_CHARS]},
            )
        result: int | None = super().to_python(value)
        return result
