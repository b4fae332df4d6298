from django.urls import path

from accounts import views

app_name = "people"

urlpatterns = [
    path("", views.directory, name="directory"),
    path("<str:username>/", views.profile, name="profile"),
    path("<str:username>/edit/", views.profile_edit, name="profile_edit"),
    path("<str:username>/endorse/", views.endorse, name="endorse"),
    path("<str:username>/super-user/", views.super_user, name="super_user"),
    path("<str:username>/visibility/", views.visibility, name="visibility"),
]
