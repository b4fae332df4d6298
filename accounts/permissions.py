"""Role checks shared by every app, so each rule is written once."""

from django.contrib.auth.models import AnonymousUser

from accounts.models import CrmFunction, Role, SuperUserAssignment, User

# The person a selector filters for, or AnonymousUser when nobody is signed in.
Viewer = User | AnonymousUser

CURATOR_ROLES = frozenset({Role.FACILITATOR, Role.MODERATOR})


def is_super_user_for(person: User, crm_function: CrmFunction | None) -> bool:
    if crm_function is None:
        return False
    return SuperUserAssignment.objects.filter(
        person=person, crm_function=crm_function
    ).exists()


def can_curate_faq(person: User, crm_function: CrmFunction | None) -> bool:
    """Return whether ``person`` may accept answers and promote them to the FAQ."""
    return person.role in CURATOR_ROLES or is_super_user_for(person, crm_function)
