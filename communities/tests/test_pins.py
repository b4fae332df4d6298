"""Pinning posts to the top of a community's feed."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from communities.membership import remove_member
from communities.models import CommunityPin
from communities.services import MAX_PINS, pin_post, unpin_post
from communities.tests.conftest import signed_in
from core.models import AuditEvent
from notifications.models import Notification
from social.services import publish_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def tip(sales_rep, desk):
    return publish_post(author=sales_rep, community=desk, body="Old but gold tip")


@pytest.mark.parametrize("pinner", ["owner", "moderator"])
def test_manager_pins_post(pinner, tip, desk, sales_rep, request):
    actor = request.getfixturevalue(pinner)
    pin = pin_post(actor=actor, community=desk, post=tip)

    assert pin.pinned_by == actor
    assert AuditEvent.objects.get(action="community.post_pinned").after == {
        "post": tip.pk
    }
    notification = Notification.objects.get(recipient=sales_rep)
    assert notification.kind == Notification.Kind.POST_PINNED
    assert notification.url == f"/communities/payments-desk/#post-{tip.pk}"


def test_member_cannot_pin(sales_rep, tip, desk):
    with pytest.raises(PermissionDenied) as excinfo:
        pin_post(actor=sales_rep, community=desk, post=tip)
    assert str(excinfo.value) == (
        "Only an owner or moderator of Payments desk can pin posts."
    )
    assert CommunityPin.objects.count() == 0


def test_pin_twice(owner, tip, desk):
    pin_post(actor=owner, community=desk, post=tip)
    with pytest.raises(ValidationError) as excinfo:
        pin_post(actor=owner, community=desk, post=tip)
    assert excinfo.value.messages == [f"Post {tip.pk} is already pinned."]


def test_pin_post_of_other_community(owner, desk, vault, sales_rep):
    elsewhere = publish_post(author=sales_rep, community=vault, body="Secret")
    with pytest.raises(ValidationError) as excinfo:
        pin_post(actor=owner, community=desk, post=elsewhere)
    assert excinfo.value.messages == [f"Post {elsewhere.pk} is not in Payments desk."]


def test_pin_limit(owner, sales_rep, desk):
    posts = [
        publish_post(author=sales_rep, community=desk, body=f"Tip {n}")
        for n in range(MAX_PINS + 1)
    ]
    for post in posts[:MAX_PINS]:
        pin_post(actor=owner, community=desk, post=post)
    with pytest.raises(ValidationError) as excinfo:
        pin_post(actor=owner, community=desk, post=posts[-1])
    assert excinfo.value.messages == [
        f"Payments desk already has {MAX_PINS} pinned posts; the limit is "
        f"{MAX_PINS}. Unpin one first."
    ]


def test_unpin(moderator, owner, tip, desk):
    pin_post(actor=owner, community=desk, post=tip)
    unpin_post(actor=moderator, community=desk, post=tip)
    assert CommunityPin.objects.count() == 0
    assert AuditEvent.objects.filter(action="community.post_unpinned").count() == 1


def test_unpin_not_pinned(owner, tip, desk):
    with pytest.raises(ValidationError) as excinfo:
        unpin_post(actor=owner, community=desk, post=tip)
    assert excinfo.value.messages == [f"Post {tip.pk} is not pinned."]


def test_pinned_post_shows_first(owner, sales_rep, tip, desk):
    publish_post(author=sales_rep, community=desk, body="Newest tip")
    pin_post(actor=owner, community=desk, post=tip)

    content = signed_in(sales_rep).get("/communities/payments-desk/").content.decode()
    assert content.index("Old but gold tip") < content.index("Newest tip")
    assert content.count("Old but gold tip") == 1
    assert 'data-testid="pinned-post"' in content


def test_pin_through_page(owner, tip, desk):
    response = signed_in(owner).post(f"/communities/payments-desk/posts/{tip.pk}/pin/")
    assert response.status_code == 302
    assert CommunityPin.objects.filter(post=tip).exists()


def test_member_pin_through_page_is_403(sales_rep, tip, desk):
    response = signed_in(sales_rep).post(
        f"/communities/payments-desk/posts/{tip.pk}/pin/"
    )
    assert response.status_code == 403
    assert CommunityPin.objects.count() == 0


def test_pin_post_of_other_community_is_404(owner, desk, vault, sales_rep):
    elsewhere = publish_post(author=sales_rep, community=vault, body="Secret")
    response = signed_in(owner).post(
        f"/communities/payments-desk/posts/{elsewhere.pk}/pin/"
    )
    assert response.status_code == 404


def test_pin_tells_no_author_who_left_private_community(owner, vault, sales_rep):
    post = publish_post(author=sales_rep, community=vault, body="Chai price list")
    remove_member(actor=owner, community=vault, member=sales_rep)

    pin_post(actor=owner, community=vault, post=post)

    assert not Notification.objects.filter(
        recipient=sales_rep, kind=Notification.Kind.POST_PINNED
    ).exists()
