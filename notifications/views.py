from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.http import AuthenticatedRequest
from notifications.selectors import notification_rows
from notifications.services import mark_all_read, mark_read, mark_shown_read


@login_required
def notification_list(request: AuthenticatedRequest) -> HttpResponse:
    """List the newest notifications and mark the ones shown read.

    Seeing a notification in the list counts as reading it, so the badge
    clears here. The rows keep the state they were loaded with, so this page
    still highlights what was new. Opening one also marks it read.
    """
    rows = notification_rows(recipient=request.user)
    mark_shown_read(
        recipient=request.user, notifications=[row.notification for row in rows]
    )
    return render(request, "notifications/notification_list.html", {"rows": rows})


@require_POST
@login_required
def notification_open(
    request: AuthenticatedRequest, notification_id: int
) -> HttpResponse:
    url = mark_read(recipient=request.user, notification_id=notification_id)
    if url is None:
        raise Http404("No notification found with that number.")
    return redirect(url)


@require_POST
@login_required
def notification_read_all(request: AuthenticatedRequest) -> HttpResponse:
    mark_all_read(recipient=request.user)
    return redirect("notifications:notification_list")
