"""The home feed: posts from what a reader follows, newest or most helpful first.

A reader's feed takes posts from four kinds of source: people they follow,
hashtags they follow, communities they belong to or follow, and
announcements. Deleted posts (tombstones) are left out, and every post
passes the post visibility rule (``social.selectors.visible_posts``).

A page is three SQL statements whatever its length:

1. The sources: the people the reader follows, the hashtags they follow,
   the communities they follow or belong to that they may see now, and
   the unread announcements to pin.
2. The candidates: for each source, its first ``limit + 1`` posts after
   the cursor (one more for each pinned announcement) from that source's
   own index (author, community, hashtag or kind, then time and id), merged
   and cut to the same count. The author and community indexes also hold
   the community and the deletion time, so the tests on a candidate read no
   post row. PostgreSQL runs one term per kind of source as a LATERAL join
   over the array of ids, and its cost grows with the number of sources
   times the page length, not with the data. SQLite, which has no LATERAL,
   runs one term per source and merges them in order, reading each source
   only as far as the page reaches.
3. The posts with those ids and the pinned ones, through the post rule,
   with the reader's own marks on them, as whole instances made without
   ``Model.__init__``.

Python then takes out the pinned announcements and cuts the page. The
community rule is ``visible_communities``, compiled once per audience
(``communities.selectors.visible_communities_sql``) and run by each
statement, so a change of membership or privacy shows on the next read.

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
from typing import Any

from django.conf import settings
from django.db import connection, connections
from django.db.models import Exists, Model, OuterRef, Q
from django.db.models.signals import post_init, pre_init
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import User
from accounts.permissions import Viewer
from communities.models import Community, Membership
from communities.selectors import visible_communities, visible_communities_sql
from core.queries import convert_values, instance_from_values
from social.models import AnnouncementRead, Follow, Post, PostHashtag
from social.selectors import own_marks_sql, visible_posts

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


def _quote(name: str) -> str:
    return str(connection.ops.quote_name(name))


def _table(model: type[Model]) -> str:
    return _quote(model._meta.db_table)


def _visible_test(viewer: User, column: str) -> tuple[str, list[Any]]:
    """Return the community rule as a test on one row's ``column``.

    It is ``visible_communities`` (the rule ``visible_posts`` is built on),
    kept compiled per audience, so a source or a post passes exactly when
    the reader may see its community now. ``OFFSET 0`` keeps PostgreSQL
    from turning the ``EXISTS`` into a join over every visible community.
    That join reads the whole table and makes each source sort all its
    posts instead of stopping at its first ones in index order.
    """
    rule_sql, rule_params = visible_communities_sql(viewer)
    sql = (
        f"EXISTS (SELECT 1 FROM ({rule_sql}) AS feed_rule "  # noqa: S608
        f"WHERE feed_rule.id = {column} LIMIT 1 OFFSET 0)"
    )
    return sql, rule_params


@dataclass(frozen=True)
class _Sources:
    """The ids one reader's feed reads from, and the announcements to pin."""

    people: list[int]
    hashtags: list[int]
    # Only communities the reader may see now, so their posts need no test.
    communities: list[int]
    pinned: list[int]


_PERSON, _HASHTAG, _COMMUNITY, _PINNED = 1, 2, 3, 4


def _sources_sql(
    viewer: User, since: datetime.datetime | None
) -> tuple[str, list[Any]]:
    """Return one statement for ``viewer``'s sources, as (kind, id) rows.

    The kinds are the followed people, the followed hashtags, the followed
    and joined communities that pass the rule, and, with ``since``, the
    unread announcements since then that the reader may see, newest first.
    """
    follow, membership = _table(Follow), _table(Membership)
    followed, followed_params = _visible_test(viewer, "feed_follow.community_id")
    joined, joined_params = _visible_test(viewer, "feed_member.community_id")
    person = viewer.pk
    parts = [
        f"SELECT {_PERSON}, feed_follow.person_id FROM {follow} AS feed_follow "  # noqa: S608
        "WHERE feed_follow.follower_id = %s AND feed_follow.person_id IS NOT NULL",
        f"SELECT {_HASHTAG}, feed_follow.hashtag_id FROM {follow} AS feed_follow "  # noqa: S608
        "WHERE feed_follow.follower_id = %s AND feed_follow.hashtag_id IS NOT NULL",
        f"SELECT {_COMMUNITY}, feed_follow.community_id FROM {follow} AS feed_follow "  # noqa: S608
        f"WHERE feed_follow.follower_id = %s AND {followed}",
        f"SELECT {_COMMUNITY}, feed_member.community_id "  # noqa: S608
        f"FROM {membership} AS feed_member "
        f"WHERE feed_member.person_id = %s AND {joined}",
    ]
    params: list[Any] = [
        person,
        person,
        person,
        *followed_params,
        person,
        *joined_params,
    ]
    if since is not None:
        visible, visible_params = _visible_test(viewer, "feed_post.community_id")
        read = _table(AnnouncementRead)
        parts.append(
            f"SELECT {_PINNED}, feed_pinned.id FROM (SELECT feed_post.id "  # noqa: S608
            f"FROM {_table(Post)} AS feed_post WHERE feed_post.kind = %s "
            "AND feed_post.deleted_at IS NULL AND feed_post.created_at >= %s "
            f"AND {visible} AND NOT EXISTS (SELECT 1 FROM {read} AS feed_read "
            "WHERE feed_read.post_id = feed_post.id AND feed_read.person_id = %s) "
            "ORDER BY feed_post.created_at DESC, feed_post.id DESC "
            f"LIMIT {MAX_PINNED_ANNOUNCEMENTS:d}) AS feed_pinned"
        )
        adapt = connection.ops.adapt_datetimefield_value
        params += [Post.Kind.ANNOUNCEMENT.value, adapt(since)]
        params += [*visible_params, person]
    # Every name comes from the models, every value is a parameter.
    return " UNION ALL ".join(parts), params


def _read_sources(viewer: User, since: datetime.datetime | None) -> _Sources:
    """Read ``viewer``'s sources (and the announcements to pin) in one query.

    The reader's own posts count as followed, so a post they write shows in
    their feed wherever they wrote it.
    """
    sql, params = _sources_sql(viewer, since)
    found: dict[int, list[int]] = {
        _PERSON: [viewer.pk],
        _HASHTAG: [],
        _COMMUNITY: [],
        _PINNED: [],
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for kind, source_id in cursor.fetchall():
            found[kind].append(source_id)
    return _Sources(
        people=sorted(set(found[_PERSON])),
        hashtags=sorted(set(found[_HASHTAG])),
        communities=sorted(set(found[_COMMUNITY])),
        pinned=found[_PINNED],
    )


@dataclass(frozen=True)
class _Window:
    """The order, bound and count of the posts a read takes from each source."""

    sort: str
    count: int
    # Take posts strictly after this key in ``sort`` order.
    after: FeedKey | None = None
    # Take posts newer than this key instead (the "N new posts" count).
    newer_than: FeedKey | None = None


def _window_sql(
    window: _Window, time: str, post_id: str, helpful: str
) -> tuple[str, list[Any]]:
    """Return the SQL bound of ``window`` on the named columns, with parameters.

    Each OR sits under a plain bound on its leading column, so the index
    range starts at the cursor instead of at the newest post.
    """
    adapt = connection.ops.adapt_datetimefield_value
    if window.newer_than is not None:
        key = window.newer_than
        created = adapt(key.created_at)
        return (
            f" AND {time} >= %s AND ({time} > %s OR {post_id} > %s)",
            [created, created, key.id],
        )
    if window.after is None:
        return "", []
    key = window.after
    created = adapt(key.created_at)
    newest = f"{time} <= %s AND ({time} < %s OR {post_id} < %s)"
    newest_params: list[Any] = [created, created, key.id]
    if window.sort == "newest":
        return f" AND {newest}", newest_params
    return (
        f" AND {helpful} <= %s AND ({helpful} < %s OR ({newest}))",
        [key.helpful_count, key.helpful_count, *newest_params],
    )


def _order_sql(sort: str, time: str, post_id: str, helpful: str) -> str:
    newest = f"{time} DESC, {post_id} DESC"
    return newest if sort == "newest" else f"{helpful} DESC, {newest}"


def _helpful(window: _Window, column: str) -> str:
    """Return the helpful count column, or 0 where the order does not use it.

    The newest order's indexes hold no count, so reading it there would
    cost a lookup of the post row for every candidate.
    """
    return (
        f"{column} AS helpful_count"
        if window.sort == "helpful"
        else "0 AS helpful_count"
    )


def _term_end(window: _Window, columns: tuple[str, str, str], limited: bool) -> str:
    """Return the ORDER BY and LIMIT of one term, or nothing for a bare term."""
    if not limited:
        return ""
    return f" ORDER BY {_order_sql(window.sort, *columns)} LIMIT {window.count:d}"


def _post_term(
    window: _Window,
    source: str,
    test: tuple[str, list[Any]] | None,
    *,
    limited: bool,
) -> tuple[str, list[Any]]:
    """Return one source's first posts, read from the source's covering index.

    ``source`` is the SQL condition that names the source and its id.
    ``test`` is the rule's test on each post's community, or None when the
    source is a community that already passed the rule. A term that is not
    ``limited`` has no ORDER BY and LIMIT of its own: the compound around
    it orders and cuts it (see ``_candidates_sql``).
    """
    columns = ("feed_post.created_at", "feed_post.id", "feed_post.helpful_count")
    bound, params = _window_sql(window, *columns)
    rule = ""
    if test is not None:
        rule = f" AND {test[0]}"
        params = [*test[1], *params]
    sql = (
        f"SELECT feed_post.id, feed_post.created_at, {_helpful(window, columns[2])} "  # noqa: S608
        f"FROM {_table(Post)} AS feed_post WHERE {source} "
        f"AND feed_post.deleted_at IS NULL{rule}{bound}"
        f"{_term_end(window, columns, limited)}"
    )
    return sql, params


def _tag_term(
    window: _Window, source: str, test: tuple[str, list[Any]], *, limited: bool
) -> tuple[str, list[Any]]:
    """Return one hashtag's first posts, from the time and count on the tag rows."""
    columns = (
        "feed_tag.post_created_at",
        "feed_tag.post_id",
        "feed_tag.post_helpful_count",
    )
    bound, params = _window_sql(window, *columns)
    sql = (
        "SELECT feed_tag.post_id, feed_tag.post_created_at, "  # noqa: S608
        f"{_helpful(window, columns[2])} FROM {_table(PostHashtag)} AS feed_tag "
        f"JOIN {_table(Post)} AS feed_post ON feed_post.id = feed_tag.post_id "
        f"WHERE {source} AND feed_post.deleted_at IS NULL AND {test[0]}{bound}"
        f"{_term_end(window, columns, limited)}"
    )
    return sql, [*test[1], *params]


def _candidates_sql(
    viewer: User, sources: _Sources, window: _Window
) -> tuple[str, list[Any]]:
    """Return one statement for the first ``window.count`` candidates, in order.

    It yields (id, created_at, helpful_count) rows, each post once, with a
    helpful count of 0 in the newest order, which does not read it. Each
    source's posts come from its own index, so the cost does not grow with
    the data.

    PostgreSQL runs one term per kind of source over the array of ids (a
    LATERAL join), each cut to the count, then merges and sorts them.
    SQLite, which has no LATERAL, runs one term per source, with no ORDER
    BY or LIMIT of its own. The ORDER BY and LIMIT of the compound make
    SQLite merge the terms, each read in its index's order one row at a
    time, and stop at the limit. So it tests the rule on about the count
    plus one row per source, not on the count for each source.
    """
    posts_test = _visible_test(viewer, "feed_post.community_id")
    kinds: list[tuple[list[int], str, Callable[..., tuple[str, list[Any]]], Any]] = [
        (sources.people, "feed_post.author_id", _post_term, posts_test),
        (sources.communities, "feed_post.community_id", _post_term, None),
        (sources.hashtags, "feed_tag.hashtag_id", _tag_term, posts_test),
    ]
    lateral = connection.vendor == "postgresql"
    announcements, params = _post_term(
        window, "feed_post.kind = %s", posts_test, limited=lateral
    )
    params = [Post.Kind.ANNOUNCEMENT.value, *params]
    # The leftmost term names the compound's columns for its ORDER BY. On
    # SQLite it stays bare like the others, so the merge reads it in order.
    parts = [
        f"SELECT * FROM ({announcements}) AS feed_term_0"  # noqa: S608
        if lateral
        else announcements
    ]
    for ids, column, make, test in kinds:
        if not ids:
            continue
        if lateral:
            term_sql, term_params = make(
                window, f"{column} = feed_source.id", test, limited=True
            )
            parts.append(
                f"SELECT feed_term.* FROM unnest(%s) AS feed_source(id) "  # noqa: S608
                f"CROSS JOIN LATERAL ({term_sql}) AS feed_term"
            )
            params += [ids, *term_params]
            continue
        term_sql, term_params = make(window, f"{column} = %s", test, limited=False)
        for source_id in ids:
            parts.append(term_sql)
            params += [source_id, *term_params]
    return _merge(parts, window), params


# SQLite allows at most 500 terms in one compound SELECT by default
# (SQLITE_MAX_COMPOUND_SELECT), so longer merges are nested in groups.
# NOTE: each SQLite term carries about five parameters, so past about 6,500
# sources a statement passes SQLite's default limit of 32,766 parameters.
_MAX_UNION_TERMS = 400


def _merge(parts: list[str], window: _Window) -> str:
    """Return the UNION of ``parts`` in ``window``'s order, cut to its count.

    Many parts are nested in groups, each merged and cut the same way.
    """
    order = _order_sql(window.sort, "created_at", "id", "helpful_count")
    end = f" ORDER BY {order} LIMIT {window.count:d}"
    if len(parts) <= _MAX_UNION_TERMS:
        return " UNION ".join(parts) + end
    groups = [
        f"SELECT * FROM ({_merge(parts[start : start + _MAX_UNION_TERMS], window)}) "  # noqa: S608
        f"AS feed_group_{start}"
        for start in range(0, len(parts), _MAX_UNION_TERMS)
    ]
    return _merge(groups, window)


def _pin_since() -> datetime.datetime:
    days: int = getattr(settings, "SOCIAL_ANNOUNCEMENT_PIN_DAYS", 30)
    return timezone.now() - datetime.timedelta(days=days)


@dataclass(frozen=True)
class _PostRead:
    """The columns, join and converters of the posts read, one per database.

    The columns are every concrete column of the post and of its community,
    as ``select_related("community")`` reads them, so a post read here is
    the same complete instance for the cards and for the API.
    """

    columns: str
    joins: str
    post_names: tuple[str, ...]
    community_names: tuple[str, ...]
    # Each converted column's position, its converters (the backend's, then
    # the field's) and the column itself.
    converters: tuple[tuple[int, tuple[Callable[..., Any], ...], Any], ...]


_POST_READS: dict[str, _PostRead] = {}


def _post_read() -> _PostRead:
    read = _POST_READS.get(connection.vendor)
    if read is not None:
        return read
    columns: list[str] = []
    converters = []
    concrete = [
        (model, model_field)
        for model in (Post, Community)
        for model_field in model._meta.concrete_fields
    ]
    for index, (model, model_field) in enumerate(concrete):
        columns.append(f"{_table(model)}.{_quote(str(model_field.column))}")
        column = model_field.get_col(model._meta.db_table)
        found = [
            *connection.ops.get_db_converters(column),
            *column.get_db_converters(connection),
        ]
        if found:
            converters.append((index, tuple(found), column))
    post_table, community_table = _table(Post), _table(Community)
    read = _PostRead(
        columns=", ".join(columns),
        joins=(
            f"{post_table} INNER JOIN {community_table} ON "
            f"{community_table}.{_quote('id')} = {post_table}.{_quote('community_id')}"
        ),
        post_names=tuple(field.attname for field in Post._meta.concrete_fields),
        community_names=tuple(
            field.attname for field in Community._meta.concrete_fields
        ),
        converters=tuple(converters),
    )
    _POST_READS[connection.vendor] = read
    return read


def _instance_through_init[M: Model](
    model: type[M], names: tuple[str, ...], values: list[Any], alias: str
) -> M:
    """Return an instance read from the database, through ``Model.__init__``."""
    return model.from_db(alias, list(names), values)


def _init_listened(*models: type[Model]) -> bool:
    """Check whether a receiver (or a field, such as a file field) hooks into init."""
    return any(
        signal.has_listeners(model)
        for signal in (pre_init, post_init)
        for model in models
    )


def _read_posts(viewer: User, ids: list[int]) -> list[Post]:
    """Read the posts with ``ids`` in one statement.

    Every post passes the post rule again. ``visible_posts`` means "the
    post's community is visible", and this read tests that on each row with
    the kept rule the candidates use. So the database looks up each post's
    community instead of building the set of every community the reader may
    see. The posts come with their community and the viewer's own
    reactions, bookmark and helpful mark (``own_marks``).

    The statement is written here rather than built as a query set: the
    query set cost more to build and compile than the database took to run
    it, and its instances more to make than the rest of the read.
    """
    if not ids:
        return []
    read = _post_read()
    post_table = _table(Post)
    rule_sql, rule_params = _visible_test(viewer, f"{post_table}.community_id")
    marks_sql, marks_params = own_marks_sql(viewer)
    listed = ", ".join(["%s"] * len(ids))
    sql = (
        f"SELECT {read.columns}, {marks_sql} FROM {read.joins} "  # noqa: S608
        f"WHERE {post_table}.{_quote('id')} IN ({listed}) AND {rule_sql}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*marks_params, *ids, *rule_params])
        rows = cursor.fetchall()
    database = connections[connection.alias]
    alias = database.alias
    build = (
        _instance_through_init
        if _init_listened(Post, Community)
        else instance_from_values
    )
    post_count = len(read.post_names)
    posts = []
    for row in rows:
        values = list(row)
        convert_values(values, read.converters, database)
        post = build(Post, read.post_names, values[:post_count], alias)
        community = build(Community, read.community_names, values[post_count:-1], alias)
        post._state.fields_cache["community"] = community
        post.own_marks = values[-1]  # type: ignore[attr-defined]
        posts.append(post)
    return posts


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
    visible = Exists(
        visible_communities(viewer).filter(pk=OuterRef("post__community_id"))
    )
    rows = (
        PostHashtag.objects.filter(
            visible, hashtag_id=hashtag_id, post__deleted_at__isnull=True
        )
        .order_by("-post_created_at", "-post_id")
        .values_list("post_id", flat=True)[:limit]
    )
    ids = list(rows)
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
    they are left out of every page below them. A page is three
    statements: the sources with the announcements to pin, the candidates,
    and the posts through the post rule with the viewer's own marks on them.
    """
    _check(sort, limit)
    after = decode_cursor(cursor, sort=sort) if cursor else None
    if not isinstance(viewer, User) or not viewer.is_active:
        return FeedPage(posts=[], next_cursor=None)

    first_page = after is None
    # Unread announcements are pinned above the first page and left out of
    # every page, so each page needs to know them.
    sources = _read_sources(viewer, _pin_since())
    # Each source gives one more post than the page for each pinned one.
    count = limit + 1 + len(sources.pinned)
    window = _Window(sort=sort, count=count, after=after)
    ids_sql, params = _candidates_sql(viewer, sources, window)
    with connection.cursor() as db_cursor:
        db_cursor.execute(ids_sql, params)
        ids = [post_id for (post_id, _, _) in db_cursor.fetchall()]
    posts = sorted(
        _read_posts(viewer, [*ids, *sources.pinned]),
        key=_sort_key(sort),
        reverse=True,
    )

    pinned_ids = set(sources.pinned)
    pinned = sorted(
        (post for post in posts if post.pk in pinned_ids),
        key=_sort_key("newest"),
        reverse=True,
    )
    listed = [post for post in posts if post.pk not in pinned_ids]
    page = listed[:limit]
    next_cursor = (
        encode_cursor(sort, _feed_key(page[-1])) if len(listed) > limit else None
    )
    if not first_page:
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
    sources = _read_sources(viewer, None)
    window = _Window(sort="newest", count=NEW_POST_COUNT_CAP + 1, newer_than=key)
    candidates, params = _candidates_sql(viewer, sources, window)
    sql = f"SELECT COUNT(*) FROM ({candidates}) AS feed_candidates"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        (count,) = cursor.fetchone()
    return min(int(count), NEW_POST_COUNT_CAP + 1)
