"""The demo profiles seed, run on the demo staff it names."""

import pytest

from accounts.models import Endorsement, PersonSkill, Role, User
from accounts.selectors import visible_people
from conftest import make_person
from demo.profiles import ENDORSEMENTS, seed_profiles

pytestmark = pytest.mark.django_db

STAFF = {
    "margaret": Role.SALES_REP,
    "janet": Role.SALES_REP,
    "paula": Role.FINANCE_CLERK,
    "fiona": Role.FINANCE_CLERK,
    "walter": Role.WAREHOUSE,
    "sam": Role.WAREHOUSE,
    "lena": Role.FACILITATOR,
}


@pytest.fixture
def demo_staff(db) -> None:
    for username, role in STAFF.items():
        make_person(username, role)


def test_seed_fills_profiles(demo_staff, customer):
    seed_profiles()

    paula = User.objects.get(username="paula")
    assert paula.headline == "Cash application lead: every payment finds its invoice"
    assert list(
        PersonSkill.objects.filter(person=paula).values_list(
            "skill__display_name", flat=True
        )
    ) == ["Cash application", "Short payments", "Remittance advice", "Bank lines"]
    assert Endorsement.objects.count() == len(ENDORSEMENTS)
    assert sorted(p.username for p in visible_people(customer)) == [
        "carla",
        "margaret",
        "paula",
    ]


def test_seed_runs_twice(demo_staff):
    seed_profiles()
    seed_profiles()
    assert Endorsement.objects.count() == len(ENDORSEMENTS)
    assert PersonSkill.objects.filter(person__username="margaret").count() == 4


def test_seed_skips_missing_people(db):
    make_person("paula", Role.FINANCE_CLERK)
    seed_profiles()
    assert Endorsement.objects.count() == 0
    assert PersonSkill.objects.filter(person__username="paula").count() == 4
