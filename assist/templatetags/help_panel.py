"""Template filters for the parts of the help panel that the cache cannot hold.

The panel is cached for a whole audience (``assist.caching``), so what
differs from one reader or one screen's record to the next is worked out
here, at render time.
"""

from dataclasses import dataclass

from django import template
from django.core.exceptions import ValidationError

from assist.contexts import is_customer_context, may_ask_from
from assist.models import HelpContext
from assist.records import parse_record
from assist.selectors import HelpPanel, SuperUser

register = template.Library()


@dataclass(frozen=True)
class SuperUserRoster:
    """The panel's super-users as one reader sees them.

    ``reader`` is the reader's own entry when they are a super-user of the
    panel's function, and ``others`` lists everyone else, available first.
    """

    reader: SuperUser | None
    others: list[SuperUser]

    @property
    def others_available(self) -> list[SuperUser]:
        return [person for person in self.others if person.available]


def roster_for(panel: HelpPanel, username: str) -> SuperUserRoster:
    """Split ``panel``'s super-users into the reader's entry and the others."""
    reader = next(
        (person for person in panel.super_users if person.username == username), None
    )
    others = [person for person in panel.super_users if person.username != username]
    return SuperUserRoster(reader=reader, others=others)


@register.filter
def super_user_roster(panel: HelpPanel, user: object) -> SuperUserRoster:
    """Return ``panel``'s super-users as ``user`` sees them (``roster_for``)."""
    return roster_for(panel, getattr(user, "username", "") or "")


@register.filter
def record_label(record_kind: str, record_ref: str) -> str:
    """Return how the ask names the record, e.g. "vendor bill VB-1234".

    A number without a kind is an order's, as ``parse_record`` reads it. An
    unknown kind gives "", because the ask would reject it.
    """
    if not record_ref:
        return ""
    try:
        return parse_record(record_kind, record_ref).label
    except ValidationError:
        return ""


@register.filter
def may_ask_here(viewer: object, key: str) -> bool:
    """Return whether ``viewer`` may ask from the screen that declares ``key``.

    A customer account sees the ask form only on its own (portal) screens.
    """
    return may_ask_from(key, external=bool(getattr(viewer, "is_external", False)))


@register.filter
def screen_for(screen: HelpContext | None, viewer: object) -> HelpContext | None:
    """Return ``screen`` when ``viewer`` may read its name, else None.

    A customer account reads the names of the portal's screens only, so a
    question an employee asked from an internal screen, in a community
    customers read, names no screen to a customer.
    """
    if screen is None:
        return None
    external = bool(getattr(viewer, "is_external", False))
    if external and not is_customer_context(screen.key):
        return None
    return screen
