"""Profiles for the demo staff: headlines, skills, endorsements, customer visibility.

Runs after the Northwind staff and the extra staff of ``demo.knowledge`` exist.
Everything goes through the profile services, so the rules (skill limits, no
self-endorsement) hold for demo data too. A person missing from the demo is
skipped.
"""

import logging
from dataclasses import dataclass

from django.db import transaction

from accounts.models import User
from accounts.profiles import set_endorsement, update_profile

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProfileSeed:
    headline: str
    about: str
    skills: tuple[str, ...]


PROFILES: dict[str, ProfileSeed] = {
    "margaret": ProfileSeed(
        "Sales representative for key accounts and disputed orders",
        "I look after **key accounts** and help customers when an order and "
        "its invoice disagree. Ask me about price agreements and credit notes.",
        ("Key accounts", "Disputes", "Credit notes", "Order entry"),
    ),
    "paula": ProfileSeed(
        "Cash application lead: every payment finds its invoice",
        "I match incoming payments to open invoices and chase short payments. "
        "Send me the remittance advice and I will find where the money went.",
        ("Cash application", "Short payments", "Remittance advice", "Bank lines"),
    ),
    "janet": ProfileSeed(
        "Order entry super-user",
        "Ask me how to enter split deliveries and backorders correctly.",
        ("Order entry", "Backorders", "Key accounts"),
    ),
    "fiona": ProfileSeed(
        "Invoices and credit notes",
        "",
        ("Invoicing", "Credit notes", "Short payments"),
    ),
    "walter": ProfileSeed(
        "Warehouse lead: shipments, returns, backorders",
        "",
        ("Shipments", "Returns", "Backorders"),
    ),
    "lena": ProfileSeed(
        "Learning facilitator for reconciliation training",
        "I run the reconciliation labs and look after the learning paths.",
        ("Facilitation", "Learning paths"),
    ),
}

# (endorser, person, skill)
ENDORSEMENTS: tuple[tuple[str, str, str], ...] = (
    ("fiona", "paula", "Cash application"),
    ("margaret", "paula", "Cash application"),
    ("janet", "paula", "Short payments"),
    ("paula", "margaret", "Disputes"),
    ("janet", "margaret", "Key accounts"),
    ("paula", "fiona", "Credit notes"),
    ("margaret", "janet", "Order entry"),
    ("sam", "walter", "Returns"),
)

VISIBLE_TO_CUSTOMERS = frozenset({"margaret", "paula"})


@transaction.atomic
def seed_profiles() -> None:
    """Fill in the demo staff's profiles and endorsements. A rerun restores them."""
    people = {
        person.username: person
        for person in User.objects.filter(
            username__in=set(PROFILES) | {row[0] for row in ENDORSEMENTS}
        )
    }
    for username, seed in PROFILES.items():
        person = people.get(username)
        if person is None:
            logger.info("demo profile skipped: no person %s", username)
            continue
        update_profile(
            actor=person,
            person=person,
            headline=seed.headline,
            about=seed.about,
            skills=list(seed.skills),
            visible_to_customers=username in VISIBLE_TO_CUSTOMERS,
        )
    for endorser_name, person_name, skill in ENDORSEMENTS:
        endorser = people.get(endorser_name)
        person = people.get(person_name)
        if endorser is None or person is None:
            continue
        set_endorsement(endorser=endorser, person=person, skill_name=skill, active=True)
