"""Sign-in on Django's LoginView, with failed attempts rate-limited.

Failed attempts are counted per client address and per account name
(``accounts.throttling``). Once either count reaches its limit, the form
rejects every attempt until the window ends, the right password included,
without checking the password, so the response reveals nothing about it
or about whether the account exists.
"""

from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpResponse

from accounts import throttling
from accounts.throttling import Throttled

SIGN_IN = "sign_in"


class SignInForm(AuthenticationForm):
    """Django's sign-in form that counts failed attempts and rejects past the limits."""

    throttled: Throttled | None = None

    def clean(self) -> dict[str, Any]:
        identifiers = {
            "account": throttling.normalize_account(
                self.cleaned_data.get("username") or ""
            )
        }
        if self.request is not None:
            identifiers["address"] = throttling.counted_address(
                throttling.client_address(self.request)
            )

        self.throttled = throttling.check(SIGN_IN, identifiers)
        if self.throttled is not None:
            raise ValidationError(
                "Too many failed sign-in attempts from this network or for this "
                f"username. Try again {self.throttled.retry_after_text}, or set "
                "a new password with the link below.",
                code="throttled",
            )
        try:
            cleaned: dict[str, Any] = super().clean()
        except ValidationError as error:
            if error.code == "invalid_login":
                throttling.record(SIGN_IN, identifiers)
            raise
        return cleaned


class SignInView(auth_views.LoginView):
    """Sign in. An attempt rejected past a limit gets 429 with Retry-After."""

    form_class = SignInForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_invalid(self, form: Any) -> HttpResponse:
        return throttling.mark_throttled(super().form_invalid(form), form)


sign_in = SignInView.as_view()
