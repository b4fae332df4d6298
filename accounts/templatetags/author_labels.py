from typing import Any

from django import template

from accounts.authors import author_of

register = template.Library()


@register.simple_tag(takes_context=True)
def author_label(context: template.Context, row: Any) -> str:
    """Return the author of ``row`` as the reader may see them.

    Reads ``hidden_authors`` (from ``accounts.authors.hidden_author_labels``)
    from the context and raises ``KeyError`` when a view forgot it, so no
    page prints names unchecked.
    """
    return author_of(row, context["hidden_authors"])
