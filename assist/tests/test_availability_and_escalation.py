"""Super-users' availability in the help panel, and questions escalated in time."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts.models import Role, SuperUserAssignment
from answers.models import Answer, Question
from assist.models import Availability, QuestionEscalation
from assist.selectors import build_help_panel
from assist.services import (
    ask_from_context,
    escalate_unanswered_questions,
    set_availability,
)
from communities.models import Membership
from conftest import make_person
from core.models import AuditEvent
from notifications.models import Notification

pytestmark = pytest.mark.django_db

SHORT_PAYMENT = "reconciliation.order.short_payment"


def panel_people(viewer):
    return [
        (person.username, person.available)
        for person in build_help_panel(viewer=viewer, key=SHORT_PAYMENT).super_users
    ]


class TestAvailability:
    def test_available_super_users_come_first(self, sales_rep, super_user, payments):
        second = make_person("anna", Role.FINANCE_CLERK)
        SuperUserAssignment.objects.create(person=second, crm_function=payments)
        assert panel_people(sales_rep) == [("anna", False), ("petra", False)]

        set_availability(person=super_user, status="available")

        assert panel_people(sales_rep) == [("petra", True), ("anna", False)]

    def test_a_status_without_an_end_lapses_after_a_working_day(
        self, sales_rep, super_user
    ):
        set_availability(person=super_user, status="available")
        stale = timezone.now() - timedelta(hours=9)
        Availability.objects.filter(person=super_user).update(updated_at=stale)
        assert panel_people(sales_rep) == [("petra", False)]

    def test_a_status_with_hours_holds_until_then(self, sales_rep, super_user):
        set_availability(person=super_user, status="available", hours=2)
        assert panel_people(sales_rep) == [("petra", True)]
        Availability.objects.filter(person=super_user).update(
            until=timezone.now() - timedelta(minutes=1)
        )
        # A lapse by time sends no signal, so the cached panel stays until it
        # expires (docs/embedding.md). This test reads past the cache.
        cache.clear()
        assert panel_people(sales_rep) == [("petra", False)]

    def test_busy_and_away_are_not_available(self, sales_rep, super_user):
        set_availability(person=super_user, status="busy")
        assert panel_people(sales_rep) == [("petra", False)]

    def test_only_super_users_set_a_status(self, sales_rep):
        with pytest.raises(PermissionDenied, match="Only super-users show"):
            set_availability(person=sales_rep, status="available")
        assert not Availability.objects.exists()

    def test_an_unknown_status_is_named(self, super_user):
        with pytest.raises(ValidationError, match="Unknown status 'asleep'"):
            set_availability(person=super_user, status="asleep")

    def test_the_form_sets_it_and_the_panel_shows_it(self, super_user, payments):
        client = Client()
        client.force_login(super_user)
        answer = client.post(
            "/assist/availability/",
            {"status": "available", "hours": "3", "next": "/reconciliation/orders/"},
        )
        assert answer.status_code == 302
        assert answer["Location"] == "/reconciliation/orders/"
        panel = client.get("/assist/panel/", {"context": SHORT_PAYMENT})
        assert 'data-testid="available-now"' in panel.content.decode()

    def test_the_form_names_bad_hours(self, super_user):
        client = Client()
        client.force_login(super_user)
        answer = client.post(
            "/assist/availability/",
            {"status": "available", "hours": "0", "next": "/"},
            follow=True,
        )
        assert "Choose at least 1 hour." in answer.content.decode()
        assert not Availability.objects.exists()

    def test_form_rejects_arabic_indic_hours(self, super_user):
        client = Client()
        client.force_login(super_user)
        answer = client.post(
            "/assist/availability/",
            {"status": "available", "hours": "\u0663", "next": "/"},
            follow=True,
        )
        assert (
            "&#x27;\u0663&#x27; has digits other than 0 to 9: type the number with "
            "the digits 0 to 9."
        ) in answer.content.decode()
        assert not Availability.objects.exists()


@pytest.fixture
def asked(sales_rep, super_user, payments, payments_community):
    sales_rep.crm_functions.add(payments)
    return ask_from_context(
        asker=sales_rep,
        context_key=SHORT_PAYMENT,
        title="Who credits a short pay?",
        body="",
    )


def member(community, username, *, functions=(), role=Role.FINANCE_CLERK, **extra):
    person = make_person(username, role, **extra)
    person.crm_functions.add(*functions)
    Membership.objects.create(community=community, person=person)
    return person


def age(question: Question, minutes: int) -> None:
    Question.objects.filter(pk=question.pk).update(
        created_at=timezone.now() - timedelta(minutes=minutes)
    )


class TestEscalation:
    def test_a_fresh_question_is_not_escalated(
        self, asked, payments_community, payments
    ):
        member(payments_community, "pat", functions=[payments])
        age(asked, 119)
        assert escalate_unanswered_questions() == []
        assert not QuestionEscalation.objects.exists()

    def test_an_unanswered_question_goes_to_the_functions_members(
        self, asked, payments_community, payments, super_user
    ):
        member(payments_community, "pat", functions=[payments])
        member(payments_community, "olga")  # works in no payments function
        Membership.objects.create(community=payments_community, person=super_user)
        age(asked, 121)

        assert escalate_unanswered_questions() == [asked.pk]

        told = Notification.objects.filter(subject_key=f"question-escalated:{asked.pk}")
        assert [note.recipient.username for note in told] == ["pat"]
        assert told.get().url == f"/questions/{asked.pk}/"
        assert QuestionEscalation.objects.get(question=asked).notified_count == 1
        event = AuditEvent.objects.get(action="question.escalated")
        assert event.after == {"community": "payments", "notified": 1}

    def test_a_second_run_tells_nobody_again(self, asked, payments_community, payments):
        member(payments_community, "pat", functions=[payments])
        age(asked, 200)
        escalate_unanswered_questions()
        assert escalate_unanswered_questions() == []
        assert (
            Notification.objects.filter(
                subject_key=f"question-escalated:{asked.pk}"
            ).count()
            == 1
        )

    def test_an_answered_question_is_not_escalated(
        self, asked, payments_community, payments, super_user
    ):
        member(payments_community, "pat", functions=[payments])
        Answer.objects.create(
            question=asked,
            author=super_user,
            author_name="Petra Tester",
            body="Raise a credit note.",
            body_html="<p>Raise a credit note.</p>",
        )
        age(asked, 500)
        assert escalate_unanswered_questions() == []

    def test_a_deleted_answer_answers_nothing(
        self, asked, payments_community, payments, super_user
    ):
        member(payments_community, "pat", functions=[payments])
        Answer.objects.create(
            question=asked,
            author=super_user,
            author_name="Petra Tester",
            body="",
            body_html="",
            deleted_at=timezone.now(),
        )
        age(asked, 121)
        assert escalate_unanswered_questions() == [asked.pk]
        told = Notification.objects.get(subject_key=f"question-escalated:{asked.pk}")
        assert told.kind == Notification.Kind.QUESTION_ESCALATED

    def test_large_communities_are_told_up_to_the_cap_longest_members_first(
        self, asked, payments_community, payments, settings
    ):
        settings.ASK_ESCALATION_MAX_RECIPIENTS = 2
        for name in ("m1", "m2", "m3"):
            member(payments_community, name, functions=[payments])
        age(asked, 121)
        escalate_unanswered_questions()
        told = Notification.objects.filter(subject_key=f"question-escalated:{asked.pk}")
        assert sorted(note.recipient.username for note in told) == ["m1", "m2"]
        assert QuestionEscalation.objects.get(question=asked).notified_count == 2

    def test_customer_members_are_never_told(
        self, asked, payments_community, payments, customer_party
    ):
        member(
            payments_community,
            "cora",
            functions=[payments],
            role=Role.CUSTOMER,
            customer=customer_party,
        )
        age(asked, 121)
        escalate_unanswered_questions()
        assert QuestionEscalation.objects.get(question=asked).notified_count == 0

    def test_the_command_reports_what_it_did(
        self, asked, payments_community, payments, capsys
    ):
        member(payments_community, "pat", functions=[payments])
        age(asked, 121)
        call_command("escalate_questions")
        assert capsys.readouterr().out.strip() == "Escalated 1 question(s)."
