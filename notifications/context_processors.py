from typing import Any

from django.http import HttpRequest

from notifications.selectors import count_unread


def unread_notifications(request: HttpRequest) -> dict[str, Any]:
    """Add a lazy unread count, so pages that never show it run no query."""
    user = request.user
    if not user.is_authenticated:
        return {}
    return {"unread_notification_count": lambda: count_unread(recipient=user)}
