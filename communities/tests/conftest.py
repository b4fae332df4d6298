"""Named people around one open community, "Payments desk", for these tests.

``olive`` owns it, ``mona`` moderates it and ``sally`` (the shared
``sales_rep``) is a plain member. ``otto`` (``outsider``) and ``carla``
(``customer``) belong to nothing.
"""

import pytest
from django.test import Client

from accounts.models import Role
from communities.models import Community, Membership
from communities.services import create_community
from conftest import make_person


def signed_in(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


@pytest.fixture
def owner(db):
    return make_person("olive", Role.MANAGER, group="operations")


@pytest.fixture
def moderator(db):
    return make_person("mona", Role.FINANCE_CLERK, group="operations")


@pytest.fixture
def desk(owner, moderator, sales_rep, payments) -> Community:
    community = create_community(
        creator=owner,
        name="Payments desk",
        purpose="Match payments to invoices together.",
        visibility=Community.Visibility.OPEN,
        crm_functions=[payments],
    )
    Membership.objects.create(
        community=community, person=moderator, role=Membership.Role.MODERATOR
    )
    Membership.objects.create(community=community, person=sales_rep)
    return community


@pytest.fixture
def vault(owner, moderator, sales_rep) -> Community:
    """A private community with the same owner, moderator and member."""
    community = create_community(
        creator=owner,
        name="Pricing vault",
        purpose="Discount floors per customer.",
        visibility=Community.Visibility.PRIVATE,
    )
    Membership.objects.create(
        community=community, person=moderator, role=Membership.Role.MODERATOR
    )
    Membership.objects.create(community=community, person=sales_rep)
    return community


@pytest.fixture
def lounge(owner) -> Community:
    """A customer-visible community owned by ``olive``."""
    return create_community(
        creator=owner,
        name="Customer lounge",
        purpose="Questions from customers about statements.",
        visibility=Community.Visibility.CUSTOMER,
    )
