"""A release flags the FAQ entries reviewed before it took effect, by moment.

Paula is the payments super-user who owns the FAQ entry and reviews it;
lena, a learning facilitator, records the releases. Margaret, a sales
representative, wrote the post the entry was made from.
"""

import datetime

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import Role, SuperUserAssignment
from answers.models import FaqEntry, release_takes_effect_at
from answers.selectors import entries_needing_review
from answers.services import create_faq_entry, mark_faq_reviewed, record_release
from assist.models import HelpContext
from conftest import make_person
from social.services import publish_post

pytestmark = pytest.mark.django_db

SHORT_PAYMENT = "reconciliation.order.short_payment"


@pytest.fixture
def paula(payments):
    person = make_person("paula", Role.FINANCE_CLERK, group="operations")
    SuperUserAssignment.objects.create(person=person, crm_function=payments)
    return person


@pytest.fixture
def lena(db):
    return make_person("lena", Role.FACILITATOR, group="customer_service")


@pytest.fixture
def entry(paula, payments, payments_community) -> FaqEntry:
    margaret = make_person("margaret", Role.SALES_REP, group="sales")
    post = publish_post(
        author=margaret, community=payments_community, body="Under 1 % is a fee."
    )
    return create_faq_entry(
        actor=paula,
        source=post,
        question_text="Is a small short payment a bank fee?",
        crm_function=payments,
        contexts=[HelpContext.objects.get(key=SHORT_PAYMENT)],
    )


def release_today(lena) -> None:
    record_release(
        actor=lena,
        title="Release 7.2 ✨",
        released_on=timezone.localdate(),
        context_keys=[SHORT_PAYMENT],
    )


def test_same_day_release_flags_entry(entry, paula, lena, payments):
    """The entry was reviewed (made) earlier today; the release came later."""
    release_today(lena)

    due = entries_needing_review(paula, payments)

    assert [item.pk for item in due] == [entry.pk]


def test_review_after_release_clears(entry, paula, lena, payments):
    release_today(lena)

    mark_faq_reviewed(actor=paula, entry=entry)

    assert list(entries_needing_review(paula, payments)) == []


def test_review_list_names_release(entry, paula, lena, payments):
    release_today(lena)
    client = Client()
    client.force_login(paula)

    page = client.get("/questions/functions/payments/review/").content.decode()

    shown = date_format(timezone.localdate(), "DATE_FORMAT")
    assert (
        f"A release changed its screen since the last review: Release 7.2 ✨ ({shown})"
    ) in page


def test_release_moment_within_its_day():
    day = datetime.date(2026, 12, 6)
    start = timezone.make_aware(datetime.datetime(2026, 12, 6))
    end = timezone.make_aware(datetime.datetime(2026, 12, 7))
    recorded = timezone.make_aware(datetime.datetime(2026, 12, 6, 4, 0))

    assert release_takes_effect_at(day, recorded) == recorded
    assert release_takes_effect_at(day, start - datetime.timedelta(days=3)) == start
    assert release_takes_effect_at(day, end + datetime.timedelta(days=3)) == end
