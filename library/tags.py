"""Normalize library tag names and build their slugs.

A tag is spelled as a hashtag in a post or a question: a leading ``#`` and
whitespace are dropped (``hashtag_spelling``). Two names are one tag when
they have the same key: the NFKC form, case folded, with invisible
characters removed. NFKC composes, so ``siècle`` typed as ``e`` plus a
combining grave is the same tag as the precomposed spelling. Slugs keep
letters and digits of every script and spell out symbols, so ``C``,
``C++`` and ``C#`` get ``c``, ``c-plus-plus`` and ``c-sharp``, and an
emoji-only name gets the emoji's Unicode name.
"""

import hashlib
import unicodedata

from django.utils.text import slugify

from core.text import clean_line
from core.text import tag_key as shared_tag_key

MAX_NAME_LENGTH = 80
MAX_SLUG_LENGTH = 90
# Symbols whose Unicode names read badly in a URL ("number-sign" for C#).
SYMBOL_WORDS = {"+": "plus", "#": "sharp", "&": "and", "@": "at", "%": "percent"}


class InvalidTagError(ValueError):
    pass


def tag_key(raw: str) -> str:
    """Return the normalized name every tag lookup and uniqueness check uses.

    Hashtags in posts use the same key (``core.text.tag_key``), of the
    name spelled as a hashtag (``hashtag_spelling``).
    """
    return shared_tag_key(hashtag_spelling(raw))


def hashtag_spelling(raw: str) -> str:
    """Return ``raw`` spelled as a hashtag in a post or question is written.

    A hashtag has no leading ``#`` in its name and contains no whitespace, so
    ``#Short Payment`` is spelled ``ShortPayment``, the tag ``#shortpayment``
    of a post under another case. The name is cleaned and NFKC-composed.
    """
    name = unicodedata.normalize("NFKC", clean_line(raw))
    return "".join(name.split()).lstrip("#")


def display_name(raw: str) -> str:
    """Return the name as shown: spelled as a hashtag, with its case kept."""
    name = hashtag_spelling(raw)
    if not name:
        raise InvalidTagError(
            f"Tag {clean_line(raw)!r} has nothing but # and spaces: type a word, "
            "such as ShortPayment."
        )
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidTagError(
            f"Tag {name[:MAX_NAME_LENGTH]!r}... has {len(name)} characters; "
            f"the limit is {MAX_NAME_LENGTH}. Shorten the tag."
        )
    # Case folding can lengthen a name ("ß" folds to "ss"), and the key
    # column has the same limit as the name.
    key_length = len(tag_key(name))
    if key_length > MAX_NAME_LENGTH:
        raise InvalidTagError(
            f"Tag {name!r} has {key_length} characters once its case is folded "
            f"(as in 'ß' to 'ss'); the limit is {MAX_NAME_LENGTH}. Shorten the tag."
        )
    return name


def base_slug(key: str) -> str:
    """Build the readable slug for ``key``, which is never empty."""
    words: list[str] = []
    for char in key:
        if char in SYMBOL_WORDS:
            words.append(f" {SYMBOL_WORDS[char]} ")
        elif unicodedata.category(char)[0] in {"L", "N", "M"}:
            words.append(char)
        elif unicodedata.category(char).startswith("S"):
            words.append(f" {unicodedata.name(char, '').lower()} ")
        else:
            words.append(" ")

    slug = slugify("".join(words), allow_unicode=True)[:MAX_SLUG_LENGTH].strip("-")
    if not slug:
        slug = f"tag-{key_digest(key)}"
    return slug


def collision_slug(key: str) -> str:
    """Return the slug used when another key already has the readable one."""
    return f"{base_slug(key)[: MAX_SLUG_LENGTH - 9]}-{key_digest(key)}"


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:8]


def split_tag_names(text: str) -> list[str]:
    """Split comma-separated input into names, dropping repeats by key."""
    names: list[str] = []
    seen: set[str] = set()
    for part in text.split(","):
        if not clean_line(part):
            continue
        name = display_name(part)
        key = tag_key(name)
        if key not in seen:
            seen.add(key)
            names.append(name)
    return names
