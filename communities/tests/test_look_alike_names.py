"""Community names that look like an existing one are rejected.

Named people: ``outsider`` (Otto, an employee who creates communities),
``facilitator`` (Fran, owner of the private "Pricing internal") and
``customer`` (Carla, a customer account). ``CYRILLIC_CUSTOMER_CORNER``
starts both words with a Cyrillic capital es (U+0421), and
``CYRILLIC_PRICING`` with a Cyrillic capital er (U+0420).
"""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

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
            "community 'Customer corner': they differ only in letters that look "
            "alike, in accents or in invisible characters. Pick a name that reads "
            "differently, or join that one."
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


@pytest.mark.parametrize(
    "name",
    [
        "Customer comer",
        "Cust0mer corner",
        "Customer cornér",
        "Custorner corner",
        "Customer c\u034forner",
    ],
)
def test_latin_look_alike_rejected(outsider, customer_community, name):
    with pytest.raises(ValidationError) as caught:
        create(outsider, name)

    assert caught.value.message_dict == {
        "name": [
            f"The name {name!r} looks the same as the existing community "
            "'Customer corner': they differ only in letters that look alike, in "
            "accents or in invisible characters. Pick a name that reads "
            "differently, or join that one."
        ]
    }
    assert Community.objects.count() == 1


def test_created_community_stores_skeleton(outsider):
    community = create(outsider, "Modern Café")

    community.refresh_from_db()
    assert community.name_skeleton == "modem cafe"


def test_database_rejects_look_alike_insert(customer_community):
    # A write that skips the service's checks still meets the unique index.
    with pytest.raises(IntegrityError), transaction.atomic():
        Community.objects.create(slug="comer", name="Customer comer")


def test_bulk_create_and_update_set_skeleton(db):
    [community] = Community.objects.bulk_create(
        [Community(slug="orders", name="0rders desk")]
    )
    assert Community.objects.get(pk=community.pk).name_skeleton == "orders desk"

    Community.objects.filter(pk=community.pk).update(name="Modern desk")

    assert Community.objects.get(pk=community.pk).name_skeleton == "modem desk"


def test_marked_look_alike_stays_marked_until_renamed(db):
    # As migration 0004 leaves a newer look-alike: same skeleton, stored NULL.
    marked = Community.objects.create(slug="comer", name="Customer comer")
    Community.objects.filter(pk=marked.pk).update(name_skeleton=None)
    Community.objects.create(slug="corner", name="Customer corner")

    marked = Community.objects.get(pk=marked.pk)
    marked.purpose = "Still here."
    marked.save()
    assert Community.objects.get(pk=marked.pk).name_skeleton is None

    marked.name = "Customer voices"
    marked.save()
    assert Community.objects.get(pk=marked.pk).name_skeleton == "customer volces"


def test_marked_look_alike_rename_to_look_alike_fails(customer_community, db):
    marked = Community.objects.create(slug="x", name="Unrelated")
    Community.objects.filter(pk=marked.pk).update(name_skeleton=None)
    marked = Community.objects.get(pk=marked.pk)

    marked.name = "Cust0mer corner"
    with pytest.raises(IntegrityError), transaction.atomic():
        marked.save()


def test_form_names_latin_look_alike(outsider, customer_community):
    response = signed_in(outsider).post(
        "/communities/new/",
        {"name": "Customer comer", "purpose": "x", "visibility": "customer"},
    )

    page = response.content.decode()
    assert "looks the same as the existing community" in page
    assert "&#x27;Customer corner&#x27;" in page
    assert Community.objects.count() == 1
