from django.http import HttpRequest

from accounts.models import User


class AuthenticatedRequest(HttpRequest):
    """A request behind ``login_required``, whose user is a signed-in person."""

    user: User
