from django.urls import path

from assist import views

app_name = "assist"

urlpatterns = [
    path("panel/", views.panel, name="panel"),
    path("ask/", views.ask, name="ask"),
]
