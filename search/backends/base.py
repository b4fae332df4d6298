"""The interface every search engine backend implements."""

import functools
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from django.db import connection
from django.db.models import QuerySet

from core.queries import where_sql
from search.models import SearchEntry
from search.query import ParsedQuery

# A person's profile is short, so a topic word in a job title or a skill
# would outrank the content about it. Each backend ranks a person by the
# name alone plus this fraction of the rank over the whole profile, so a
# search for a name still finds the person first.
PERSON_PROFILE_WEIGHT = 0.2


class Order(StrEnum):
    RELEVANCE = "relevance"
    DATE = "date"


@dataclass(frozen=True)
class RawHit:
    """One matching entry as the engine returns it, with hits marked.

    The marks are the private-use characters in ``search.text``.
    """

    entry_id: int
    kind: str
    object_id: int
    title: str
    # Shown when ``title`` is empty (see ``SearchEntry.heading``).
    heading: str
    snippet: str
    created_at: datetime
    community_id: int | None
    author_id: int | None
    # The parent (question or post) and the slug (community slug or
    # username) that the hit's address needs (``address_columns``). None
    # when the kind needs none, or when the object was deleted after the match.
    parent_id: int | None = None
    slug: str | None = None
    # The entry's help-context keys that hold a term of the query, and its
    # tags in index form, to say why it matched when no hit is marked.
    matched_contexts: tuple[str, ...] = ()
    tags: str = ""
    # The spelled-out forms of umlaut words that are hits ("Mueller" for
    # "Müller"), to say why it matched when the snippet shows no hit.
    spelled_out_words: tuple[str, ...] = ()


# A compiled WHERE clause: SQL on ``search_entry`` columns and its parameters.
Where = tuple[str, tuple[Any, ...]]


@dataclass(frozen=True)
class Matches:
    """The counts and the page of one search, taken from its newest matches only.

    A backend ranks and counts at most ``candidate_limit`` matches: the
    visible, filtered matches with the highest entry ids, which are the
    newest (``search.indexing`` writes entries in creation order). Counts
    are exact when they are below the limit and lower bounds otherwise.
    """

    # Matches per kind among the newest matches of every kind.
    counts: dict[str, int]
    # False when the limit cut the candidates, so ``counts`` are lower bounds.
    counts_complete: bool
    # Matches of the requested kinds, at most the limit.
    total: int
    total_complete: bool
    hits: list[RawHit]


def where_clause(entries: QuerySet[SearchEntry]) -> Where | None:
    """Compile the WHERE clause of ``entries``, or return None when it matches nothing.

    The clause names columns as ``"search_entry"."column"``, so it applies
    to a statement that reads ``search_entry`` unaliased. The visibility
    rule is plain column predicates, so compiling it is cheap.
    """
    query = entries.query
    if len(query.alias_map) > 1:
        raise ValueError(
            "Search filters must not join other tables: use a subquery (Exists)."
        )
    return where_sql(entries)


@functools.cache
def address_columns(vendor: str) -> str:
    """Return two select columns, ``parent_id`` and ``slug``, for ``RawHit``.

    Each is one lookup by primary key for the kinds whose page address
    needs it, so a page of hits gets its addresses in the statement that
    reads its snippets. The statement must read ``search_entry`` unaliased.
    """
    from accounts.models import User
    from answers.models import Answer, QuestionComment
    from communities.models import Community
    from search.models import Kind
    from social.models import Comment

    quote = connection.ops.quote_name

    def lookup(model: Any, field: str) -> str:
        table = quote(model._meta.db_table)
        column = quote(model._meta.get_field(field).column)
        key = quote(model._meta.pk.column)
        # Names from the models' metadata, quoted; no request text.
        return f"(SELECT {column} FROM {table} WHERE {key} = search_entry.object_id)"  # noqa: S608

    def by_kind(lookups: dict[str, str]) -> str:
        whens = " ".join(f"WHEN '{kind}' THEN {sql}" for kind, sql in lookups.items())
        return f"CASE search_entry.kind {whens} END"

    parent = by_kind(
        {
            Kind.ANSWER.value: lookup(Answer, "question"),
            Kind.COMMENT.value: lookup(Comment, "post"),
            Kind.QUESTION_COMMENT.value: lookup(QuestionComment, "question"),
        }
    )
    slug = by_kind(
        {
            Kind.COMMUNITY.value: lookup(Community, "slug"),
            Kind.PERSON.value: lookup(User, "username"),
        }
    )
    return f"{parent}, {slug}"


def fetch_rows(sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


class SearchBackend(Protocol):
    """Full-text matching over entries already narrowed to what a viewer may see.

    ``where`` is the compiled visibility rule and filters
    (``search.selectors``); a backend adds the text match to the same SQL
    statement, so no hidden entry is ever counted or returned.
    """

    def run(
        self,
        where: Where,
        query: ParsedQuery,
        *,
        kinds: tuple[str, ...],
        order: Order,
        offset: int,
        limit: int,
        candidate_limit: int,
    ) -> Matches:
        """Count the newest matches in ``entries`` per kind and return one page.

        The counts cover every kind. The page is taken from the newest
        ``candidate_limit`` matches of ``kinds`` (all kinds when empty),
        best or newest first.
        """
        ...
