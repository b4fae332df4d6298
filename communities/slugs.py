"""Build a community's address from its name."""

import re
import unicodedata
from collections.abc import Collection

MAX_SLUG_LENGTH = 80
# Room left at the end of a long slug for a collision suffix such as "-123".
_SUFFIX_ROOM = 6
FALLBACK_SLUG = "community"
# Paths under /communities/ that name pages, not communities.
RESERVED_SLUGS = frozenset({"new", "invitations"})

# Latin letters that Unicode decomposition does not reduce to ASCII.
_LATIN_EXTRAS = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "œ": "oe",
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "\u0131": "i",  # dotless i
    }
)
_NOT_WORD = re.compile(r"[^\w\s-]")
_SEPARATORS = re.compile(r"[-\s_]+")


def base_slug(name: str) -> str:
    """Turn ``name`` into a lowercase, hyphenated slug.

    Accents are dropped from Latin letters ("Zahlungsabgleich Köln" becomes
    "zahlungsabgleich-koln"). Letters of other scripts are kept as they are,
    so "Оплата заказов" becomes "оплата-заказов" instead of nothing. A name
    with no letters or digits at all (only emoji, say) gets ``FALLBACK_SLUG``.
    """
    lowered = name.lower().translate(_LATIN_EXTRAS)
    decomposed = unicodedata.normalize("NFKD", lowered)
    without_marks = "".join(
        char for char in decomposed if unicodedata.category(char) != "Mn"
    )
    composed = unicodedata.normalize("NFKC", without_marks)
    words = _NOT_WORD.sub("", composed)
    slug = _SEPARATORS.sub("-", words).strip("-")
    slug = slug[: MAX_SLUG_LENGTH - _SUFFIX_ROOM].strip("-")
    return slug or FALLBACK_SLUG


def unique_slug(base: str, taken: Collection[str]) -> str:
    """Return ``base``, or ``base-2``, ``base-3``... the first one not taken.

    Reserved page names count as taken, so the same name and the same set of
    existing slugs always give the same result.
    """
    if base not in taken and base not in RESERVED_SLUGS:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"
