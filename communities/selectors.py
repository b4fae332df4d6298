"""Reads of communities; the one visibility rule for a community lives here.

An employee sees open and customer-visible communities and the private ones
they belong to. A customer account sees customer-visible communities only.
Every surface that shows a community, or anything inside one, filters with
``visible_communities``.
"""

from django.db.models import Q, QuerySet
from django.http import Http404

from accounts.models import CrmFunction, User
from accounts.permissions import Viewer
from communities.models import Community, Membership


def visible_communities(viewer: Viewer) -> QuerySet[Community]:
    if not isinstance(viewer, User):
        return Community.objects.none()
    if viewer.is_external:
        return Community.objects.filter(visibility=Community.Visibility.CUSTOMER)

    joined = Membership.objects.filter(person=viewer).values("community_id")
    return Community.objects.filter(
        Q(visibility__in=[Community.Visibility.OPEN, Community.Visibility.CUSTOMER])
        | Q(visibility=Community.Visibility.PRIVATE, pk__in=joined)
    )


def access_community(viewer: Viewer, slug: str) -> Community:
    """Return the community, or raise 404 when ``viewer`` may not see it."""
    community = visible_communities(viewer).filter(slug=slug).first()
    if community is None:
        raise Http404("No community found with that address.")
    return community


def community_for_question(
    *, asker: User, crm_function: CrmFunction | None
) -> Community:
    """Pick the community a question asked from a CRM screen lands in.

    A customer's question goes to a customer-visible community. An
    employee's question goes to an open community of the screen's CRM
    function: never a customer-visible one, where customers would read it,
    and never a private one, whose title the notified super-users could not
    open.
    """
    if asker.is_external:
        candidates = Community.objects.filter(visibility=Community.Visibility.CUSTOMER)
        missing = "No customer community takes questions yet: ask your contact at us."
    elif crm_function is None:
        raise LookupError(
            "This screen belongs to no CRM function, so no super-users take its "
            "questions: ask from an order or the order list."
        )
    else:
        candidates = Community.objects.filter(
            visibility=Community.Visibility.OPEN, crm_functions=crm_function
        )
        missing = (
            f"No open community takes questions for {crm_function.name}: ask a "
            "learning facilitator to create one for this CRM function."
        )
    community = candidates.order_by("id").first()
    if community is None:
        raise LookupError(missing)
    return community
