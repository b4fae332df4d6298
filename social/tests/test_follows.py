"""Following people, hashtags and communities: the service, the buttons, the list.

Named people: ``sales_rep`` (Sally), ``outsider`` (Otto, in no community),
``facilitator`` (Fran, owner of the private pricing community) and
``customer`` (Carla, a customer account).
"""

import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import close_old_connections, connection

from core.models import AuditEvent
from social.models import Follow, Hashtag
from social.services.follows import (
    hashtag_for_follow,
    set_community_follow,
    set_hashtag_follow,
    set_person_follow,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_follow_person_is_idempotent(outsider, sales_rep):
    assert set_person_follow(follower=outsider, person=sales_rep, active=True)
    assert not set_person_follow(follower=outsider, person=sales_rep, active=True)

    assert Follow.objects.filter(follower=outsider, person=sales_rep).count() == 1
    assert AuditEvent.objects.filter(action="follow.added").count() == 1


def test_unfollow_person(outsider, sales_rep):
    set_person_follow(follower=outsider, person=sales_rep, active=True)

    assert set_person_follow(follower=outsider, person=sales_rep, active=False)
    assert not set_person_follow(follower=outsider, person=sales_rep, active=False)
    assert Follow.objects.count() == 0
    assert AuditEvent.objects.filter(action="follow.removed").count() == 1


def test_follow_row_already_there_is_a_no_op(outsider, sales_rep):
    """A racing click that inserted first makes the second insert a no-op."""
    Follow.objects.create(follower=outsider, person=sales_rep)

    assert not set_person_follow(follower=outsider, person=sales_rep, active=True)
    assert Follow.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_follow_clicks_leave_one_row(outsider, sales_rep):
    """Eight threads follow the same person and the same tag at once."""
    # The SQLite test database is a file, so writers queue on the busy
    # timeout as they do in the product.
    if connection.vendor == "sqlite":
        assert not connection.is_in_memory_db()
    hashtag = hashtag_for_follow("remit")
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []
    changed: list[bool] = []

    def click() -> None:
        try:
            barrier.wait()
            changed.append(
                set_person_follow(follower=outsider, person=sales_rep, active=True)
            )
            set_hashtag_follow(follower=outsider, hashtag=hashtag, active=True)
        except BaseException as error:  # collected for the assert below
            errors.append(error)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert changed.count(True) == 1
    assert Follow.objects.filter(follower=outsider, person=sales_rep).count() == 1
    assert Follow.objects.filter(follower=outsider, hashtag=hashtag).count() == 1


def test_cannot_follow_yourself(sales_rep):
    with pytest.raises(ValidationError) as caught:
        set_person_follow(follower=sales_rep, person=sales_rep, active=True)
    assert caught.value.messages == ["You cannot follow yourself."]


def test_customer_cannot_follow_hidden_staff(customer, sales_rep):
    with pytest.raises(PermissionDenied):
        set_person_follow(follower=customer, person=sales_rep, active=True)
    assert Follow.objects.count() == 0


def test_customer_follows_staff_visible_to_customers(customer, sales_rep):
    sales_rep.visible_to_customers = True
    sales_rep.save()

    assert set_person_follow(follower=customer, person=sales_rep, active=True)


def test_cannot_follow_hidden_community(outsider, private_community):
    with pytest.raises(PermissionDenied):
        set_community_follow(
            follower=outsider, community=private_community, active=True
        )
    assert Follow.objects.count() == 0


def test_follow_tag_creates_it_without_a_spelling(outsider):
    hashtag = hashtag_for_follow("#Überweisung")

    assert set_hashtag_follow(follower=outsider, hashtag=hashtag, active=True)
    # The follower's typing is not stored: the first post sets the spelling.
    assert (hashtag.name, hashtag.display_name) == ("überweisung", "")
    assert hashtag_for_follow("ÜBERWEISUNG").pk == hashtag.pk
    assert Hashtag.objects.count() == 1


@pytest.mark.parametrize(
    "name", ["", "123", "two words", "a-b", "x" * 101, "c++++", "a+b"]
)
def test_invalid_tag_name_rejected(name):
    with pytest.raises(ValidationError) as caught:
        hashtag_for_follow(name)
    assert caught.value.messages == [
        f"{name!r} is not a hashtag: use letters, digits and underscores, "
        "with at least one letter, optionally ending in up to three + or # "
        "signs (C++, C#), and at most 100 characters."
    ]
    assert Hashtag.objects.count() == 0


def test_person_button_htmx(signed_in, outsider, sales_rep):
    client = signed_in(outsider)

    response = client.post("/follows/person/sally/", {"active": "1"}, **HTMX)

    assert response.status_code == 200
    assert response.templates[0].name == "social/_follow_button.html"
    assert b">Following</button>" in response.content
    assert b'name="active" value="0"' in response.content
    assert Follow.objects.filter(follower=outsider, person=sales_rep).exists()


def test_person_button_plain_post_redirects(signed_in, outsider, sales_rep):
    client = signed_in(outsider)

    response = client.post(
        "/follows/person/sally/", {"active": "1", "next": "/tags/remit/"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/tags/remit/"


def test_button_ignores_foreign_next(signed_in, outsider, sales_rep):
    client = signed_in(outsider)

    response = client.post(
        "/follows/person/sally/", {"active": "1", "next": "https://evil.example/"}
    )

    assert response["Location"] == "/follows/"


def test_bad_active_value_is_422(signed_in, outsider, sales_rep):
    client = signed_in(outsider)

    response = client.post("/follows/person/sally/", {"active": "yes"}, **HTMX)

    assert response.status_code == 422
    assert b"send active=1 or active=0" in response.content
    assert Follow.objects.count() == 0


def test_follow_yourself_button_is_422(signed_in, sales_rep):
    response = signed_in(sales_rep).post(
        "/follows/person/sally/", {"active": "1"}, **HTMX
    )

    assert response.status_code == 422
    assert b"You cannot follow yourself." in response.content


def test_hidden_targets_are_404(
    signed_in, outsider, customer, sales_rep, private_community
):
    assert (
        signed_in(outsider)
        .post("/follows/community/pricing-internal/", {"active": "1"})
        .status_code
        == 404
    )
    assert (
        signed_in(customer).post("/follows/person/sally/", {"active": "1"}).status_code
        == 404
    )
    assert signed_in(outsider).post(
        "/follows/tag/1-2/", {"active": "1"}
    ).status_code == (404)
    assert Follow.objects.count() == 0


def test_tag_page_shows_follow_button(signed_in, outsider):
    client = signed_in(outsider)

    page = client.get("/tags/remit/").content.decode()
    assert 'data-testid="follow-tag"' in page
    assert 'aria-label="Follow #remit"' in page

    client.post("/follows/tag/remit/", {"active": "1"})
    page = client.get("/tags/remit/").content.decode()
    assert 'aria-label="Unfollow #remit"' in page


def test_community_page_shows_follow_button(signed_in, outsider, payments_community):
    client = signed_in(outsider)
    client.post("/follows/community/payments/", {"active": "1"}, **HTMX)

    page = client.get("/communities/payments/").content.decode()

    assert 'aria-label="Unfollow Payments"' in page
    assert Follow.objects.filter(community=payments_community).count() == 1


def test_follow_list_shows_only_visible_follows(
    signed_in, sales_rep, facilitator, private_community, payments_community
):
    from communities.models import Membership

    Membership.objects.create(community=private_community, person=sales_rep)
    set_community_follow(follower=sales_rep, community=private_community, active=True)
    set_community_follow(follower=sales_rep, community=payments_community, active=True)
    set_person_follow(follower=sales_rep, person=facilitator, active=True)
    set_hashtag_follow(
        follower=sales_rep, hashtag=hashtag_for_follow("remit"), active=True
    )
    Membership.objects.filter(person=sales_rep).delete()

    response = signed_in(sales_rep).get("/follows/")
    page = response.content.decode()

    assert [button.label for button in response.context["people"]] == ["Fran Tester"]
    assert [button.label for button in response.context["tags"]] == ["#remit"]
    assert [button.label for button in response.context["communities"]] == ["Payments"]
    assert "Pricing internal" not in page
