"""Password reset by e-mail, sent through a real SMTP server on 127.0.0.1.

With the inline backend the reset task runs on the process's background
thread, which reads the database through its own connection. Tests that
send the e-mail therefore commit their rows (``transaction=True``).
"""

import logging
import re
import socket

import pytest
from django.test import Client

from accounts.models import Role, User
from accounts.tasks import send_password_reset_email
from commonplace import background_thread
from commonplace.tests.fixtures import TASK_TIMEOUT, TEST_BASE_URL

pytestmark = pytest.mark.django_db
sends_mail = pytest.mark.django_db(transaction=True)

NEW_PASSWORD = "violet-harbour-lantern-42"
LINK = re.compile(re.escape(TEST_BASE_URL) + r"(/accounts/password-reset/\S+/)")


@pytest.fixture
def imported_person() -> User:
    """An account as the people import creates it: no usable password."""
    person = User(
        username="ilse",
        first_name="Ilse",
        last_name="Imported",
        email="Ilse.Imported@example.com",
        role=Role.SALES_REP,
    )
    person.set_unusable_password()
    person.save()
    return person


@pytest.fixture
def ask_for_link():
    """Post the reset form and wait for the background thread to send the e-mail."""

    def post(client: Client, email: str) -> str:
        response = client.post("/accounts/password-reset/", {"email": email})
        assert response.status_code == 302
        assert background_thread.wait_until_idle(timeout=TASK_TIMEOUT)
        location: str = response["Location"]
        return location

    return post


def test_login_page_links_to_reset():
    response = Client().get("/accounts/login/")
    assert b'href="/accounts/password-reset/"' in response.content


def test_reset_page_renders():
    response = Client().get("/accounts/password-reset/")
    assert response.status_code == 200
    assert b'name="email"' in response.content


@sends_mail
def test_imported_person_sets_first_password(imported_person, mailbox, ask_for_link):
    client = Client()
    location = ask_for_link(client, "ilse.imported@EXAMPLE.com")
    assert location == "/accounts/password-reset/sent/"

    assert len(mailbox) == 1
    mail = mailbox[0]
    assert mail.rcpt_tos == ["Ilse.Imported@example.com"]
    assert mail.message["Subject"] == "Set your Commonplace password"
    body = mail.message.get_content()
    assert "Your username is ilse." in body
    match = LINK.search(body)
    assert match is not None, body

    # The link stores the token in the session and redirects to a URL
    # without it, where the form is.
    opened = client.get(match.group(1))
    assert opened.status_code == 302
    form_page = client.get(opened["Location"])
    assert b'name="new_password1"' in form_page.content

    saved = client.post(
        opened["Location"],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert saved.status_code == 302
    assert saved["Location"] == "/accounts/password-reset/done/"

    signed_in = Client().post(
        "/accounts/login/", {"username": "ilse", "password": NEW_PASSWORD}
    )
    assert signed_in.status_code == 302
    assert signed_in["Location"] == "/"


@sends_mail
def test_link_works_only_once(imported_person, mailbox, ask_for_link):
    client = Client()
    ask_for_link(client, imported_person.email)
    match = LINK.search(mailbox[0].message.get_content())
    assert match is not None
    opened = client.get(match.group(1))
    client.post(
        opened["Location"],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    again = Client().get(match.group(1))
    assert again.status_code == 200
    assert b"This reset link is invalid" in again.content


@sends_mail
def test_unknown_address_looks_the_same(sales_rep, mailbox, ask_for_link):
    known = ask_for_link(Client(), sales_rep.email)
    unknown = ask_for_link(Client(), "nobody@example.com")
    assert known == unknown
    assert [mail.rcpt_tos for mail in mailbox] == [[sales_rep.email]]


@sends_mail
def test_inactive_account_gets_no_mail(imported_person, mailbox, ask_for_link):
    imported_person.is_active = False
    imported_person.save()
    location = ask_for_link(Client(), imported_person.email)
    assert location == "/accounts/password-reset/sent/"
    assert mailbox == []


@sends_mail
def test_mismatched_passwords_are_rejected(imported_person, mailbox, ask_for_link):
    client = Client()
    ask_for_link(client, imported_person.email)
    match = LINK.search(mailbox[0].message.get_content())
    assert match is not None
    opened = client.get(match.group(1))
    response = client.post(
        opened["Location"],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "x"},
    )
    assert response.status_code == 200
    assert b"The two password fields" in response.content
    imported_person.refresh_from_db()
    assert not imported_person.has_usable_password()


def test_request_only_queues_the_email(
    sales_rep, mailbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = Client().post(
            "/accounts/password-reset/", {"email": sales_rep.email}
        )
    assert response.status_code == 302
    assert mailbox == []
    assert len(queued) == 1


def test_unknown_address_queues_the_same_task(
    mailbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = Client().post(
            "/accounts/password-reset/", {"email": "nobody@example.com"}
        )
    assert response.status_code == 302
    assert len(queued) == 1


@sends_mail
def test_queued_email_sent_after_response(sales_rep, mailbox, ask_for_link):
    ask_for_link(Client(), sales_rep.email)

    assert [mail.rcpt_tos for mail in mailbox] == [[sales_rep.email]]
    body = mail_body(mailbox[0])
    assert LINK.search(body) is not None, body


def test_task_sends_to_the_address_typed(imported_person, mailbox):
    send_password_reset_email(email="ILSE.imported@example.com", base_url=TEST_BASE_URL)

    [mail] = mailbox
    assert mail.rcpt_tos == ["Ilse.Imported@example.com"]
    assert mail.message["Subject"] == "Set your Commonplace password"
    assert "Your username is ilse." in mail_body(mail)


def mail_body(mail) -> str:
    return str(mail.message.get_content()).replace("\r\n", "\n")


@sends_mail
def test_failed_send_logs_no_address(imported_person, settings, caplog, ask_for_link):
    # Nothing listens on a port the test bound and closed, so every attempt fails.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": closed_port, "timeout": 5},
        }
    }
    settings.BACKGROUND_INLINE_MAX_RETRY_DELAY = 0
    caplog.set_level(logging.WARNING, logger="commonplace.background")

    ask_for_link(Client(), "ilse.imported@example.com")

    assert "background task failed" in caplog.text
    assert "ilse.imported" not in caplog.text.lower()
