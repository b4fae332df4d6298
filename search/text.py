"""Turn text into the form both search engines index, and back.

Neither FTS5's unicode61 tokenizer nor PostgreSQL's default parser keeps
``+`` or ``#``, so ``C++``, ``C#`` and ``C`` would all become the token
``c``. Before text is indexed or searched, a word directly followed by one
to three ``+`` or ``#`` signs (``C++``, ``C#``, ``F#``, ``g++``) is spelled
as one token of letters and digits: ``C++`` becomes ``C0plus0plus0`` and
``C#`` becomes ``C0sharp0``. Both engines then keep it as one token, so the
three terms stay distinct, and the same function encodes the query.
Snippets are decoded back before they are shown. Case is kept, so decoding
restores the original spelling.

Signs that do not end a word (``#onboarding``, ``a+b``) are left alone and
both tokenizers drop them, so ``#onboarding`` is found by ``onboarding``.
A hashtag's leading ``#`` does not stop the encoding, so the text
``#C++`` is found by ``C++`` and not by ``C``, as hashtags are parsed.

NOTE: text that already contains a token such as ``C0sharp0`` is shown as
``C#`` in snippets. No real word has that shape.
"""

import html
import re
import unicodedata

from django.utils.safestring import SafeString

from core.text import MAX_TAG_SUFFIX_LENGTH, clean_line

_SYMBOL_CODES = {"+": "0plus", "#": "0sharp"}
# A word may follow one ``#`` that starts it (the hashtag ``#C++``), but not
# a sign glued to other text (``a#C++``).
_SUFFIXED_WORD = re.compile(
    rf"(?<![\w+])(?<![\w+#]#)([^\W_]+)([+#]{{1,{MAX_TAG_SUFFIX_LENGTH}}})(?![\w+#])"
)
_ENCODED_WORD = re.compile(r"\b([^\W_]+?)((?:0plus|0sharp)+)0\b")
_CODE_SYMBOLS = {"0plus": "+", "0sharp": "#"}

MAX_LOGGED_QUERY_LENGTH = 200


def _encode_match(match: re.Match[str]) -> str:
    codes = "".join(_SYMBOL_CODES[sign] for sign in match.group(2))
    return f"{match.group(1)}{codes}0"


def _decode_match(match: re.Match[str]) -> str:
    signs = re.sub(r"0plus|0sharp", lambda code: _CODE_SYMBOLS[code.group()], match[2])
    return f"{match.group(1)}{signs}"


def encode_symbols(text: str) -> str:
    """Spell words that end in ``+`` or ``#`` as single letter-and-digit tokens."""
    return _SUFFIXED_WORD.sub(_encode_match, text)


def decode_symbols(text: str) -> str:
    """Undo ``encode_symbols``."""
    return _ENCODED_WORD.sub(_decode_match, text)


# Private-use characters that mark hits in snippets; removed from indexed text
# so that no text can forge a highlight.
HIT_START = "\ue000"
HIT_END = "\ue001"
# Starts the spelled-out umlaut words at the end of an entry's indexed body
# ("Mueller" for "Müller"). Both engines split words at this paragraph
# separator, and ``index_form`` turns it into a space in any indexed text,
# so only the index puts it there and a snippet can leave the words out.
SPELLED_OUT_START = "\u2029"
_MARKERS = str.maketrans({HIT_START: None, HIT_END: None, SPELLED_OUT_START: " "})


def index_form(text: str) -> str:
    """Return ``text`` as it is stored in the index: composed, unmarked, encoded."""
    return encode_symbols(unicodedata.normalize("NFKC", text).translate(_MARKERS))


_MARK_SPLIT = re.compile(f"([{HIT_START}{HIT_END}])")
_MARKED_HIT = re.compile(f"{HIT_START}([^{HIT_END}]*)")
# Words in the snippet of a body.
SNIPPET_WORDS = 24
# Hits tried as the start of a snippet's window, the first ones in the text.
MAX_SNIPPET_CANDIDATES = 32


def _hit_score(window: list[str]) -> tuple[int, int]:
    hits = _MARKED_HIT.findall(" ".join(window))
    return len({hit.casefold() for hit in hits}), len(hits)


def marked_snippet(marked: str, *, words: int = SNIPPET_WORDS) -> str:
    """Cut ``words`` words of ``marked`` around its best hits, keeping the marks.

    ``marked`` is a whole column with its hits marked, as FTS5's
    ``highlight()`` returns it. Of the windows that start at one of the
    first ``MAX_SNIPPET_CANDIDATES`` hits, the one with the most distinct
    hit words wins, then the one with the most hits, then the first. The
    hits are centred in it, and "…" stands for the words left out. The work
    grows with the text's length alone: FTS5's ``snippet()`` scores every
    hit against every other, which took 3.4 s for a column with 20,000 hits.
    """
    tokens = marked.split()
    hit_positions = [i for i, token in enumerate(tokens) if HIT_START in token]
    start = 0
    if hit_positions:
        best = max(
            hit_positions[:MAX_SNIPPET_CANDIDATES],
            key=lambda i: (_hit_score(tokens[i : i + words]), -i),
        )
        last = max(i for i in hit_positions if best <= i < best + words)
        start = max(0, best - (words - (last - best + 1)) // 2)
        start = max(0, min(start, len(tokens) - words))
    end = min(len(tokens), start + words)
    snippet = " ".join(tokens[start:end])
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(tokens) else ""
    return f"{prefix}{snippet}{suffix}"


def marked_keys(marked: str) -> tuple[str, ...]:
    """Return the space-separated keys of ``marked`` that contain a hit, unmarked."""
    return tuple(key.translate(_MARKERS) for key in marked.split() if HIT_START in key)


def highlighted_html(marked: str) -> SafeString:
    """Escape a snippet and wrap each marked hit in ``<mark>``; nothing else is HTML.

    A start marker without its end marker is closed at the end of the text.
    Pieces are escaped with ``html.escape``, which Django's ``escape`` calls,
    without its lazy-string wrapper: a page of hits escapes hundreds of them.
    """
    if "0plus" in marked or "0sharp" in marked:
        marked = decode_symbols(marked)
    parts: list[str] = []
    inside = False
    for piece in _MARK_SPLIT.split(marked):
        if piece == HIT_START:
            if not inside:
                parts.append("<mark>")
                inside = True
        elif piece == HIT_END:
            if inside:
                parts.append("</mark>")
                inside = False
        elif piece:
            parts.append(html.escape(piece))
    if inside:
        parts.append("</mark>")
    # Built as a SafeString directly, because ``mark_safe`` first checks its
    # argument for a lazy string, twice per hit on every page of results.
    return SafeString("".join(parts))


def normalize_logged_query(raw: str) -> str:
    """Return the form a query with no results is counted under.

    Case and width are folded (NFKC, then casefold) like tags, and
    whitespace is folded, so ``Short  Payment`` and ``short payment`` count
    as one query.
    """
    folded = unicodedata.normalize("NFKC", clean_line(raw)).casefold()
    return folded[:MAX_LOGGED_QUERY_LENGTH]


# German letters with an umlaut or sharp s, and how they are spelled out
# where the letter is missing ("Mueller" for "Müller", "Strasse" for
# "Straße"). NFKC (``index_form``) has composed a letter and a combining
# diaeresis into one of these before they are looked up.
SPELLED_OUT = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"}
)
UMLAUT_WORD = re.compile(r"[^\W_]*[äöüßÄÖÜ][^\W_]*")


def spelled_out_hits(text: str, marked_spelled_out: str) -> tuple[str, tuple[str, ...]]:
    """Mark in ``text`` the umlaut words whose spelled-out form is a hit.

    ``marked_spelled_out`` is the entry's spelled-out words as the engine
    marked them, so "Mueller" marks "Müller". Return ``text`` with those
    words marked, and the spelled-out words that are hits, in order.
    """
    hits = tuple(dict.fromkeys(_MARKED_HIT.findall(marked_spelled_out)))
    if not hits:
        return text, ()
    found = {hit.casefold() for hit in hits}

    def mark(match: re.Match[str]) -> str:
        word = match.group(0)
        if word.translate(SPELLED_OUT).casefold() not in found:
            return word
        return f"{HIT_START}{word}{HIT_END}"

    # A word already marked in ``text`` is inside the marks and stays as it is.
    pieces = _MARK_SPLIT.split(text)
    inside = False
    for number, piece in enumerate(pieces):
        if piece == HIT_START:
            inside = True
        elif piece == HIT_END:
            inside = False
        elif not inside:
            pieces[number] = UMLAUT_WORD.sub(mark, piece)
    return "".join(pieces), hits
