from typing import Any

from django import template

from accounts.templatetags.author_labels import author_label
from answers.permissions import may_curate_faq
from answers.services.faq import post_source_problem
from social.models import Comment

register = template.Library()

# The tag lives with the rule in ``accounts``; Q&A templates load it from here.
register.simple_tag(author_label, takes_context=True, name="author_label")

# The request attribute that keeps ``may_curate_faq`` for the rest of a page.
CURATOR_CACHE = "_answers_may_curate_faq"
# The request attribute that maps a post's pk to ``post_source_problem``.
POST_SOURCE_CACHE = "_answers_post_source_problems"


@register.simple_tag(takes_context=True)
def faq_curator(context: dict[str, Any]) -> bool:
    """Return whether the viewer may make FAQ entries, reading it once per request.

    A post page shows one "Make FAQ entry" link per comment, so the check
    must cost one query per page, not one per comment.
    """
    request = context.get("request")
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return False
    if request is None:
        return may_curate_faq(user)
    cached: bool | None = getattr(request, CURATOR_CACHE, None)
    if cached is None:
        cached = may_curate_faq(user)
        setattr(request, CURATOR_CACHE, cached)
    return cached


@register.simple_tag(takes_context=True)
def comment_faq_source(context: dict[str, Any], comment: Comment) -> bool:
    """Return whether the viewer may make an FAQ entry from ``comment``.

    The rule is ``social_source_problem``. Its post part is read once per
    post and request, so a page of comments costs the same queries as one.
    """
    if comment.is_deleted or not faq_curator(context):
        return False
    user = context["user"]
    request = context.get("request")
    problems: dict[int, str] = (
        {} if request is None else getattr(request, POST_SOURCE_CACHE, {})
    )
    if comment.post_id not in problems:
        problems[comment.post_id] = post_source_problem(user, comment.post, "A comment")
        if request is not None:
            setattr(request, POST_SOURCE_CACHE, problems)
    return not problems[comment.post_id]
