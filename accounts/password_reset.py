"""Password reset by e-mail, on Django's auth views.

Imported people start with an unusable password (``accounts.importing``), so
the reset link is how they set their first one. The reset form therefore
also sends the link to active accounts whose password is unusable, which
Django's own form skips.
"""

from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.http import HttpResponse
from django.urls import reverse_lazy

from accounts.models import User


class ResetPasswordForm(PasswordResetForm):
    """Django's reset form that also reaches accounts with no usable password."""

    def get_users(self, email: str) -> Iterator[User]:
        # The unique index on Lower("email") allows at most one match. The
        # casefold comparison drops matches that only SQL's iexact accepts.
        matches = User.objects.filter(email__iexact=email, is_active=True)
        for person in matches:
            if person.email.casefold() == email.casefold():
                yield person


class ResetPasswordView(auth_views.PasswordResetView):
    """Send the reset link, with links that start with the configured BASE_URL.

    The page after the form reads the same whether or not an account has the
    address, so the form does not reveal who has an account.

    NOTE: the e-mail is sent during the request, so a request for a known
    address takes longer by one SMTP exchange. Requests are not rate-limited,
    like sign-in.
    """

    form_class = ResetPasswordForm
    template_name = "accounts/password_reset_form.html"
    subject_template_name = "accounts/password_reset_subject.txt"
    email_template_name = "accounts/password_reset_email.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form: Any) -> HttpResponse:
        # Links start with BASE_URL when it is set, so a forged Host header
        # cannot point the link elsewhere. Without it, ALLOWED_HOSTS limits
        # which host the request may name.
        base_url = settings.COMMONPLACE_BASE_URL or self.request.build_absolute_uri(
            "/"
        ).rstrip("/")
        self.extra_email_context = {
            "base_url": base_url,
            "company_name": settings.COMMONPLACE_COMPANY_NAME,
        }
        return super().form_valid(form)


reset_password = ResetPasswordView.as_view()
reset_password_sent = auth_views.PasswordResetDoneView.as_view(
    template_name="accounts/password_reset_done.html"
)
reset_password_confirm = auth_views.PasswordResetConfirmView.as_view(
    template_name="accounts/password_reset_confirm.html",
    success_url=reverse_lazy("accounts:password_reset_complete"),
)
reset_password_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="accounts/password_reset_complete.html"
)
