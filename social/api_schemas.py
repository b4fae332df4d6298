"""Schemas of the social JSON API, and the helpers that fill them for a viewer."""

import base64
import binascii
import datetime
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest
from ninja import Schema
from ninja.errors import HttpError

from accounts.authors import author_of, hidden_author_labels
from accounts.models import User
from social.models import Comment, Post
from social.selectors import (
    PostKey,
    access_comment,
    access_post,
    attach_conversations,
)

logger = logging.getLogger(__name__)

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20


class ErrorOut(Schema):
    detail: str


class CommunityRefOut(Schema):
    slug: str
    name: str
    visibility: str


class ReactionOut(Schema):
    kind: str
    label: str
    count: int
    mine: bool


class QuotedPostOut(Schema):
    id: int
    url: str
    community: CommunityRefOut
    author: str
    body_html: str
    created_at: datetime.datetime
    deleted: bool


class PostOut(Schema):
    id: int
    url: str
    community: CommunityRefOut
    kind: str
    title: str
    summary: str
    # The name the author had when writing; empty on a deleted post.
    author: str
    # None for customer accounts, who may open only some staff profiles.
    author_username: str | None
    body: str
    body_html: str
    hashtags: list[str]
    created_at: datetime.datetime
    edited_at: datetime.datetime | None
    deleted: bool
    comment_count: int
    helpful_count: int
    reactions: list[ReactionOut]
    bookmarked: bool
    marked_helpful: bool
    # The post this one shares, when the caller may see it.
    shared_from: QuotedPostOut | None
    # True when this post shares a post the caller may not see.
    shares_hidden_post: bool


class PostPageOut(Schema):
    posts: list[PostOut]
    # Pass it back as ``cursor`` for the next page; None on the last page.
    next_cursor: str | None


class PostIn(Schema):
    body: str


class NewPostIn(PostIn):
    # "micro" (a short post), "blog" or "announcement"; the last two need a title.
    kind: str = "micro"
    title: str = ""
    summary: str = ""


class CommentOut(Schema):
    id: int
    url: str
    post_id: int
    parent_id: int | None
    author: str
    author_username: str | None
    body: str
    body_html: str
    hashtags: list[str]
    created_at: datetime.datetime
    edited_at: datetime.datetime | None
    deleted: bool


class CommentPageOut(Schema):
    page: int
    pages: int
    comment_count: int
    comments: list[CommentOut]


class CommentPlaceOut(CommentOut):
    # The page of the thread (``GET /posts/{id}/comments?page=``) holding it.
    page: int


class CommentIn(Schema):
    body: str
    parent_id: int | None = None


class ReplyIn(Schema):
    body: str


class ShareIn(Schema):
    community: str
    comment: str = ""


class QuoteOut(Schema):
    """The text of a post the caller may read, for quoting in a composer."""

    id: int
    url: str
    author: str
    community: CommunityRefOut
    body: str
    body_html: str


NOT_FOUND = {404: ErrorOut}
WRITE_ERRORS = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def person(request: HttpRequest) -> User:
    """Return the signed-in person; the router's session auth guarantees one."""
    user = request.user
    if not isinstance(user, User):
        raise HttpError(401, "Sign in through /accounts/login/ first.")
    return user


@contextmanager
def service_errors(request: HttpRequest) -> Iterator[None]:
    """Turn a service's rejection into a JSON error carrying its message."""
    try:
        yield
    except ValidationError as error:
        _log_rejection(request, 422, " ".join(error.messages))
        raise HttpError(422, " ".join(error.messages)) from None
    except PermissionDenied as error:
        _log_rejection(request, 403, str(error))
        raise HttpError(403, str(error)) from None


def _log_rejection(request: HttpRequest, status: int, message: str) -> None:
    logger.info(
        "api write rejected: method=%s path=%s person=%s status=%s error=%s",
        request.method,
        request.path,
        request.user.pk,
        status,
        message,
    )


def found_post(request: HttpRequest, post_id: int) -> Post:
    try:
        return access_post(request.user, post_id)
    except Http404:
        raise HttpError(
            404, f"No post {post_id} found among the posts you may see."
        ) from None


def found_comment(request: HttpRequest, comment_id: int) -> Comment:
    try:
        return access_comment(request.user, comment_id)
    except Http404:
        raise HttpError(
            404, f"No comment {comment_id} found among the comments you may see."
        ) from None


def check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise HttpError(
            422, f"limit={limit} is out of range: use 1 to {MAX_PAGE_SIZE}."
        )


def encode_cursor(key: PostKey | None) -> str | None:
    if key is None:
        return None
    raw = f"{key.created_at.isoformat()}|{key.id}".encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_cursor(cursor: str) -> PostKey | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor.encode()).decode()
        stamp, _, number = raw.partition("|")
        key = PostKey(created_at=datetime.datetime.fromisoformat(stamp), id=int(number))
    except (binascii.Error, UnicodeError, ValueError):
        key = None
    if key is None or key.created_at.tzinfo is None:
        raise HttpError(
            422,
            f"cursor={cursor[:100]!r} is not a cursor this API gave out: "
            "start again without one.",
        )
    return key


def community_ref(post: Post) -> CommunityRefOut:
    community = post.community
    return CommunityRefOut(
        slug=community.slug, name=community.name, visibility=community.visibility
    )


def _username(viewer: User, author: User | None) -> str | None:
    if viewer.is_external or author is None:
        return None
    return author.username


def _quoted(quoted: Post, author: str) -> QuotedPostOut:
    return QuotedPostOut(
        id=quoted.pk,
        url=f"/posts/{quoted.pk}/",
        community=community_ref(quoted),
        author="" if quoted.is_deleted else author,
        body_html=quoted.body_html,
        created_at=quoted.created_at,
        deleted=quoted.is_deleted,
    )


def serialize_post(viewer: User, post: Post) -> PostOut:
    """Serialize a post that went through ``attach_conversations`` for ``viewer``."""
    conversation = post.conversation  # type: ignore[attr-defined]
    quoted = conversation.quoted
    deleted = post.is_deleted
    return PostOut(
        id=post.pk,
        url=f"/posts/{post.pk}/",
        community=community_ref(post),
        kind=post.kind,
        title=post.title,
        summary=post.summary,
        author="" if deleted else conversation.author,
        author_username=None if deleted else _username(viewer, post.author),
        body=post.body,
        body_html=post.body_html,
        hashtags=[tag.name for tag in post.hashtags.all()],
        created_at=post.created_at,
        edited_at=post.edited_at,
        deleted=deleted,
        comment_count=post.comment_count,
        helpful_count=post.helpful_count,
        reactions=[
            ReactionOut(
                kind=reaction.kind,
                label=reaction.label,
                count=reaction.count,
                mine=reaction.mine,
            )
            for reaction in conversation.reactions
        ],
        bookmarked=conversation.bookmarked,
        marked_helpful=conversation.marked_helpful,
        shared_from=(
            _quoted(quoted, conversation.quoted_author) if quoted is not None else None
        ),
        shares_hidden_post=post.shared_from_id is not None and quoted is None,
    )


def serialize_posts(viewer: User, posts: list[Post]) -> list[PostOut]:
    """Serialize posts in a fixed number of queries, whatever their number."""
    prefetch_related_objects(posts, "hashtags", "author", "community")
    attach_conversations(viewer, posts)
    return [serialize_post(viewer, post) for post in posts]


def fresh_post(viewer: User, post_id: int) -> PostOut:
    post = Post.objects.select_related("community", "author").get(pk=post_id)
    return serialize_posts(viewer, [post])[0]


def serialize_comment(
    viewer: User, comment: Comment, hidden: dict[int, str] | None = None
) -> CommentOut:
    """Serialize ``comment``; ``hidden`` comes from ``hidden_author_labels``.

    Without ``hidden`` the comment's author is looked up on its own.
    """
    if hidden is None:
        hidden = hidden_author_labels(viewer, [comment.author_id])
    deleted = comment.is_deleted
    return CommentOut(
        id=comment.pk,
        url=f"/posts/{comment.post_id}/comments/{comment.pk}/",
        post_id=comment.post_id,
        parent_id=comment.parent_id,
        author="" if deleted else author_of(comment, hidden),
        author_username=None if deleted else _username(viewer, comment.author),
        body=comment.body,
        body_html=comment.body_html,
        hashtags=[tag.name for tag in comment.hashtags.all()],
        created_at=comment.created_at,
        edited_at=comment.edited_at,
        deleted=deleted,
    )


def fresh_comment(viewer: User, comment_id: int) -> CommentOut:
    comment = Comment.objects.select_related("author").get(pk=comment_id)
    return serialize_comment(viewer, comment)
