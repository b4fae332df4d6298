"""Community names that look like an existing one are rejected.

Named people: ``outsider`` (Otto, an employee who creates communities),
``facilitator`` (Fran, owner of the private "Pricing internal") and
``customer`` (Carla, a customer account). ``CYRILLIC_CUSTOMER_CORNER``
starts both words with a Cyrillic capital es (U+0421), and
``CYRILLIC_PRICING`` with a Cyrillic capital er (U+0420).
"""

import pytest
from django.core.exceptions import ValidationError

from communities.models import Community, name_key, name_skeleton
from communities.services import create_community
from communities.tests.conftest import signed_in

pytestmark = pytest.mark.django_db

CYRILLIC_CUSTOMER_CORNER = "\u0421ustomer \u0421orner"
CYRILLIC_PRICING = "\u0420ricing internal"


def create(creator, name: str) -> Community:
    return create_community(
        creator=creator,
        name=name,
        purpose="Questions from customers.",
        visibility=Community.Visibility.CUSTOMER,
    )


def test_skeleton_joins_cyrillic_look_alike():
    assert name_skeleton(CYRILLIC_CUSTOMER_CORNER) == name_skeleton("Customer corner")
    assert name_key(CYRILLIC_CUSTOMER_CORNER) != name_key("Customer corner")


def test_look_alike_of_visible_community_named(outsider, customer_community):
    with pytest.raises(ValidationError) as caught:
        create(outsider, CYRILLIC_CUSTOMER_CORNER)

    assert caught.value.message_dict == {
        "name": [
            f"The name {CYRILLIC_CUSTOMER_CORNER!r} looks the same as the existing "
            "community 'Customer corner', because some letters are from another "
            "alphabet: pick a name that reads differently, or join that one."
        ]
    }
    assert Community.objects.count() == 1


def test_look_alike_of_hidden_community_not_named(outsider, private_community):
    with pytest.raises(ValidationError) as caught:
        create(outsider, CYRILLIC_PRICING)

    assert caught.value.message_dict == {
        "name": [
            f"The name {CYRILLIC_PRICING!r} looks the same as the name of an "
            "existing community: pick a name that reads differently."
        ]
    }


def test_mixed_alphabet_name_rejected_alone(outsider):
    with pytest.raises(ValidationError) as caught:
        create(outsider, CYRILLIC_CUSTOMER_CORNER)

    assert caught.value.message_dict == {
        "name": [
            f"The community name {CYRILLIC_CUSTOMER_CORNER!r} mixes Latin and "
            "Cyrillic letters in the word '\u0421ustomer', so it can look like "
            "another community name: type each word in one alphabet."
        ]
    }


@pytest.mark.parametrize(
    "name", ["Склад Москва", "Ομάδα πωλήσεων", "Müller & Straße", "Customer corner 2"]
)
def test_one_alphabet_names_still_created(outsider, customer_community, name):
    assert create(outsider, name).name == name


def test_case_duplicate_keeps_its_message(outsider, customer_community):
    with pytest.raises(ValidationError) as caught:
        create(outsider, "CUSTOMER CORNER")

    assert caught.value.message_dict["name"][0].startswith(
        "A community named 'CUSTOMER CORNER' already exists"
    )


def test_form_shows_look_alike_error(outsider, customer_community):
    response = signed_in(outsider).post(
        "/communities/new/",
        {"name": CYRILLIC_CUSTOMER_CORNER, "purpose": "x", "visibility": "customer"},
    )

    assert response.status_code in (200, 400, 422)
    assert "looks the same as the existing community" in response.content.decode()
    assert Community.objects.count() == 1
