"""Parse what a person types into a search box into a safe query tree.

The grammar follows the one web search engines use:

- words are all required (AND);
- ``"two words"`` is a phrase; a quote that is never closed runs to the end;
- ``OR`` (upper case) or ``|`` between two terms matches either;
- ``AND`` (upper case) between terms is the implicit AND, so it is dropped;
- ``-word`` or ``-"a phrase"`` excludes it, and so does ``NOT`` (upper case)
  before a term;
- ``word*`` matches words that start with ``word`` (at least two letters).

Every term is reduced to words of letters and digits (after ``C++`` and
``C#`` are encoded, see ``search.text``), so nothing a person types reaches
an engine's query syntax. Operators without a term next to them are
dropped, input longer than the ``SEARCH_MAX_QUERY_LENGTH`` setting is cut
(``ParsedQuery.truncated`` tells), and a query with no required term
matches nothing.
"""

import re
from dataclasses import dataclass, field

from django.conf import settings

from core.text import clean_line
from search.text import index_form

MAX_TERMS = 16
MIN_PREFIX_LENGTH = 2

_WORD = re.compile(r"[^\W_]+")
# A quoted phrase (closed or not), or a run of characters up to a space or quote.
_CHUNK = re.compile(r'(-?)"([^"]*)"?|(\S[^\s"]*)')


@dataclass(frozen=True)
class Term:
    """A word or a phrase: its words in order, and whether the last is a prefix."""

    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class ParsedQuery:
    """Required groups of alternative terms, and excluded terms.

    A group matches when any of its terms does; all groups must match.
    """

    groups: tuple[tuple[Term, ...], ...] = ()
    excluded: tuple[Term, ...] = ()
    text: str = ""
    # Characters of the cleaned input before it was cut to the limit.
    typed_length: int = 0
    # The operators typed (AND, OR, |, NOT), for the message of a query
    # that has nothing else.
    operators: tuple[str, ...] = ()

    @property
    def truncated(self) -> bool:
        return self.typed_length > len(self.text)

    @property
    def is_empty(self) -> bool:
        return not self.groups

    @property
    def empty_reason(self) -> str:
        """Return why a query without wanted terms finds nothing.

        "excluded" when it only excludes words, "operators" when it contains
        operators and no word, and "symbols" when it has no word at all.
        """
        if self.excluded:
            return "excluded"
        if self.operators:
            return "operators"
        return "symbols"

    def terms(self) -> list[Term]:
        return [term for group in self.groups for term in group]


@dataclass
class _Builder:
    groups: list[list[Term]] = field(default_factory=list)
    excluded: list[Term] = field(default_factory=list)
    join_next: bool = False
    # Set by NOT: the next term is excluded.
    exclude_next: bool = False
    count: int = 0
    operators: list[str] = field(default_factory=list)

    def add(self, term: Term, *, exclude: bool) -> None:
        exclude = exclude or self.exclude_next
        self.exclude_next = False
        if self.count >= MAX_TERMS:
            return
        self.count += 1
        if exclude:
            self.excluded.append(term)
            self.join_next = False
        elif self.join_next and self.groups:
            self.groups[-1].append(term)
            self.join_next = False
        else:
            self.groups.append([term])

    def join(self) -> None:
        # OR joins only when a term is on its left, so a leading OR does nothing.
        self.join_next = bool(self.groups)


def _term(text: str, *, allow_prefix: bool) -> Term | None:
    prefix = False
    if allow_prefix and text.endswith("*"):
        stripped = text.rstrip("*")
        words = _WORD.findall(index_form(stripped))
        prefix = bool(words) and len(words[-1]) >= MIN_PREFIX_LENGTH
    else:
        words = _WORD.findall(index_form(text))
    if not words:
        return None
    return Term(words=tuple(words), prefix=prefix)


def parse_query(raw: str) -> ParsedQuery:
    """Parse ``raw``; never raises, whatever the input."""
    cleaned = clean_line(raw)
    text = cleaned[: settings.SEARCH_MAX_QUERY_LENGTH]
    builder = _Builder()

    for match in _CHUNK.finditer(text):
        negated, phrase, bare = match.groups()
        if bare is not None:
            if bare in {"OR", "|"}:
                builder.operators.append(bare)
                builder.join()
                continue
            # Lower-case "and" and "not" stay words, as "or" does.
            if bare == "AND":
                builder.operators.append(bare)
                continue
            if bare == "NOT":
                builder.operators.append(bare)
                builder.exclude_next = True
                continue
            exclude = bare.startswith("-") and len(bare) > 1
            term = _term(bare[1:] if exclude else bare, allow_prefix=True)
        else:
            exclude = bool(negated)
            term = _term(phrase, allow_prefix=False)
        if term is not None:
            builder.add(term, exclude=exclude)

    return ParsedQuery(
        groups=tuple(tuple(group) for group in builder.groups),
        excluded=tuple(builder.excluded),
        text=text,
        typed_length=len(cleaned),
        operators=tuple(builder.operators),
    )
