from django import template

from accounts.models import Role

register = template.Library()

ROLE_LABELS = dict(Role.choices)


@register.filter
def role_label(value: str) -> str:
    """Return the display name of a role value, or the value itself if unknown."""
    return str(ROLE_LABELS.get(value, value))
