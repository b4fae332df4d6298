from typing import Any

from django import template

from accounts.templatetags.author_labels import author_label
from answers.permissions import may_curate_faq

register = template.Library()

# The tag lives with the rule in ``accounts``; Q&A templates load it from here.
register.simple_tag(author_label, takes_context=True, name="author_label")

# The request attribute that keeps ``may_curate_faq`` for the rest of a page.
CURATOR_CACHE = "_answers_may_curate_faq"


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
