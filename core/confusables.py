"""Look-alike names: a confusable skeleton and a mixed-script check.

Two names that a reader cannot tell apart, such as "Customer corner" in
Latin letters and the same words with a Cyrillic capital es (U+0421) in
place of each C, or "Modern" and "Modem", must not both exist.
``skeleton`` maps a name to a key that such look-alikes share, in the spirit
of the skeleton of Unicode Technical Standard #39 (Security Mechanisms):

1. ``core.text.fold_case``: NFKC (full-width and other compatibility
   forms) and case folding.
2. Canonical decomposition, then removal of the combining accents, so
   "Café" and "Cafe" share a skeleton. NFC composes what remains.
3. Removal of invisible characters: format characters (zero-width spaces
   and joiners, soft hyphen, direction marks) and the other default
   ignorable ones listed in ``INVISIBLE``. Runs of whitespace become one
   space.
4. Each Cyrillic or Greek letter that looks like a Latin one becomes that
   letter, and so do the Latin look-alikes "1", "|", "i" (from "I"), "0",
   "5", and the letters with a stroke "ø" and "ł", which have no
   decomposition. Then "rn" becomes "m", "vv" becomes "w" and "cl" becomes
   "d".

Case folding comes first, so a capital I and a small i are one letter by
then, and both join "l" and "1". Names such as "Mail" and "Mall" therefore
share a skeleton: an impersonating name costs more than picking another.
The pairs are joined after the single letters, so "cI" (a capital I) joins
"d" as "cl" does, and so does "ci".

NOTE: the tables below are small hand-made ones, not the full UTS #39
confusables data (``confusables.txt``). The Debian 12 packages checked do
not ship that file (``unicode-data`` 15.0.0-1 has no security data). Other
scripts (Armenian, Cherokee, mathematical letters that NFKC does not fold)
are not mapped.
"""

import unicodedata

from core.text import fold_case

# Folded (lower-case) Cyrillic and Greek letters, each with the Latin letter
# it looks like. Upper-case forms fold to these first, so the Cyrillic capital
# and small er (U+0420, U+0440) both map to "p", and Greek capitals such as
# beta and eta map through their small letters.
LATIN_LOOK_ALIKES: dict[str, str] = {
    # Cyrillic
    "\u0430": "a",  # cyrillic small letter a
    "\u0432": "b",  # cyrillic small letter ve
    "\u0441": "c",  # cyrillic small letter es
    "\u0501": "d",  # cyrillic small letter komi de
    "\u0435": "e",  # cyrillic small letter ie
    "\u0433": "r",  # cyrillic small letter ghe
    "\u04bb": "h",  # cyrillic small letter shha
    "\u043d": "h",  # cyrillic small letter en
    "\u0456": "i",  # cyrillic small letter byelorussian-ukrainian i
    "\u0458": "j",  # cyrillic small letter je
    "\u043a": "k",  # cyrillic small letter ka
    "\u04cf": "l",  # cyrillic small letter palochka
    "\u043c": "m",  # cyrillic small letter em
    "\u043e": "o",  # cyrillic small letter o
    "\u0440": "p",  # cyrillic small letter er
    "\u051b": "q",  # cyrillic small letter qa
    "\u0455": "s",  # cyrillic small letter dze
    "\u0442": "t",  # cyrillic small letter te
    "\u0443": "y",  # cyrillic small letter u
    "\u051d": "w",  # cyrillic small letter we
    "\u0445": "x",  # cyrillic small letter ha
    # Greek
    "\u03b1": "a",  # greek small letter alpha
    "\u03b2": "b",  # greek small letter beta
    "\u03b5": "e",  # greek small letter epsilon
    "\u03b7": "h",  # greek small letter eta
    "\u03b9": "i",  # greek small letter iota
    "\u03ba": "k",  # greek small letter kappa
    "\u03bc": "m",  # greek small letter mu
    "\u03bd": "v",  # greek small letter nu
    "\u03bf": "o",  # greek small letter omicron
    "\u03c1": "p",  # greek small letter rho
    "\u03c4": "t",  # greek small letter tau
    "\u03c5": "u",  # greek small letter upsilon
    "\u03c7": "x",  # greek small letter chi
    "\u03b6": "z",  # greek small letter zeta
}

# Latin characters that look like another one, after case folding. A capital
# I has become "i" by then, and the capitals with a stroke (U+00D8, U+0141)
# their small letters.
LATIN_INTERNAL_LOOK_ALIKES: dict[str, str] = {
    "1": "l",
    "|": "l",
    "i": "l",
    "\u01c0": "l",  # latin letter dental click
    "\u0142": "l",  # latin small letter l with stroke
    "0": "o",
    "\u00f8": "o",  # latin small letter o with stroke
    "5": "s",
}

# Letter pairs that read as one letter, replaced after the single letters.
LOOK_ALIKE_PAIRS: tuple[tuple[str, str], ...] = (
    ("rn", "m"),
    ("vv", "w"),
    ("cl", "d"),
)

# Default-ignorable characters outside category Cf: the combining grapheme
# joiner, Hangul fillers, Khmer inherent vowels, Mongolian free variation
# selectors and the variation selectors.
INVISIBLE = frozenset(
    "\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180f\u3164\uffa0"
    + "".join(chr(code) for code in range(0xFE00, 0xFE10))
)

# Blocks of combining accents, removed after canonical decomposition. Marks
# of other blocks, such as Devanagari vowel signs, are parts of letters and
# are kept.
ACCENT_RANGES = (
    (0x0300, 0x036F),  # combining diacritical marks
    (0x1AB0, 0x1AFF),  # combining diacritical marks extended
    (0x1DC0, 0x1DFF),  # combining diacritical marks supplement
    (0x20D0, 0x20FF),  # combining diacritical marks for symbols
    (0xFE20, 0xFE2F),  # combining half marks
)

# The scripts whose letters are mapped above, by the first word of their
# Unicode character names.
CHECKED_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK")


def skeleton(value: str) -> str:
    """Return the key that ``value`` shares with the names it looks like."""
    decomposed = unicodedata.normalize("NFD", fold_case(value))
    visible = "".join(char for char in decomposed if not _is_hidden(char))
    composed = unicodedata.normalize("NFC", " ".join(visible.split()))
    mapped = "".join(_latin_look_alike(char) for char in composed)
    for pair, letter in LOOK_ALIKE_PAIRS:
        mapped = mapped.replace(pair, letter)
    return mapped


def _is_hidden(char: str) -> bool:
    """Check whether ``char`` is a combining accent or an invisible character."""
    code = ord(char)
    if any(first <= code <= last for first, last in ACCENT_RANGES):
        return True
    return char in INVISIBLE or unicodedata.category(char) == "Cf"


def _latin_look_alike(char: str) -> str:
    latin = LATIN_LOOK_ALIKES.get(char, char)
    return LATIN_INTERNAL_LOOK_ALIKES.get(latin, latin)


def _script(char: str) -> str:
    name = unicodedata.name(char, "")
    first = name.split(" ", 1)[0]
    return first if first in CHECKED_SCRIPTS else ""


def mixed_script_word(value: str) -> tuple[str, list[str]] | None:
    """Return the first word of ``value`` that mixes Latin, Cyrillic or Greek letters.

    The word comes with the scripts it mixes, in the order of
    ``CHECKED_SCRIPTS``, or None when every word keeps to one of them.
    Words are runs of letters and digits, split at spaces and hyphens.
    """
    word: list[str] = []
    for char in [*unicodedata.normalize("NFKC", value), " "]:
        if char.isalnum():
            word.append(char)
            continue
        scripts = {_script(letter) for letter in word} - {""}
        if len(scripts) > 1:
            ordered = [script for script in CHECKED_SCRIPTS if script in scripts]
            return "".join(word), [script.title() for script in ordered]
        word = []
    return None


def mixed_script_message(value: str, what: str) -> str:
    """Return why ``value`` is rejected for mixing scripts in a word, or ""."""
    mixed = mixed_script_word(value)
    if mixed is None:
        return ""
    word, scripts = mixed
    return (
        f"The {what} {value!r} mixes {' and '.join(scripts)} letters in the word "
        f"{word!r}, so it can look like another {what}: type each word in one "
        "alphabet."
    )
