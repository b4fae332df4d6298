"""The post card, rendered in Python, and the addresses it links to.

Feeds, tag pages, community pages and the permalink show posts as the same
card. A feed page shows twenty: built from template includes they cost
about as much as the rest of the request, so the frame of the card is one
function that writes the HTML. The rarer parts (a blog heading, attachments,
the quoted post of a share) stay templates and are rendered only for the
posts that have them. Every value that is not a number or a fixed word goes
through ``escape``; ``body_html`` was sanitized when the post was saved.
"""

from typing import Any

from django import template
from django.template import Engine
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime

from social.templatetags.social_bars import object_url, page_cache, post_bar

register = template.Library()


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


def _meta_line(
    context: template.Context, post: Any, post_url: str, *, show_community: bool
) -> str:
    parts: list[str] = []
    if not post.is_deleted:
        parts.append(escape(post.author_name))
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
    """
    post_url = object_url(context, "posts:post_detail")(post.pk)
    deleted = post.is_deleted
    parts = [
        f'<article class="card post{" deleted" if deleted else ""}" '
        f'data-testid="post" id="post-{int(post.pk)}">'
    ]
    if deleted:
        parts.append(
            '<p class="muted" data-testid="post-tombstone">This post was deleted.</p>'
        )
    else:
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
        if post.attachment_count:
            parts.append(_include(context, "social/_attachments.html", post=post))
        if post.shared_from_id:
            parts.append(_include(context, "social/share_quote.html", post=post))
    parts.append(_meta_line(context, post, post_url, show_community=show_community))
    if getattr(post, "conversation", None):
        parts.append(post_bar(context, post))
    else:
        parts.append(_counts(post, post_url))
    parts.append("</article>")
    # Every variable part is escaped above; body_html is sanitized on save.
    return mark_safe("".join(parts))  # noqa: S308
