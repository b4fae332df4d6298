"""Password reset by e-mail, on Django's auth views.

Imported people start with an unusable password (``accounts.importing``), so
the reset link is how they set their first one. The reset form therefore
also reaches active accounts whose password is unusable, which Django's own
form skips.

The request only queues ``accounts.tasks.send_password_reset_email`` with the
address typed, whether or not an account has it. The task looks the address
up and sends the e-mail after the commit, on a Celery worker or, with the
inline backend, on the web process's background thread. Either way a request
for a known address does the same work as one for an unknown address, and
its response does not wait for the SMTP exchange.
"""

from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse_lazy

from accounts import throttling
from accounts.models import User
from accounts.throttling import Throttled
from commonplace.background import enqueue
from core.text import fold_case

RESET = "password_reset"


def reset_recipients(email: str) -> Iterator[User]:
    """Yield the active accounts whose e-mail address is ``email``.

    Accounts with an unusable password are included, unlike in Django's
    form. The address is matched by its key (``core.text.fold_case``), whose
    unique index allows at most one match, the same on every engine.
    """
    key = fold_case(email)
    if key:
        yield from User.objects.filter(email_key=key, is_active=True)


class ResetPasswordForm(PasswordResetForm):
    """Django's reset form, rate-limited, that queues the e-mail for after commit."""

    def __init__(self, *args: Any, request: HttpRequest | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.request = request
        self.throttled: Throttled | None = None

    def get_users(self, email: str) -> Iterator[User]:
        return reset_recipients(email)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        email = cleaned.get("email")
        if not email or self.request is None:
            return cleaned

        identifiers = {
            "address": throttling.counted_address(
                throttling.client_address(self.request)
            ),
            "account": throttling.normalize_account(email),
        }
        attempt = throttling.count_attempt(RESET, identifiers)
        self.throttled = attempt.throttled
        if self.throttled is not None:
            raise ValidationError(
                "Too many password reset requests from this network or for this "
                f"address. Try again {self.throttled.retry_after_text}. A link "
                "sent earlier still works until it expires.",
                code="throttled",
            )
        attempt.keep()
        return cleaned

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Queue the reset e-mail for after the commit, for any address."""
        # Imported here because the tasks module imports this one.
        from accounts.tasks import send_password_reset_email

        extra = kwargs.get("extra_email_context") or {}
        enqueue(
            send_password_reset_email,
            email=self.cleaned_data["email"],
            base_url=extra["base_url"],
        )


class ResetPasswordView(auth_views.PasswordResetView):
    """Queue the reset link, with links that start with the configured BASE_URL.

    The page after the form reads the same whether or not an account has the
    address, and comes as soon for one as for the other, so the form does not
    reveal who has an account.
    """

    form_class = ResetPasswordForm
    template_name = "accounts/password_reset_form.html"
    subject_template_name = "accounts/password_reset_subject.txt"
    email_template_name = "accounts/password_reset_email.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["request"] = self.request
        return kwargs

    def form_valid(self, form: Any) -> HttpResponse:
        # Links start with BASE_URL when it is set, so a forged Host header
        # cannot point the link elsewhere. Without it, ALLOWED_HOSTS limits
        # which host the request may name.
        base_url = settings.COMMONPLACE_BASE_URL or self.request.build_absolute_uri(
            "/"
        ).rstrip("/")
        self.extra_email_context = {"base_url": base_url}
        return super().form_valid(form)

    def form_invalid(self, form: Any) -> HttpResponse:
        return throttling.mark_throttled(super().form_invalid(form), form)


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
