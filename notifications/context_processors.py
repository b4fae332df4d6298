from typing import Any

from django.http import HttpRequest

from notifications.selectors import count_unread, count_unread_on_page
from notifications.services import mark_read_on_page


def unread_notifications(request: HttpRequest) -> dict[str, Any]:
    """Add a lazy unread count, so pages that never show it run no query.

    On a GET, the count first marks read the notifications that link to the
    page being shown, however the person reached it (an e-mail link, a
    bookmark, a typed address). That costs no extra query unless such a
    notification is unread.
    """
    user = request.user
    if not user.is_authenticated:
        return {}
    path = request.path
    # No notification links to an address with a NUL, and PostgreSQL
    # rejects NUL in a text parameter, so such a page is only counted.
    if request.method != "GET" or "\x00" in path:
        return {"unread_notification_count": lambda: count_unread(recipient=user)}

    def count_after_reading_page() -> int:
        counts = count_unread_on_page(recipient=user, path=path)
        if counts.on_page == 0:
            return counts.total
        return counts.total - mark_read_on_page(recipient=user, path=path)

    return {"unread_notification_count": count_after_reading_page}
