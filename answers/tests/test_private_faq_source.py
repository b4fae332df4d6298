"""A post in a private community is not offered as an FAQ source.

Margaret, a sales representative and payments super-user, owns the private
community "Pricing Internal" and posts in it. The "Make FAQ entry" link and
the save share one rule (``social_source_problem``), and the form states the
rule before anything is typed.
"""

import pytest
from django.test import Client

from accounts.models import Role, SuperUserAssignment
from communities.models import Community, Membership
from conftest import make_person
from social.services import publish_post

pytestmark = pytest.mark.django_db

PRIVATE_MESSAGE = "A post in a private community stays in it"


@pytest.fixture
def margaret(payments):
    person = make_person("margaret", Role.SALES_REP, group="sales")
    SuperUserAssignment.objects.create(person=person, crm_function=payments)
    return person


@pytest.fixture
def private_post(margaret):
    community = Community.objects.create(
        slug="pricing-internal-m",
        name="Pricing Internal",
        visibility=Community.Visibility.PRIVATE,
    )
    Membership.objects.create(
        community=community, person=margaret, role=Membership.Role.OWNER
    )
    return publish_post(author=margaret, community=community, body="Floor prices v7")


@pytest.fixture
def open_post(margaret, payments_community):
    return publish_post(
        author=margaret, community=payments_community, body="Under 1 % is a fee."
    )


def signed_in(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def test_link_hidden_on_private_post(margaret, private_post):
    url = f"/questions/faq/source-link/?post={private_post.pk}"

    response = signed_in(margaret).get(url)

    assert response.status_code == 200
    assert b"make-faq-entry" not in response.content


def test_link_shown_on_open_post(margaret, open_post):
    url = f"/questions/faq/source-link/?post={open_post.pk}"

    response = signed_in(margaret).get(url)

    assert b'data-testid="make-faq-entry"' in response.content


def test_form_states_rule_before_typing(margaret, private_post):
    response = signed_in(margaret).get(f"/questions/faq/new/?post={private_post.pk}")

    page = response.content.decode()
    assert response.status_code == 422
    assert 'data-testid="faq-source-problem"' in page
    assert PRIVATE_MESSAGE in page
    assert 'name="answer_text"' not in page


def test_form_offered_for_open_post(margaret, open_post):
    response = signed_in(margaret).get(f"/questions/faq/new/?post={open_post.pk}")

    assert response.status_code == 200
    assert 'name="answer_text"' in response.content.decode()


def test_save_keeps_typed_text(margaret, private_post, payments):
    """A save sent anyway is rejected, and the form keeps what was typed."""
    response = signed_in(margaret).post(
        f"/questions/faq/new/?post={private_post.pk}",
        {
            "question_text": "Floor prices?",
            "answer_text": "My long answer.",
            "crm_function": payments.pk,
        },
    )

    page = response.content.decode()
    assert response.status_code == 422
    assert PRIVATE_MESSAGE in page
    assert "My long answer." in page
