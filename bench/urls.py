from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.urls import include, path


@login_required
def bare_json(request: HttpRequest) -> JsonResponse:
    """Return a fixed JSON body through the same middleware, as the floor."""
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("bench/bare", bare_json),
    path("", include("commonplace.urls")),
]
