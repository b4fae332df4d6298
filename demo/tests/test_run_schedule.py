"""run_schedule: what `make run` runs beside the server instead of cron."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from accounts.models import User
from answers.models import Question
from assist.services import ask_from_context
from demo.management.commands.run_schedule import ESCALATE, MATCHING, Schedule
from notifications.models import Notification


def test_schedule_due_by_interval_and_day():
    schedule = Schedule(escalate_every=timedelta(seconds=60))
    start = datetime(2026, 12, 5, 23, 58, 30, tzinfo=UTC)

    with override_settings(TIME_ZONE="UTC"):
        assert schedule.due(start) == [MATCHING, ESCALATE]
        assert schedule.due(start + timedelta(seconds=59)) == []
        assert schedule.due(start + timedelta(seconds=60)) == [ESCALATE]
        # Midnight passes: the new day gets its matching pass.
        assert schedule.due(start + timedelta(seconds=95)) == [MATCHING]
        assert schedule.due(start + timedelta(seconds=120)) == [ESCALATE]
        assert schedule.due(start + timedelta(seconds=150)) == []


def test_schedule_new_day_in_time_zone():
    schedule = Schedule(escalate_every=timedelta(hours=1))
    # 23:30 UTC on 5 December is already 6 December in Berlin.
    with override_settings(TIME_ZONE="Europe/Berlin"):
        schedule.due(datetime(2026, 12, 5, 22, 30, tzinfo=UTC))
        assert MATCHING in schedule.due(datetime(2026, 12, 5, 23, 30, tzinfo=UTC))


@pytest.mark.django_db
def test_once_escalates_and_runs_pass(settings, tmp_path):
    # Through the fixture only: a decorator's override mixed with the
    # fixture's is undone in the wrong order and leaves DEBUG on.
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path
    call_command("load_demo", stdout=StringIO())
    question = ask_from_context(
        asker=User.objects.get(username="margaret"),
        context_key="reconciliation.order.short_payment",
        title="Who approves a write-off above the tolerance?",
        body="",
    )
    Question.objects.filter(pk=question.pk).update(
        created_at=timezone.now() - timedelta(minutes=121)
    )
    output = StringIO()

    call_command("run_schedule", "--once", stdout=output)

    lines = output.getvalue().splitlines()
    assert lines[1].startswith("Company X: 830 orders checked, ")
    assert lines[2] == "Escalated 1 unanswered question(s) to their communities."
    notified = Notification.objects.filter(
        subject_key=f"question-escalated:{question.pk}"
    )
    assert sorted(notified.values_list("recipient__username", flat=True)) == [
        "andrew",
        "fiona",
        "steven",
    ]


@pytest.mark.django_db
def test_once_without_late_questions_is_quiet():
    output = StringIO()

    call_command("run_schedule", "--once", stdout=output)

    assert "Escalated" not in output.getvalue()
