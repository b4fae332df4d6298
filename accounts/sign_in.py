"""Sign-in on Django's LoginView, with failed attempts rate-limited.

Failed attempts are counted per client address and, for the username typed,
either per account or per device (``accounts.throttling``). A browser that
presents a valid device cookie for the username (``accounts.device_cookies``)
is counted in its own device bucket, so strangers who exhaust the account's
limit do not lock the person out on a device they signed in from before.
Once a count reaches its limit, the form rejects every attempt until the
estimate falls below it, the right password included, without checking the
password, so the response reveals nothing about it or about whether the
account exists. A successful sign-in sets a new device cookie.
"""

from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpResponse

from accounts import throttling
from accounts.device_cookies import set_device_cookie, trusted_device
from accounts.throttling import Throttled

SIGN_IN = "sign_in"


class SignInForm(AuthenticationForm):
    """Django's sign-in form that counts failed attempts and rejects past the limits."""

    throttled: Throttled | None = None

    def clean(self) -> dict[str, Any]:
        account = throttling.normalize_account(self.cleaned_data.get("username") or "")
        identifiers: dict[str, str] = {}
        device = trusted_device(self.request, account) if self.request else None
        if device is not None:
            identifiers["device"] = device.bucket
        else:
            identifiers["account"] = account
        if self.request is not None:
            identifiers["address"] = throttling.counted_address(
                throttling.client_address(self.request)
            )

        # Counted before the password is checked, so that simultaneous
        # attempts cannot all pass the limit; a success is taken off again.
        attempt = throttling.count_attempt(SIGN_IN, identifiers)
        self.throttled = attempt.throttled
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
                attempt.keep()
            else:
                attempt.release()
            raise
        except BaseException:
            attempt.release()
            raise
        attempt.release()
        return cleaned


class SignInView(auth_views.LoginView):
    """Sign in and set a device cookie. An attempt past a limit gets 429."""

    form_class = SignInForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        set_device_cookie(response, form.get_user())
        return response

    def form_invalid(self, form: Any) -> HttpResponse:
        return throttling.mark_throttled(super().form_invalid(form), form)


sign_in = SignInView.as_view()
