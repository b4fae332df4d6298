"""Reads of a person's notifications; a person only ever sees their own."""

from dataclasses import dataclass

from django.db.models import QuerySet

from accounts.models import User
from notifications.models import Notification
from notifications.subjects import shown_messages


def count_unread(*, recipient: User) -> int:
    return Notification.objects.filter(
        recipient=recipient, read_at__isnull=True
    ).count()


def list_notifications(*, recipient: User, limit: int = 50) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=recipient)[:limit]


@dataclass(frozen=True)
class NotificationRow:
    """A notification with the text the recipient may read now."""

    notification: Notification
    text: str


def notification_rows(*, recipient: User, limit: int = 50) -> list[NotificationRow]:
    """Return the newest notifications, each subject checked for ``recipient`` now."""
    notifications = list(list_notifications(recipient=recipient, limit=limit))
    texts = shown_messages(recipient, notifications)
    return [NotificationRow(n, texts[n.pk]) for n in notifications]
