"""Reads of a person's notifications; a person only ever sees their own."""

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from accounts.models import User
from notifications.models import Notification
from notifications.subjects import shown_messages


def count_unread(*, recipient: User) -> int:
    return Notification.objects.filter(
        recipient=recipient, read_at__isnull=True
    ).count()


def linking_to(path: str) -> Q:
    """Match notifications whose URL opens ``path``, with or without a fragment.

    ``/questions/12/`` matches ``/questions/12/``, ``/questions/12/#answer-5``
    and ``/questions/12/?page=2#comment-9``, but not ``/questions/123/``.
    """
    return Q(url=path) | Q(url__startswith=f"{path}#") | Q(url__startswith=f"{path}?")


@dataclass(frozen=True)
class UnreadCounts:
    """The recipient's unread notifications, and how many of them link to a page."""

    total: int
    on_page: int


def count_unread_on_page(*, recipient: User, path: str) -> UnreadCounts:
    """Count the unread notifications, and those linking to ``path``, in one query."""
    counts = Notification.objects.filter(
        recipient=recipient, read_at__isnull=True
    ).aggregate(total=Count("pk"), on_page=Count("pk", filter=linking_to(path)))
    return UnreadCounts(total=counts["total"], on_page=counts["on_page"])


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
