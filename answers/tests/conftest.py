"""Named people and questions the Q&A and FAQ tests share.

``member`` belongs to the private pricing community that ``facilitator``
owns. ``moderator`` has the moderator role. ``outsider`` is an employee who
belongs to no community and is super-user of no function. ``customer`` is a
customer account, and ``super_user`` is the payments super-user, who owns
the payments FAQ.
"""

import pytest
from django.test import Client

from accounts.models import Role
from answers.services import create_question
from communities.models import Membership
from conftest import make_person


@pytest.fixture
def member(private_community):
    person = make_person("mia", Role.SALES_REP, group="sales")
    Membership.objects.create(community=private_community, person=person)
    return person


@pytest.fixture
def moderator(db):
    return make_person("mo", Role.MODERATOR, group="operations")


@pytest.fixture
def signed_in():
    def build(person) -> Client:
        client = Client()
        client.force_login(person)
        return client

    return build


@pytest.fixture
def payments_question(sales_rep, payments_community):
    return create_question(
        author=sales_rep,
        community=payments_community,
        title="How do I write off a short payment?",
        body="The customer paid 0.50 less. #shortpay",
    )


@pytest.fixture
def private_question(member, private_community):
    return create_question(
        author=member,
        community=private_community,
        title="What is the floor price for chai?",
    )
