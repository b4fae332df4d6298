"""Ask from here reaches the super-users available now first.

Named people: ``sales_rep`` (Sally) asks from the short-payment screen;
``super_user`` (Petra) and Paula are the payments super-users. When one of
them is available now, only the available ones are notified. When none is,
all are notified, the confirmation marks who is away or busy, says that
none is available, and names the time the question goes to the community.
"""

from datetime import timedelta

import pytest
from django.test import Client, override_settings
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import Role, SuperUserAssignment
from answers.models import Question
from assist.services import ask_and_route, set_availability
from conftest import make_person
from notifications.models import Notification

pytestmark = pytest.mark.django_db

SHORT_PAYMENT = "reconciliation.order.short_payment"


@pytest.fixture
def paula(payments):
    person = make_person("paula", Role.FINANCE_CLERK, group="operations")
    person.first_name, person.last_name = "Paula", "Reyes"
    person.save(update_fields=["first_name", "last_name"])
    SuperUserAssignment.objects.create(person=person, crm_function=payments)
    return person


def _routed_to(question: Question) -> set[str]:
    return set(
        Notification.objects.filter(
            kind=Notification.Kind.QUESTION_ROUTED,
            subject_key=f"question:{question.pk}",
        ).values_list("recipient__username", flat=True)
    )


def _confirmation(person, title: str = "Write off 0.01?") -> str:
    client = Client()
    client.force_login(person)
    response = client.post(
        "/assist/ask/",
        {"context": SHORT_PAYMENT, "title": title},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200, response.content
    return " ".join(response.content.decode().replace("&#x27;", "'").split())


def test_only_available_super_users_are_notified(
    sales_rep, super_user, paula, payments_community
):
    set_availability(person=paula, status="away")
    set_availability(person=super_user, status="available")

    outcome = ask_and_route(
        asker=sales_rep, context_key=SHORT_PAYMENT, title="Write off?", body=""
    )

    assert _routed_to(outcome.question) == {"petra"}
    assert [r.person.username for r in outcome.notified] == ["petra"]
    assert not outcome.no_super_user_available


def test_everyone_is_notified_when_nobody_is_available(
    sales_rep, super_user, paula, payments_community
):
    set_availability(person=paula, status="away")
    set_availability(person=super_user, status="busy")

    outcome = ask_and_route(
        asker=sales_rep, context_key=SHORT_PAYMENT, title="Write off?", body=""
    )

    assert _routed_to(outcome.question) == {"paula", "petra"}
    assert outcome.no_super_user_available


@override_settings(ASK_ESCALATE_AFTER_MINUTES=120)
def test_confirmation_names_away_and_escalation(sales_rep, paula, payments_community):
    set_availability(person=paula, status="away")

    text = _confirmation(sales_rep)

    question = Question.objects.get()
    moment = timezone.localtime(question.created_at + timedelta(minutes=120))
    if moment.date() == timezone.localdate():
        when = date_format(moment, "TIME_FORMAT")
    else:
        when = date_format(moment, "DATETIME_FORMAT")
    assert (
        "Posted to Payments. Notified: Paula Reyes (a super-user for Payments, "
        "away now). None of them is available now, so if nobody answers by "
        f"{when} (2 hours after you asked), colleagues in Payments are asked."
    ) in text


def test_confirmation_plain_when_available(
    sales_rep, super_user, paula, payments_community
):
    set_availability(person=paula, status="away")
    set_availability(person=super_user, status="available")

    text = _confirmation(sales_rep)

    assert "Paula" not in text
    assert (
        "Notified: Petra Tester (a super-user for Payments). If nobody answers "
        "within 2 hours, colleagues in Payments are asked."
    ) in text


def test_lapsed_away_status_hidden(sales_rep, paula, payments_community):
    set_availability(person=paula, status="away", hours=1)
    later = timezone.now() - timedelta(hours=2)
    paula.availability.__class__.objects.filter(person=paula).update(until=later)

    text = _confirmation(sales_rep)

    assert "Paula Reyes (a super-user for Payments)." in text
    assert "away now" not in text
