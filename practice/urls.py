from django.urls import path

from practice import views

app_name = "practice"
urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("start/", views.start, name="start"),
    path("measures/", views.measures, name="measures"),
    path("sessions/<int:session_id>/", views.session_detail, name="session"),
    path("sessions/<int:session_id>/check/", views.check, name="check"),
    path("sessions/<int:session_id>/reset/", views.reset, name="reset"),
    path("sessions/<int:session_id>/allocate/", views.allocate, name="allocate"),
    path(
        "sessions/<int:session_id>/cases/<int:case_id>/",
        views.case_action,
        name="case_action",
    ),
]
