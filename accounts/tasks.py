"""Background tasks of accounts: the password reset e-mail."""

import logging
import smtplib

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMessage, mailers
from django.template.loader import render_to_string
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.password_reset import reset_recipients
from commonplace.background import task

logger = logging.getLogger(__name__)

SUBJECT_TEMPLATE = "accounts/password_reset_subject.txt"
BODY_TEMPLATE = "accounts/password_reset_email.txt"


@task(
    retry_on=(smtplib.SMTPException, OSError),
    max_retries=5,
    retry_backoff=30,
    hidden_arguments=("email",),
    # Inline, the request would otherwise wait for the SMTP exchange, which
    # only an address with an account has, and so reveal that it has one.
    inline_thread=True,
)
def send_password_reset_email(email: str, base_url: str) -> None:
    """E-mail a reset link to the active account with address ``email``, if any.

    ``base_url`` starts the link. The token is made here, when the task
    runs, so it never travels through the broker or the task logs, and the
    logs show no address either (``hidden_arguments``). An address with no
    account sends nothing.
    """
    for person in reset_recipients(email):
        context = {
            "user": person,
            "uid": urlsafe_base64_encode(force_bytes(person.pk)),
            "token": default_token_generator.make_token(person),
            "base_url": base_url,
            "company_name": settings.COMMONPLACE_COMPANY_NAME,
        }
        subject = render_to_string(SUBJECT_TEMPLATE, context)
        message = EmailMessage(
            # Header lines cannot contain line breaks.
            subject=" ".join(subject.split()),
            body=render_to_string(BODY_TEMPLATE, context),
            to=[person.email],
        )
        mailers.default.send_messages([message])
        logger.info("password reset e-mailed: person=%s", person.pk)
