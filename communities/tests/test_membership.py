"""Join, leave, requests, invitations, roles and removal, by named people."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from communities import membership as members
from communities.models import Invitation, Membership, MembershipRequest
from core.models import AuditEvent
from notifications.models import Notification

pytestmark = pytest.mark.django_db


def role_of(person, community) -> str | None:
    membership = Membership.objects.filter(community=community, person=person).first()
    return membership.role if membership else None


def kinds_for(person) -> list[str]:
    return sorted(
        Notification.objects.filter(recipient=person).values_list("kind", flat=True)
    )


# --- Join ---


def test_outsider_joins_open_community(outsider, desk):
    members.join_community(person=outsider, community=desk)
    assert role_of(outsider, desk) == Membership.Role.MEMBER
    event = AuditEvent.objects.get(action="community.joined")
    assert event.actor == outsider
    assert event.after == {"person": outsider.pk, "role": "member"}


def test_member_joining_twice_is_told(sales_rep, desk):
    with pytest.raises(ValidationError) as excinfo:
        members.join_community(person=sales_rep, community=desk)
    assert excinfo.value.messages == ["You are already a member of Payments desk."]


def test_customer_joins_customer_community(customer, lounge):
    members.join_community(person=customer, community=lounge)
    assert role_of(customer, lounge) == Membership.Role.MEMBER


def test_customer_cannot_join_open_community(customer, desk):
    with pytest.raises(PermissionDenied) as excinfo:
        members.join_community(person=customer, community=desk)
    assert str(excinfo.value) == (
        "Customer accounts can join customer-visible communities only."
    )
    assert role_of(customer, desk) is None


def test_private_community_needs_a_request(outsider, vault):
    with pytest.raises(PermissionDenied) as excinfo:
        members.join_community(person=outsider, community=vault)
    assert str(excinfo.value) == (
        "Pricing vault is private: request to join, and an owner or moderator "
        "will decide."
    )


def test_join_accepts_pending_invitation(owner, outsider, desk):
    members.invite_people(actor=owner, community=desk, invitees=[outsider])
    members.join_community(person=outsider, community=desk)
    assert Invitation.objects.get().status == Invitation.Status.ACCEPTED


# --- Leave ---


def test_member_leaves(sales_rep, desk):
    members.leave_community(person=sales_rep, community=desk)
    assert role_of(sales_rep, desk) is None
    event = AuditEvent.objects.get(action="community.left")
    assert event.before == {"person": sales_rep.pk, "role": "member"}


def test_non_member_cannot_leave(outsider, desk):
    with pytest.raises(ValidationError) as excinfo:
        members.leave_community(person=outsider, community=desk)
    assert excinfo.value.messages == ["You are not a member of Payments desk."]


def test_last_owner_cannot_leave(owner, desk):
    with pytest.raises(ValidationError) as excinfo:
        members.leave_community(person=owner, community=desk)
    assert excinfo.value.messages == [
        "You are the only owner of Payments desk: make another member owner on "
        "the members page before you leave."
    ]
    assert role_of(owner, desk) == Membership.Role.OWNER


def test_owner_leaves_after_handing_over(owner, moderator, desk):
    members.change_role(
        actor=owner, community=desk, member=moderator, role=Membership.Role.OWNER
    )
    members.leave_community(person=owner, community=desk)
    assert role_of(owner, desk) is None
    assert role_of(moderator, desk) == Membership.Role.OWNER


# --- Requests to join a private community ---


def test_request_notifies_owner_and_moderator(
    owner, moderator, sales_rep, outsider, vault
):
    request = members.request_membership(person=outsider, community=vault)

    assert request.status == MembershipRequest.Status.PENDING
    assert kinds_for(owner) == [Notification.Kind.MEMBERSHIP_REQUESTED]
    assert kinds_for(moderator) == [Notification.Kind.MEMBERSHIP_REQUESTED]
    assert kinds_for(sales_rep) == []
    notification = Notification.objects.get(recipient=owner)
    assert notification.message == "Otto Tester asks to join Pricing vault."
    assert notification.url == "/communities/pricing-vault/members/"
    assert (
        AuditEvent.objects.filter(action="community.membership_requested").count() == 1
    )


def test_second_pending_request_is_rejected(outsider, vault):
    members.request_membership(person=outsider, community=vault)
    with pytest.raises(ValidationError) as excinfo:
        members.request_membership(person=outsider, community=vault)
    assert excinfo.value.messages == [
        "You have already asked to join Pricing vault: an owner or moderator "
        "will decide."
    ]
    assert MembershipRequest.objects.count() == 1


def test_request_for_open_community_is_not_needed(outsider, desk):
    with pytest.raises(ValidationError) as excinfo:
        members.request_membership(person=outsider, community=desk)
    assert excinfo.value.messages == [
        "Payments desk is open to join: no request is needed."
    ]


def test_member_cannot_request(sales_rep, vault):
    with pytest.raises(ValidationError) as excinfo:
        members.request_membership(person=sales_rep, community=vault)
    assert excinfo.value.messages == ["You are already a member of Pricing vault."]


def test_customer_cannot_request_private(customer, vault):
    with pytest.raises(PermissionDenied):
        members.request_membership(person=customer, community=vault)
    assert MembershipRequest.objects.count() == 0


@pytest.mark.parametrize("decider", ["owner", "moderator"])
def test_manager_approves_request(decider, outsider, vault, request):
    actor = request.getfixturevalue(decider)
    join_request = members.request_membership(person=outsider, community=vault)

    members.decide_request(actor=actor, request=join_request, approve=True)

    join_request.refresh_from_db()
    assert join_request.status == MembershipRequest.Status.APPROVED
    assert join_request.decided_by == actor
    assert role_of(outsider, vault) == Membership.Role.MEMBER
    assert kinds_for(outsider) == [Notification.Kind.MEMBERSHIP_APPROVED]
    assert (
        AuditEvent.objects.filter(action="community.membership_approved").count() == 1
    )


def test_owner_rejects_request(owner, outsider, vault):
    join_request = members.request_membership(person=outsider, community=vault)

    members.decide_request(actor=owner, request=join_request, approve=False)

    join_request.refresh_from_db()
    assert join_request.status == MembershipRequest.Status.REJECTED
    assert role_of(outsider, vault) is None
    notification = Notification.objects.get(recipient=outsider)
    assert notification.kind == Notification.Kind.MEMBERSHIP_REJECTED
    assert notification.url == "/communities/"


def test_rejected_person_may_ask_again(owner, outsider, vault):
    first = members.request_membership(person=outsider, community=vault)
    members.decide_request(actor=owner, request=first, approve=False)
    second = members.request_membership(person=outsider, community=vault)
    assert second.pk != first.pk


def test_member_cannot_decide_request(sales_rep, outsider, vault):
    join_request = members.request_membership(person=outsider, community=vault)
    with pytest.raises(PermissionDenied) as excinfo:
        members.decide_request(actor=sales_rep, request=join_request, approve=True)
    assert str(excinfo.value) == (
        "Only an owner or moderator of Pricing vault can decide requests to join."
    )
    assert role_of(outsider, vault) is None


def test_request_decided_twice(owner, moderator, outsider, vault):
    join_request = members.request_membership(person=outsider, community=vault)
    members.decide_request(actor=owner, request=join_request, approve=True)
    with pytest.raises(ValidationError) as excinfo:
        members.decide_request(actor=moderator, request=join_request, approve=False)
    assert excinfo.value.messages == [
        "The request from Otto Tester was already approved."
    ]
    assert role_of(outsider, vault) == Membership.Role.MEMBER


# --- Invitations ---


def test_invite_skips_members_and_repeats(
    owner, sales_rep, outsider, facilitator, desk
):
    batch = members.invite_people(
        actor=owner,
        community=desk,
        invitees=[outsider, sales_rep, outsider, facilitator],
    )
    assert batch.invited == [outsider, facilitator]
    assert batch.skipped == {"already a member": [sales_rep]}

    again = members.invite_people(actor=owner, community=desk, invitees=[outsider])
    assert again.invited == []
    assert again.skipped == {"already invited": [outsider]}
    assert Invitation.objects.filter(invitee=outsider).count() == 1
    assert kinds_for(outsider) == [Notification.Kind.COMMUNITY_INVITATION]
    assert AuditEvent.objects.filter(action="community.invitation_sent").count() == 2


def test_invite_skips_customer_for_open_community(owner, customer, desk):
    batch = members.invite_people(actor=owner, community=desk, invitees=[customer])
    assert batch.invited == []
    assert batch.skipped == {"customer account": [customer]}


def test_invite_customer_to_customer_community(owner, customer, lounge):
    batch = members.invite_people(actor=owner, community=lounge, invitees=[customer])
    assert batch.invited == [customer]


def test_invite_skips_deactivated(owner, outsider, desk):
    outsider.is_active = False
    outsider.save()
    batch = members.invite_people(actor=owner, community=desk, invitees=[outsider])
    assert batch.skipped == {"account deactivated": [outsider]}


def test_member_cannot_invite(sales_rep, outsider, desk):
    with pytest.raises(PermissionDenied) as excinfo:
        members.invite_people(actor=sales_rep, community=desk, invitees=[outsider])
    assert str(excinfo.value) == (
        "Only an owner or moderator of Payments desk can invite people."
    )
    assert Invitation.objects.count() == 0


def test_invite_batch_limit(owner, outsider, desk, monkeypatch):
    monkeypatch.setattr(members, "MAX_INVITATIONS_PER_BATCH", 1)
    with pytest.raises(ValidationError) as excinfo:
        members.invite_people(actor=owner, community=desk, invitees=[outsider, owner])
    assert excinfo.value.messages == [
        "2 people were picked; invite at most 1 at a time."
    ]


def test_accept_invitation_to_private_community(moderator, outsider, vault):
    members.invite_people(actor=moderator, community=vault, invitees=[outsider])
    invitation = Invitation.objects.get()

    members.respond_to_invitation(person=outsider, invitation=invitation, accept=True)

    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.ACCEPTED
    assert role_of(outsider, vault) == Membership.Role.MEMBER
    assert Notification.Kind.INVITATION_ACCEPTED in kinds_for(moderator)


def test_decline_invitation(owner, outsider, desk):
    members.invite_people(actor=owner, community=desk, invitees=[outsider])
    invitation = Invitation.objects.get()

    members.respond_to_invitation(person=outsider, invitation=invitation, accept=False)

    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.DECLINED
    assert role_of(outsider, desk) is None
    assert kinds_for(owner) == []


def test_someone_elses_invitation(owner, outsider, sales_rep, desk):
    members.invite_people(actor=owner, community=desk, invitees=[outsider])
    with pytest.raises(PermissionDenied):
        members.respond_to_invitation(
            person=sales_rep, invitation=Invitation.objects.get(), accept=True
        )
    assert Invitation.objects.get().status == Invitation.Status.PENDING


def test_invitation_answered_twice(owner, outsider, desk):
    members.invite_people(actor=owner, community=desk, invitees=[outsider])
    invitation = Invitation.objects.get()
    members.respond_to_invitation(person=outsider, invitation=invitation, accept=False)
    with pytest.raises(ValidationError) as excinfo:
        members.respond_to_invitation(
            person=outsider, invitation=invitation, accept=True
        )
    assert excinfo.value.messages == [
        "The invitation to Payments desk was already declined."
    ]


# --- Roles ---


def test_owner_makes_member_moderator(owner, sales_rep, desk):
    members.change_role(
        actor=owner, community=desk, member=sales_rep, role=Membership.Role.MODERATOR
    )
    assert role_of(sales_rep, desk) == Membership.Role.MODERATOR
    event = AuditEvent.objects.get(action="community.role_changed")
    assert event.before == {"person": sales_rep.pk, "role": "member"}
    assert event.after == {"person": sales_rep.pk, "role": "moderator"}
    notification = Notification.objects.get(recipient=sales_rep)
    assert notification.message == "You are now moderator of Payments desk."


def test_moderator_cannot_change_roles(moderator, sales_rep, desk):
    with pytest.raises(PermissionDenied) as excinfo:
        members.change_role(
            actor=moderator, community=desk, member=sales_rep, role="moderator"
        )
    assert str(excinfo.value) == (
        "Only an owner of Payments desk can change members' roles."
    )


def test_last_owner_cannot_step_down(owner, desk):
    with pytest.raises(ValidationError) as excinfo:
        members.change_role(actor=owner, community=desk, member=owner, role="member")
    assert excinfo.value.messages == [
        "Olive Tester is the only owner of Payments desk: make another member "
        "owner first."
    ]


def test_unknown_role(owner, sales_rep, desk):
    with pytest.raises(ValidationError) as excinfo:
        members.change_role(actor=owner, community=desk, member=sales_rep, role="admin")
    assert excinfo.value.messages == [
        "Unknown role 'admin': choose one of owner, moderator, member."
    ]


def test_role_for_non_member(owner, outsider, desk):
    with pytest.raises(ValidationError) as excinfo:
        members.change_role(actor=owner, community=desk, member=outsider, role="member")
    assert excinfo.value.messages == ["Otto Tester is not a member of Payments desk."]


def test_same_role_is_told(owner, sales_rep, desk):
    with pytest.raises(ValidationError) as excinfo:
        members.change_role(
            actor=owner, community=desk, member=sales_rep, role="member"
        )
    assert excinfo.value.messages == ["Sally Tester is already member."]


def test_customer_stays_member(owner, customer, lounge):
    members.join_community(person=customer, community=lounge)
    with pytest.raises(ValidationError) as excinfo:
        members.change_role(
            actor=owner, community=lounge, member=customer, role="moderator"
        )
    assert excinfo.value.messages == [
        "Carla Tester has a customer account, so they can only be a member."
    ]


# --- Removal ---


def test_moderator_removes_member(moderator, sales_rep, desk):
    members.remove_member(actor=moderator, community=desk, member=sales_rep)
    assert role_of(sales_rep, desk) is None
    assert kinds_for(sales_rep) == [Notification.Kind.MEMBER_REMOVED]
    assert AuditEvent.objects.filter(action="community.member_removed").count() == 1


def test_moderator_cannot_remove_owner(moderator, owner, desk):
    with pytest.raises(PermissionDenied) as excinfo:
        members.remove_member(actor=moderator, community=desk, member=owner)
    assert str(excinfo.value) == "Only an owner can remove owners."
    assert role_of(owner, desk) == Membership.Role.OWNER


def test_owner_removes_moderator(owner, moderator, desk):
    members.remove_member(actor=owner, community=desk, member=moderator)
    assert role_of(moderator, desk) is None


def test_member_cannot_remove(sales_rep, moderator, desk):
    with pytest.raises(PermissionDenied):
        members.remove_member(actor=sales_rep, community=desk, member=moderator)


def test_remove_self_points_to_leave(owner, desk):
    with pytest.raises(ValidationError) as excinfo:
        members.remove_member(actor=owner, community=desk, member=owner)
    assert excinfo.value.messages == [
        "To remove yourself, leave the community instead."
    ]


def test_remove_non_member(owner, outsider, desk):
    with pytest.raises(ValidationError) as excinfo:
        members.remove_member(actor=owner, community=desk, member=outsider)
    assert excinfo.value.messages == ["Otto Tester is not a member of Payments desk."]
