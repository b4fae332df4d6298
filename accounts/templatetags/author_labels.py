from typing import Any

from django import template

from accounts.authors import author_of, editor_of

register = template.Library()


@register.simple_tag(takes_context=True)
def author_label(context: template.Context, row: Any) -> str:
    """Return the author of ``row`` as the reader may see them.

    Reads ``hidden_authors`` (from ``accounts.authors.hidden_author_labels``)
    from the context and raises ``KeyError`` when a view forgot it, so no
    page prints names unchecked.
    """
    return author_of(row, context["hidden_authors"])


@register.simple_tag(takes_context=True)
def editor_label(context: template.Context, revision: Any) -> str:
    """Return the editor of ``revision`` as the reader may see them.

    Reads ``hidden_authors`` like ``author_label``, with the editors' ids.
    """
    return editor_of(revision, context["hidden_authors"])
