"""Create in-app notifications.

In-app notifications are rows written in the same transaction as the event
that causes them, so they exist exactly when the event does. The unique
constraint on (recipient, kind, subject) keeps a retried event from
notifying anyone twice. A recipient who may not open the subject under its
object's visibility rule (``notifications.subjects.RULES``) gets no row.
When NOTIFICATION_EMAILS is on, the e-mail for an event's notifications is
sent in the background after the commit.
"""

from collections.abc import Iterable

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from accounts.authors import shown_name
from accounts.models import User
from commonplace.background import enqueue
from notifications.models import Notification
from notifications.selectors import linking_to
from notifications.subjects import openable_ids, readable_rows
from notifications.tasks import send_notification_emails


def notify(
    *,
    recipients: Iterable[User] | QuerySet[User],
    kind: str,
    actor: User | None,
    message: str,
    url: str,
    subject_key: str,
) -> None:
    """Notify each recipient once per event, never the actor themselves.

    Raise ``ValueError`` for a ``kind`` that ``Notification.Kind`` does not
    declare, before anything is written. Recipients who may not read the
    subject are skipped (``readable_rows``), which raises ``ValueError`` for
    a ``subject_key`` prefix without a visibility rule.

    ``actor_name`` is the actor as each recipient may read them
    (``accounts.authors.shown_name``): a customer account gets the role of
    a staff member hidden from customers. That costs one query for each
    customer recipient and none for an employee.
    """
    if kind not in Notification.Kind.values:
        raise ValueError(
            f"Unknown notification kind {kind!r}: declare it in "
            "Notification.Kind and add a migration."
        )
    rows = [
        Notification(
            recipient=recipient,
            kind=kind,
            message=message[:300],
            url=url,
            subject_key=subject_key,
        )
        for recipient in recipients
        if actor is None or recipient.pk != actor.pk
    ]
    rows = readable_rows(rows)
    if actor is not None:
        for row in rows:
            row.actor_name = shown_name(row.recipient, actor)
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    if rows and settings.NOTIFICATION_EMAILS:
        enqueue(send_notification_emails, kind=kind, subject_key=subject_key)


def mark_read(*, recipient: User, notification_id: int) -> str | None:
    """Mark one of ``recipient``'s notifications read and return its URL."""
    notification = Notification.objects.filter(
        recipient=recipient, pk=notification_id
    ).first()
    if notification is None:
        return None
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=timezone.now()
        )
    return notification.url


def mark_shown_read(*, recipient: User, notifications: list[Notification]) -> int:
    """Mark the unread ones of ``notifications``, the list just shown, read.

    Only these, so one that arrives while the list renders stays unread.
    """
    unread = [n.pk for n in notifications if n.read_at is None]
    if not unread:
        return 0
    return Notification.objects.filter(
        recipient=recipient, pk__in=unread, read_at__isnull=True
    ).update(read_at=timezone.now())


def mark_all_read(*, recipient: User) -> int:
    return Notification.objects.filter(
        recipient=recipient, read_at__isnull=True
    ).update(read_at=timezone.now())


def mark_read_on_page(*, recipient: User, path: str) -> int:
    """Mark read ``recipient``'s unread notifications that link to ``path``.

    The page may have been reached from an e-mail, a bookmark or a typed
    address rather than from the notification list. Only notifications
    whose subject ``recipient`` may still open are marked, checked with the
    subject's visibility rule (``openable_ids``), so a page that returned
    404 for a hidden subject leaves its notification unread. Returns how
    many were marked.
    """
    unread = Notification.objects.filter(
        linking_to(path), recipient=recipient, read_at__isnull=True
    )
    readable = openable_ids(recipient, unread)
    if not readable:
        return 0
    return Notification.objects.filter(
        recipient=recipient, pk__in=readable, read_at__isnull=True
    ).update(read_at=timezone.now())
