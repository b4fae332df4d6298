"""Reads of communities; the one visibility rule for a community lives here.

An employee sees open and customer-visible communities and the private ones
they belong to. A customer account sees customer-visible communities only.
Every surface that shows a community, or anything inside one, filters with
``visible_communities``.
"""

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.http import Http404
from django.urls import reverse

from accounts.models import CrmFunction, LearnerGroup, Role, User
from accounts.permissions import Viewer
from accounts.selectors import visible_people
from communities.models import (
    Community,
    Invitation,
    Membership,
    MembershipRequest,
)
from core.queries import kept_statement
from social.models import Post

FEED_LENGTH = 30
MEMBER_PREVIEW_LENGTH = 12
MAX_RECRUIT_CANDIDATES = 200
MANAGER_ROLES = frozenset({Membership.Role.OWNER, Membership.Role.MODERATOR})


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


def community_rule_audience(viewer: User) -> str:
    """Return the audience of ``viewer``: what the community rule reads besides the id.

    Two people with the same audience get the same rule SQL but for their
    own id, so the compiled rule can be kept per audience. Keep this in step
    with ``visible_communities``: whatever else the rule comes to read of the
    viewer belongs here.
    """
    return "customer" if viewer.is_external else "employee"


_RULE_STAND_IN_ROLES = {"customer": Role.CUSTOMER, "employee": Role.SALES_REP}


def visible_communities_sql(viewer: User) -> tuple[str, list[Any]]:
    """Return the SQL and parameters of the ids ``visible_communities`` gives.

    The rule is compiled once per database and audience for a stand-in
    person, whose id is then replaced by ``viewer``'s (``kept_statement``).
    The SQL reads the memberships when it runs, so the next statement reads
    a changed membership or privacy. A change of role gives another audience.
    """
    audience = community_rule_audience(viewer)

    def build(person_id: int) -> QuerySet[Any]:
        stand_in = User(pk=person_id, role=_RULE_STAND_IN_ROLES[audience])
        return visible_communities(stand_in).order_by().values("id")

    key = (connection.vendor, "visible_communities", audience)
    return kept_statement(key, build, viewer.pk)


def visible_community_ids(viewer: Viewer) -> list[int]:
    """Return the ids of the communities ``visible_communities`` gives, in id order.

    Runs the kept rule SQL (``visible_communities_sql``), so a search or a
    count that needs only the ids builds no queryset.
    """
    if not isinstance(viewer, User):
        return []
    sql, params = visible_communities_sql(viewer)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM ({sql}) AS visible ORDER BY id", params)  # noqa: S608 (the kept rule SQL, no request text)
        return [row[0] for row in cursor.fetchall()]


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


def membership_of(person: User, community: Community) -> Membership | None:
    return Membership.objects.filter(community=community, person=person).first()


def can_manage(membership: Membership | None) -> bool:
    """Return whether the membership is an owner's or a moderator's."""
    return membership is not None and membership.role in MANAGER_ROLES


def require_manager(actor: User, community: Community, action: str) -> Membership:
    """Return the actor's membership, or raise when they are no owner or moderator."""
    membership = membership_of(actor, community)
    if membership is None or membership.role not in MANAGER_ROLES:
        raise PermissionDenied(
            f"Only an owner or moderator of {community.name} can {action}."
        )
    return membership


def community_url(community: Community) -> str:
    return reverse("communities:community_detail", args=[community.slug])


def members_by_role(community: Community) -> QuerySet[Membership]:
    """Return the memberships, owners first, then moderators, then by name."""
    rank = Case(
        When(role=Membership.Role.OWNER, then=Value(0)),
        When(role=Membership.Role.MODERATOR, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return (
        Membership.objects.filter(community=community)
        .select_related("person")
        .annotate(role_rank=rank)
        .order_by("role_rank", "person__last_name", "person__first_name", "pk")
    )


def listed_members(viewer: User, community: Community) -> QuerySet[Membership]:
    """Return the memberships ``viewer`` may list, owners first.

    Employees see every member. A customer account sees only the members
    whose profiles it may open (``visible_people``): staff who chose to be
    visible to customers, and itself.
    """
    memberships = members_by_role(community)
    if viewer.is_external:
        memberships = memberships.filter(person__in=visible_people(viewer))
    return memberships


def member_count_for(viewer: User) -> Count:
    """Return the member count ``viewer`` may see, as an annotation.

    It counts the members ``listed_members`` shows, so a customer account
    never learns how many people it cannot see are in a community.
    """
    if viewer.is_external:
        return Count(
            "memberships",
            filter=Q(memberships__person__in=visible_people(viewer)),
            distinct=True,
        )
    return Count("memberships", distinct=True)


def pending_requests(community: Community) -> QuerySet[MembershipRequest]:
    return MembershipRequest.objects.filter(
        community=community, status=MembershipRequest.Status.PENDING
    ).select_related("person")


def pending_invitations(community: Community) -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        community=community, status=Invitation.Status.PENDING
    ).select_related("invitee")


def invitations_for(person: User) -> QuerySet[Invitation]:
    """Return the person's pending invitations, with the inviting community."""
    return Invitation.objects.filter(
        invitee=person, status=Invitation.Status.PENDING
    ).select_related("community", "invited_by")


def requests_by(person: User) -> QuerySet[MembershipRequest]:
    return MembershipRequest.objects.filter(
        person=person, status=MembershipRequest.Status.PENDING
    ).select_related("community")


@dataclass(frozen=True)
class CommunityPage:
    """Data for the community page, read in a fixed number of queries."""

    membership: Membership | None
    has_pending_request: bool
    pinned_posts: list[Post]
    posts: list[Post]
    members: list[Membership]
    member_count: int

    @property
    def is_manager(self) -> bool:
        return can_manage(self.membership)


def community_page(viewer: User, community: Community) -> CommunityPage:
    pinned = list(
        Post.objects.filter(pins__community=community).order_by("-pins__pinned_at")
    )
    posts = list(
        community.posts.exclude(pk__in=[post.pk for post in pinned])[:FEED_LENGTH]
    )
    has_request = MembershipRequest.objects.filter(
        community=community, person=viewer, status=MembershipRequest.Status.PENDING
    ).exists()
    return CommunityPage(
        membership=membership_of(viewer, community),
        has_pending_request=has_request,
        pinned_posts=pinned,
        posts=posts,
        members=list(listed_members(viewer, community)[:MEMBER_PREVIEW_LENGTH]),
        member_count=listed_members(viewer, community).count(),
    )


def recruit_candidates(
    community: Community,
    *,
    learner_group: LearnerGroup | None,
    crm_function: CrmFunction | None,
) -> QuerySet[User]:
    """Return active people in the group and function whom one could invite.

    Members and people with a pending invitation are left out, and so are
    customer accounts unless the community is customer-visible.
    """
    people = (
        User.objects.listed()
        .filter(is_active=True)
        .exclude(
            pk__in=Membership.objects.filter(community=community).values("person_id")
        )
    )
    people = people.exclude(pk__in=pending_invitations(community).values("invitee_id"))
    if community.visibility != Community.Visibility.CUSTOMER:
        people = people.exclude(role=Role.CUSTOMER)
    if learner_group is not None:
        people = people.filter(learner_group=learner_group)
    if crm_function is not None:
        people = people.filter(crm_functions=crm_function)
    return people.select_related("learner_group").distinct()[:MAX_RECRUIT_CANDIDATES]
