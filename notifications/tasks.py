"""Background tasks of notifications: e-mail for new in-app notifications."""

import logging
import smtplib

from django.conf import settings
from django.core.mail import EmailMessage, mailers
from django.template.loader import render_to_string
from django.utils import timezone

from commonplace.background import task
from notifications.models import Notification
from notifications.subjects import shown_messages

logger = logging.getLogger(__name__)


@task(retry_on=(smtplib.SMTPException, OSError), max_retries=5, retry_backoff=30)
def send_notification_emails(kind: str, subject_key: str) -> None:
    """E-mail each unread notification of one event that was not e-mailed yet.

    People who turned notification e-mail off, and people without an e-mail
    address, are skipped.

    Each notification is claimed (``emailed_at`` set) before it is sent and
    released again if the SMTP server fails it, so retries send only what is
    still missing. A crash between the claim and the send loses that e-mail
    instead of sending it twice.
    """
    unsent = (
        Notification.objects.filter(
            kind=kind,
            subject_key=subject_key,
            read_at__isnull=True,
            emailed_at__isnull=True,
        )
        .exclude(recipient__email_preference__notification_emails=False)
        .select_related("recipient")
    )
    pending = [
        notification
        for notification in unsent
        if notification.recipient.email and notification.recipient.is_active
    ]
    if not pending:
        return

    connection = mailers.default
    last_error: smtplib.SMTPException | OSError | None = None
    try:
        connection.open()
        for notification in pending:
            if not _claim(notification):
                continue
            try:
                connection.send_messages([build_notification_email(notification)])
            except (smtplib.SMTPException, OSError) as error:
                _release(notification)
                last_error = error
                logger.warning(
                    "notification e-mail failed: notification=%s recipient=%s error=%r",
                    notification.pk,
                    notification.recipient_id,
                    error,
                )
            else:
                logger.info(
                    "notification e-mailed: notification=%s recipient=%s",
                    notification.pk,
                    notification.recipient_id,
                )
    finally:
        connection.close()
    if last_error is not None:
        raise last_error


def build_notification_email(notification: Notification) -> EmailMessage:
    """Build the plain-text e-mail for one notification.

    A customer account gets the customer template, which carries nothing
    meant for employees only. The message is checked against the subject's
    visibility when the e-mail is built, because a retry may run after the
    recipient lost access.
    """
    recipient = notification.recipient
    base_url = settings.COMMONPLACE_BASE_URL
    link = f"{base_url}{notification.url}"
    if not notification.url.startswith("/"):
        link = f"{base_url}/notifications/"
    context = {
        "first_name": recipient.first_name or recipient.display_name,
        "message": shown_messages(recipient, [notification])[notification.pk],
        "kind_label": notification.get_kind_display(),
        "link": link,
        "notifications_link": f"{base_url}/notifications/",
        "settings_link": f"{base_url}/notifications/e-mail/",
        "company": settings.COMMONPLACE_COMPANY_NAME,
    }
    template = (
        "notifications/email_body_customer.txt"
        if recipient.is_external
        else "notifications/email_body.txt"
    )
    subject = render_to_string("notifications/email_subject.txt", context)
    return EmailMessage(
        # Header lines cannot contain line breaks, and a message may.
        subject=" ".join(subject.split()),
        body=render_to_string(template, context),
        to=[recipient.email],
    )


def _claim(notification: Notification) -> bool:
    claimed = Notification.objects.filter(
        pk=notification.pk, emailed_at__isnull=True
    ).update(emailed_at=timezone.now())
    return claimed == 1


def _release(notification: Notification) -> None:
    Notification.objects.filter(pk=notification.pk).update(emailed_at=None)
