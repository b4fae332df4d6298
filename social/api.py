"""Posts, comments, reactions, bookmarks and shares over JSON.

Every read starts from ``visible_posts`` (through the selectors), so the API
applies the same rule as the pages. A post the caller may not see is a 404
with the same message as a missing one. Write errors are 422 with the service's
message, and 403 when the caller may see the object but not change it.
"""

from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest
from ninja import Router, Status
from ninja.errors import HttpError

from accounts.authors import author_of, hidden_author_labels
from communities.selectors import access_community
from social.api_schemas import (
    DEFAULT_PAGE_SIZE,
    NOT_FOUND,
    WRITE_ERRORS,
    CommentIn,
    CommentOut,
    CommentPageOut,
    CommentPlaceOut,
    ErrorOut,
    NewPostIn,
    PostIn,
    PostOut,
    PostPageOut,
    QuoteOut,
    ReplyIn,
    ShareIn,
    check_limit,
    community_ref,
    decode_cursor,
    encode_cursor,
    found_comment,
    found_post,
    fresh_comment,
    fresh_post,
    person,
    serialize_comment,
    serialize_posts,
    service_errors,
)
from social.feed_api import router as feed_router
from social.selectors import (
    bookmarked_posts,
    comment_page_count,
    comments_page,
    page_of_comment,
    posts_page,
    visible_posts,
)
from social.services import (
    delete_comment,
    delete_post,
    edit_comment,
    edit_post,
    post_comment,
    publish_post,
    set_bookmark,
    set_helpful,
    set_reaction,
)
from social.services.shares import share_post

router = Router(tags=["social"])
router.add_router("", feed_router)


# --- Posts ---


@router.get(
    "/communities/{slug}/posts",
    response={200: PostPageOut, **NOT_FOUND, 422: ErrorOut},
    summary="Posts in a community, newest first",
)
def list_community_posts(
    request: HttpRequest, slug: str, cursor: str = "", limit: int = DEFAULT_PAGE_SIZE
) -> PostPageOut:
    """Return one page of the community's posts; pass ``next_cursor`` for the next.

    Pages are cut by (creation time, id), so posts that arrive between
    requests never shift a page and no post is skipped or repeated.
    """
    viewer = person(request)
    check_limit(limit)
    after = decode_cursor(cursor)
    try:
        community = access_community(viewer, slug)
    except Http404:
        raise HttpError(
            404, f"No community {slug!r} found among the communities you may see."
        ) from None
    posts, next_key = posts_page(
        visible_posts(viewer)
        .filter(community=community)
        .select_related("community", "author"),
        after=after,
        limit=limit,
    )
    return PostPageOut(
        posts=serialize_posts(viewer, posts), next_cursor=encode_cursor(next_key)
    )


@router.post(
    "/communities/{slug}/posts",
    response={201: PostOut, **WRITE_ERRORS},
    summary="Publish a post in a community",
)
def create_post(request: HttpRequest, slug: str, payload: NewPostIn) -> Status[PostOut]:
    """Publish a short post, a blog post or an announcement."""
    viewer = person(request)
    try:
        community = access_community(viewer, slug)
    except Http404:
        raise HttpError(
            404, f"No community {slug!r} found among the communities you may see."
        ) from None
    with service_errors(request):
        post = publish_post(
            author=viewer,
            community=community,
            body=payload.body,
            kind=payload.kind,
            title=payload.title,
            summary=payload.summary,
        )
    return Status(201, fresh_post(viewer, post.pk))


@router.get("/posts/{post_id}", response={200: PostOut, **NOT_FOUND}, summary="A post")
def get_post(request: HttpRequest, post_id: int) -> PostOut:
    viewer = person(request)
    post = found_post(request, post_id)
    return serialize_posts(viewer, [post])[0]


@router.patch(
    "/posts/{post_id}",
    response={200: PostOut, **WRITE_ERRORS},
    summary="Edit your post",
)
def update_post(request: HttpRequest, post_id: int, payload: PostIn) -> PostOut:
    """Replace the text; the old text is kept in the post's history."""
    viewer = person(request)
    post = found_post(request, post_id)
    with service_errors(request):
        edit_post(editor=viewer, post=post, body=payload.body)
    return fresh_post(viewer, post.pk)


@router.delete(
    "/posts/{post_id}",
    response={200: PostOut, **WRITE_ERRORS},
    summary="Delete a post, leaving a tombstone",
)
def remove_post(request: HttpRequest, post_id: int) -> PostOut:
    viewer = person(request)
    post = found_post(request, post_id)
    with service_errors(request):
        delete_post(actor=viewer, post=post)
    return fresh_post(viewer, post.pk)


# --- Comments ---


@router.get(
    "/posts/{post_id}/comments",
    response={200: CommentPageOut, **NOT_FOUND},
    summary="One page of a post's thread",
)
def list_comments(request: HttpRequest, post_id: int, page: int = 1) -> CommentPageOut:
    """Return top-level comments each followed by its replies, one page at a time."""
    viewer = person(request)
    post = found_post(request, post_id)
    pages = comment_page_count(post)
    if not 1 <= page <= pages:
        raise HttpError(
            404, f"No page {page} in this thread: pages run from 1 to {pages}."
        )
    comments = comments_page(post, page)
    prefetch_related_objects(comments, "hashtags", "author")
    hidden = hidden_author_labels(viewer, [comment.author_id for comment in comments])
    return CommentPageOut(
        page=page,
        pages=pages,
        comment_count=post.comment_count,
        comments=[serialize_comment(viewer, comment, hidden) for comment in comments],
    )


@router.get(
    "/comments/{comment_id}",
    response={200: CommentPlaceOut, **NOT_FOUND},
    summary="A comment and the page of its thread",
)
def get_comment(request: HttpRequest, comment_id: int) -> CommentPlaceOut:
    viewer = person(request)
    comment = found_comment(request, comment_id)
    out = serialize_comment(viewer, comment)
    return CommentPlaceOut(**out.model_dump(), page=page_of_comment(comment))


@router.post(
    "/posts/{post_id}/comments",
    response={201: CommentOut, **WRITE_ERRORS},
    summary="Comment on a post, or reply with parent_id",
)
def create_comment(
    request: HttpRequest, post_id: int, payload: CommentIn
) -> Status[CommentOut]:
    viewer = person(request)
    post = found_post(request, post_id)
    parent = found_comment(request, payload.parent_id) if payload.parent_id else None
    with service_errors(request):
        comment = post_comment(
            author=viewer, post=post, body=payload.body, parent=parent
        )
    return Status(201, fresh_comment(viewer, comment.pk))


@router.post(
    "/comments/{comment_id}/replies",
    response={201: CommentOut, **WRITE_ERRORS},
    summary="Reply to a comment",
)
def create_reply(
    request: HttpRequest, comment_id: int, payload: ReplyIn
) -> Status[CommentOut]:
    """Reply to a comment; a reply to a reply joins the same top-level comment."""
    viewer = person(request)
    parent = found_comment(request, comment_id)
    with service_errors(request):
        comment = post_comment(
            author=viewer, post=parent.post, body=payload.body, parent=parent
        )
    return Status(201, fresh_comment(viewer, comment.pk))


@router.patch(
    "/comments/{comment_id}",
    response={200: CommentOut, **WRITE_ERRORS},
    summary="Edit your comment",
)
def update_comment(
    request: HttpRequest, comment_id: int, payload: ReplyIn
) -> CommentOut:
    viewer = person(request)
    comment = found_comment(request, comment_id)
    with service_errors(request):
        edit_comment(editor=viewer, comment=comment, body=payload.body)
    return fresh_comment(viewer, comment.pk)


@router.delete(
    "/comments/{comment_id}",
    response={200: CommentOut, **WRITE_ERRORS},
    summary="Delete a comment, leaving a tombstone",
)
def remove_comment(request: HttpRequest, comment_id: int) -> CommentOut:
    viewer = person(request)
    comment = found_comment(request, comment_id)
    with service_errors(request):
        delete_comment(actor=viewer, comment=comment)
    return fresh_comment(viewer, comment.pk)


# --- Reactions, helpful marks and bookmarks: PUT sets, DELETE clears ---


def _set_reaction(
    request: HttpRequest, post_id: int, kind: str, active: bool
) -> PostOut:
    viewer = person(request)
    post = found_post(request, post_id)
    with service_errors(request):
        set_reaction(person=viewer, post=post, kind=kind, active=active)
    return fresh_post(viewer, post.pk)


@router.put(
    "/posts/{post_id}/reactions/{kind}",
    response={200: PostOut, **WRITE_ERRORS},
    summary="Add your reaction of one kind",
)
def add_reaction(request: HttpRequest, post_id: int, kind: str) -> PostOut:
    return _set_reaction(request, post_id, kind, True)


@router.delete(
    "/posts/{post_id}/reactions/{kind}",
    response={200: PostOut, **WRITE_ERRORS},
    summary="Remove your reaction of one kind",
)
def clear_reaction(request: HttpRequest, post_id: int, kind: str) -> PostOut:
    return _set_reaction(request, post_id, kind, False)


def _set_helpful(request: HttpRequest, post_id: int, active: bool) -> PostOut:
    viewer = person(request)
    post = found_post(request, post_id)
    with service_errors(request):
        set_helpful(person=viewer, post=post, active=active)
    return fresh_post(viewer, post.pk)


@router.put(
    "/posts/{post_id}/helpful",
    response={200: PostOut, **WRITE_ERRORS},
    summary="Mark a post as helpful",
)
def add_helpful(request: HttpRequest, post_id: int) -> PostOut:
    return _set_helpful(request, post_id, True)


@router.delete(
    "/posts/{post_id}/helpful",
    response={200: PostOut, **WRITE_ERRORS},
    summary="Take back your helpful mark",
)
def clear_helpful(request: HttpRequest, post_id: int) -> PostOut:
    return _set_helpful(request, post_id, False)


def _set_bookmark(request: HttpRequest, post_id: int, active: bool) -> PostOut:
    viewer = person(request)
    post = found_post(request, post_id)
    with service_errors(request):
        set_bookmark(person=viewer, post=post, active=active)
    return fresh_post(viewer, post.pk)


@router.put(
    "/posts/{post_id}/bookmark",
    response={200: PostOut, **WRITE_ERRORS},
    summary="Bookmark a post",
)
def add_bookmark(request: HttpRequest, post_id: int) -> PostOut:
    return _set_bookmark(request, post_id, True)


@router.delete(
    "/posts/{post_id}/bookmark",
    response={200: PostOut, **NOT_FOUND},
    summary="Remove your bookmark of a post",
)
def clear_bookmark(request: HttpRequest, post_id: int) -> PostOut:
    return _set_bookmark(request, post_id, False)


@router.get(
    "/bookmarks",
    response={200: list[PostOut], 422: ErrorOut},
    summary="Your bookmarks that you may still see",
)
def list_bookmarks(
    request: HttpRequest, limit: int = DEFAULT_PAGE_SIZE
) -> list[PostOut]:
    """Return your most recent bookmarks; posts you may no longer see are left out."""
    viewer = person(request)
    check_limit(limit)
    posts = list(bookmarked_posts(viewer)[:limit])
    return serialize_posts(viewer, posts)


# --- Quote and share ---


@router.get(
    "/posts/{post_id}/quote",
    response={200: QuoteOut, **NOT_FOUND, 422: ErrorOut},
    summary="A post's text for quoting",
)
def get_quote(request: HttpRequest, post_id: int) -> QuoteOut:
    """Return the text a composer may quote; a post you may not read is a 404."""
    viewer = person(request)
    post = found_post(request, post_id)
    if post.is_deleted:
        raise HttpError(422, f"Post {post_id} was deleted, so it cannot be quoted.")
    return QuoteOut(
        id=post.pk,
        url=f"/posts/{post.pk}/",
        author=author_of(post, hidden_author_labels(viewer, [post.author_id])),
        community=community_ref(post),
        body=post.body,
        body_html=post.body_html,
    )


@router.post(
    "/posts/{post_id}/shares",
    response={201: PostOut, **WRITE_ERRORS},
    summary="Share a post into a community",
)
def create_share(
    request: HttpRequest, post_id: int, payload: ShareIn
) -> Status[PostOut]:
    """Publish a post that quotes this one, if every reader there may read it."""
    viewer = person(request)
    original = found_post(request, post_id)
    try:
        community = access_community(viewer, payload.community)
    except Http404:
        raise HttpError(
            404,
            f"No community {payload.community!r} found among the communities "
            "you may see.",
        ) from None
    with service_errors(request):
        share = share_post(
            actor=viewer,
            original=original,
            community=community,
            comment=payload.comment,
        )
    return Status(201, fresh_post(viewer, share.pk))
