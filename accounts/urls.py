from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import password_reset, sign_in

app_name = "accounts"

urlpatterns = [
    path("login/", sign_in.sign_in, name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", password_reset.reset_password, name="password_reset"),
    path(
        "password-reset/sent/",
        password_reset.reset_password_sent,
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        password_reset.reset_password_confirm,
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        password_reset.reset_password_complete,
        name="password_reset_complete",
    ),
]
