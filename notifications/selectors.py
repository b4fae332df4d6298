"""Reads of a person's notifications; a person only ever sees their own."""

from django.db.models import QuerySet

from accounts.models import User
from notifications.models import Notification


def count_unread(*, recipient: User) -> int:
    return Notification.objects.filter(
        recipient=recipient, read_at__isnull=True
    ).count()


def list_notifications(*, recipient: User, limit: int = 50) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=recipient)[:limit]
