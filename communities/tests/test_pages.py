"""Every community page and action, as each named person, with query counts.

People: ``otto`` (outsider), ``carla`` (customer), ``sally`` (member),
``mona`` (moderator) and ``olive`` (owner) of the open "Payments desk", the
private "Pricing vault" and the customer-visible "Customer lounge".
"""

import pytest
from django.contrib.messages import get_messages

from accounts.models import Role
from communities import membership as members
from communities.models import Invitation, Membership, MembershipRequest
from communities.tests.conftest import signed_in
from conftest import make_person
from social.services import publish_post

pytestmark = pytest.mark.django_db

DESK = "/communities/payments-desk/"
VAULT = "/communities/pricing-vault/"
LOUNGE = "/communities/customer-lounge/"
PAGES = ["", "members/", "starters/", "recruit/"]


def flashes(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def role_of(person, community) -> str | None:
    membership = Membership.objects.filter(community=community, person=person).first()
    return membership.role if membership else None


@pytest.fixture
def everyone(outsider, customer, sales_rep, moderator, owner, desk, vault, lounge):
    return {
        "outsider": outsider,
        "customer": customer,
        "member": sales_rep,
        "moderator": moderator,
        "owner": owner,
    }


# The expected status of GET on each page, per person and community.
PAGE_STATUS = {
    "outsider": {
        DESK: [200, 200, 403, 403],
        VAULT: [404] * 4,
        LOUNGE: [200, 200, 403, 403],
    },
    "customer": {DESK: [404] * 4, VAULT: [404] * 4, LOUNGE: [200, 200, 403, 403]},
    "member": {
        DESK: [200, 200, 403, 403],
        VAULT: [200, 200, 403, 403],
        LOUNGE: [200, 200, 403, 403],
    },
    "moderator": {DESK: [200] * 4, VAULT: [200] * 4, LOUNGE: [200, 200, 403, 403]},
    "owner": {DESK: [200] * 4, VAULT: [200] * 4, LOUNGE: [200] * 4},
}


@pytest.mark.parametrize("who", list(PAGE_STATUS))
def test_page_statuses(who, everyone):
    client = signed_in(everyone[who])
    statuses = {
        base: [client.get(base + page).status_code for page in PAGES]
        for base in (DESK, VAULT, LOUNGE)
    }
    assert statuses == PAGE_STATUS[who]


@pytest.mark.parametrize("who", ["outsider", "customer"])
def test_private_pages_never_name_the_community(who, everyone):
    client = signed_in(everyone[who])
    for page in PAGES:
        response = client.get(VAULT + page)
        assert response.status_code == 404
        assert b"Pricing vault" not in response.content
        assert b"Discount floors" not in response.content
        assert b"Sally" not in response.content


def test_signed_out_pages_redirect(desk):
    from django.test import Client

    for page in PAGES:
        response = Client().get(DESK + page)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


def test_community_list_hides_private_from_outsider(everyone):
    content = signed_in(everyone["outsider"]).get("/communities/").content
    assert b"Payments desk" in content
    assert b"Pricing vault" not in content
    assert b"New community" in content


def test_community_list_for_customer(everyone):
    content = signed_in(everyone["customer"]).get("/communities/").content
    assert b"Customer lounge" in content
    assert b"Payments desk" not in content
    assert b"New community" not in content


# --- Buttons per state ---


def test_outsider_sees_join_button(everyone):
    content = signed_in(everyone["outsider"]).get(DESK).content.decode()
    assert f'action="{DESK}join/"' in content
    assert f'action="{DESK}leave/"' not in content
    assert 'data-testid="manager-links"' not in content


def test_member_sees_leave_button(everyone):
    content = signed_in(everyone["member"]).get(DESK).content.decode()
    assert f'action="{DESK}leave/"' in content
    assert f'action="{DESK}join/"' not in content
    assert "You are a member" in content


def test_manager_sees_manager_links(everyone):
    content = signed_in(everyone["moderator"]).get(DESK).content.decode()
    assert 'data-testid="manager-links"' in content
    assert f'href="{DESK}recruit/"' in content


def test_page_lists_members_with_roles(everyone):
    content = signed_in(everyone["outsider"]).get(DESK).content.decode()
    assert 'Olive Tester <span class="role">Owner</span>' in content
    assert 'Mona Tester <span class="role">Moderator</span>' in content
    assert 'Sally Tester <span class="role">Member</span>' in content


def test_empty_community_shows_starters(owner):
    from communities.services import create_community

    create_community(
        creator=owner,
        name="Fresh",
        purpose="New.",
        visibility="open",
        conversation_starters=["What slows you down?"],
    )
    content = signed_in(owner).get("/communities/fresh/").content.decode()
    assert 'data-testid="conversation-starters"' in content
    assert "What slows you down?" in content


def test_starters_hidden_once_posted(owner):
    from communities.services import create_community

    community = create_community(
        creator=owner,
        name="Fresh",
        purpose="New.",
        visibility="open",
        conversation_starters=["What slows you down?"],
    )
    publish_post(author=owner, community=community, body="First!")
    content = signed_in(owner).get("/communities/fresh/").content.decode()
    assert "What slows you down?" not in content


# --- Join and leave ---


def test_outsider_joins_through_page(everyone, desk):
    response = signed_in(everyone["outsider"]).post(DESK + "join/")
    assert response.status_code == 302
    assert response["Location"] == DESK
    assert flashes(response) == ["You joined Payments desk."]
    assert role_of(everyone["outsider"], desk) == Membership.Role.MEMBER


def test_customer_join_open_is_404(everyone, desk):
    response = signed_in(everyone["customer"]).post(DESK + "join/")
    assert response.status_code == 404
    assert role_of(everyone["customer"], desk) is None


def test_customer_joins_lounge(everyone, lounge):
    response = signed_in(everyone["customer"]).post(LOUNGE + "join/")
    assert response.status_code == 302
    assert role_of(everyone["customer"], lounge) == Membership.Role.MEMBER


def test_outsider_join_private_is_404(everyone, vault):
    response = signed_in(everyone["outsider"]).post(VAULT + "join/")
    assert response.status_code == 404
    assert b"Pricing vault" not in response.content
    assert role_of(everyone["outsider"], vault) is None


def test_last_owner_leave_shows_message(everyone, desk):
    response = signed_in(everyone["owner"]).post(DESK + "leave/")
    assert response.status_code == 302
    assert flashes(response) == [
        "You are the only owner of Payments desk: make another member owner on "
        "the members page before you leave."
    ]
    assert role_of(everyone["owner"], desk) == Membership.Role.OWNER


def test_member_leaves_private_and_lands_on_list(everyone, vault):
    response = signed_in(everyone["member"]).post(VAULT + "leave/")
    assert response["Location"] == "/communities/"
    assert role_of(everyone["member"], vault) is None


# --- Requests to join by address ---


def test_request_page_does_not_name_community(everyone):
    response = signed_in(everyone["outsider"]).get(VAULT + "request/")
    assert response.status_code == 200
    assert b"Pricing vault" not in response.content
    assert VAULT.encode() in response.content


def test_request_by_address(everyone, vault):
    response = signed_in(everyone["outsider"]).post(VAULT + "request/")
    assert response.status_code == 302
    assert response["Location"] == "/communities/invitations/"
    assert flashes(response) == [
        "If a private community has this address, its owners and moderators "
        "now have your request to join."
    ]
    assert MembershipRequest.objects.filter(person=everyone["outsider"]).count() == 1


def test_request_for_missing_address_looks_the_same(everyone):
    response = signed_in(everyone["outsider"]).post("/communities/no-such/request/")
    assert response.status_code == 302
    assert flashes(response) == [
        "If a private community has this address, its owners and moderators "
        "now have your request to join."
    ]
    assert MembershipRequest.objects.count() == 0


def test_repeated_request_looks_the_same(everyone):
    client = signed_in(everyone["outsider"])
    client.post(VAULT + "request/")
    response = client.post(VAULT + "request/")
    assert b"Pricing vault" not in response.content
    assert flashes(response)[-1].startswith("If a private community has this address")
    assert MembershipRequest.objects.count() == 1


def test_request_page_for_visible_community_redirects(everyone):
    response = signed_in(everyone["member"]).get(VAULT + "request/")
    assert response.status_code == 302
    assert response["Location"] == VAULT


@pytest.mark.parametrize("address", [VAULT, "/communities/no-such/"])
def test_customer_request_is_403(everyone, address):
    response = signed_in(everyone["customer"]).post(address + "request/")
    assert response.status_code == 403
    assert b"Pricing vault" not in response.content
    assert MembershipRequest.objects.count() == 0


def test_pending_request_listed_by_address_only(everyone):
    client = signed_in(everyone["outsider"])
    client.post(VAULT + "request/")
    content = client.get("/communities/invitations/").content
    assert VAULT.encode() in content
    assert b"Pricing vault" not in content


@pytest.mark.parametrize("who", ["owner", "moderator"])
def test_manager_approves_on_members_page(who, everyone, vault):
    members.request_membership(person=everyone["outsider"], community=vault)
    join_request = MembershipRequest.objects.get()
    client = signed_in(everyone[who])

    page = client.get(VAULT + "members/").content.decode()
    assert "Otto Tester" in page
    response = client.post(f"{VAULT}requests/{join_request.pk}/approve/")

    assert response.status_code == 302
    assert flashes(response) == ["Otto Tester is now a member."]
    assert role_of(everyone["outsider"], vault) == Membership.Role.MEMBER


def test_owner_rejects_on_members_page(everyone, vault):
    members.request_membership(person=everyone["outsider"], community=vault)
    join_request = MembershipRequest.objects.get()
    response = signed_in(everyone["owner"]).post(
        f"{VAULT}requests/{join_request.pk}/reject/"
    )
    assert flashes(response) == ["Otto Tester's request was rejected."]
    join_request.refresh_from_db()
    assert join_request.status == MembershipRequest.Status.REJECTED


def test_member_cannot_approve(everyone, vault):
    members.request_membership(person=everyone["outsider"], community=vault)
    join_request = MembershipRequest.objects.get()
    response = signed_in(everyone["member"]).post(
        f"{VAULT}requests/{join_request.pk}/approve/"
    )
    assert response.status_code == 403
    assert role_of(everyone["outsider"], vault) is None


def test_outsider_approving_own_request_is_404(everyone, vault):
    members.request_membership(person=everyone["outsider"], community=vault)
    join_request = MembershipRequest.objects.get()
    response = signed_in(everyone["outsider"]).post(
        f"{VAULT}requests/{join_request.pk}/approve/"
    )
    assert response.status_code == 404
    assert role_of(everyone["outsider"], vault) is None


def test_member_page_hides_requests_from_member(everyone, vault):
    members.request_membership(person=everyone["outsider"], community=vault)
    content = signed_in(everyone["member"]).get(VAULT + "members/").content
    assert b'data-testid="requests"' not in content
    assert b"Otto Tester" not in content


# --- Roles and removal through the members page ---


def test_owner_sets_role(everyone, desk):
    response = signed_in(everyone["owner"]).post(
        f"{DESK}members/{everyone['member'].pk}/role/", {"role": "moderator"}
    )
    assert response.status_code == 302
    assert flashes(response) == ["Sally Tester is now moderator of Payments desk."]
    assert role_of(everyone["member"], desk) == Membership.Role.MODERATOR


def test_owner_sets_unknown_role(everyone, desk):
    response = signed_in(everyone["owner"]).post(
        f"{DESK}members/{everyone['member'].pk}/role/", {"role": "admin"}
    )
    assert flashes(response) == [
        "Unknown role 'admin': choose owner, moderator or member."
    ]
    assert role_of(everyone["member"], desk) == Membership.Role.MEMBER


@pytest.mark.parametrize("who", ["moderator", "member", "outsider"])
def test_non_owner_set_role_is_403(who, everyone, desk):
    response = signed_in(everyone[who]).post(
        f"{DESK}members/{everyone['member'].pk}/role/", {"role": "owner"}
    )
    assert response.status_code == 403
    assert role_of(everyone["member"], desk) == Membership.Role.MEMBER


def test_role_of_non_member_is_404(everyone):
    response = signed_in(everyone["owner"]).post(
        f"{DESK}members/{everyone['outsider'].pk}/role/", {"role": "member"}
    )
    assert response.status_code == 404


def test_moderator_removes_member(everyone, desk):
    response = signed_in(everyone["moderator"]).post(
        f"{DESK}members/{everyone['member'].pk}/remove/"
    )
    assert flashes(response) == ["Sally Tester was removed from Payments desk."]
    assert role_of(everyone["member"], desk) is None


@pytest.mark.parametrize("who", ["member", "outsider"])
def test_non_manager_remove_is_403(who, everyone, desk):
    response = signed_in(everyone[who]).post(
        f"{DESK}members/{everyone['moderator'].pk}/remove/"
    )
    assert response.status_code == 403
    assert role_of(everyone["moderator"], desk) == Membership.Role.MODERATOR


def test_outsider_remove_in_private_is_404(everyone, vault):
    response = signed_in(everyone["outsider"]).post(
        f"{VAULT}members/{everyone['member'].pk}/remove/"
    )
    assert response.status_code == 404
    assert role_of(everyone["member"], vault) == Membership.Role.MEMBER


# --- Invitations and recruiting ---


def test_recruit_lists_group_without_members(everyone, desk):
    colleague = make_person("wendy", Role.WAREHOUSE, group="warehouse")
    content = (
        signed_in(everyone["owner"])
        .get(DESK + "recruit/", {"group": "warehouse"})
        .content.decode()
    )
    assert "Wendy Tester" in content
    assert "Otto Tester" in content
    assert "Sally Tester" not in content
    assert "Carla Tester" not in content
    assert colleague.pk


def test_recruit_by_function(everyone, desk, payments):
    everyone["outsider"].crm_functions.add(payments)
    content = (
        signed_in(everyone["owner"])
        .get(DESK + "recruit/", {"function": "payments"})
        .content.decode()
    )
    assert "Otto Tester" in content
    assert "Fran" not in content


def test_recruit_unknown_group_names_value(everyone):
    content = (
        signed_in(everyone["owner"])
        .get(DESK + "recruit/", {"group": "pirates"})
        .content.decode()
    )
    assert (
        "&#x27;pirates&#x27; is not a choice for the learner group: pick one from "
        "the list."
    ) in content


def test_recruit_invites_each_once(everyone, desk):
    client = signed_in(everyone["owner"])
    people = [everyone["outsider"].pk, everyone["member"].pk]

    response = client.post(DESK + "recruit/", {"people": people})
    assert flashes(response) == [
        "Sent 1 invitation.",
        "Not invited (already a member): Sally Tester.",
    ]
    again = client.post(DESK + "recruit/", {"people": people}, follow=True)
    assert "Not invited (already invited): Otto Tester." in again.content.decode()
    assert Invitation.objects.filter(invitee=everyone["outsider"]).count() == 1

    content = client.get(DESK + "recruit/", {"group": "warehouse"}).content.decode()
    assert "Otto Tester" not in content


@pytest.mark.parametrize("raw", ["x", "²", "99999999999999999999", "-1", " 7"])
def test_recruit_with_bad_ids(everyone, raw):
    response = signed_in(everyone["owner"]).post(DESK + "recruit/", {"people": [raw]})
    assert flashes(response) == [f"Invalid person ids {[raw]!r}: pick people again."]
    assert Invitation.objects.count() == 0


def test_recruit_with_nobody(everyone):
    response = signed_in(everyone["owner"]).post(DESK + "recruit/", {})
    assert flashes(response) == ["No one was picked: tick the people to invite."]


def test_member_recruit_post_is_403(everyone):
    response = signed_in(everyone["member"]).post(
        DESK + "recruit/", {"people": [everyone["outsider"].pk]}
    )
    assert response.status_code == 403
    assert Invitation.objects.count() == 0


def test_invitee_accepts_private_invitation(everyone, vault):
    members.invite_people(
        actor=everyone["owner"], community=vault, invitees=[everyone["outsider"]]
    )
    invitation = Invitation.objects.get()
    client = signed_in(everyone["outsider"])

    listing = client.get("/communities/invitations/").content
    assert b"Pricing vault" in listing
    response = client.post(f"/communities/invitations/{invitation.pk}/accept/")

    assert response["Location"] == VAULT
    assert client.get(VAULT).status_code == 200


def test_invitee_declines(everyone, desk):
    members.invite_people(
        actor=everyone["owner"], community=desk, invitees=[everyone["outsider"]]
    )
    invitation = Invitation.objects.get()
    response = signed_in(everyone["outsider"]).post(
        f"/communities/invitations/{invitation.pk}/decline/"
    )
    assert flashes(response) == ["You declined the invitation to Payments desk."]
    assert role_of(everyone["outsider"], desk) is None


def test_someone_elses_invitation_is_404(everyone, vault):
    members.invite_people(
        actor=everyone["owner"], community=vault, invitees=[everyone["outsider"]]
    )
    invitation = Invitation.objects.get()
    response = signed_in(everyone["customer"]).post(
        f"/communities/invitations/{invitation.pk}/accept/"
    )
    assert response.status_code == 404
    assert b"Pricing vault" not in response.content


# --- Conversation starters page ---


def test_manager_posts_ready_starter(everyone, desk):
    client = signed_in(everyone["moderator"])
    page = client.get(DESK + "starters/").content.decode()
    assert "For any community" in page
    assert "Payments" in page
    response = client.post(DESK + "starters/post/", {"body": "Your best tip?"})
    assert response.status_code == 302
    assert desk.posts.get().body == "Your best tip?"


def test_member_starter_post_is_403(everyone, desk):
    response = signed_in(everyone["member"]).post(
        DESK + "starters/post/", {"body": "Your best tip?"}
    )
    assert response.status_code == 403
    assert desk.posts.count() == 0


# --- POST-only routes ---


@pytest.mark.parametrize(
    "path",
    [
        DESK + "join/",
        DESK + "leave/",
        DESK + "members/1/role/",
        DESK + "members/1/remove/",
        DESK + "requests/1/approve/",
        DESK + "requests/1/reject/",
        DESK + "posts/1/pin/",
        DESK + "posts/1/unpin/",
        DESK + "starters/post/",
        "/communities/invitations/1/accept/",
        "/communities/invitations/1/decline/",
    ],
)
def test_get_on_post_only_is_405(everyone, path):
    assert signed_in(everyone["owner"]).get(path).status_code == 405


# --- Query counts stay constant as membership grows ---


def add_members(community, count: int, prefix: str) -> None:
    for number in range(count):
        person = make_person(f"{prefix}{number}", Role.SALES_REP, group="sales")
        Membership.objects.create(community=community, person=person)


@pytest.mark.parametrize("who", ["member", "owner"])
def test_community_page_queries_constant(
    who, everyone, desk, django_assert_num_queries
):
    client = signed_in(everyone[who])
    publish_post(author=everyone["member"], community=desk, body="One #tip")
    client.get(DESK)

    # 12 for the page (the follow button's state among them), and the rest
    # for the posts' reaction bars, whose counts are on the post rows.
    with django_assert_num_queries(14):
        client.get(DESK)
    add_members(desk, 30, "extra")
    with django_assert_num_queries(14):
        response = client.get(DESK)
    assert "33 members" in response.content.decode()


def test_members_page_queries_constant(everyone, vault, django_assert_num_queries):
    client = signed_in(everyone["owner"])
    members.request_membership(person=everyone["outsider"], community=vault)
    client.get(VAULT + "members/")

    with django_assert_num_queries(9):
        client.get(VAULT + "members/")
    add_members(vault, 60, "bulk")
    with django_assert_num_queries(9):
        response = client.get(VAULT + "members/")
    assert "63 members" in response.content.decode()
    assert response.content.decode().count('data-testid="member"') == 50


CUSTOMERS_READ = "Customers read this community: leave out internal notes"


def test_post_box_warns_staff_in_customer_community(everyone, lounge):
    members.join_community(person=everyone["customer"], community=lounge)

    staff_lounge = signed_in(everyone["owner"]).get(LOUNGE).content.decode()
    staff_desk = signed_in(everyone["owner"]).get(DESK).content.decode()
    customer_lounge = signed_in(everyone["customer"]).get(LOUNGE).content.decode()

    assert 'action="/communities/customer-lounge/posts/"' in staff_lounge
    assert CUSTOMERS_READ in staff_lounge
    assert CUSTOMERS_READ not in staff_desk
    assert 'action="/communities/customer-lounge/posts/"' in customer_lounge
    assert CUSTOMERS_READ not in customer_lounge
