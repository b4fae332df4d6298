from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from core.http import AuthenticatedRequest
from notifications.preferences import (
    set_notification_emails,
    wants_notification_emails,
)


@require_http_methods(["GET", "POST"])
@login_required
def email_settings(request: AuthenticatedRequest) -> HttpResponse:
    """Show and change whether the signed-in person gets notification e-mail."""
    if request.method == "POST":
        enabled = request.POST.get("notification_emails") == "on"
        set_notification_emails(person=request.user, enabled=enabled)
        messages.success(
            request,
            "Notifications will also come by e-mail."
            if enabled
            else "Notifications will no longer come by e-mail.",
        )
        return redirect("notifications:email_settings")

    return render(
        request,
        "notifications/email_settings.html",
        {"enabled": wants_notification_emails(person=request.user)},
    )
