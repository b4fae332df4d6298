from django.urls import path

from assist import views

app_name = "assist"

urlpatterns = [
    path("panel/", views.panel, name="panel"),
    path("ask/", views.ask, name="ask"),
    path("embed/", views.embed, name="embed"),
    path("tokens/", views.token_list, name="token_list"),
    path("tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("availability/", views.availability_set, name="availability_set"),
]
