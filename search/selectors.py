"""Run a search for one viewer: visibility, filters, matching, paging, facets.

``visibility_rule`` is the only place that decides which entries a viewer
may find. It turns the viewer into plain predicates on the index row's
columns (built from ``visible_communities`` and the rules of
``visible_posts``, ``visible_questions``, ...), and every count, facet and
page is computed under it in the same SQL statement as the match.
"""

import dataclasses
import datetime
import functools
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.db.models import BigIntegerField, Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString

from accounts.models import Role, User
from accounts.permissions import Viewer
from answers.selectors import held_faq_ids_hidden_from, held_faq_ids_hidden_from_sql
from assist.contexts import DECLARED_CONTEXTS, is_customer_context
from communities.selectors import visible_communities_sql, visible_community_ids
from search.backends import Matches, Order, RawHit, get_backend
from search.backends.base import Where, where_clause
from search.models import Kind, MissedSearch, SearchEntry, SearchLabel
from search.query import ParsedQuery, parse_query
from search.sources import tag_key
from search.text import HIT_START, decode_symbols, highlighted_html

# Plain strings: the SQLite driver does not bind ``str`` subclasses as text.
_COMMUNITY_KINDS = [
    Kind.POST.value,
    Kind.BLOG.value,
    Kind.COMMENT.value,
    Kind.COMMUNITY.value,
]
_QUESTION_KINDS = [
    Kind.QUESTION.value,
    Kind.ANSWER.value,
    Kind.QUESTION_COMMENT.value,
]
_CUSTOMER_MARKED_KINDS = [Kind.FAQ.value, Kind.LIBRARY.value]

# The number of newest matches a search ranks and counts when the
# ``SEARCH_CANDIDATE_LIMIT`` setting is not set (see docs/search.md).
DEFAULT_CANDIDATE_LIMIT = 1000


def visibility_rule(viewer: Viewer) -> Q | None:
    """Return the condition on ``search_entry`` columns for what ``viewer`` may find.

    This is the one place search decides visibility. The viewer's side is
    resolved here once: the communities
    ``communities.selectors.visible_communities`` allows and the held FAQ
    entries hidden from the viewer (``_rule_sets``: ids, or the kept SQL
    that reads them), the viewer's customer company and ``is_external``. The
    entry's side
    was copied into the row when it was written (``search.sources``):

    - post, blog, comment, community: ``visible_posts`` and
      ``visible_communities`` are "the community is visible", so
      ``community_id IN (...)``; a comment carries its post's community.
    - question, answer, question_comment: ``visible_questions`` adds, for
      customer accounts, "asked by no customer or by the viewer's company"
      on ``customer_id``; answers and comments carry their question's.
    - faq, library: ``visible_faq_entries`` and ``visible_documents`` show
      everything to employees and ``customer_visible`` rows to customers.
      FAQ entries held for their owners are indexed too, and those the
      viewer does not own (``held_faq_entries_hidden_from``) are left out,
      so only their owners find them.
    - person: ``visible_people``; inactive people have no entry, and
      customers see ``customer_visible`` people and themselves.

    Deleted posts, answers and comments, and comments of deleted posts and
    answers, have no entry. Return None when the viewer
    may find nothing.
    """
    if not isinstance(viewer, User):
        return None
    sets = _rule_sets(viewer)
    in_communities = sets.in_communities
    questions = in_communities
    marked = Q()
    people = Q(kind=Kind.PERSON.value)
    if viewer.is_external:
        questions &= Q(customer_id__isnull=True) | Q(customer_id=viewer.customer_id)
        marked = Q(customer_visible=True)
        people &= Q(customer_visible=True) | Q(object_id=viewer.pk)
    rule = (
        Q(kind__in=_CUSTOMER_MARKED_KINDS) & marked
        if viewer.is_external
        else Q(kind__in=_CUSTOMER_MARKED_KINDS)
    )
    if sets.any_community and viewer.is_external:
        rule |= Q(kind__in=_COMMUNITY_KINDS) & in_communities
        rule |= Q(kind__in=_QUESTION_KINDS) & questions
    elif sets.any_community:
        # The same condition for both groups of kinds, written once: on
        # PostgreSQL each copy was a subquery planned and hashed again.
        rule |= Q(kind__in=_COMMUNITY_KINDS + _QUESTION_KINDS) & in_communities
    if viewer.is_active:
        rule |= people
    if sets.hidden_faq is not None:
        rule &= ~(Q(kind=Kind.FAQ.value) & sets.hidden_faq)
    return rule


@dataclass(frozen=True)
class _RuleSets:
    """The viewer's side of the rule: which communities, which held FAQ entries."""

    # ``community_id`` is one of the communities the viewer may see.
    in_communities: Q
    # False when the viewer sees no community, so no community row can match.
    any_community: bool
    # ``object_id`` is a held FAQ entry hidden from the viewer; None for none.
    hidden_faq: Q | None


def _rule_sets(viewer: User) -> _RuleSets:
    """Return the conditions on community and FAQ ids for ``viewer``.

    On SQLite the ids are read first and go into the rule as lists. On
    PostgreSQL the kept statements of both sets go into the rule as
    subqueries, so the search statement reads them itself: one round trip
    less on every search. PostgreSQL runs each subquery once per statement
    and looks each row up in a hash of its ids (a hashed SubPlan). The
    search statement is planned for its own values every time
    (``search.backends.postgresql._fetch_unprepared``), so the subqueries
    cannot lead to a generic plan.
    """
    if connection.vendor != "postgresql":
        community_ids = tuple(visible_community_ids(viewer))
        hidden_ids = held_faq_ids_hidden_from(viewer)
        return _RuleSets(
            in_communities=Q(community_id__any_of=community_ids),
            any_community=bool(community_ids),
            hidden_faq=Q(object_id__any_of=hidden_ids) if hidden_ids else None,
        )
    communities_sql, communities_params = visible_communities_sql(viewer)
    # Both are kept rule SQL (``kept_statement``), with no request text.
    visible = RawSQL(  # noqa: S611 (kept rule SQL and its own parameters)
        f"SELECT id FROM ({communities_sql}) AS visible",  # noqa: S608
        tuple(communities_params),
        output_field=BigIntegerField(),
    )
    hidden = held_faq_ids_hidden_from_sql(viewer)
    hidden_faq = None
    if hidden is not None:
        hidden_sql, hidden_params = hidden
        hidden_faq = Q(
            object_id__in=RawSQL(  # noqa: S611 (kept rule SQL and its own parameters)
                hidden_sql, tuple(hidden_params), output_field=BigIntegerField()
            )
        )
    return _RuleSets(
        in_communities=Q(community_id__in=visible),
        any_community=True,
        hidden_faq=hidden_faq,
    )


def visible_entries(viewer: Viewer) -> QuerySet[SearchEntry]:
    """Return the index entries ``viewer`` may find (see ``visibility_rule``)."""
    rule = visibility_rule(viewer)
    if rule is None:
        return SearchEntry.objects.none()
    return SearchEntry.objects.filter(rule)


@dataclass(frozen=True)
class SearchFilters:
    """Filters of one search; an empty value filters nothing."""

    kinds: tuple[str, ...] = ()
    # As typed: normalized like a hashtag (``#`` optional) before it is matched.
    tag: str = ""
    context: str = ""
    community_id: int | None = None
    author_id: int | None = None
    since: datetime.date | None = None
    until: datetime.date | None = None


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def filter_entries(
    entries: QuerySet[SearchEntry], filters: SearchFilters
) -> QuerySet[SearchEntry]:
    """Narrow ``entries`` by every filter except the kinds."""
    tag = tag_key(filters.tag)
    if tag:
        tagged = SearchLabel.objects.filter(
            entry=OuterRef("pk"), field=SearchLabel.Field.TAG, value=tag
        )
        entries = entries.filter(Exists(tagged))
    if filters.context:
        # A context matches its own key and every key below it.
        in_context = SearchLabel.objects.filter(
            Q(value=filters.context) | Q(value__startswith=f"{filters.context}."),
            entry=OuterRef("pk"),
            field=SearchLabel.Field.CONTEXT,
        )
        entries = entries.filter(Exists(in_context))
    if filters.community_id is not None:
        entries = entries.filter(community_id=filters.community_id)
    if filters.author_id is not None:
        entries = entries.filter(author_id=filters.author_id)
    # The first and last dates Python can represent bound nothing: no entry
    # is older or newer, and their day bounds overflow datetime once shifted
    # between the time zone and UTC (the day after date.max does not exist).
    if filters.since is not None and filters.since > datetime.date.min:
        entries = entries.filter(created_at__gte=_day_start(filters.since))
    if filters.until is not None and filters.until < datetime.date.max:
        next_day = filters.until + datetime.timedelta(days=1)
        entries = entries.filter(created_at__lt=_day_start(next_day))
    return entries


@functools.lru_cache(maxsize=512)
def _compiled_rule(vendor: str, rule: Q) -> Where | None:
    # The compiled SQL depends on the rule's values and the engine only,
    # so it is kept per process; ``vendor`` keys the engine.
    return where_clause(SearchEntry.objects.filter(rule))


def search_where(viewer: Viewer, filters: SearchFilters) -> Where | None:
    """Return the WHERE clause of what ``viewer`` may find under ``filters``.

    The same condition as ``filter_entries(visible_entries(viewer), filters)``.
    The visibility rule is compiled once per distinct rule and kept, since
    compiling a rule with a long list of communities cost more than the
    search statement of a rare word. None when nothing can match.
    """
    rule = visibility_rule(viewer)
    if rule is None:
        return None
    visible = _compiled_rule(connection.vendor, rule)
    # The kinds are applied by the backend, so a search filtered by kind
    # alone adds no condition here.
    if visible is None or dataclasses.replace(filters, kinds=()) == SearchFilters():
        return visible
    narrowed = where_clause(filter_entries(SearchEntry.objects.all(), filters))
    if narrowed is None:
        return None
    return (
        f"({visible[0]}) AND ({narrowed[0]})",
        (*visible[1], *narrowed[1]),
    )


@dataclass(frozen=True)
class Hit:
    """One result as a viewer sees it; ``title_html`` and ``snippet_html`` are safe."""

    kind: str
    object_id: int
    url: str
    title_html: SafeString
    snippet_html: SafeString
    created_at: datetime.datetime

    @property
    def kind_label(self) -> str:
        """The kind's display name, which the page shows (the API writes ``kind``)."""
        return str(Kind(self.kind).label)


@dataclass(frozen=True)
class SearchResults:
    query: ParsedQuery
    hits: list[Hit] = field(default_factory=list)
    total: int = 0
    # False when more than the candidate limit matched: ``total`` is then
    # the limit, a lower bound, and pages end there.
    total_complete: bool = True
    # Matches per kind under every filter but the kind, so each can be offered.
    facets: dict[str, int] = field(default_factory=dict)
    # False when the facets were counted over the newest matches only.
    facets_complete: bool = True
    page: int = 1
    page_size: int = 20

    @property
    def facet_rows(self) -> list[tuple[str, str, int]]:
        """Return (kind, label, count) for each kind with matches, in kind order."""
        return [
            (kind, str(label), self.facets[kind])
            for kind, label in Kind.choices
            if self.facets.get(kind)
        ]

    @property
    def page_count(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def has_next(self) -> bool:
        return self.page < self.page_count

    @property
    def has_previous(self) -> bool:
        return self.page > 1


# Stand in for ids while an address is reversed once per route (``_id_url``).
_ID_STAND_INS = (900_000_001, 900_000_002)
_ID_ROUTES = {
    Kind.POST.value: "posts:post_detail",
    Kind.BLOG.value: "posts:post_detail",
    Kind.QUESTION.value: "answers:question_detail",
    Kind.FAQ.value: "answers:faq_detail",
    Kind.LIBRARY.value: "library:document_detail",
}


@functools.lru_cache(maxsize=64)
def _url_template(route: str, count: int, prefix: str) -> str:
    # ``prefix`` (the script prefix) keys the cache: ``reverse`` includes it.
    stand_ins = [str(value) for value in _ID_STAND_INS[:count]]
    url = reverse(route, args=stand_ins).replace("{", "{{").replace("}", "}}")
    for position, stand_in in enumerate(stand_ins):
        if url.count(stand_in) != 1:
            raise ValueError(f"The address of {route!r} does not hold its id once.")
        url = url.replace(stand_in, f"{{{position}}}")
    return url


@functools.lru_cache(maxsize=4096)
def _slug_url(route: str, slug: str, prefix: str) -> str:
    # The same communities and people come back in search after search, and
    # ``reverse`` took about 45 us each. ``prefix`` (the script prefix) keys
    # the cache, since ``reverse`` includes it.
    return reverse(route, args=[slug])


def _id_url(route: str, *ids: int) -> str:
    """Return ``reverse(route, args=ids)`` for integer ids, reversing once per route."""
    return _url_template(route, len(ids), get_script_prefix()).format(*ids)


def _object_url(raw: RawHit) -> str | None:
    """Return the address of a hit, or None when its object is gone."""
    if raw.kind in _ID_ROUTES:
        return _id_url(_ID_ROUTES[raw.kind], raw.object_id)
    if raw.kind in (Kind.COMMUNITY, Kind.PERSON):
        if raw.slug is None:
            return None
        route = (
            "communities:community_detail"
            if raw.kind == Kind.COMMUNITY
            else "people:profile"
        )
        return _slug_url(route, raw.slug, get_script_prefix())
    if raw.parent_id is None:
        return None
    if raw.kind == Kind.ANSWER:
        question = _id_url("answers:question_detail", raw.parent_id)
        return f"{question}#answer-{raw.object_id}"
    if raw.kind == Kind.COMMENT:
        return _id_url("posts:comment_permalink", raw.parent_id, raw.object_id)
    if raw.kind == Kind.QUESTION_COMMENT:
        question = _id_url("answers:question_detail", raw.parent_id)
        return f"{question}#qa-comment-{raw.object_id}"
    raise ValueError(f"Search has no page for entries of kind {raw.kind!r}.")


def _title_html(raw: RawHit) -> SafeString:
    if raw.title.strip():
        return highlighted_html(raw.title)
    return escape(raw.heading)


_CONTEXT_TITLES = {context.key: context.title for context in DECLARED_CONTEXTS}


def match_reason(raw: RawHit, *, external: bool) -> str | None:
    """Return why ``raw`` matched when neither its title nor its snippet marks a hit.

    Such an entry matched through its screens (help-context keys) or its
    tags, which are indexed but not shown, or through the spelled-out form
    of an umlaut word the snippet does not reach. A customer account is shown the
    names of the portal's screens only, since the others are internal.
    Return None when a hit is marked, or when the reason is not known.
    """
    if HIT_START in raw.title or HIT_START in raw.snippet:
        return None
    if raw.spelled_out_words:
        words = ", ".join(raw.spelled_out_words)
        return f"Matched {words}, written with ä, ö, ü or ß in its text"
    if raw.matched_contexts:
        titles = [
            _CONTEXT_TITLES.get(key, key)
            for key in raw.matched_contexts
            if not external or is_customer_context(key)
        ]
        if not titles:
            return "Matched a CRM screen it covers."
        noun = "screen" if len(titles) == 1 else "screens"
        return f"Matched its {noun}: {', '.join(titles)}"
    if raw.tags.strip():
        noun = "skills" if raw.kind == Kind.PERSON else "tags"
        return f"Matched its {noun}: {decode_symbols(raw.tags)}"
    return None


def _snippet_html(raw: RawHit, *, external: bool) -> SafeString:
    reason = match_reason(raw, external=external)
    if reason is not None:
        return escape(reason)
    return highlighted_html(raw.snippet)


def _to_hits(raw_hits: list[RawHit], *, external: bool) -> list[Hit]:
    """Build the shown hits, leaving out those whose object was deleted since."""
    hits = []
    for raw in raw_hits:
        url = _object_url(raw)
        if url is None:
            continue
        hits.append(
            Hit(
                kind=raw.kind,
                object_id=raw.object_id,
                url=url,
                title_html=_title_html(raw),
                snippet_html=_snippet_html(raw, external=external),
                created_at=raw.created_at,
            )
        )
    return hits


def search(
    viewer: Viewer,
    text: str,
    *,
    filters: SearchFilters | None = None,
    order: Order = Order.RELEVANCE,
    page: int = 1,
    page_size: int | None = None,
    candidate_limit: int | None = None,
) -> SearchResults:
    """Return one page of what ``viewer`` may find for ``text``, and counts per kind.

    Only the newest ``candidate_limit`` matches (``SEARCH_CANDIDATE_LIMIT``
    by default) are ranked and counted, so a common word costs a bounded
    amount. Counts beyond the limit are marked incomplete.
    """
    filters = filters or SearchFilters()
    size: int = page_size or settings.SEARCH_PAGE_SIZE
    query = parse_query(text)
    if query.is_empty:
        return SearchResults(query=query, page_size=size)

    where = search_where(viewer, filters)
    if where is None:
        return SearchResults(query=query, page_size=size)
    if candidate_limit is None:
        candidate_limit = int(
            getattr(settings, "SEARCH_CANDIDATE_LIMIT", DEFAULT_CANDIDATE_LIMIT)
        )
    # A page past the end shows the last page, as the pager would; no page
    # lies beyond the candidate limit.
    last_page = max(1, -(-candidate_limit // size))
    page = min(page, last_page)
    matches = _run_backend(where, query, filters, order, page, size, candidate_limit)
    last_page = max(1, -(-matches.total // size))
    if page > last_page:
        page = last_page
        matches = _run_backend(
            where, query, filters, order, page, size, candidate_limit
        )
    return SearchResults(
        query=query,
        hits=_to_hits(
            matches.hits, external=bool(getattr(viewer, "is_external", False))
        ),
        total=matches.total,
        total_complete=matches.total_complete,
        facets=matches.counts,
        facets_complete=matches.counts_complete,
        page=page,
        page_size=size,
    )


def _run_backend(
    where: Where,
    query: ParsedQuery,
    filters: SearchFilters,
    order: Order,
    page: int,
    size: int,
    candidate_limit: int,
) -> Matches:
    return get_backend().run(
        where,
        query,
        kinds=filters.kinds,
        order=order,
        offset=(page - 1) * size,
        limit=size,
        candidate_limit=candidate_limit,
    )


def can_read_missed_searches(person: User) -> bool:
    return person.role == Role.FACILITATOR


def most_missed_searches(*, limit: int = 100) -> list[MissedSearch]:
    """Return the queries that most often found nothing, most frequent first."""
    rows = MissedSearch.objects.order_by("-count", "-last_searched_at", "query")
    return list(rows[:limit])
