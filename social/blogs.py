"""Reads of blog posts and announcements: lists of long-form posts.

The lists start from ``visible_posts``, so they hold only what the reader
may see, and they page with the same opaque cursors as the home feed.
"""

from accounts.models import User
from social.feed import FeedKey, FeedPage, decode_cursor, encode_cursor, newest_after
from social.selectors import visible_posts

LONG_FORM_PAGE_LENGTH = 20


def long_form_page(
    viewer: User,
    *,
    kind: str,
    cursor: str | None,
    limit: int = LONG_FORM_PAGE_LENGTH,
) -> FeedPage:
    """Return one page of visible, undeleted posts of ``kind``, newest first.

    Raise ``InvalidCursor`` for a cursor the feed module did not produce.
    """
    posts = visible_posts(viewer).filter(kind=kind, deleted_at__isnull=True)
    if cursor:
        posts = posts.filter(newest_after(decode_cursor(cursor, sort="newest")))
    rows = list(
        posts.select_related("community").order_by("-created_at", "-id")[: limit + 1]
    )
    if len(rows) <= limit:
        return FeedPage(posts=rows, next_cursor=None)
    rows = rows[:limit]
    last = FeedKey(created_at=rows[-1].created_at, id=rows[-1].pk)
    return FeedPage(posts=rows, next_cursor=encode_cursor("newest", last))
