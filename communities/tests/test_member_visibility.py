"""Who a customer account sees among a community's members: pages and API alike."""

import pytest
from django.test import Client

from accounts.models import Role
from communities.models import Membership
from conftest import make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def members(customer, customer_community):
    shown = make_person("vera", Role.SALES_REP)
    shown.visible_to_customers = True
    shown.save()
    hidden = make_person("hugo", Role.FINANCE_CLERK)
    for person in (customer, shown, hidden):
        Membership.objects.create(community=customer_community, person=person)
    return shown, hidden


def page_for(person, url: str) -> str:
    client = Client()
    client.force_login(person)
    answer = client.get(url)
    assert answer.status_code == 200
    return answer.content.decode()


def test_customer_sees_only_visible_staff_on_the_community_page(
    customer, customer_community, members
):
    page = page_for(customer, f"/communities/{customer_community.slug}/")
    assert "Vera Tester" in page
    assert "Carla Tester" in page
    assert "Hugo Tester" not in page


def test_customer_sees_only_visible_staff_on_the_member_list(
    customer, customer_community, members
):
    page = page_for(customer, f"/communities/{customer_community.slug}/members/")
    assert "Vera Tester" in page
    assert "Hugo Tester" not in page


def test_employees_see_every_member(sales_rep, customer_community, members):
    page = page_for(sales_rep, f"/communities/{customer_community.slug}/")
    assert "Hugo Tester" in page
    assert "Vera Tester" in page


def test_customer_counts_only_the_members_it_sees(
    customer, customer_community, members
):
    page = page_for(customer, f"/communities/{customer_community.slug}/")
    assert "2 members" in page
    assert "3 members" not in page
    listing = page_for(customer, "/communities/")
    assert "3 members" not in listing
