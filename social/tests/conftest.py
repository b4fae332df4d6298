"""People and posts the conversation tests share.

``member`` and ``moderator`` belong to the private pricing community whose
owner is ``facilitator``; ``outsider`` belongs to nothing; ``customer`` is a
customer account.
"""

import pytest
from django.test import Client

from accounts.models import Role
from communities.models import Membership
from conftest import make_person
from social.services import publish_post


@pytest.fixture
def member(private_community):
    person = make_person("mia", Role.SALES_REP, group="sales")
    Membership.objects.create(community=private_community, person=person)
    return person


@pytest.fixture
def moderator(private_community):
    person = make_person("mo", Role.FINANCE_CLERK, group="operations")
    Membership.objects.create(
        community=private_community, person=person, role=Membership.Role.MODERATOR
    )
    return person


@pytest.fixture
def private_post(facilitator, private_community):
    return publish_post(
        author=facilitator, community=private_community, body="Price list v7"
    )


@pytest.fixture
def open_post(sales_rep, payments_community):
    return publish_post(
        author=sales_rep, community=payments_community, body="Short-pay tip"
    )


@pytest.fixture
def customer_post(sales_rep, customer_community):
    return publish_post(
        author=sales_rep, community=customer_community, body="Welcome, customers"
    )


@pytest.fixture
def signed_in():
    def build(person) -> Client:
        client = Client()
        client.force_login(person)
        return client

    return build
