"""The post history page names each editor by the same rule as the post cards.

The people: ``customer`` (Carla Tester, a customer account) writes a post in
the customer community and edits it. ``mona`` (Mona Tester, a moderator by
role, hidden from customers, the default) then deletes it, which keeps the
last text as a revision. ``fran`` (Fran Tester, a learning facilitator who
chose to be visible to customers) moderates the customer community. Carla
reads Mona as "Moderator" and herself and Fran by name; the moderators read
every name.
"""

import pytest

from accounts.models import Role
from communities.models import Membership
from conftest import make_person
from social.services import delete_post, edit_post, publish_post

pytestmark = pytest.mark.django_db

CARLA = "Carla Tester"
MONA = "Mona Tester"
FRAN = "Fran Tester"


@pytest.fixture
def mona(db):
    return make_person("mona", Role.MODERATOR, group="operations")


@pytest.fixture
def fran(facilitator, customer_community):
    facilitator.visible_to_customers = True
    facilitator.save(update_fields=["visible_to_customers"])
    Membership.objects.update_or_create(
        community=customer_community,
        person=facilitator,
        defaults={"role": Membership.Role.MODERATOR},
    )
    return facilitator


@pytest.fixture
def carla_post(customer, customer_community):
    post = publish_post(
        author=customer, community=customer_community, body="Where is my statement?"
    )
    return edit_post(editor=customer, post=post, body="Where is my May statement?")


def _editors(signed_in, reader, post):
    response = signed_in(reader).get(f"/posts/{post.pk}/history/")
    assert response.status_code == 200
    return response.content.decode()


def test_author_reads_hidden_moderator_by_role(signed_in, customer, mona, carla_post):
    delete_post(actor=mona, post=carla_post)

    page = _editors(signed_in, customer, carla_post)
    assert MONA not in page
    assert "Replaced by Moderator" in page
    assert f"Replaced by {CARLA}" in page


def test_author_reads_visible_moderator_by_name(signed_in, customer, fran, carla_post):
    delete_post(actor=fran, post=carla_post)

    page = _editors(signed_in, customer, carla_post)
    assert f"Replaced by {FRAN}" in page


@pytest.mark.parametrize("reader_name", ["mona", "fran"])
def test_moderators_read_every_editor(
    request, signed_in, mona, fran, carla_post, reader_name
):
    delete_post(actor=mona, post=carla_post)
    reader = request.getfixturevalue(reader_name)

    page = _editors(signed_in, reader, carla_post)
    assert f"Replaced by {MONA}" in page
    assert f"Replaced by {CARLA}" in page
