"""Write who belongs to a community: join, leave, requests, invitations, roles.

Every function runs in one transaction, checks the actor's permission first,
records an audit event and writes the in-app notifications it causes.
Functions that can change the set of owners lock the community row first,
so two concurrent changes cannot both remove the last owner.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from communities.models import Community, Invitation, Membership, MembershipRequest
from communities.selectors import community_url, membership_of, require_manager
from core.audit import record_event
from notifications.models import Notification
from notifications.services import notify

logger = logging.getLogger(__name__)

MAX_INVITATIONS_PER_BATCH = 200


def _lock(community: Community) -> Community:
    return Community.objects.select_for_update().get(pk=community.pk)


def _check_may_belong(person: User, community: Community) -> None:
    if person.is_external and community.visibility != Community.Visibility.CUSTOMER:
        raise PermissionDenied(
            "Customer accounts can join customer-visible communities only."
        )


def _admit(*, person: User, community: Community, via: str) -> Membership:
    """Insert a member row and close the person's pending invitation and request."""
    try:
        with transaction.atomic():
            membership = Membership.objects.create(community=community, person=person)
    except IntegrityError:
        raise ValidationError(
            f"{person.display_name} is already a member of {community.name}."
        ) from None

    now = timezone.now()
    Invitation.objects.filter(
        community=community, invitee=person, status=Invitation.Status.PENDING
    ).update(status=Invitation.Status.ACCEPTED, responded_at=now)
    MembershipRequest.objects.filter(
        community=community, person=person, status=MembershipRequest.Status.PENDING
    ).update(status=MembershipRequest.Status.APPROVED, decided_at=now)
    logger.info(
        "member added: community=%s person=%s via=%s", community.pk, person.pk, via
    )
    return membership


@transaction.atomic
def join_community(*, person: User, community: Community) -> Membership:
    """Join an open or customer-visible community."""
    _check_may_belong(person, community)
    if community.visibility == Community.Visibility.PRIVATE:
        raise PermissionDenied(
            f"{community.name} is private: request to join, and an owner or "
            "moderator will decide."
        )
    if membership_of(person, community) is not None:
        raise ValidationError(f"You are already a member of {community.name}.")

    membership = _admit(person=person, community=community, via="join")
    record_event(
        actor=person,
        action="community.joined",
        target=community,
        source="screen",
        after={"person": person.pk, "role": membership.role},
    )
    return membership


def _owner_count(community: Community) -> int:
    return Membership.objects.filter(
        community=community, role=Membership.Role.OWNER
    ).count()


@transaction.atomic
def leave_community(*, person: User, community: Community) -> None:
    community = _lock(community)
    membership = membership_of(person, community)
    if membership is None:
        raise ValidationError(f"You are not a member of {community.name}.")
    if membership.role == Membership.Role.OWNER and _owner_count(community) == 1:
        raise ValidationError(
            f"You are the only owner of {community.name}: make another member "
            "owner on the members page before you leave."
        )

    membership.delete()
    record_event(
        actor=person,
        action="community.left",
        target=community,
        source="screen",
        before={"person": person.pk, "role": membership.role},
    )
    logger.info("member left: community=%s person=%s", community.pk, person.pk)


@transaction.atomic
def request_membership(*, person: User, community: Community) -> MembershipRequest:
    """Ask to join a private community; its owners and moderators are notified."""
    _check_may_belong(person, community)
    if community.visibility != Community.Visibility.PRIVATE:
        raise ValidationError(
            f"{community.name} is open to join: no request is needed."
        )
    if membership_of(person, community) is not None:
        raise ValidationError(f"You are already a member of {community.name}.")
    try:
        with transaction.atomic():
            request = MembershipRequest.objects.create(
                community=community, person=person
            )
    except IntegrityError:
        raise ValidationError(
            f"You have already asked to join {community.name}: an owner or "
            "moderator will decide."
        ) from None

    record_event(
        actor=person,
        action="community.membership_requested",
        target=request,
        source="screen",
        after={"community": community.slug},
    )
    managers = User.objects.filter(
        memberships__community=community,
        memberships__role__in=[Membership.Role.OWNER, Membership.Role.MODERATOR],
    )
    notify(
        recipients=managers,
        kind=Notification.Kind.MEMBERSHIP_REQUESTED,
        actor=person,
        message=f"{person.display_name} asks to join {community.name}.",
        url=reverse("communities:member_list", args=[community.slug]),
        subject_key=f"membership-request:{request.pk}",
    )
    logger.info(
        "membership requested: community=%s person=%s request=%s",
        community.pk,
        person.pk,
        request.pk,
    )
    return request


@transaction.atomic
def decide_request(
    *, actor: User, request: MembershipRequest, approve: bool
) -> MembershipRequest:
    """Approve or reject a pending request to join."""
    request = (
        MembershipRequest.objects.select_for_update()
        .select_related("community", "person")
        .get(pk=request.pk)
    )
    community = request.community
    require_manager(actor, community, "decide requests to join")
    if request.status != MembershipRequest.Status.PENDING:
        raise ValidationError(
            f"The request from {request.person.display_name} was already "
            f"{request.get_status_display().lower()}."
        )

    if approve:
        _check_may_belong(request.person, community)
        if membership_of(request.person, community) is None:
            _admit(person=request.person, community=community, via="request")
    request.status = (
        MembershipRequest.Status.APPROVED
        if approve
        else MembershipRequest.Status.REJECTED
    )
    request.decided_by = actor
    request.decided_at = timezone.now()
    request.save(update_fields=["status", "decided_by", "decided_at"])
    record_event(
        actor=actor,
        action=f"community.membership_{request.status}",
        target=request,
        source="screen",
        before={"status": MembershipRequest.Status.PENDING},
        after={"status": request.status, "person": request.person_id},
    )
    if approve:
        kind = Notification.Kind.MEMBERSHIP_APPROVED
        message = f"You are now a member of {community.name}."
        url = community_url(community)
    else:
        kind = Notification.Kind.MEMBERSHIP_REJECTED
        message = f"Your request to join {community.name} was not approved."
        url = reverse("communities:community_list")
    notify(
        recipients=[request.person],
        kind=kind,
        actor=actor,
        message=message,
        url=url,
        subject_key=f"membership-request:{request.pk}",
    )
    return request


@dataclass
class InvitationBatch:
    """Result of ``invite_people``: who was invited, and who was skipped and why."""

    invited: list[User] = field(default_factory=list)
    skipped: dict[str, list[User]] = field(default_factory=dict)

    def skip(self, reason: str, person: User) -> None:
        self.skipped.setdefault(reason, []).append(person)


@transaction.atomic
def invite_people(
    *, actor: User, community: Community, invitees: Sequence[User]
) -> InvitationBatch:
    """Invite each person once; members and people already invited are skipped."""
    community = _lock(community)
    require_manager(actor, community, "invite people")
    if len(invitees) > MAX_INVITATIONS_PER_BATCH:
        raise ValidationError(
            f"{len(invitees)} people were picked; invite at most "
            f"{MAX_INVITATIONS_PER_BATCH} at a time."
        )

    members = set(
        Membership.objects.filter(community=community, person__in=invitees).values_list(
            "person_id", flat=True
        )
    )
    invited = set(
        Invitation.objects.filter(
            community=community,
            invitee__in=invitees,
            status=Invitation.Status.PENDING,
        ).values_list("invitee_id", flat=True)
    )
    batch = InvitationBatch()
    seen: set[int] = set()
    for person in invitees:
        if person.pk in seen:
            continue
        seen.add(person.pk)
        if person.pk in members:
            batch.skip("already a member", person)
        elif person.pk in invited:
            batch.skip("already invited", person)
        elif not person.is_active:
            batch.skip("account deactivated", person)
        elif (
            person.is_external and community.visibility != Community.Visibility.CUSTOMER
        ):
            batch.skip("customer account", person)
        else:
            _invite(actor=actor, community=community, invitee=person)
            batch.invited.append(person)
    logger.info(
        "people invited: community=%s invited=%s skipped=%s",
        community.pk,
        len(batch.invited),
        sum(len(people) for people in batch.skipped.values()),
    )
    return batch


def _invite(*, actor: User, community: Community, invitee: User) -> Invitation:
    invitation = Invitation.objects.create(
        community=community, invitee=invitee, invited_by=actor
    )
    record_event(
        actor=actor,
        action="community.invitation_sent",
        target=invitation,
        source="screen",
        after={"community": community.slug, "invitee": invitee.pk},
    )
    notify(
        recipients=[invitee],
        kind=Notification.Kind.COMMUNITY_INVITATION,
        actor=actor,
        message=f"{actor.display_name} invited you to join {community.name}.",
        url=reverse("communities:invitation_list"),
        subject_key=f"invitation:{invitation.pk}",
    )
    return invitation


@transaction.atomic
def respond_to_invitation(
    *, person: User, invitation: Invitation, accept: bool
) -> Invitation:
    """Accept or decline the person's own pending invitation."""
    # PostgreSQL cannot lock the nullable side of an outer join, so the
    # inviter (who may be deleted) is read after the lock, not joined into it.
    invitation = (
        Invitation.objects.select_for_update()
        .select_related("community")
        .get(pk=invitation.pk)
    )
    community = invitation.community
    if invitation.invitee_id != person.pk:
        raise PermissionDenied("This invitation is for someone else.")
    if invitation.status != Invitation.Status.PENDING:
        raise ValidationError(
            f"The invitation to {community.name} was already "
            f"{invitation.get_status_display().lower()}."
        )

    if accept:
        _check_may_belong(person, community)
        if membership_of(person, community) is None:
            _admit(person=person, community=community, via="invitation")
    invitation.status = (
        Invitation.Status.ACCEPTED if accept else Invitation.Status.DECLINED
    )
    invitation.responded_at = timezone.now()
    invitation.save(update_fields=["status", "responded_at"])
    record_event(
        actor=person,
        action=f"community.invitation_{invitation.status}",
        target=invitation,
        source="screen",
        before={"status": Invitation.Status.PENDING},
        after={"status": invitation.status},
    )
    if accept and invitation.invited_by is not None:
        notify(
            recipients=[invitation.invited_by],
            kind=Notification.Kind.INVITATION_ACCEPTED,
            actor=person,
            message=f"{person.display_name} accepted your invitation to "
            f"{community.name}.",
            url=reverse("communities:member_list", args=[community.slug]),
            subject_key=f"invitation:{invitation.pk}",
        )
    return invitation


@transaction.atomic
def change_role(
    *, actor: User, community: Community, member: User, role: str
) -> Membership:
    """Set a member's role; only an owner may, and the last owner stays one."""
    community = _lock(community)
    acting = membership_of(actor, community)
    if acting is None or acting.role != Membership.Role.OWNER:
        raise PermissionDenied(
            f"Only an owner of {community.name} can change members' roles."
        )
    if role not in Membership.Role.values:
        raise ValidationError(
            f"Unknown role {role!r}: choose one of {', '.join(Membership.Role.values)}."
        )
    membership = membership_of(member, community)
    if membership is None:
        raise ValidationError(
            f"{member.display_name} is not a member of {community.name}."
        )
    if member.is_external and role != Membership.Role.MEMBER:
        raise ValidationError(
            f"{member.display_name} has a customer account, so they can only be "
            "a member."
        )
    if membership.role == role:
        raise ValidationError(
            f"{member.display_name} is already {membership.get_role_display().lower()}."
        )
    is_last_owner = (
        membership.role == Membership.Role.OWNER and _owner_count(community) == 1
    )
    if is_last_owner:
        raise ValidationError(
            f"{member.display_name} is the only owner of {community.name}: make "
            "another member owner first."
        )

    before = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    event = record_event(
        actor=actor,
        action="community.role_changed",
        target=community,
        source="screen",
        before={"person": member.pk, "role": before},
        after={"person": member.pk, "role": role},
    )
    notify(
        recipients=[member],
        kind=Notification.Kind.MEMBER_ROLE_CHANGED,
        actor=actor,
        message=f"You are now {membership.get_role_display().lower()} of "
        f"{community.name}.",
        url=community_url(community),
        subject_key=f"audit:{event.pk}",
    )
    logger.info(
        "member role changed: community=%s person=%s from=%s to=%s",
        community.pk,
        member.pk,
        before,
        role,
    )
    return membership


@transaction.atomic
def remove_member(*, actor: User, community: Community, member: User) -> None:
    """Remove a member: moderators remove members, owners remove anyone else."""
    community = _lock(community)
    acting = require_manager(actor, community, "remove members")
    if member.pk == actor.pk:
        raise ValidationError("To remove yourself, leave the community instead.")
    membership = membership_of(member, community)
    if membership is None:
        raise ValidationError(
            f"{member.display_name} is not a member of {community.name}."
        )
    if (
        acting.role != Membership.Role.OWNER
        and membership.role != Membership.Role.MEMBER
    ):
        raise PermissionDenied(
            f"Only an owner can remove {membership.get_role_display().lower()}s."
        )

    membership.delete()
    event = record_event(
        actor=actor,
        action="community.member_removed",
        target=community,
        source="screen",
        before={"person": member.pk, "role": membership.role},
    )
    notify(
        recipients=[member],
        kind=Notification.Kind.MEMBER_REMOVED,
        actor=actor,
        message=f"You were removed from {community.name}.",
        url=reverse("communities:community_list"),
        subject_key=f"audit:{event.pk}",
    )
    logger.info(
        "member removed: community=%s person=%s by=%s",
        community.pk,
        member.pk,
        actor.pk,
    )
