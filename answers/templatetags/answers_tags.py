from django import template

from accounts.models import Role, SuperUserAssignment, User

register = template.Library()


@register.filter
def may_curate_faq(person: object) -> bool:
    """Return whether ``person`` may make FAQ entries for at least one CRM function."""
    if not isinstance(person, User) or person.is_external:
        return False
    if person.role in {Role.FACILITATOR, Role.MODERATOR}:
        return True
    return SuperUserAssignment.objects.filter(person=person).exists()
