"""The ask page keeps one question when the same one is sent twice.

It follows the rule of the help panel's ask (``assist.services``): the same
title, community and screen context from the same person within
``DUPLICATE_WINDOW`` returns the first question and notifies nobody again.
"""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from answers.models import Question
from answers.services import ask_question
from answers.services.questions import DUPLICATE_WINDOW
from assist.models import HelpContext
from notifications.models import Notification
from social.tests.test_duplicate_posts import run_together

SHORT_PAYMENT = "reconciliation.order.short_payment"


def ask_form(community, title: str = "Where are credit notes?") -> dict[str, object]:
    return {
        "community": community.pk,
        "title": title,
        "body": "I looked in the order.",
        "context": SHORT_PAYMENT,
    }


@pytest.mark.django_db
def test_page_sent_twice_keeps_first(
    signed_in, sales_rep, super_user, payments_community
):
    client = signed_in(sales_rep)
    notices = Notification.objects.filter(kind=Notification.Kind.QUESTION_ROUTED)

    first = client.post("/questions/ask/", ask_form(payments_community))
    notified = list(notices.values_list("recipient__username", flat=True))
    again = client.post("/questions/ask/", ask_form(payments_community))

    question = Question.objects.get()
    assert (first.status_code, again.status_code) == (302, 302)
    assert again["Location"] == first["Location"] == f"/questions/{question.pk}/"
    assert notified == [super_user.username]
    assert notices.count() == 1


@pytest.mark.django_db
def test_other_title_context_or_community_is_new(
    sales_rep, payments_community, customer_community
):
    order = HelpContext.objects.get(key="reconciliation.order")
    ask_question(asker=sales_rep, community=payments_community, title="Where?")
    ask_question(asker=sales_rep, community=payments_community, title="Where now?")
    ask_question(
        asker=sales_rep, community=payments_community, title="Where?", context=order
    )
    ask_question(asker=sales_rep, community=customer_community, title="Where?")

    assert Question.objects.count() == 4


@pytest.mark.django_db
def test_spacing_of_title_is_the_same_question(sales_rep, payments_community):
    first = ask_question(asker=sales_rep, community=payments_community, title="Where?")
    again = ask_question(
        asker=sales_rep, community=payments_community, title="  Where? "
    )

    assert again.pk == first.pk


@pytest.mark.django_db
def test_same_question_after_window_is_new(sales_rep, payments_community):
    first = ask_question(asker=sales_rep, community=payments_community, title="Where?")
    Question.objects.filter(pk=first.pk).update(
        created_at=timezone.now() - DUPLICATE_WINDOW - timedelta(seconds=1)
    )
    second = ask_question(asker=sales_rep, community=payments_community, title="Where?")

    assert second.pk != first.pk


@pytest.mark.django_db(transaction=True)
def test_parallel_page_asks_make_one(sales_rep, payments_community):
    form = ask_form(payments_community, title="Clicked five times")

    def submit() -> int:
        client = Client()
        client.force_login(sales_rep)
        return client.post("/questions/ask/", form).status_code

    statuses = run_together(5, submit)

    assert statuses == [302] * 5
    assert Question.objects.filter(title="Clicked five times").count() == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_panel_asks_make_one(sales_rep, payments_community):
    def submit() -> int:
        client = Client()
        client.force_login(sales_rep)
        response = client.post(
            "/assist/ask/",
            {"context": SHORT_PAYMENT, "title": "Asked from the panel"},
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 200, response.content.decode()[:400]
        return response.status_code

    statuses = run_together(5, submit)

    assert len(set(statuses)) == 1
    assert Question.objects.filter(title="Asked from the panel").count() == 1
