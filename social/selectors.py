"""Reads of posts: a post is visible to whoever may see its community.

Everything inside a post (comments, reactions, bookmarks, helpful marks)
is visible exactly when the post is, so every read below starts from
``visible_posts``.
"""

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Model, Q, QuerySet, Value, prefetch_related_objects
from django.db.models.functions import Coalesce
from django.http import Http404

from accounts.authors import author_of, hidden_author_labels
from accounts.models import Role, User
from accounts.permissions import Viewer
from communities.models import Community, Membership
from communities.selectors import visible_communities
from social.models import Bookmark, Comment, HelpfulMark, Post, PostAttachment, Reaction

MODERATING_ROLES = (Membership.Role.OWNER, Membership.Role.MODERATOR)


def visible_posts(viewer: Viewer) -> QuerySet[Post]:
    return Post.objects.filter(community__in=visible_communities(viewer))


def posts_tagged(viewer: Viewer, tag_name: str) -> QuerySet[Post]:
    return (
        visible_posts(viewer)
        .filter(hashtags__name=tag_name)
        .select_related("community")
        .prefetch_related("hashtags")
    )


def comments_tagged(viewer: Viewer, tag_name: str) -> QuerySet[Comment]:
    """Return the live comments tagged ``tag_name`` on posts ``viewer`` may see."""
    return (
        Comment.objects.filter(
            post__in=visible_posts(viewer),
            hashtags__name=tag_name,
            deleted_at__isnull=True,
            post__deleted_at__isnull=True,
        )
        .select_related("post__community")
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class PostKey:
    """The position of a post in newest-first order, for keyset pagination."""

    created_at: datetime.datetime
    id: int


def posts_page(
    posts: QuerySet[Post], *, after: PostKey | None, limit: int
) -> tuple[list[Post], PostKey | None]:
    """Return up to ``limit`` posts after ``after``, newest first, and the next key.

    Ties on ``created_at`` are broken by id, so no post is skipped or
    repeated between pages, and posts added meanwhile land before page one.
    """
    if after is not None:
        posts = posts.filter(
            Q(created_at__lt=after.created_at)
            | Q(created_at=after.created_at, id__lt=after.id)
        )
    rows = list(posts.order_by("-created_at", "-id")[: limit + 1])
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, PostKey(created_at=rows[-1].created_at, id=rows[-1].pk)


def access_post(viewer: Viewer, post_id: int) -> Post:
    """Return the post, or raise 404 when ``viewer`` may not see it."""
    post = visible_posts(viewer).select_related("community").filter(pk=post_id).first()
    if post is None:
        raise Http404("No post found with that number.")
    return post


def access_comment(viewer: Viewer, comment_id: int) -> Comment:
    """Return the comment, or raise 404 when ``viewer`` may not see its post."""
    comment = (
        Comment.objects.filter(pk=comment_id, post__in=visible_posts(viewer))
        .select_related("post__community")
        .first()
    )
    if comment is None:
        raise Http404("No comment found with that number.")
    return comment


def can_moderate(person: User, community: Community) -> bool:
    """Check whether ``person`` may delete others' posts and comments there."""
    if person.role == Role.MODERATOR and not person.is_external:
        return True
    return Membership.objects.filter(
        community=community, person=person, role__in=MODERATING_ROLES
    ).exists()


def _thread_order(comments: QuerySet[Comment]) -> QuerySet[Comment]:
    return comments.annotate(thread_key=Coalesce("parent_id", "id")).order_by(
        "thread_key", "id"
    )


def comment_page_count(post: Post) -> int:
    size: int = settings.SOCIAL_COMMENTS_PAGE_SIZE
    return max(1, -(-post.comment_count // size))


def comments_page(post: Post, page: int) -> list[Comment]:
    """Return one page of the post's thread, top-level comments before their replies.

    The page costs one query whatever the size of the thread.
    """
    size: int = settings.SOCIAL_COMMENTS_PAGE_SIZE
    start = (page - 1) * size
    thread = _thread_order(Comment.objects.filter(post=post))
    return list(thread.select_related("parent")[start : start + size])


def page_of_comment(comment: Comment) -> int:
    """Return the page of its post's thread that ``comment`` appears on."""
    size: int = settings.SOCIAL_COMMENTS_PAGE_SIZE
    key = comment.parent_id or comment.pk
    before = (
        _thread_order(Comment.objects.filter(post_id=comment.post_id))
        .filter(Q(thread_key__lt=key) | Q(thread_key=key, id__lt=comment.pk))
        .count()
    )
    return before // size + 1


@dataclass
class ReactionCount:
    kind: str
    label: str
    count: int
    mine: bool


@dataclass
class Conversation:
    """The state of one post's reaction, bookmark and helpful bar for one viewer."""

    reactions: list[ReactionCount] = field(default_factory=list)
    bookmarked: bool = False
    marked_helpful: bool = False
    # The post a share quotes, when the viewer may see it; None otherwise.
    quoted: Post | None = None
    # The authors of the post and of the quoted post as the viewer may read
    # them (``accounts.authors``): a hidden staff member's role for a customer.
    author: str = ""
    quoted_author: str = ""


def visible_quotes(viewer: Viewer, posts: list[Post]) -> dict[int, Post]:
    """Return the posts that ``posts`` share and ``viewer`` may see, by id.

    A share never carries the quoted text, so each reader gets the quote
    through their own visibility rule. No query runs when nothing is shared.
    """
    ids = {post.shared_from_id for post in posts if post.shared_from_id}
    if not ids:
        return {}
    quoted = visible_posts(viewer).filter(pk__in=ids).select_related("community")
    return {post.pk: post for post in quoted}


# The bits of the ``own_marks`` column that ``own_marks_sql`` reads: one per
# reaction kind, then the bookmark and the helpful mark.
_REACTION_BITS = {kind: 1 << index for index, kind in enumerate(Reaction.Kind.values)}
_BOOKMARK_BIT = 1 << len(_REACTION_BITS)
_HELPFUL_BIT = _BOOKMARK_BIT << 1


def _mark_test(model: type[Model], bit: int, *, kind: bool = False) -> str:
    """Return SQL worth ``bit`` when the viewer has a row of ``model`` on the post."""
    quote = connection.ops.quote_name
    post_id = f"{quote(Post._meta.db_table)}.{quote('id')}"
    kind_test = " AND own.kind = %s" if kind else ""
    return (
        f"CASE WHEN EXISTS (SELECT 1 FROM {quote(model._meta.db_table)} AS own "  # noqa: S608
        f"WHERE own.post_id = {post_id} AND own.person_id = %s{kind_test}) "
        f"THEN {bit:d} ELSE 0 END"
    )


def own_marks_sql(viewer: User) -> tuple[str, list[Any]]:
    """Return the SQL of ``viewer``'s marks on a post row, as one number.

    A statement selects it as the post's ``own_marks``: a bit for each
    reaction kind, the bookmark and the helpful mark, each tested by an
    ``EXISTS`` on the mark's unique index. So a page of posts reads its
    viewer's marks in its own statement and ``attach_conversations`` runs
    no query for them. The SQL names the post table itself (not an alias),
    so the statement must read from it under its own name.
    """
    tests = [_mark_test(Bookmark, _BOOKMARK_BIT), _mark_test(HelpfulMark, _HELPFUL_BIT)]
    params: list[Any] = [viewer.pk, viewer.pk]
    for kind, bit in _REACTION_BITS.items():
        tests.append(_mark_test(Reaction, bit, kind=True))
        params += [viewer.pk, kind]
    # Every value is a parameter; the names come from the models.
    return f"({' + '.join(tests)})", params


def _annotated_marks(
    posts: list[Post],
) -> tuple[set[tuple[int, str]], set[int], set[int]] | None:
    """Return the marks read with ``posts`` (``own_marks_sql``), else None."""
    if not all(hasattr(post, "own_marks") for post in posts):
        return None
    marks = {post.pk: int(post.own_marks) for post in posts}  # type: ignore[attr-defined]
    mine = {
        (post_id, kind)
        for post_id, bits in marks.items()
        for kind, bit in _REACTION_BITS.items()
        if bits & bit
    }
    bookmarked = {post_id for post_id, bits in marks.items() if bits & _BOOKMARK_BIT}
    marked = {post_id for post_id, bits in marks.items() if bits & _HELPFUL_BIT}
    return mine, bookmarked, marked


def _own_marks(
    viewer: User, post_ids: list[int]
) -> tuple[set[tuple[int, str]], set[int], set[int]]:
    """Return the viewer's reactions, bookmarks and helpful marks on the posts.

    One UNION ALL reads all three, each row tagged with its kind: a reaction
    row carries the reaction kind, a bookmark row "=bookmark" and a helpful
    row "=helpful", which no reaction kind starts with.
    """
    reactions = Reaction.objects.filter(
        post_id__in=post_ids, person=viewer
    ).values_list("post_id", "kind")
    bookmarks = (
        Bookmark.objects.filter(post_id__in=post_ids, person=viewer)
        .order_by()
        .annotate(mark=Value("=bookmark"))
        .values_list("post_id", "mark")
    )
    helpful = (
        HelpfulMark.objects.filter(post_id__in=post_ids, person=viewer)
        .order_by()
        .annotate(mark=Value("=helpful"))
        .values_list("post_id", "mark")
    )
    mine: set[tuple[int, str]] = set()
    bookmarked: set[int] = set()
    marked: set[int] = set()
    for post_id, mark in reactions.union(bookmarks, helpful, all=True):
        if mark == "=bookmark":
            bookmarked.add(post_id)
        elif mark == "=helpful":
            marked.add(post_id)
        else:
            mine.add((post_id, mark))
    return mine, bookmarked, marked


def attach_conversations(viewer: User, posts: list[Post]) -> list[Post]:
    """Set ``post.conversation`` on each post for ``viewer`` in one query.

    The posts must come from ``visible_posts(viewer)``. Reaction counts are
    the counters on the post rows. The query reads the viewer's own marks,
    and none runs when the posts were read with ``own_marks_sql``. One more
    query reads the attachments when a post has any, and one the quoted
    posts when a post is a share. For a customer account one more reads
    which authors it sees by role (``hidden_author_labels``).
    """
    # Posts with attachments get them in one more query; a page without
    # any costs nothing extra.
    prefetch_related_objects(
        [post for post in posts if post.attachment_count], "attachments"
    )
    marks = _annotated_marks(posts)
    if marks is None:
        marks = _own_marks(viewer, [post.pk for post in posts])
    mine, bookmarked, helpful = marks
    quotes = visible_quotes(viewer, posts)
    hidden = hidden_author_labels(
        viewer,
        [post.author_id for post in posts]
        + [quoted.author_id for quoted in quotes.values()],
    )
    kinds = [
        (kind, str(label), Reaction.counter_field(kind))
        for kind, label in Reaction.Kind.choices
    ]

    for post in posts:
        quoted = quotes.get(post.shared_from_id or 0)
        post.conversation = Conversation(  # type: ignore[attr-defined]
            reactions=[
                ReactionCount(
                    kind=kind,
                    label=label,
                    count=getattr(post, counter),
                    mine=(post.pk, kind) in mine,
                )
                for kind, label, counter in kinds
            ],
            bookmarked=post.pk in bookmarked,
            marked_helpful=post.pk in helpful,
            quoted=quoted,
            author=author_of(post, hidden),
            quoted_author=author_of(quoted, hidden) if quoted is not None else "",
        )
    return posts


def bookmarked_posts(viewer: User) -> QuerySet[Post]:
    """Return the viewer's bookmarked posts that they may still see, newest first."""
    return (
        visible_posts(viewer)
        .filter(bookmarks__person=viewer)
        .select_related("community")
        .order_by("-bookmarks__created_at", "-id")
    )


def community_files(viewer: Viewer, community: Community) -> QuerySet[PostAttachment]:
    """Return the files and images posted in ``community`` that ``viewer`` may open.

    They are the attachments of the community's undeleted posts, read
    through ``visible_posts``, newest first, each with its post.
    """
    posts = visible_posts(viewer).filter(community=community, deleted_at__isnull=True)
    return (
        PostAttachment.objects.filter(post__in=posts.values("pk"))
        .select_related("post")
        .order_by("-created_at", "-id")
    )
