"""Reads of people; the one visibility rule for a person lives here.

An employee sees every active account. A customer account sees active staff
whose profile is marked visible to customers, and itself. Nobody signed out
sees anyone. Every surface that shows a person (profile page, directory,
search, follow) starts from ``visible_people``.
"""

from django.db.models import Q, QuerySet
from django.http import Http404

from accounts.models import Role, User
from accounts.permissions import Viewer


def visible_people(viewer: Viewer) -> QuerySet[User]:
    if not isinstance(viewer, User) or not viewer.is_active:
        return User.objects.none()
    active = User.objects.filter(is_active=True)
    if viewer.is_external:
        return active.filter(
            (~Q(role=Role.CUSTOMER) & Q(visible_to_customers=True)) | Q(pk=viewer.pk)
        )
    return active


def access_person(viewer: Viewer, username: str) -> User:
    """Return the person, or raise 404 when ``viewer`` may not see them."""
    person = visible_people(viewer).filter(username__iexact=username).first()
    if person is None:
        raise Http404("No person found with that username.")
    return person
