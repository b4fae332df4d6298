from django.urls import path

from social import follow_views

app_name = "follows"

urlpatterns = [
    path("", follow_views.follow_list, name="follow_list"),
    path("person/<str:username>/", follow_views.person_follow, name="person_follow"),
    path("tag/<str:name>/", follow_views.tag_follow, name="tag_follow"),
    path(
        "community/<str:slug>/",
        follow_views.community_follow,
        name="community_follow",
    ),
]
