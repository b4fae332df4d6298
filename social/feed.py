"""The home feed: posts from what a reader follows, newest or most helpful first.

A reader's feed takes posts from four kinds of source: people they follow,
hashtags they follow, communities they belong to or follow, and
announcements. Deleted posts (tombstones) are left out, and every post
passes the post visibility rule (``social.selectors.visible_posts``).

A page is one SQL statement whatever its length:

1. Subqueries name the sources: the people the reader follows (and the
   reader), the hashtags they follow, the communities they follow or
   belong to.
2. For each source, its first ``limit + 6`` posts after the cursor come
   from that source's own index (author, community, hashtag or kind, then
   time and id). Each kind of source is one term run once per source id (a
   LATERAL join on PostgreSQL, a correlated subquery on SQLite). The terms
   are merged with UNION and cut to the first ``limit + 6``. No OR across
   joins and no sort over every followed post are needed, so the cost grows
   with the number of sources times the page length, not with the data.
3. The unread announcements to pin join those ids, and the posts with the
   ids are read through ``visible_posts(viewer)``, with the reader's own
   marks on them.

Python then takes out the pinned announcements and cuts the page, which
needs ``limit + 1`` posts besides at most five pinned ones.

Cursors are opaque keyset positions: (created_at, id) for "newest" and
(helpful_count, created_at, id) for "helpful". Because ids break ties and
the condition is strictly "after the last post shown", no post is skipped
or repeated between pages when timestamps tie or new posts arrive. For the
"helpful" order, a post whose helpful count changes between two pages may
move to a place the reader already passed, or show again.
"""

import base64
import datetime
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import BooleanField, Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import User
from accounts.permissions import Viewer
from communities.models import Membership
from communities.selectors import visible_communities
from social.models import AnnouncementRead, Follow, Post, PostHashtag
from social.selectors import visible_posts, with_own_marks

logger = logging.getLogger(__name__)

SORTS = ("newest", "helpful")
MAX_PAGE_LENGTH = 100
# The polled count stops at this number; the page shows "99+" past it.
NEW_POST_COUNT_CAP = 99
MAX_PINNED_ANNOUNCEMENTS = 5


class InvalidCursor(ValueError):
    """A cursor that this module did not produce, or one for another sort."""


@dataclass(frozen=True)
class FeedKey:
    """The position of a post in a feed order."""

    created_at: datetime.datetime
    id: int
    helpful_count: int = 0


@dataclass
class FeedPage:
    """One page of a home feed."""

    posts: list[Post]
    next_cursor: str | None
    # Unread announcements pinned above the first page; empty on later pages.
    pinned: list[Post] = field(default_factory=list)
    # The position of the newest post, for polling "N new posts" from it.
    top: str | None = None


def encode_cursor(sort: str, key: FeedKey) -> str:
    payload = [sort, key.created_at.isoformat(), key.id, key.helpful_count]
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, sort: str) -> FeedKey:
    """Return the position ``cursor`` encodes, or raise ``InvalidCursor``."""
    invalid = InvalidCursor(
        f"The feed position {cursor[:40]!r} is not valid: reload the feed to "
        "start from the newest posts."
    )
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_sort, created, post_id, helpful = json.loads(raw)
        created_at = parse_datetime(created)
    except (ValueError, TypeError) as error:
        raise invalid from error
    valid_numbers = type(post_id) is int and type(helpful) is int
    if created_at is None or created_at.tzinfo is None or not valid_numbers:
        raise invalid
    if cursor_sort != sort:
        raise InvalidCursor(
            f"The feed position belongs to the {cursor_sort!r} order, not "
            f"{sort!r}: reload the feed in the order you want."
        )
    return FeedKey(created_at=created_at, id=post_id, helpful_count=helpful)


def _source_querysets(person_id: int) -> dict[str, QuerySet[Any]]:
    """Return, per kind of source, the ids a reader with ``person_id`` reads from.

    The reader's own posts count as followed, so a post they write shows in
    their feed wherever they wrote it. Communities are the ones they follow
    and the ones they belong to.
    """
    follows = Follow.objects.filter(follower_id=person_id).order_by()
    person_ids = follows.filter(person_id__isnull=False).values_list("person_id")
    own = User.objects.filter(pk=person_id).order_by().values_list("pk")
    community_ids = follows.filter(community_id__isnull=False).values_list(
        "community_id"
    )
    joined = (
        Membership.objects.filter(person_id=person_id)
        .order_by()
        .values_list("community_id")
    )
    return {
        "people": own.union(person_ids).order_by(),
        "hashtags": follows.filter(hashtag_id__isnull=False).values_list("hashtag_id"),
        "communities": community_ids.union(joined).order_by(),
    }


def _source_sql(kind: str, viewer: User) -> tuple[str, list[Any]]:
    """Return the compiled subquery of ``viewer``'s sources of ``kind``.

    It is compiled once per kind and database with a placeholder person id,
    which is then replaced by the reader's, so a read compiles none of it.
    """
    key = ("sources", connection.vendor, kind)
    compiled = _COMPILED_TERMS.get(key)
    if compiled is None:
        sql, params = _compile(_source_querysets(_PLACEHOLDER_ID)[kind])
        compiled = _COMPILED_TERMS[key] = (sql, tuple(params))
    return compiled[0], [
        viewer.pk if value == _PLACEHOLDER_ID else value for value in compiled[1]
    ]


def _after(key: FeedKey, sort: str, prefix: str = "") -> Q:
    """Return the condition for posts strictly after ``key`` in ``sort`` order.

    Each OR is put under a plain bound on its leading column (``created_at <=
    X AND (created_at < X OR id < Y)``), so the database can start the index
    range at the cursor instead of reading every row before it.
    """
    created = f"{prefix}created_at"
    post_id = "post_id" if prefix else "id"
    helpful = f"{prefix}helpful_count"
    newest = Q(**{f"{created}__lte": key.created_at}) & (
        Q(**{f"{created}__lt": key.created_at}) | Q(**{f"{post_id}__lt": key.id})
    )
    if sort == "newest":
        return newest
    return Q(**{f"{helpful}__lte": key.helpful_count}) & (
        Q(**{f"{helpful}__lt": key.helpful_count}) | newest
    )


def newest_after(key: FeedKey) -> Q:
    """Return the condition for posts after ``key`` in newest-first order."""
    return _after(key, "newest")


def _newer_than(key: FeedKey, prefix: str = "") -> Q:
    """Return the condition for posts newer than ``key``, for the new-post count."""
    created = f"{prefix}created_at"
    post_id = "post_id" if prefix else "id"
    return Q(**{f"{created}__gte": key.created_at}) & (
        Q(**{f"{created}__gt": key.created_at}) | Q(**{f"{post_id}__gt": key.id})
    )


def _visible_here(viewer: User, community_ref: str) -> Exists:
    """Return the post rule as a per-row test on the post's community.

    It is ``visible_communities``, the rule ``visible_posts`` is built on,
    so a term never keeps a post the reader may not see and a page fills.
    """
    return Exists(visible_communities(viewer).filter(pk=OuterRef(community_ref)))


class _TermBuilder:
    """Build the per-source querysets for one feed read."""

    def __init__(self, viewer: User, sort: str, limit: int) -> None:
        self.viewer = viewer
        self.sort = sort
        self.limit = limit
        self.posts = Post.objects.filter(
            _visible_here(viewer, "community_id"), deleted_at__isnull=True
        )

    @cached_property
    def tagged(self) -> QuerySet[PostHashtag]:
        return PostHashtag.objects.filter(
            _visible_here(self.viewer, "post__community_id"),
            post__deleted_at__isnull=True,
        )

    def _order(self, prefix: str = "") -> list[str]:
        post_id = "-post_id" if prefix else "-id"
        newest = [f"-{prefix}created_at", post_id]
        if self.sort == "newest":
            return newest
        return [f"-{prefix}helpful_count", *newest]

    def _columns(self, prefix: str = "") -> list[str]:
        post_id = "post_id" if prefix else "id"
        return [post_id, f"{prefix}created_at", f"{prefix}helpful_count"]

    def post_term(
        self, condition: Q, window: Q | None, *, id_only: bool
    ) -> QuerySet[Any]:
        posts = self.posts.filter(condition)
        if window is not None:
            posts = posts.filter(window)
        columns = ["id"] if id_only else self._columns()
        ordered = posts.order_by(*self._order()).values_list(*columns)
        return ordered[: self.limit]

    def tag_term(
        self, condition: Q, window: Q | None, *, id_only: bool
    ) -> QuerySet[Any]:
        # Both orders read the post's time and helpful count as copied onto
        # the tag row, so each is one range of the tag's own index.
        rows = self.tagged.filter(condition)
        if window is not None:
            rows = rows.filter(window)
        columns = ["post_id"] if id_only else self._columns("post_")
        ordered = rows.order_by(*self._order("post_")).values_list(*columns)
        return ordered[: self.limit]


# Compiling a term costs more than running it, so each kind of source is
# compiled once with this id, which no row has, and the real ids replace it.
_PLACEHOLDER_ID = -1_000_000_007


@dataclass(frozen=True)
class _Family:
    """The terms of one kind of source: how to build one, and for which ids.

    ``make(condition, id_only)`` returns a sliced queryset of (id, time,
    helpful count) rows, or of ids alone. ``source`` is None for a kind that
    has one term and no source ids (the announcements).
    """

    make: Callable[[Q, bool], QuerySet[Any]]
    field_name: str
    # The compiled subquery of the source ids, or None for the announcements.
    source: tuple[str, list[Any]] | None
    # What the compiled term depends on besides the code, when it may be
    # kept between reads; None compiles it every time.
    cache_key: tuple[Any, ...] | None = None


def _compile(term: QuerySet[Any]) -> tuple[str, list[Any]]:
    sql, params = term.query.sql_with_params()
    return sql, list(params)


# Compiled terms by ``_Family.cache_key``, so a reader's second page read
# compiles nothing but the rule. Emptied when full, which bounds it.
_COMPILED_TERMS: dict[tuple[Any, ...], tuple[str, tuple[Any, ...]]] = {}
_COMPILED_TERMS_LIMIT = 2_000


def _compile_family(
    family: _Family, condition: Q, id_only: bool
) -> tuple[str, list[Any]]:
    """Compile one term of ``family``, or reuse the one compiled for the same key."""
    if family.cache_key is None:
        return _compile(family.make(condition, id_only))
    key = (*family.cache_key, id_only)
    compiled = _COMPILED_TERMS.get(key)
    if compiled is None:
        sql, params = _compile(family.make(condition, id_only))
        if len(_COMPILED_TERMS) >= _COMPILED_TERMS_LIMIT:
            _COMPILED_TERMS.clear()
        compiled = _COMPILED_TERMS[key] = (sql, tuple(params))
    return compiled[0], list(compiled[1])


def _rule_key(viewer: User) -> tuple[Any, ...]:
    """Return the compiled community rule of ``viewer``, to key compiled terms by.

    Every term embeds ``visible_communities(viewer)``, so two reads whose
    rule compiles to the same SQL and parameters build the same terms. The
    key is the rule's own output, not the viewer's attributes, so a change to
    the rule can never reuse a term built under the old one.
    """
    sql, params = visible_communities(viewer).query.sql_with_params()
    return (connection.vendor, sql, tuple(params))


def _placeholder_slot(sql: str, params: list[Any]) -> int | None:
    """Return the index of the placeholder id among the parameters, if unique."""
    slots = [index for index, value in enumerate(params) if value == _PLACEHOLDER_ID]
    if len(slots) != 1 or sql.count("%s") != len(params):
        return None
    return slots[0]


class _Statement:
    """One SQL statement assembled from compiled terms, with its parameters."""

    def __init__(self) -> None:
        self.ctes: list[str] = []
        self.cte_params: list[Any] = []
        self.parts: list[str] = []
        self.params: list[Any] = []

    def add_rows(self, sql: str, params: list[Any]) -> None:
        # Django compiled ``sql``; every value in it is a parameter.
        term = f"SELECT * FROM ({sql}) AS term_{len(self.parts)}"  # noqa: S608
        self.parts.append(term)
        self.params.extend(params)

    def add_ids(self, sql: str, params: list[Any]) -> None:
        self.parts.append(
            f"{_FEED_COLUMNS} FROM social_post AS feed_post "
            f"WHERE feed_post.id IN ({sql})"
        )
        self.params.extend(params)

    def add_correlated(
        self,
        sql: str,
        params: list[Any],
        source: tuple[str, list[Any]],
        *,
        lateral: bool,
    ) -> None:
        """Add one term run once per source id, which ``sql`` refers to.

        With ``lateral`` the term returns rows and is joined LATERAL; without,
        it returns post ids and is a correlated ``IN`` subquery.
        """
        name = f"source_{len(self.ctes)}"
        source_sql, source_params = source
        self.ctes.append(f"{name}(source_id) AS ({source_sql})")
        self.cte_params.extend(source_params)
        if lateral:
            self.parts.append(
                f"SELECT term_{len(self.parts)}.* FROM {name} "  # noqa: S608
                f"CROSS JOIN LATERAL ({sql}) AS term_{len(self.parts)}"
            )
        else:
            self.parts.append(
                f"{_FEED_COLUMNS} FROM {name} JOIN social_post AS feed_post "
                f"ON feed_post.id IN ({sql})"
            )
        self.params.extend(params)

    def sql(self, outer: str) -> tuple[str, list[Any]]:
        """Return ``outer`` (with ``{union}`` in it) around the merged terms."""
        union = " UNION ".join(self.parts)
        prefix = f"WITH {', '.join(self.ctes)} " if self.ctes else ""
        statement = prefix + outer.replace("{union}", union)
        return statement, [*self.cte_params, *self.params]


_FEED_COLUMNS = "SELECT feed_post.id, feed_post.created_at, feed_post.helpful_count"


def _correlate(
    sql: str, params: list[Any], slot: int, column: str
) -> tuple[str, list[Any]]:
    """Put ``column`` in place of the parameter at ``slot`` of a compiled term."""
    pieces = sql.split("%s")
    correlated = (
        "".join(
            piece + (column if index == slot else "%s")
            for index, piece in enumerate(pieces[:-1])
        )
        + pieces[-1]
    )
    return correlated, [value for index, value in enumerate(params) if index != slot]


def _add_family(statement: _Statement, family: _Family, *, lateral: bool) -> None:
    """Add one family: one term run once per source id the reader has.

    The term is compiled once with a placeholder id, which then becomes a
    reference to the source ids, read by a subquery in the same statement.
    PostgreSQL runs the term per id as a LATERAL join; SQLite, which has no
    LATERAL, as a correlated ``IN`` subquery. Either way the statement has
    one term per kind of source, so planning it costs the same for 3
    sources as for 50, where a UNION of one term per id took PostgreSQL
    about 26 ms to plan at 43 terms.
    """
    id_only = not lateral
    add_grouped = statement.add_rows if lateral else statement.add_ids
    if family.source is None:
        add_grouped(*_compile_family(family, Q(), id_only))
        return
    placeholder = Q(**{family.field_name: _PLACEHOLDER_ID})
    sql, params = _compile_family(family, placeholder, id_only)
    slot = _placeholder_slot(sql, params)
    if slot is None:
        # The placeholder is not one lone parameter: read the ids as one term.
        # Django compiled the source subquery; its values are parameters.
        source_ids = RawSQL(*family.source)  # noqa: S611
        condition = Q(**{f"{family.field_name}__in": source_ids})
        add_grouped(*_compile(family.make(condition, id_only)))
        return
    source = f"source_{len(statement.ctes)}.source_id"
    correlated, rest = _correlate(sql, params, slot, source)
    statement.add_correlated(correlated, rest, family.source, lateral=lateral)


def _statement(families: list[_Family]) -> _Statement:
    statement = _Statement()
    lateral = connection.vendor != "sqlite"
    for family in families:
        _add_family(statement, family, lateral=lateral)
    return statement


def _families(
    builder: _TermBuilder,
    *,
    after: FeedKey | None,
    newer_than: FeedKey | None = None,
    rule_key: tuple[Any, ...] | None = None,
) -> list[_Family]:
    sort = builder.sort
    post_window: Q | None = None
    tag_window: Q | None = None
    if after is not None:
        post_window = _after(after, sort)
        tag_window = _after(after, sort, "post_")
    if newer_than is not None:
        post_window = _newer_than(newer_than)
        tag_window = _newer_than(newer_than, "post_")

    def post_term(condition: Q, id_only: bool) -> QuerySet[Any]:
        return builder.post_term(condition, post_window, id_only=id_only)

    def tag_term(condition: Q, id_only: bool) -> QuerySet[Any]:
        return builder.tag_term(condition, tag_window, id_only=id_only)

    def announcement_term(condition: Q, id_only: bool) -> QuerySet[Any]:
        return post_term(condition & Q(kind=Post.Kind.ANNOUNCEMENT), id_only)

    # A term with a cursor window carries the cursor's values, so only the
    # first page's terms are kept.
    shared: tuple[Any, ...] | None = None
    if post_window is None:
        rule = rule_key if rule_key is not None else _rule_key(builder.viewer)
        shared = (*rule, sort, builder.limit)

    def key(kind: str) -> tuple[Any, ...] | None:
        return None if shared is None else (*shared, kind)

    viewer = builder.viewer
    return [
        _Family(announcement_term, "kind", None, key("announcements")),
        _Family(post_term, "author_id", _source_sql("people", viewer), key("people")),
        _Family(
            post_term,
            "community_id",
            _source_sql("communities", viewer),
            key("communities"),
        ),
        _Family(
            tag_term, "hashtag_id", _source_sql("hashtags", viewer), key("hashtags")
        ),
    ]


_CANDIDATE_COLUMNS = "feed_candidates(id, created_at, helpful_count)"


def _candidate_ids_sql(
    families: list[_Family], sort: str, count: int, pinned: tuple[str, list[Any]]
) -> tuple[str, list[Any]]:
    """Return SQL for the ids of the first ``count`` candidates and of ``pinned``."""
    order = "created_at DESC, id DESC"
    if sort == "helpful":
        order = f"helpful_count DESC, {order}"
    statement = _statement(families)
    union = " UNION ".join(statement.parts)
    ctes = [*statement.ctes, f"{_CANDIDATE_COLUMNS} AS ({union})"]
    pinned_sql, pinned_params = pinned
    sql = (
        f"WITH {', '.join(ctes)} "  # noqa: S608 - Django compiled every part
        "SELECT id FROM (SELECT id FROM feed_candidates "
        f"ORDER BY {order} LIMIT %s) AS feed_page "
        f"UNION ALL SELECT * FROM ({pinned_sql}) AS feed_pinned"
    )
    params = [*statement.cte_params, *statement.params, count, *pinned_params]
    return sql, params


def _pin_since() -> datetime.datetime:
    days: int = getattr(settings, "SOCIAL_ANNOUNCEMENT_PIN_DAYS", 30)
    return timezone.now() - datetime.timedelta(days=days)


def _pinned(
    person_id: int, live_posts: QuerySet[Post], since: datetime.datetime
) -> QuerySet[Post]:
    """Return recent announcements ``viewer`` may see and has not read, newest first.

    Announcements older than ``SOCIAL_ANNOUNCEMENT_PIN_DAYS`` stay in the
    feed in their place but are no longer pinned. ``live_posts`` are the
    undeleted posts ``viewer`` may see, tested row by row, so the query walks
    the (kind, time) index and its cost follows the recent announcements.
    """
    read = AnnouncementRead.objects.filter(person_id=person_id, post=OuterRef("pk"))
    posts = (
        live_posts.filter(kind=Post.Kind.ANNOUNCEMENT, created_at__gte=since)
        .exclude(Exists(read))
        .order_by("-created_at", "-id")
    )
    return posts[:MAX_PINNED_ANNOUNCEMENTS]


# Stands for the pin limit's time in the compiled pinned term.
_SINCE_PLACEHOLDER = datetime.datetime(1901, 2, 3, 4, 5, 6, 789012, tzinfo=datetime.UTC)


def _pinned_sql(
    builder: _TermBuilder, since: datetime.datetime, rule_key: tuple[Any, ...]
) -> tuple[str, list[Any]]:
    """Return the compiled ids of the announcements to pin for the builder's reader.

    The term is compiled once per rule with a placeholder reader and time,
    which are then replaced, as the feed's other terms are.
    """
    adapt = connection.ops.adapt_datetimefield_value
    key = (*rule_key, "pinned")
    compiled = _COMPILED_TERMS.get(key)
    if compiled is None:
        term = _pinned(_PLACEHOLDER_ID, builder.posts, _SINCE_PLACEHOLDER)
        sql, params = _compile(term.values_list("id"))
        compiled = _COMPILED_TERMS[key] = (sql, tuple(params))
    values = {
        _PLACEHOLDER_ID: builder.viewer.pk,
        adapt(_SINCE_PLACEHOLDER): adapt(since),
    }
    return compiled[0], [values.get(value, value) for value in compiled[1]]


def _is_pinned(post: Post, since: datetime.datetime) -> bool:
    """Tell whether ``post``, read by ``_read_posts``, is a pinned announcement."""
    recent = post.created_at >= since
    unread = not post.feed_read  # type: ignore[attr-defined]
    return post.kind == Post.Kind.ANNOUNCEMENT and recent and unread


def _read_posts(viewer: User, ids_sql: str, ids_params: list[Any]) -> list[Post]:
    """Read the posts whose ids ``ids_sql`` returns, in one statement.

    Every post is read through the one post rule, ``visible_posts``, with
    its community, the viewer's own reactions, bookmark and helpful mark,
    and whether the viewer has read it (for announcements).
    """
    posts = (
        with_own_marks(visible_posts(viewer), viewer)
        # The ids statement is assembled from compiled terms, all values
        # in parameters.
        .filter(pk__in=RawSQL(ids_sql, ids_params))  # noqa: S611
        .select_related("community")
        .annotate(feed_read=_read_test(viewer))
        .order_by()
    )
    return list(posts)


def _read_test(viewer: User) -> RawSQL:
    """Return whether ``viewer`` has read the post, as SQL on the post table."""
    quote = connection.ops.quote_name
    post_id = f"{quote(Post._meta.db_table)}.{quote('id')}"
    table = quote(AnnouncementRead._meta.db_table)
    sql = (
        f"EXISTS (SELECT 1 FROM {table} AS feed_read WHERE "  # noqa: S608
        f"feed_read.post_id = {post_id} AND feed_read.person_id = %s)"
    )
    # The names come from the models; the viewer is a parameter.
    return RawSQL(sql, [viewer.pk], output_field=BooleanField())  # noqa: S611


def _feed_key(post: Post) -> FeedKey:
    return FeedKey(post.created_at, post.pk, post.helpful_count)


def _sort_key(sort: str) -> Callable[[Post], tuple[Any, ...]]:
    if sort == "newest":
        return lambda post: (post.created_at, post.pk)
    return lambda post: (post.helpful_count, post.created_at, post.pk)


def tag_timeline(viewer: User, hashtag_id: int, *, limit: int) -> list[Post]:
    """Return the newest ``limit`` undeleted posts with the tag that ``viewer`` may see.

    The rows come from the tag's (time, post) index, as in the home feed, so
    a tag on a hundred thousand posts costs what a small one does.
    """
    builder = _TermBuilder(viewer, "newest", limit)
    rows = builder.tag_term(Q(hashtag_id=hashtag_id), None, id_only=True)
    ids = [post_id for (post_id,) in rows]
    by_id = visible_posts(viewer).select_related("community").in_bulk(ids)
    return [by_id[post_id] for post_id in ids if post_id in by_id]


def _check(sort: str, limit: int) -> None:
    if sort not in SORTS:
        raise ValueError(f"Unknown feed order {sort!r}: use one of {', '.join(SORTS)}.")
    if not 1 <= limit <= MAX_PAGE_LENGTH:
        raise ValueError(
            f"A feed page holds 1 to {MAX_PAGE_LENGTH} posts, not {limit}."
        )


def home_feed(
    viewer: Viewer, *, cursor: str | None, sort: str = "newest", limit: int = 20
) -> FeedPage:
    """Return one page of ``viewer``'s home feed after ``cursor``.

    Raise ``InvalidCursor`` for a cursor this module did not produce and
    ``ValueError`` for an unknown sort or a limit outside 1 to 100. The
    first page (no cursor) also carries the unread announcements to pin;
    they are left out of every page below them. The whole page is one
    statement: the sources, the candidates, the pinned announcements, the
    posts through the post rule and the viewer's own marks on them.
    """
    _check(sort, limit)
    after = decode_cursor(cursor, sort=sort) if cursor else None
    if not isinstance(viewer, User) or not viewer.is_active:
        return FeedPage(posts=[], next_cursor=None)

    builder = _TermBuilder(viewer, sort, limit + 1 + MAX_PINNED_ANNOUNCEMENTS)
    since = _pin_since()
    rule_key = _rule_key(viewer)
    families = _families(builder, after=after, rule_key=rule_key)
    pinned_sql = _pinned_sql(builder, since, rule_key)
    ids_sql, ids_params = _candidate_ids_sql(families, sort, builder.limit, pinned_sql)
    posts = sorted(
        _read_posts(viewer, ids_sql, ids_params), key=_sort_key(sort), reverse=True
    )

    pinned = [post for post in posts if _is_pinned(post, since)]
    pinned = sorted(pinned, key=_sort_key("newest"), reverse=True)[
        :MAX_PINNED_ANNOUNCEMENTS
    ]
    pinned_ids = {post.pk for post in pinned}
    listed = [post for post in posts if post.pk not in pinned_ids]
    page = listed[:limit]
    next_cursor = (
        encode_cursor(sort, _feed_key(page[-1])) if len(listed) > limit else None
    )
    if after is not None:
        return FeedPage(posts=page, next_cursor=next_cursor)
    return FeedPage(
        posts=page,
        next_cursor=next_cursor,
        pinned=pinned,
        top=_top_token(pinned, page),
    )


def _top_token(pinned: list[Post], page: list[Post]) -> str:
    """Return the "newest" cursor of the newest post shown, or of now when none is."""
    shown = [*pinned, *page]
    if not shown:
        return encode_cursor("newest", FeedKey(timezone.now(), 0))
    top = max(shown, key=_sort_key("newest"))
    return encode_cursor("newest", FeedKey(top.created_at, top.pk))


def new_post_count(viewer: Viewer, since: str) -> int:
    """Count feed posts newer than ``since``, a "newest" cursor, up to the cap.

    The count reads the same sources through the same rule as the feed, so
    it never counts a post the reader could not open. The result stops at
    ``NEW_POST_COUNT_CAP + 1``.
    """
    key = decode_cursor(since, sort="newest")
    if not isinstance(viewer, User) or not viewer.is_active:
        return 0
    builder = _TermBuilder(viewer, "newest", NEW_POST_COUNT_CAP + 1)
    families = _families(builder, after=None, newer_than=key)
    sql, params = _statement(families).sql(
        "SELECT COUNT(*) FROM ({union}) AS candidates"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        (count,) = cursor.fetchone()
    return min(int(count), NEW_POST_COUNT_CAP + 1)
