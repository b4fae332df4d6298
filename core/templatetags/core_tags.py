from django import template
from django.http import HttpRequest

from accounts.models import Role

register = template.Library()

ROLE_LABELS = dict(Role.choices)


@register.filter
def role_label(value: str) -> str:
    """Return the display name of a role value, or the value itself if unknown."""
    return str(ROLE_LABELS.get(value, value))


@register.simple_tag
def page_query(request: HttpRequest, number: int) -> str:
    """Return the current query string with ``page`` set to ``number``."""
    params = request.GET.copy()
    params["page"] = str(number)
    return f"?{params.urlencode()}"
