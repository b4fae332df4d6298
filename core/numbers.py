"""Parse whole numbers from request text: query strings and form fields.

``str.isdigit()`` accepts characters such as "²" that ``int()`` rejects,
and ``int()`` accepts Arabic-Indic digits, surrounding spaces, signs and
underscores. A number larger than the database's integers overflows when
a query uses it. Views parse ids and page numbers here instead, so bad
text gets one message that names the value.
"""

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
