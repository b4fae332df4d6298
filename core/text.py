"""Clean text that people type before it is checked or stored."""

import unicodedata

# Tab and line feed are the only control characters a text field keeps.
_ALLOWED_CONTROLS = frozenset("\t\n")


def clean_text(value: str) -> str:
    """Remove invisible characters and surrounding whitespace from ``value``.

    Format characters (Unicode category Cf: zero-width spaces and joiners,
    direction marks, byte order marks, soft hyphens) are removed, and so are
    control characters (category Cc, NUL included) other than tab and line
    feed. Carriage returns become line feeds and the result is stripped, so
    text that shows nothing on screen comes out empty.
    """
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    kept = [
        char
        for char in text
        if char in _ALLOWED_CONTROLS or unicodedata.category(char) not in {"Cf", "Cc"}
    ]
    return "".join(kept).strip()


def clean_line(value: str) -> str:
    """Clean ``value`` like ``clean_text`` and fold all whitespace to single spaces."""
    return " ".join(clean_text(value).split())


def fold_case(value: str) -> str:
    """Return the key under which names that differ only in case are one name.

    NFKC folds compatibility forms (full-width letters) as Django's username
    field does. Upper-casing before case folding also joins letters that
    only one of the two maps together: "ivan" spelled with a dotless i (U+0131)
    upper-cases to "IVAN", as PostgreSQL's ``UPPER()`` does. Python computes
    it, so the key is the same on every engine, while SQLite's ``lower()``
    and ``LIKE`` fold ASCII letters only. Accounts (username, e-mail) and
    community names are kept unique by their keys.
    """
    return unicodedata.normalize("NFKC", value).upper().casefold()
