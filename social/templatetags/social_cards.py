"""The post card, rendered in Python, and the addresses it links to.

Feeds, tag pages, community pages and the permalink show posts as the same
card. A feed page shows twenty: built from template includes they cost
about as much as the rest of the request, so the frame of the card is one
function that writes the HTML. The rarer parts (a blog heading, attachments,
the quoted post of a share) stay templates and are rendered only for the
posts that have them. Every value that is not a number or a fixed word goes
through ``escape``; ``body_html`` was sanitized when the post was saved.
"""

import hashlib
from typing import Any, cast

from django import template
from django.core.cache import cache
from django.template import Engine
from django.urls import get_script_prefix, reverse
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import get_current_timezone_name, localtime
from django.utils.translation import get_language

from accounts.authors import author_of, hidden_author_labels
from social.templatetags.social_bars import object_url, page_cache, post_bar

register = template.Library()

# The opening and byline of a card are kept in Django's cache under a digest
# of what they are built from (see ``_card_key``).
# NOTE: the key does not cover this module's markup. Change the prefix when
# the markup of the cached parts changes, so a shared cache drops old cards.
CARD_CACHE_PREFIX = "post-card:2"
CARD_CACHE_SECONDS = 24 * 60 * 60


def _community_url(context: template.Context, slug: str) -> str:
    cache = page_cache(context, "social_community_urls")
    if slug not in cache:
        cache[slug] = escape(reverse("communities:community_detail", args=[slug]))
    return str(cache[slug])


def _include(context: template.Context, name: str, **values: Any) -> str:
    """Render the template ``name`` with ``values`` added to the context."""
    engine = context.template.engine if context.template else Engine.get_default()
    included = engine.get_template(name)
    with context.push(**values):
        return str(included.render(context))


def shown_author(context: template.Context, post: Any) -> str:
    """Return ``post``'s author as the reader may read them.

    ``attach_conversations`` worked it out for the page; a card without a
    conversation asks ``hidden_author_labels`` for the request's user.
    """
    conversation = getattr(post, "conversation", None)
    if conversation is not None:
        return str(conversation.author)
    viewer = context["request"].user
    return author_of(post, hidden_author_labels(viewer, [post.author_id]))


def _meta_line(
    context: template.Context,
    post: Any,
    post_url: str,
    author: str,
    *,
    show_community: bool,
) -> str:
    parts: list[str] = []
    if not post.is_deleted:
        parts.append(escape(author))
    if show_community:
        community = post.community
        url = _community_url(context, community.slug)
        parts.append(f' in <a href="{url}">{escape(community.name)}</a>')
    created = escape(date_format(localtime(post.created_at), "DATETIME_FORMAT"))
    parts.append(f' · <a href="{post_url}">{created}</a>')
    if post.edited_at and not post.is_deleted:
        parts.append(" · edited")
    if not post.is_deleted:
        share_url = object_url(context, "posts:post_share")(post.pk)
        parts.append(f' · <a href="{share_url}">Share</a>')
    return f'<p class="muted">{"".join(parts)}</p>'


def _counts(post: Any, post_url: str) -> str:
    comments = int(post.comment_count)
    plural = "" if comments == 1 else "s"
    helpful = int(post.helpful_count)
    found = f" · {helpful} found this helpful" if helpful else ""
    return (
        f'<p class="muted"><a href="{post_url}#comments">{comments} '
        f"comment{plural}</a>{found}</p>"
    )


def _head(context: template.Context, post: Any, post_url: str, *, full: bool) -> str:
    """Return the opening of the card: the tombstone, or the heading and text."""
    parts = [
        f'<article class="card post{" deleted" if post.is_deleted else ""}" '
        f'data-testid="post" id="post-{int(post.pk)}">'
    ]
    if post.is_deleted:
        parts.append(
            '<p class="muted" data-testid="post-tombstone">This post was deleted.</p>'
        )
        return "".join(parts)
    if post.kind != "micro":
        parts.append(
            _include(
                context,
                "social/_post_heading.html",
                post=post,
                post_url=post_url,
                full=full,
            )
        )
    if post.kind == "micro" or full:
        parts.append(f'<div class="prose">{post.body_html}</div>')
    return "".join(parts)


def _card_key(post: Any, author: str, *, show_community: bool, full: bool) -> str:
    """Return the cache key of the cached parts of ``post``'s card.

    The key is a digest of every value those parts are built from, so an
    edit, a deletion, a move to another community, a renamed community or a
    changed author name gives another key, and no stale card can be found.
    ``author`` is the byline as this reader may read it, so a customer who
    sees a staff member by role and an employee who sees the name read
    different entries.
    """
    community = (
        (post.community_id, post.community.slug, post.community.name)
        if show_community
        else None
    )
    inputs = (
        post.pk,
        post.kind,
        post.title,
        post.summary,
        post.body_html,
        post.is_deleted,
        bool(post.edited_at),
        post.author_name,
        author,
        post.created_at.isoformat(),
        community,
        show_community,
        full,
        get_current_timezone_name(),
        get_language(),
        get_script_prefix(),
    )
    digest = hashlib.blake2b(repr(inputs).encode(), digest_size=20).hexdigest()
    return f"{CARD_CACHE_PREFIX}:{digest}"


def _cached_parts(
    context: template.Context,
    post: Any,
    post_url: str,
    *,
    show_community: bool,
    full: bool,
) -> tuple[str, str]:
    """Return the card's opening and byline, from the cache or rendered now."""
    author = shown_author(context, post)
    key = _card_key(post, author, show_community=show_community, full=full)
    parts = cache.get(key)
    if parts is None:
        head = _head(context, post, post_url, full=full)
        meta = _meta_line(
            context, post, post_url, author, show_community=show_community
        )
        parts = (head, meta)
        cache.set(key, parts, CARD_CACHE_SECONDS)
    return cast(tuple[str, str], parts)


@register.simple_tag(takes_context=True)
def post_card(
    context: template.Context,
    post: Any,
    *,
    show_community: bool = False,
    full: bool = False,
) -> SafeString:
    """Return the card of ``post``: its text, byline and conversation bar.

    ``full`` shows a blog post or announcement whole, under its title, as
    the permalink does; otherwise such a post shows its title and summary.
    The bar needs ``post.conversation`` (``attach_conversations``); without
    it the card shows the comment and helpful counts only.

    The opening and the byline come from the cache. The byline names the
    author as the reader may read them (a customer reads a hidden staff
    member's role), and that text is part of the cache key. The caller
    read ``post`` through the post rule on this request, so only posts the
    reader may see now are shown. The parts that depend on the reader (the
    quoted post of a share, read with the reader's rights, and the bar with
    their own marks) and the attachments are rendered on every request.
    """
    post_url = object_url(context, "posts:post_detail")(post.pk)
    head, meta = _cached_parts(
        context, post, post_url, show_community=show_community, full=full
    )
    parts = [head]
    if not post.is_deleted:
        if post.attachment_count:
            parts.append(_include(context, "social/_attachments.html", post=post))
        if post.shared_from_id:
            parts.append(_include(context, "social/share_quote.html", post=post))
    parts.append(meta)
    if getattr(post, "conversation", None):
        parts.append(post_bar(context, post))
    else:
        parts.append(_counts(post, post_url))
    parts.append("</article>")
    # Every variable part is escaped above; body_html is sanitized on save.
    return mark_safe("".join(parts))  # noqa: S308
