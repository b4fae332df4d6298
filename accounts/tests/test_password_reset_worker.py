"""The password reset e-mail sent by a real Celery worker to SMTP on 127.0.0.1."""

import pytest
from django.test import Client

from commonplace.tests.fixtures import TASK_TIMEOUT, TEST_BASE_URL, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def test_worker_sends_reset_email(settings, celery_worker, mailbox, sales_rep):
    settings.BACKGROUND_BACKEND = "celery"

    response = Client().post(
        "/accounts/password-reset/", {"email": "SALLY@example.com"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/accounts/password-reset/sent/"
    wait_until(
        lambda: len(mailbox) == 1,
        description="the worker's reset e-mail",
        timeout=TASK_TIMEOUT,
    )
    [mail] = mailbox
    assert mail.rcpt_tos == ["sally@example.com"]
    body = str(mail.message.get_content())
    assert f"{TEST_BASE_URL}/accounts/password-reset/" in body
    assert "Your username is sally." in body
