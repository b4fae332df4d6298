"""The FAQ entries made from a post's comments, read once per post and page."""

from typing import Any

from django import template

from answers.selectors import visible_faq_entries
from answers.services.faq_sources import comment_entry_ids
from social.models import Comment

register = template.Library()

# The request attribute that maps a post's pk to its comments' readable entries.
COMMENT_ENTRIES_CACHE = "_answers_comment_faq_entries"


@register.simple_tag(takes_context=True)
def comment_faq_entry(context: dict[str, Any], comment: Comment) -> int | None:
    """Return the id of the FAQ entry made from ``comment``, if the viewer reads it.

    A page of comments costs two queries per post, whatever the number of
    comments: the entries made from its comments, and which of them the
    viewer may read (``visible_faq_entries``).
    """
    request = context.get("request")
    cache: dict[int, dict[int, int]] = (
        {} if request is None else getattr(request, COMMENT_ENTRIES_CACHE, {})
    )
    if comment.post_id not in cache:
        found = comment_entry_ids(comment.post_id)
        readable = set(
            visible_faq_entries(context["user"])
            .filter(pk__in=set(found.values()))
            .values_list("pk", flat=True)
            if found
            else []
        )
        cache[comment.post_id] = {
            comment_id: entry_id
            for comment_id, entry_id in found.items()
            if entry_id in readable
        }
        if request is not None:
            setattr(request, COMMENT_ENTRIES_CACHE, cache)
    return cache[comment.post_id].get(comment.pk)
