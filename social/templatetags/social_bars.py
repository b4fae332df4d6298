"""The reaction bar under a post, rendered in Python.

A feed page shows twenty bars of six forms each. Built with template tags,
they cost more than everything else on the page together, so the bar is one
function that writes the same HTML. Every value that is not a number or a
fixed word goes through ``escape``.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from django import template
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# An id no route produces, reversed once and then replaced by real ids.
_SENTINEL = 987_654_321_012


def page_cache(context: template.Context, key: str) -> dict[str, Any]:
    """Return a dict kept for the template being rendered, made on first use."""
    render_context = context.render_context
    if key not in render_context:
        render_context[key] = {}
    return cast(dict[str, Any], render_context[key])


def object_url(context: template.Context, name: str) -> Callable[[int], str]:
    """Return a function that builds the escaped address of ``name`` for one id.

    The route is reversed once per page with a sentinel id, so twenty posts
    cost one ``reverse`` call per route instead of twenty. ``name`` must be
    a route whose only argument is the object's id.
    """
    cache = page_cache(context, "social_object_urls")
    if name not in cache:
        before, _, after = reverse(name, args=[_SENTINEL]).partition(str(_SENTINEL))
        cache[name] = (escape(before), escape(after))
    before, after = cache[name]
    return lambda object_id: f"{before}{object_id:d}{after}"


def _pressed(flag: bool) -> str:
    return "true" if flag else "false"


def _hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{name}" value="{value}">'


def _csrf(context: template.Context) -> str:
    # The csrf context processor's value is computed once per request; a
    # fresh get_token() call would mask the secret anew for every post.
    token = context.get("csrf_token")
    return escape(str(token) if token else get_token(context["request"]))


@dataclass(frozen=True)
class _BarKit:
    """The parts every bar on a page shares, escaped once per page."""

    csrf_field: str
    reaction_url: Callable[[int], str]
    helpful_url: Callable[[int], str]
    bookmark_url: Callable[[int], str]
    detail_url: Callable[[int], str]
    # Escaped (kind, label) of each reaction, by kind.
    labels: dict[str, tuple[str, str]]


def _kit(context: template.Context, reactions: list[Any]) -> _BarKit:
    cache = page_cache(context, "social_bar_kit")
    kit = cache.get("kit")
    if kit is None:
        csrf = _csrf(context)
        kit = cache["kit"] = _BarKit(
            csrf_field=(
                f'<input type="hidden" name="csrfmiddlewaretoken" value="{csrf}">'
            ),
            reaction_url=object_url(context, "posts:reaction_set"),
            helpful_url=object_url(context, "posts:helpful_set"),
            bookmark_url=object_url(context, "posts:bookmark_set"),
            detail_url=object_url(context, "posts:post_detail"),
            labels={},
        )
    for reaction in reactions:
        if reaction.kind not in kit.labels:
            kit.labels[reaction.kind] = (escape(reaction.kind), escape(reaction.label))
    return cast(_BarKit, kit)


def _bar_form(kit: _BarKit, url: str, target: str, fields: str, button: str) -> str:
    return (
        f'<form method="post" action="{url}" hx-post="{url}" hx-target="{target}" '
        f'hx-swap="outerHTML">{kit.csrf_field}{fields}{button}</form>'
    )


@register.simple_tag(takes_context=True)
def post_bar(context: template.Context, post: Any) -> SafeString:
    """Return the reactions, helpful, bookmark and comments bar of ``post``."""
    user = context["user"]
    conversation = post.conversation
    kit = _kit(context, conversation.reactions)
    post_id = int(post.pk)
    target = f"#post-bar-{post_id}"
    disabled = " disabled" if post.is_deleted else ""
    reaction_url = kit.reaction_url(post_id)

    parts: list[str] = []
    error = context.get("bar_error")
    if error:
        parts.append(f'<p class="error" role="alert">{escape(error)}</p>')
    for reaction in conversation.reactions:
        kind, label = kit.labels[reaction.kind]
        button = (
            f'<button type="submit" aria-pressed="{_pressed(reaction.mine)}" '
            f'data-testid="reaction-{kind}"{disabled}>{label} '
            f'<span class="count">{int(reaction.count)}</span></button>'
        )
        fields = _hidden("kind", kind) + _hidden(
            "active", "0" if reaction.mine else "1"
        )
        parts.append(_bar_form(kit, reaction_url, target, fields, button))

    own_post = post.author_id == user.pk
    helpful_disabled = " disabled" if post.is_deleted or own_post else ""
    marked = conversation.marked_helpful
    helpful = (
        f'<button type="submit" aria-pressed="{_pressed(marked)}" '
        f'data-testid="helpful"{helpful_disabled}>Helpful '
        f'<span class="count">{int(post.helpful_count)}</span></button>'
    )
    parts.append(
        _bar_form(
            kit,
            kit.helpful_url(post_id),
            target,
            _hidden("active", "0" if marked else "1"),
            helpful,
        )
    )

    saved = conversation.bookmarked
    bookmark = (
        f'<button type="submit" aria-pressed="{_pressed(saved)}" '
        f'data-testid="bookmark">{"Bookmarked" if saved else "Bookmark"}</button>'
    )
    parts.append(
        _bar_form(
            kit,
            kit.bookmark_url(post_id),
            target,
            _hidden("active", "0" if saved else "1"),
            bookmark,
        )
    )

    comments = int(post.comment_count)
    plural = "" if comments == 1 else "s"
    detail_url = kit.detail_url(post_id)
    parts.append(f'<a href="{detail_url}#comments">{comments} comment{plural}</a>')
    html = (
        f'<div class="actions reaction-bar" id="post-bar-{post_id}" '
        f'data-testid="post-bar">{"".join(parts)}</div>'
    )
    return mark_safe(html)  # noqa: S308 - every variable part is escaped above
