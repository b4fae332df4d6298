"""E-mail of notifications, received by a real SMTP server on 127.0.0.1."""

import logging

import pytest
from django.db import transaction
from django.test import Client

from answers.models import Answer, Question
from commonplace.tests.fixtures import TASK_TIMEOUT, TEST_BASE_URL, wait_until
from core.models import AuditEvent
from notifications.models import Notification
from notifications.preferences import (
    set_notification_emails,
    wants_notification_emails,
)
from notifications.services import mark_read, notify
from notifications.tasks import send_notification_emails

pytestmark = pytest.mark.django_db(transaction=True)

TASK = "notifications.tasks.send_notification_emails"
CHECKED = b'name="notification_emails" checked'

EMPLOYEE_BODY = f"""Hello Petra,

Sally Tester asked: Why is SO-10348 short?

Open it in Commonplace:
{TEST_BASE_URL}/questions/7/

All your notifications: {TEST_BASE_URL}/notifications/
Stop these e-mails: {TEST_BASE_URL}/notifications/e-mail/

This e-mail comes from Company X's internal learning network.
Do not forward it outside Company X.
"""

CUSTOMER_BODY = f"""Hello Carla,

Sally Tester answered your question: Where is my credit note?

Open it in Commonplace:
{TEST_BASE_URL}/questions/9/#answer-3

All your notifications: {TEST_BASE_URL}/notifications/
Stop these e-mails: {TEST_BASE_URL}/notifications/e-mail/

You get this e-mail because you take part in Company X's
customer community on Commonplace.
"""


class Rollback(Exception):
    pass


def subject_of(message) -> str:
    # A subject too long for the first header line is folded onto the next
    # one, and Python's parser keeps the fold's leading space.
    return str(message["Subject"]).lstrip()


def body_of(message) -> str:
    # SMTP carries lines ended by CRLF.
    return str(message.get_content()).replace("\r\n", "\n")


@pytest.fixture(autouse=True)
def subjects(sales_rep, payments_community, customer_community):
    """Create the question and answer the notifications below are about.

    Their ids are fixed, so the expected e-mails can spell out the links.
    """
    Question.objects.create(
        pk=7,
        community=payments_community,
        author=sales_rep,
        author_name=sales_rep.display_name,
        title="Why is SO-10348 short?",
    )
    customer_question = Question.objects.create(
        pk=9,
        community=customer_community,
        author_name="Carla Tester",
        title="Where is my credit note?",
    )
    Answer.objects.create(
        pk=3,
        question=customer_question,
        author=sales_rep,
        author_name=sales_rep.display_name,
        body="It is posted.",
        body_html="<p>It is posted.</p>",
    )


@pytest.fixture
def emails_on(settings, mailbox):
    settings.NOTIFICATION_EMAILS = True
    settings.COMMONPLACE_COMPANY_NAME = "Company X"
    return mailbox


def notify_routed_question(sales_rep, recipient) -> None:
    notify(
        recipients=[recipient],
        kind=Notification.Kind.QUESTION_ROUTED,
        actor=sales_rep,
        message="Sally Tester asked: Why is SO-10348 short?",
        url="/questions/7/",
        subject_key="question:7",
    )


def test_employee_gets_exact_email(emails_on, sales_rep, super_user):
    with transaction.atomic():
        notify_routed_question(sales_rep, super_user)
        assert emails_on == []

    [received] = emails_on
    assert received.mail_from == "commonplace@localhost"
    assert received.rcpt_tos == ["petra@example.com"]
    message = received.message
    assert subject_of(message) == (
        "Question for your function: Sally Tester asked: Why is SO-10348 short?"
    )
    assert message["From"] == "Commonplace <commonplace@localhost>"
    assert message["To"] == "petra@example.com"
    assert message.get_content_type() == "text/plain"
    assert body_of(message) == EMPLOYEE_BODY
    notification = Notification.objects.get(recipient=super_user)
    assert notification.emailed_at is not None


def test_customer_email_has_no_internal_text(emails_on, sales_rep, customer):
    notify(
        recipients=[customer],
        kind=Notification.Kind.ANSWER_POSTED,
        actor=sales_rep,
        message="Sally Tester answered your question: Where is my credit note?",
        url="/questions/9/#answer-3",
        subject_key="answer:3",
    )

    [received] = emails_on
    assert received.rcpt_tos == ["carla@example.com"]
    assert subject_of(received.message) == (
        "New answer: Sally Tester answered your question: Where is my credit note?"
    )
    body = body_of(received.message)
    assert body == CUSTOMER_BODY
    assert "internal" not in body.lower()
    assert "forward" not in body.lower()


def test_no_email_without_address(emails_on, sales_rep, super_user):
    super_user.email = ""
    super_user.save(update_fields=["email"])

    notify_routed_question(sales_rep, super_user)

    assert emails_on == []
    assert Notification.objects.get(recipient=super_user).emailed_at is None


def test_repeated_event_emails_once(emails_on, sales_rep, super_user):
    notify_routed_question(sales_rep, super_user)
    notify_routed_question(sales_rep, super_user)
    send_notification_emails(
        kind=Notification.Kind.QUESTION_ROUTED, subject_key="question:7"
    )

    assert [received.rcpt_tos for received in emails_on] == [["petra@example.com"]]


def test_rolled_back_event_sends_nothing(emails_on, sales_rep, super_user):
    with pytest.raises(Rollback), transaction.atomic():
        notify_routed_question(sales_rep, super_user)
        raise Rollback

    assert emails_on == []
    assert Notification.objects.count() == 0


def test_read_notification_is_not_emailed(emails_on, settings, sales_rep, super_user):
    settings.NOTIFICATION_EMAILS = False
    notify_routed_question(sales_rep, super_user)
    notification = Notification.objects.get(recipient=super_user)
    mark_read(recipient=super_user, notification_id=notification.pk)

    send_notification_emails(kind="question_routed", subject_key="question:7")

    assert emails_on == []


def test_emails_off_sends_nothing(emails_on, settings, sales_rep, super_user):
    settings.NOTIFICATION_EMAILS = False

    notify_routed_question(sales_rep, super_user)

    assert emails_on == []
    assert Notification.objects.get(recipient=super_user).emailed_at is None


def test_smtp_down_is_logged_not_raised(
    emails_on, settings, caplog, sales_rep, super_user
):
    from commonplace.tests.fixtures import free_port

    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port(), "timeout": 5},
        }
    }
    settings.BACKGROUND_INLINE_MAX_RETRY_DELAY = 0
    caplog.set_level(logging.WARNING, logger="commonplace.background")

    with transaction.atomic():
        notify_routed_question(sales_rep, super_user)

    notification = Notification.objects.get(recipient=super_user)
    assert notification.emailed_at is None
    messages = [
        entry.getMessage()
        for entry in caplog.records
        if entry.name == "commonplace.background"
    ]
    assert len(messages) == 6
    assert messages[0].startswith(
        f"background task retrying: task={TASK} retry=1/5 delay=0s "
        "error=ConnectionRefusedError("
    )
    assert messages[-1] == (
        f"background task failed: task={TASK} attempts=6 args=[] "
        "kwargs={'kind': 'question_routed', 'subject_key': 'question:7'}"
    )


def test_celery_worker_sends_email(
    emails_on, settings, celery_worker, sales_rep, super_user
):
    settings.BACKGROUND_BACKEND = "celery"

    with transaction.atomic():
        notify_routed_question(sales_rep, super_user)

    wait_until(
        lambda: len(emails_on) == 1,
        description="the worker's e-mail",
        timeout=TASK_TIMEOUT,
    )
    [received] = emails_on
    assert received.rcpt_tos == ["petra@example.com"]
    assert subject_of(received.message) == (
        "Question for your function: Sally Tester asked: Why is SO-10348 short?"
    )
    assert body_of(received.message) == EMPLOYEE_BODY
    notification = Notification.objects.get(recipient=super_user)
    assert notification.emailed_at is not None


def test_opted_out_person_gets_no_email(emails_on, sales_rep, super_user):
    set_notification_emails(person=super_user, enabled=False)

    notify_routed_question(sales_rep, super_user)

    assert emails_on == []
    assert Notification.objects.get(recipient=super_user).emailed_at is None


def test_opted_back_in_person_gets_email(emails_on, sales_rep, super_user):
    set_notification_emails(person=super_user, enabled=False)
    set_notification_emails(person=super_user, enabled=True)

    notify_routed_question(sales_rep, super_user)

    assert [received.rcpt_tos for received in emails_on] == [["petra@example.com"]]


def test_settings_page_turns_email_off(super_user):
    client = Client()
    client.force_login(super_user)

    page = client.get("/notifications/e-mail/")
    response = client.post("/notifications/e-mail/", {})

    assert page.status_code == 200
    assert CHECKED in page.content
    assert response.status_code == 302
    assert response["Location"] == "/notifications/e-mail/"
    assert wants_notification_emails(person=super_user) is False
    event = AuditEvent.objects.get(action="notifications.email_preference_changed")
    assert event.before == {"notification_emails": True}
    assert event.after == {"notification_emails": False}
    assert CHECKED not in client.get("/notifications/e-mail/").content


def test_settings_page_turns_email_on(super_user):
    set_notification_emails(person=super_user, enabled=False)
    client = Client()
    client.force_login(super_user)

    response = client.post("/notifications/e-mail/", {"notification_emails": "on"})

    assert response.status_code == 302
    assert wants_notification_emails(person=super_user) is True
    assert CHECKED in client.get("/notifications/e-mail/").content


def test_settings_page_needs_sign_in():
    response = Client().get("/notifications/e-mail/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
