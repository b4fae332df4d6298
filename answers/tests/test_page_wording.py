"""Wording and dates on the Q&A and FAQ pages, read as their readers read them."""

import datetime

import pytest

from answers.models import FaqEntry
from answers.services import create_faq_entry, create_question
from assist.models import HelpContext
from reconciliation.tests.factories import create_order
from social.services import publish_post

pytestmark = pytest.mark.django_db

ORDER = "SO-10348"


def test_question_names_screen_and_order_once(
    signed_in, sales_rep, customer_party, payments_community
):
    create_order(customer=customer_party, number=ORDER, sales_rep=sales_rep)
    question = create_question(
        author=sales_rep,
        community=payments_community,
        title="Why is it still open?",
        context=HelpContext.objects.get(key="portal.order"),
        record_ref=ORDER,
    )
    html = signed_in(sales_rep).get(f"/questions/{question.pk}/").content.decode()
    assert "asked from the screen “<span" in html
    assert ">Your order</span>” · about <a href=" in html
    assert f'data-kind="order">order {ORDER}</a>' in html
    assert " on <a href=" not in html


def test_general_desk_denial_is_plain(signed_in, super_user):
    response = signed_in(super_user).get("/questions/functions/general/review/")
    html = response.content.decode()
    assert response.status_code == 403
    assert "super-users of entries without" not in html
    assert (
        "Only learning facilitators and moderators can open the desk of FAQ "
        "entries that have no CRM function."
    ) in html


def test_general_desk_heading_is_plain(signed_in, facilitator):
    response = signed_in(facilitator).get("/questions/functions/general/review/")
    assert response.status_code == 200
    assert (
        "FAQ entries to review: General (no CRM function)" in response.content.decode()
    )


@pytest.fixture
def reviewed_entry(super_user, sales_rep, payments_community, payments):
    post = publish_post(author=sales_rep, community=payments_community, body="Tip.")
    entry = create_faq_entry(
        actor=super_user, source=post, question_text="Tip?", crm_function=payments
    )
    FaqEntry.objects.filter(pk=entry.pk).update(
        last_reviewed_on=datetime.date(2026, 12, 5),
        review_due_on=datetime.date(2027, 6, 3),
    )
    return entry


def test_faq_list_and_entry_share_date_format(signed_in, super_user, reviewed_entry):
    client = signed_in(super_user)
    listing = client.get("/questions/faq/").content.decode()
    page = client.get(f"/questions/faq/{reviewed_entry.pk}/").content.decode()
    assert "Reviewed 2026-12-05; next review due 2027-06-03" in listing
    assert "Last reviewed 2026-12-05; next review due 2027-06-03." in page
    assert "Dec. 5" not in listing + page
