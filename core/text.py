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


# A tag may end in a run of up to three of these signs, so that ``C``, ``C++``
# and ``C#`` are three tags. Search encodes the same runs (``search.text``).
TAG_SUFFIX_SIGNS = "+#"
MAX_TAG_SUFFIX_LENGTH = 3


def tag_key(raw: str) -> str:
    """Return the key of a tag name, shared by hashtags and library tags.

    The name is cleaned like a line (invisible characters removed,
    whitespace folded), composed with NFKC and case-folded. Accents are
    kept, so ``Zähler`` and ``Zahler`` are two tags, and so are ``C``,
    ``C++`` and ``C#``.
    """
    return unicodedata.normalize("NFKC", clean_line(raw)).casefold()


def tag_suffix_length(text: str, start: int) -> int:
    """Return how many ``+``/``#`` signs at ``start`` end the tag before them.

    A run of one to ``MAX_TAG_SUFFIX_LENGTH`` signs belongs to the tag when
    no letter, digit, underscore or further sign follows it, so ``#C++`` is
    the tag ``C++`` and ``#a+b`` is the tag ``a`` followed by text.
    """
    end = start
    while end < len(text) and text[end] in TAG_SUFFIX_SIGNS:
        end += 1
    length = end - start
    if length > MAX_TAG_SUFFIX_LENGTH:
        return 0
    if end < len(text) and (text[end] == "_" or text[end].isalnum()):
        return 0
    return length
