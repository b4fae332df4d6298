"""Query counts of the FAQ pages that list why entries need review."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from answers.models import FaqEntry
from answers.services import create_faq_entry, record_release
from assist.models import HelpContext

pytestmark = pytest.mark.django_db

SHORT_PAYMENT = "reconciliation.order.short_payment"
JAN_FIRST = timezone.make_aware(datetime.datetime(2026, 1, 1))
RELEASE_DAY = datetime.date(2026, 2, 1)


def add_flagged_entries(count, super_user, open_post, payments):
    """Create ``count`` entries reviewed before a release changed their screen.

    A post becomes one FAQ entry, so each entry comes from its own post in
    the community of ``open_post``.
    """
    from social.services import publish_post

    for number in range(count):
        source = publish_post(
            author=open_post.author,
            community=open_post.community,
            body=f"Short-pay tip {FaqEntry.objects.count() + 1}.",
        )
        entry = create_faq_entry(
            actor=super_user,
            source=source,
            question_text=f"Short payment question {number}?",
            crm_function=payments,
            contexts=[HelpContext.objects.get(key=SHORT_PAYMENT)],
        )
        FaqEntry.objects.filter(pk=entry.pk).update(
            last_reviewed_on=JAN_FIRST.date(),
            last_reviewed_at=JAN_FIRST,
            review_due_on=timezone.localdate() + datetime.timedelta(days=90),
        )


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


@pytest.fixture
def open_post(sales_rep, payments_community):
    from social.services import publish_post

    return publish_post(
        author=sales_rep, community=payments_community, body="Short-pay tip."
    )


@pytest.fixture
def released(facilitator):
    return record_release(
        actor=facilitator,
        title="CRM 4.1",
        released_on=RELEASE_DAY,
        context_keys=[SHORT_PAYMENT],
    )


@pytest.mark.parametrize(
    "url", ["/questions/functions/payments/review/", "/questions/faq/"]
)
def test_release_reasons_fixed_query_count(
    url, released, signed_in, super_user, open_post, payments
):
    client = signed_in(super_user)
    add_flagged_entries(1, super_user, open_post, payments)
    client.get(url)  # Warms the session and per-process caches.
    one_count, one_page = count_queries(client, url)
    add_flagged_entries(9, super_user, open_post, payments)
    ten_count, ten_page = count_queries(client, url)

    assert one_page.count("A release changed its screen") == 1
    assert ten_page.count("A release changed its screen") == 10
    assert ten_page.count("CRM 4.1") >= 10
    assert ten_count == one_count
