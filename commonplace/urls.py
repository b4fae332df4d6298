from django.templatetags.static import static
from django.urls import include, path
from django.views.generic.base import RedirectView

from commonplace.api import api
from core import views as core_views

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    # Browsers ask for /favicon.ico before reading the page's icon link.
    path(
        "favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True)
    ),
    path("", core_views.home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("people/", include("accounts.people_urls")),
    path("reconciliation/", include("reconciliation.urls")),
    path("imports/", include("imports.urls")),
    path("practice/", include("practice.urls")),
    path("assist/", include("assist.urls")),
    path("communities/", include("communities.urls")),
    path("questions/", include("answers.urls")),
    path("library/", include("library.urls")),
    path("notifications/", include("notifications.urls")),
    path("search/", include("search.urls")),
    path("tags/", include("social.urls")),
    path("posts/", include("social.post_urls")),
    path("follows/", include("social.follow_urls")),
    path("api/", api.urls),
]

handler400 = "core.views.bad_request"
