"""Wording on the Q&A and FAQ pages, read as their readers read them."""

import pytest

from answers.services import create_question
from assist.models import HelpContext
from reconciliation.tests.factories import create_order

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
