"""Look-alike names: a confusable skeleton and a mixed-script check.

Two names that a reader cannot tell apart, such as "Customer corner" in
Latin letters and the same words with a Cyrillic capital es (U+0421) in
place of each C, must not both exist.
``skeleton`` maps a name to a key that such look-alikes share, in the spirit
of the skeleton of Unicode Technical Standard #39 (Security Mechanisms). It
case-folds with ``core.text.fold_case`` and drops invisible format
characters. Then it maps each letter to the Latin letter it looks like.

NOTE: the table below is a small hand-made one for the Cyrillic and Greek
letters that look like Latin letters in common fonts. It is not the full
TR 39 confusables data: other scripts (Armenian, Cherokee, mathematical
letters that NFKC does not fold) and look-alikes inside Latin ("rn" and
"m", "l" and "I", "0" and "O") are not mapped.
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

# The scripts whose letters are mapped above, by the first word of their
# Unicode character names.
CHECKED_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK")


def skeleton(value: str) -> str:
    """Return the key that ``value`` shares with the names it looks like."""
    return "".join(
        LATIN_LOOK_ALIKES.get(char, char)
        for char in fold_case(value)
        if unicodedata.category(char) != "Cf"
    )


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
